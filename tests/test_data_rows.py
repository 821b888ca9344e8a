"""The one reader of manifest rows (``finparakeet.data.rows``) and the one bad-row record (``Reject``), as
validation, scoring and bias-list building see them."""

from __future__ import annotations

import gzip
import json

import pytest

from finparakeet.data.rejects import BAD_ROW, ENTITY_MISMATCH, MALFORMED_JSON, NOT_UTF8, InvalidCut, Reject
from finparakeet.data.rows import (Row, default_cut_id, detect_format, number_field, read_rows, row_entities, row_id,
                                   string_field)
from finparakeet.data.validate import ValidationConfig, iter_validate
from finparakeet.scoring.inputs import read_manifest


def _damaged(path):
    """Line 1 good, 2 blank, 3 not UTF-8, 4 malformed JSON, 5 a list, 6 good again."""
    good = {"audio_filepath": "/nowhere/a.wav", "duration": 1.0, "text": "Up 5%.", "pred_text": "Up 5%."}
    path.write_bytes(b"\n".join([json.dumps(good).encode(), b"  ", b'{"text": "caf\xe9"}', b'{"text": ',
                                 b"[1, 2]", json.dumps({**good, "id": "b"}).encode()]) + b"\n")
    return path


def test_rows_and_rejects_name_file_line_and_why(tmp_path):
    path = _damaged(tmp_path / "m.json")
    items = list(read_rows(path))
    assert [type(x) for x in items] == [Row, Reject, Reject, Reject, Row]
    assert [x.line for x in items] == [1, 3, 4, 5, 6]  # the blank line is no row, and counts as a line
    assert all(x.source == str(path) for x in items)
    bad = {x.line: x for x in items if isinstance(x, Reject)}
    assert (bad[3].kind, bad[4].kind, bad[5].kind) == (NOT_UTF8, MALFORMED_JSON, MALFORMED_JSON)
    assert "save the file as UTF-8" in bad[3].reason and "column" in bad[4].reason and "list" in bad[5].reason
    assert bad[4].to_dict() == {"source": str(path), "line": 4, "kind": MALFORMED_JSON, "reason": bad[4].reason}


def test_gzip_manifests_read_the_same(tmp_path):
    plain = _damaged(tmp_path / "m.json")
    packed = tmp_path / "m.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    strip = (lambda x: (type(x), x.line, getattr(x, "fields", None), getattr(x, "reason", None)))
    assert [strip(x) for x in read_rows(packed)] == [strip(x) for x in read_rows(plain)]


def test_validation_and_scoring_reject_a_bad_line_alike(tmp_path):
    path = _damaged(tmp_path / "m.json")
    validated = [r for _, r in iter_validate(path, ValidationConfig()) if r is not None]
    _, scored = read_manifest(path)
    parse_level = {3, 4, 5}
    assert [r for r in validated if r.line in parse_level] == [r for r in scored if r.line in parse_level]
    # the good rows: scoring uses them, validation rejects them for their missing audio, naming the file
    assert {r.line: r.kind for r in validated} == {1: "audio_missing", 3: NOT_UTF8, 4: MALFORMED_JSON,
                                                  5: MALFORMED_JSON, 6: "audio_missing"}
    assert all(r.source == str(path) for r in validated + scored)


def test_field_checks_name_the_field():
    with pytest.raises(InvalidCut, match="the row has no 'pred_text'") as e:
        string_field({"text": "x"}, "pred_text")
    assert e.value.kind == BAD_ROW
    with pytest.raises(InvalidCut, match="'text' must be a string, got int"):
        string_field({"text": 3}, "text")
    assert number_field({"offset": None}, "offset") is None and number_field({"duration": 2}, "duration") == 2.0
    for value, why in ((True, "must be a number"), ("1", "must be a number"), (float("nan"), "must be a number"),
                       (-1, "must not be negative")):
        with pytest.raises(InvalidCut, match=f"'duration' {why}"):
            number_field({"duration": value}, "duration")
    with pytest.raises(InvalidCut, match="the row has no 'duration'"):
        number_field({}, "duration", required=True)


def test_entities_are_checked_against_the_text():
    row = {"text": "Up 5% in Q3.", "entities": [{"start": 9, "end": 11, "category": "PERIOD", "text": "Q3"}]}
    assert [e.text for e in row_entities(row)] == ["Q3"]
    assert row_entities({"text": "x"}) is None and row_entities({"text": "x", "entities": []}) == []
    with pytest.raises(InvalidCut, match="'Q3', not 'Q4'") as e:
        row_entities({**row, "entities": [{**row["entities"][0], "text": "Q4"}]})
    assert e.value.kind == ENTITY_MISMATCH
    with pytest.raises(InvalidCut, match="must be a list"):
        row_entities({**row, "entities": "Q3"})


def test_ids_and_formats(tmp_path):
    assert row_id({"cut_id": "c1", "audio_filepath": "/a/x.wav"}, 7) == "c1"
    assert row_id({"audio_filepath": "/a/x.wav", "offset": 1.5}, 7) == "x-00001500" == default_cut_id(
        {"audio_filepath": "/a/x.wav", "offset": 1.5})
    assert row_id({"text": "no audio"}, 7) == "line7"
    nemo, cuts = tmp_path / "n.json", tmp_path / "c.jsonl"
    nemo.write_text("broken\n" + json.dumps({"audio_filepath": "a.wav", "duration": 1, "text": "x"}) + "\n")
    cuts.write_text(json.dumps({"id": "c", "type": "MonoCut", "recording": {}, "supervisions": []}) + "\n")
    assert (detect_format(nemo), detect_format(cuts)) == ("nemo", "cuts")
    (tmp_path / "e.json").write_text("\n")
    assert detect_format(tmp_path / "e.json", default="nemo") == "nemo"
    with pytest.raises(ValueError, match="no line looks like"):
        detect_format(tmp_path / "e.json")
