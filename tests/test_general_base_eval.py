"""The general base's test figures: WER and CER split by seen and held-out voice families."""

from __future__ import annotations

import pytest

from finparakeet.experiment.book import learning_curve, render_base
from finparakeet.experiment.general import ALL, HELDOUT, SEEN, score_groups


def _row(text, pred, family):
    return {"text": text, "pred_text": pred, "voice": {"name": "x", "family": family}}


def test_score_groups_splits_seen_and_heldout_voices():
    rows = [_row("The cat sat.", "the cat sat", "espeak"),          # 0 of 3 words wrong
            _row("A dog ran home.", "a dog ran hole", "flite"),     # 1 of 4 words, 1 of 14 characters
            _row("Birds fly south.", "words fly south", "piper"),   # 1 of 3 words, 2 of 15 characters
            _row("...", "noise", "piper")]                          # empty reference: not scored
    g = score_groups(rows, ["piper"])
    assert g[SEEN]["utterances"] == 2 and g[SEEN]["wer"] == pytest.approx(1 / 7)
    assert g[HELDOUT]["utterances"] == 1 and g[HELDOUT]["wer"] == pytest.approx(1 / 3)
    assert g[HELDOUT]["cer"] == pytest.approx(2 / 15)  # "birds" -> "words": two letters
    assert g[ALL]["wer"] == pytest.approx(2 / 10)
    assert g["family: flite"]["cer"] == pytest.approx(1 / 14)
    assert set(g) == {SEEN, HELDOUT, ALL, "family: espeak", "family: flite", "family: piper"}


def test_numbers_said_in_words_are_not_errors():
    g = score_groups([_row("I have 2 cats.", "i have two cats", "espeak")], [])
    assert g[ALL]["wer"] == 0.0 and g[ALL]["cer"] == 0.0


def test_learning_curve_and_its_table():
    history = [{"validation": 0, "step": 500, "time/cpu_hours": 0.2, "time/wall_hours": 0.25, "val_wer": 0.9,
                "val_loss": 3.0}, {"validation": 1, "step": 1000, "val_entity_wer": 1.0}]
    curve = learning_curve(history)
    assert curve == [{"step": 500, "cpu_hours": 0.2, "wall_hours": 0.25, "val_wer": 0.9, "val_loss": 3.0}]
    md = render_base({"command": "scripts/train_general_base.sh", "curve": curve, "note": "Rank 0 only.",
                      "test": {"command": "x", "groups": {SEEN: {"utterances": 3, "wer": 0.1, "cer": 0.05}}}})
    assert "| 500 | 0.20 | 0.25 | 90.0 | – | 3.00 |" in md and "| seen voices | 3 | 10.0 | 5.0 |" in md
    assert "validation included): Rank 0 only." in md
    hybrid = render_base({"command": "c", "curve": [{**curve[0], "val_wer_ctc": 0.95}]})
    assert "| 500 | 0.20 | 0.25 | 90.0 | 95.0 | 3.00 |" in hybrid


def test_base_record_keeps_the_ablation_curves(tmp_path):
    import json

    from finparakeet.experiment.book import Lever, base_record

    for name, wer in (("base", 0.8), ("ctc", 0.6)):
        (tmp_path / name).mkdir()
        entry = {"validation": 0, "step": 500, "val_wer": wer, "time/cpu_hours": 0.2}
        if name == "ctc":
            entry["val_wer_ctc"] = 0.9
        (tmp_path / name / "metrics.json").write_text(json.dumps([entry]))
    previous = {"test": {"command": "c", "groups": {}}}
    doc = base_record(tmp_path / "base", "cmd", previous, {"ctc": Lever(tmp_path / "ctc", "cmd model=x", "Bucketed.")})
    assert doc["test"] == previous["test"] and doc["curve"][0]["val_wer"] == 0.8
    assert doc["ablations"]["ctc"]["curve"][0]["val_wer"] == 0.6
    assert "val_wer_ctc" not in doc["curve"][0]  # a plain TDT run has no CTC head
    assert "| 500 | 0.20 | 60.0 | 90.0 |" in render_base(doc)
    assert "Lever **ctc** — `cmd model=x` (same data and seed). Bucketed." in render_base(doc)


def test_base_record_keeps_recorded_curves_of_runs_that_are_gone(tmp_path):
    from finparakeet.experiment.book import Lever, base_record

    point = {"step": 500, "cpu_hours": 0.2, "wall_hours": 0.2, "val_wer": 0.7, "val_loss": 3.0}
    previous = {"curve": [point], "ablations": {"ctc": {"command": "c", "curve": [{**point, "val_wer": 0.5}]}}}
    doc = base_record(tmp_path / "gone", "cmd", previous, {"ctc": Lever(tmp_path / "gone_too", "c")})
    assert doc["curve"] == [point]
    assert doc["ablations"]["ctc"]["curve"][0]["val_wer"] == 0.5


def test_demo_record_takes_step_zero_and_the_best_validation(tmp_path):
    import json

    from finparakeet.experiment.book import demo_record, render_demo

    run = tmp_path / "demo"
    (run / "artifacts").mkdir(parents=True)
    history = [{"validation": 0, "step": 0, "val_wer": 0.9, "val_normalized_wer": 0.8, "val_entity_wer": 0.9,
                "val_entity_wer/MONEY": 1.0, "report": "reports/epoch_0"},
               {"validation": 1, "step": 100, "val_wer": 0.7, "val_entity_wer": 0.5, "val_entity_wer/MONEY": 0.4},
               {"validation": 2, "step": 200, "val_wer": 0.6, "val_entity_wer": 0.55}]
    (run / "metrics.json").write_text(json.dumps(history))
    with pytest.raises(ValueError, match="run.json"):  # not finished: nothing to record yet
        demo_record(run, "make demo")
    (run / "artifacts" / "run.json").write_text(json.dumps(
        {"monitor": "val_entity_wer", "best_score": 0.5, "sitting_wall_seconds": 150.0,
         "trainable_params": 1000, "total_params": 5000000, "adapter": {"type": "linear"}}))
    doc = demo_record(run, "make demo")
    assert doc["before"]["step"] == 0 and doc["after"]["step"] == 100  # the best, not the last
    assert "report" not in doc["before"]  # figures only
    md = render_demo(doc)
    assert "`make demo`" in md and "2.5 minutes" in md and "1,000 trained parameters of 5,000,000" in md
    assert "| entity WER | 90.0 | 50.0 | -44% |" in md and "| entity WER MONEY | 100.0 | 40.0 | -60% |" in md
    (run / "metrics.json").write_text(json.dumps(history[1:]))
    with pytest.raises(ValueError, match="step 0"):
        demo_record(run, "make demo")
