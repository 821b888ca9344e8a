"""The Earnings-21 reader and importer, on synthetic files and on the real text in ../shared/earnings21."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import EARNINGS21
from finparakeet.data.earnings21 import import_earnings21, list_calls, list_systems, load_call, load_hypothesis
from finparakeet.data.nemo_manifest import cut_to_row, row_to_cut
from finparakeet.entities import parse_entities, span_errors

HEADER = "token|speaker|ts|endTs|punctuation|case|tags|wer_tags"


def _tiny_root(tmp_path: Path) -> Path:
    """A two-call Earnings-21 folder in the real layout, with the real data's quirks (CRLF, empty token)."""
    refs = tmp_path / "transcripts" / "nlp_references"
    tags = tmp_path / "transcripts" / "wer_tags"
    refs.mkdir(parents=True)
    tags.mkdir(parents=True)
    lines = [HEADER,
             "Revenue|0||||UC|[]|[]",
             "was|0||||LC|[]|[]",
             "$4.2|0||||LC|['0:MONEY']|['0']",
             "billion |0|||,|LC|[]|['0']",  # stray space, as in the real data
             "up|0||||LC|[]|[]",
             "12.5%|0|||.|LC|['1:PERCENT']|['1', '2']",
             "|0|||.|CA|['3:CARDINAL']|['3']",  # an empty token: its entity cannot be a span
             "Thanks|1|||!|UC|[]|['4']"]
    (refs / "100.nlp").write_bytes(("\r\n".join(lines) + "\r\n").encode())
    (refs / "200.nlp").write_text("\n".join([HEADER, "Hello|0||||UC|[]|[]"]) + "\n")
    (tags / "100.wer_tag.json").write_text(json.dumps(
        {"0": {"entity_type": "MONEY"}, "1": {"entity_type": "PERCENT"}, "2": {"entity_type": "CARDINAL"},
         "3": {"entity_type": "CARDINAL"}, "9": {"entity_type": "ORG"}}))  # 4 is missing; 9 never occurs
    (tmp_path / "earnings21-file-metadata.csv").write_text(
        "file_id,audio_length,sample_rate,company_name,financial_quarter,sector,speaker_switches,unique_speakers,"
        "curator_id\n100,12.5,24000,Acme,3,Tech,2,2,1\n200,3.0,16000,Beta,1,Tech,1,1,1\n")
    out = tmp_path / "output"
    (out / "google").mkdir(parents=True)
    (out / "rev" / "espnet" / "nlp").mkdir(parents=True)
    (out / "google" / "100.nlp").write_text("token|speaker|ts|endTs|punctuation|case|tags\n"
                                            "Revenue|1|0.1|0.5|||\nwas|1|0.5|0.7|.||\n")
    (out / "rev" / "espnet" / "nlp" / "100.nlp").write_text("token|speaker|ts|endTs|punctuation|case|tags\n"
                                                            "revenue|||||LC|\n")
    return tmp_path


def test_text_as_written_and_token_spans(tmp_path):
    root = _tiny_root(tmp_path)
    call = load_call(root, "100")
    # tokens stripped, punctuation glued to its word, an empty token's "." glued to the word before
    assert call.text == "Revenue was $4.2 billion, up 12.5%.. Thanks!"
    assert call.metadata["num_tokens"] == 8
    spans = {e.source: (e.start, e.end) for e in call.entities}
    assert spans["earnings21:0"] == (12, 24) and call.text[12:24] == "$4.2 billion"  # not its comma
    assert spans["earnings21:1"] == (29, 34) == spans["earnings21:2"]  # one token, two entity ids
    assert load_hypothesis(root, "google", "100") == "Revenue was."  # 7 columns


@pytest.mark.parametrize("bad, what", [("a|b|c", "columns"), ("x|0||||LC|['0'|[]", "x|0")])
def test_malformed_line_names_file_and_line(tmp_path, bad, what):
    root = _tiny_root(tmp_path)
    path = root / "transcripts" / "nlp_references" / "100.nlp"
    path.write_text(f"{HEADER}\nok|0||||LC|[]|[]\n{bad}\n")
    with pytest.raises(ValueError, match=rf"100\.nlp:3: .*{what}"):
        load_call(root, "100")


def test_list_columns_other_literals_and_bad_bytes(tmp_path):
    # Lists of ints and double-quoted strings take the literal parser; blank lines are skipped; a bad byte is
    # reported with its line.
    root = _tiny_root(tmp_path)
    path = root / "transcripts" / "nlp_references" / "100.nlp"
    path.write_text(f'{HEADER}\na|0||||LC|["1:YEAR"]|[3, 4]\n\nb|0||||LC|[ \'5:ORG\' ,\'6:X\' ]|[\'5\']\n')
    call = load_call(root, "100")
    assert call.text == "a b"
    assert {(e.source, e.category, e.text) for e in call.entities} == {
        ("earnings21:3", "CARDINAL", "a"),  # from the sidecar
        ("earnings21:4", "UNKNOWN", "a"),  # in neither the sidecar nor the tags column
        ("earnings21:5", "ORG", "b")}  # not in the sidecar: its class in the tags column
    path.write_bytes(f"{HEADER}\nok|0||||LC|[]|[]\nbad\xff|0||||LC|[]|[]\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"100\.nlp:3: not UTF-8 .* at byte 3"):
        load_call(root, "100")


def test_load_call_entities(tmp_path):
    call = load_call(_tiny_root(tmp_path), "100")
    got = {(e.source, e.category, e.text) for e in call.entities}
    assert got == {("earnings21:0", "MONEY", "$4.2 billion"), ("earnings21:1", "PERCENT", "12.5%"),
                   ("earnings21:2", "CARDINAL", "12.5%"), ("earnings21:4", "UNKNOWN", "Thanks")}
    assert not span_errors(call.text, call.entities)
    assert call.metadata["dropped_entities"] == ["3"]
    assert "entity 4" in call.metadata["warnings"][0]
    assert call.metadata["company_name"] == "Acme" and call.metadata["sample_rate"] == 24000


def test_systems_and_hypotheses(tmp_path):
    root = _tiny_root(tmp_path)
    assert list_calls(root) == ["100", "200"]
    assert list_systems(root) == ["google", "rev/espnet/nlp"]
    assert load_hypothesis(root, "google", "100") == "Revenue was."
    assert load_hypothesis(root, "rev/espnet/nlp", "100") == "revenue"
    with pytest.raises(FileNotFoundError, match="google"):
        load_hypothesis(root, "google", "200")


def test_import_with_and_without_audio(tmp_path):
    root = _tiny_root(tmp_path)
    media = tmp_path / "media_in"
    media.mkdir()
    sf.write(media / "200.wav", np.zeros(8000 * 2, dtype="float32"), 8000)
    cuts = import_earnings21(root, media_dir=media).to_eager()
    c100, c200 = cuts["100"], cuts["200"]
    # No audio for 100: the recording describes the absent file from the metadata CSV.
    assert c100.recording.sources[0].source == str(media / "100.mp3")
    assert c100.duration == 12.5 and c100.recording.sampling_rate == 24000
    assert not Path(c100.recording.sources[0].source).exists()
    sup = c100.supervisions[0]
    assert sup.text.startswith("Revenue was $4.2 billion") and sup.duration == c100.duration
    assert not span_errors(sup.text, parse_entities(sup.custom["entities"]))
    # Audio for 200: the real header wins over the CSV.
    assert c200.recording.sampling_rate == 8000 and c200.duration == 2.0
    assert c200.load_audio().shape == (1, 16000)
    # The cut goes through a NeMo row and back unchanged.
    back = row_to_cut(cut_to_row(c100))
    assert back.supervisions[0].text == sup.text and back.supervisions[0].custom == sup.custom


# ---- the real data --------------------------------------------------------------------------------------------

needs_earnings21 = pytest.mark.skipif(not (EARNINGS21 / "transcripts").is_dir(),
                                      reason=f"Earnings-21 text not found at {EARNINGS21} "
                                             f"(set FINPARAKEET_EARNINGS21 to its folder)")


@pytest.fixture(scope="module")
def real_cuts():
    return import_earnings21(EARNINGS21).to_eager()


def _entity_ids_on_words(nlp_path: Path) -> set[str]:
    """Independent oracle: the entity ids that tag at least one non-empty token, read straight from the file."""
    ids = set()
    for line in nlp_path.read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split("|")
        if cols[0].strip():
            ids.update(ast.literal_eval(cols[7]))
    return ids


@needs_earnings21
@pytest.mark.slow  # all 44 calls imported as cuts
def test_real_calls_all_load_with_exact_spans(real_cuts):
    assert len(real_cuts) == 44 == len(list_calls(EARNINGS21))
    total = 0
    for cut in real_cuts:
        sup = cut.supervisions[0]
        entities = parse_entities(sup.custom["entities"])
        assert not span_errors(sup.text, entities), cut.id
        assert 2000 < len(sup.text.split()) < 20000, cut.id
        ids = _entity_ids_on_words(EARNINGS21 / "transcripts" / "nlp_references" / f"{cut.id}.nlp")
        assert {e.source.split(":", 1)[1] for e in entities} == ids, cut.id
        assert len(entities) == len(ids)
        sidecar = json.loads((EARNINGS21 / "transcripts" / "wer_tags" / f"{cut.id}.wer_tag.json").read_text())
        for e in entities:
            eid = e.source.split(":", 1)[1]
            if eid in sidecar:
                assert e.category == sidecar[eid]["entity_type"]
            assert e.text.strip() == e.text and e.text
        assert cut.duration == pytest.approx(sup.custom["earnings21"]["audio_length"], abs=1e-3)
        total += len(entities)
    assert total > 30000


@needs_earnings21
def test_real_known_span_and_hypotheses():
    call = load_call(EARNINGS21, "4320211")
    assert call.text.startswith("Good morning ladies and gentlemen, and welcome to the Monro Inc")
    assert ("DATE", "the third quarter Fiscal 2020") in {(e.category, e.text) for e in call.entities}
    systems = list_systems(EARNINGS21)
    assert {"google", "amazon", "rev/espnet/nlp", "kaldi_org/librispeech/nlp"} <= set(systems)
    hyp = load_hypothesis(EARNINGS21, "rev/espnet/nlp", "4320211")
    assert hyp.startswith("good morning ladies and gentlemen") and len(hyp.split()) > 5000
