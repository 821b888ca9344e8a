"""data.target_text: the train split learns from the spoken form the synthesiser kept; validation keeps its labels."""

from __future__ import annotations

import gzip
import json

import pytest
from lhotse import CutSet

from finparakeet.data.targets import with_spoken_targets


def _spoken_data(synth_dir, tmp_path, target_text: str):
    from finparakeet.conf import compose
    from finparakeet.training.data import prepare_data

    cfg = compose("train", ["+experiment=smoke", f"data.dir={synth_dir}", f"paths.run_dir={tmp_path}",
                            f"data.target_text={target_text}"])
    return prepare_data(cfg.data, tmp_path)


def test_spoken_targets_replace_the_train_text_only(synth_dir, tmp_path):
    data = _spoken_data(synth_dir, tmp_path, "spoken")
    written = {c.id: c.supervisions[0] for c in CutSet.from_file(synth_dir / "train_cuts.jsonl.gz")}
    train = list(CutSet.from_file(data.cuts["train"]))
    assert data.cuts["train"].name == "clean_cuts_spoken.jsonl.gz" and len(train) == len(written) > 0
    for cut in train:
        sup = cut.supervisions[0]
        assert sup.text == written[cut.id].custom["spoken"] != written[cut.id].text or not any(
            ch.isdigit() for ch in written[cut.id].text)
        assert "entities" not in sup.custom  # spans into the written text would point nowhere
    assert any(any(ch.isdigit() for ch in s.text) for s in written.values())  # the corpus has digits to speak
    assert not any(ch.isdigit() for c in train for ch in c.supervisions[0].text)
    dev = list(CutSet.from_file(data.cuts["validation"]))
    assert all(c.supervisions[0].custom.get("entities") is not None for c in dev)  # still the written labels
    assert {c.supervisions[0].text for c in dev} == {
        c.supervisions[0].text for c in CutSet.from_file(synth_dir / "dev_cuts.jsonl.gz")}


def test_written_targets_are_the_default_and_an_unknown_form_is_named(synth_dir, tmp_path):
    assert _spoken_data(synth_dir, tmp_path / "w", "written").cuts["train"].name == "clean_cuts.jsonl.gz"
    with pytest.raises(ValueError, match="data.target_text=phonetic: expected one of written, spoken"):
        _spoken_data(synth_dir, tmp_path / "p", "phonetic")


def test_a_cut_without_a_spoken_form_is_named_with_its_line(synth_dir, tmp_path):
    source = tmp_path / "cuts.jsonl.gz"
    rows = [json.loads(line) for line in gzip.open(synth_dir / "train_cuts.jsonl.gz", "rt")][:3]
    del rows[1]["supervisions"][0]["custom"]["spoken"]
    with gzip.open(source, "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    with pytest.raises(ValueError, match=rf"cuts.jsonl.gz:2: cut {rows[1]['id']} has no custom.spoken"):
        with_spoken_targets(source, tmp_path / "out.jsonl.gz")
