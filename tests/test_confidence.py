"""Entity confidence: NeMo's word confidence in transcripts, entity aggregation, the review queue, the metrics of how
well confidence finds entity errors, and calibration."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from conftest import transcript_row
from finparakeet.scoring.confidence import (Calibration, aggregate, auroc, catch_rate, confidence_metrics,
                                            expected_calibration_error, fit_calibration, load_calibration, pav)
from finparakeet.scoring.review import (DELETED_CONFIDENCE, REVIEW_CSV, REVIEW_JSONL, REVIEW_ROWS,
                                        confidence_section, read_review, review_items, review_queue, write_review)

slow = pytest.mark.slow  # decodes with the (tiny) NeMo model


# ---- metrics on hand-built cases -----------------------------------------------------------------------------------


def test_auroc_known_answers():
    assert auroc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0  # every error below every correct one
    assert auroc([0.8, 0.9, 0.1, 0.2], [False, False, True, True]) == 0.0  # reversed
    assert auroc([0.5] * 4, [False, True, False, True]) == 0.5  # ties: no information
    # errors at 0.1 and 0.6, correct at 0.5 and 0.9: 3 of 4 (error, correct) pairs ordered right
    assert auroc([0.1, 0.6, 0.5, 0.9], [False, False, True, True]) == 0.75
    assert auroc([0.3, 0.4], [True, True]) is None  # no error to find


def test_catch_rate_counts_errors_in_the_least_confident_share():
    conf = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    ok = [False, True, False, True, True, True, True, True, False, True]
    assert catch_rate(conf, ok, 0.1) == pytest.approx(1 / 3)  # 1 entity reviewed: 1 of 3 errors
    assert catch_rate(conf, ok, 0.2) == pytest.approx(1 / 3)
    assert catch_rate(conf, ok, 0.3) == pytest.approx(2 / 3)
    assert catch_rate(conf, ok, 1.0) == 1.0
    assert catch_rate(conf, [True] * 10, 0.2) is None


def test_expected_calibration_error_known_answers():
    # bin 0.9: accuracy 0.5 vs confidence 0.9 (gap 0.4, 2 entities); bin 0.1: accuracy 0 vs 0.1 (gap 0.1, 2 entities)
    assert expected_calibration_error([0.9, 0.9, 0.1, 0.1], [True, False, False, False]) == pytest.approx(0.25)
    assert expected_calibration_error([1.0, 1.0, 0.0], [True, True, False]) == pytest.approx(0.0)  # 1.0: last bin
    m = confidence_metrics([0.1, 0.2, 0.8, 0.9], [False, False, True, True])
    assert m["auroc"] == 1.0 and m["catch_rate"] == {"10%": 0.5, "20%": 0.5} and m["num_errors"] == 2


def test_aggregation():
    assert aggregate([0.9, 0.5, 0.8], "min") == 0.5
    assert aggregate([0.9, 0.5, 0.7], "mean") == pytest.approx(0.7)
    assert aggregate([0.5, 0.5], "prod") == 0.25
    with pytest.raises(ValueError, match="min"):
        aggregate([0.5], "max")


# ---- calibration ----------------------------------------------------------------------------------------------------


def test_pav_matches_sklearn_isotonic_regression():
    sklearn = pytest.importorskip("sklearn.isotonic")
    rng = np.random.default_rng(0)
    x = rng.random(300).round(2)  # ties included
    y = (rng.random(300) < x ** 2).astype(float)
    xs, ys = pav(x, y)
    ref = sklearn.IsotonicRegression(out_of_bounds="clip").fit(x, y)
    grid = np.linspace(0, 1, 101)
    np.testing.assert_allclose(np.interp(grid, xs, ys), ref.predict(grid), atol=1e-9)
    assert list(pav([0.1, 0.2, 0.3], [1.0, 0.0, 1.0])[1]) == [0.5, 0.5, 1.0]  # one violation pooled


@pytest.mark.parametrize("method", ["isotonic", "temperature"])
def test_calibration_fit_and_apply_on_a_synthetic_case(method, tmp_path):
    rng = np.random.default_rng(1)
    raw = rng.random(4000)
    truth = 1 / (1 + np.exp(-(np.log(raw) - np.log1p(-raw)) / 2.0))  # P(correct) = sigmoid(logit(raw) / 2)
    correct = rng.random(4000) < truth
    cal = fit_calibration(raw, correct, method, aggregation="min", source="synthetic")
    assert cal.fitted_on["entities"] == 4000 and cal.fitted_on["errors"] == int((~correct).sum())
    assert cal.fitted_on["ece_after"] < cal.fitted_on["ece_before"] / 2
    if method == "temperature":
        assert cal.parameters["temperature"] == pytest.approx(2.0, rel=0.1)
    back = load_calibration(cal.save(tmp_path / "cal.json"))
    assert back == Calibration(method, json.loads((tmp_path / "cal.json").read_text())["parameters"], back.fitted_on)
    np.testing.assert_allclose(back.apply(raw[:50]), cal.apply(raw[:50]), atol=1e-5)
    assert np.all(np.diff(back.apply(np.linspace(0, 1, 50))) >= -1e-12)  # monotone: the queue order is kept
    with pytest.raises(ValueError, match="correct and wrong"):
        fit_calibration([0.2, 0.9], [True, True])


# ---- the review queue from transcript rows (no model) ---------------------------------------------------------------


def test_review_items_reference_entities_take_their_aligned_words_confidence():
    rows = [transcript_row("Apple raised guidance in Q3", "Apple raised guidance in Q2", [0.9, 0.8, 0.6, 0.95, 0.3],
                           offset=10.0),
            transcript_row("Tesla cut its dividend", "Tesla cut its", [0.7, 0.9, 0.9], id="utt2")]
    items = review_items(rows, "min")
    by = {(it.id, it.reference): it for it in items}
    q3 = by[("utt1", "Q3")]
    assert (q3.text, q3.correct, q3.confidence, q3.source) == ("Q2", False, 0.3, "reference")
    assert (q3.start, q3.end) == (12.0, 12.4)  # the word's time plus the row's offset: where to listen
    assert by[("utt1", "Apple")].correct and by[("utt1", "Apple")].confidence == 0.9
    gone = by[("utt2", "dividend")]  # every word deleted: the defined value, placed after the last word
    assert gone.text == "" and gone.confidence == DELETED_CONFIDENCE and gone.correct is False
    assert gone.start == gone.end == 1.4
    queue = review_queue(items)
    assert [it.reference for it in queue[:2]] == ["dividend", "Q3"]  # least confident first
    assert [it.confidence for it in queue] == sorted(it.confidence for it in queue)
    section = confidence_section(items, "min")
    assert section["num_deleted"] == 1 and section["num_errors"] == 2 and section["auroc"] == 1.0


def test_review_items_without_reference_are_the_hypothesis_entities():
    row = transcript_row(None, "EBITDA grew 12% in Q3", [0.4, 0.9, 0.5, 0.9, 0.8])
    items = review_items([row], "mean")
    assert [(it.text, it.category, it.source, it.correct) for it in items] == [
        ("EBITDA", "TERM", "hypothesis", None), ("12%", "PERCENT", "hypothesis", None),
        ("Q3", "PERIOD", "hypothesis", None)]
    assert confidence_section(items, "mean") is None  # nothing to measure without references
    with pytest.raises(ValueError, match="confidence=true"):
        review_items([{"pred_text": "a b", "word": [{"word": "a", "start": 0, "end": 1}]}])


def test_queue_files_hold_the_same_records(tmp_path):
    rows = [transcript_row("Apple raised guidance in Q3", "Apple raised guidance in Q2", [0.9, 0.8, 0.6, 0.95, 0.3])]
    cal = fit_calibration([0.1, 0.2, 0.8, 0.9], [False, False, True, True], "isotonic", aggregation="min")
    queue = review_queue(review_items(rows, "min", cal))
    paths = write_review(queue, tmp_path)
    assert paths["jsonl"].name == REVIEW_JSONL and paths["csv"].name == REVIEW_CSV
    assert read_review(paths["jsonl"]) == queue
    with open(paths["csv"], encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [r["text"] for r in table] == [it.text for it in queue]
    for key in ("id", "audio_filepath", "text", "category", "confidence", "calibrated_confidence", "start", "end",
                "reference", "correct"):
        assert key in table[0]
    assert all(it.calibrated_confidence is not None for it in queue)
    with pytest.raises(ValueError, match="fitted on 'min'"):
        review_items(rows, "mean", cal)


# ---- decoding -------------------------------------------------------------------------------------------------------


def test_beam_with_confidence_fails_at_once_naming_the_strategies_that_work(tmp_path):
    from omegaconf import OmegaConf

    from finparakeet.inference.decoding import decoding_config
    from finparakeet.inference.pipeline import transcribe

    for strategy in ("malsd_batch", "beam"):
        with pytest.raises(ValueError, match="greedy_batch or greedy"):
            transcribe({"model_path": str(tmp_path / "absent.nemo"), "dataset_manifest": str(tmp_path / "none.json"),
                        "confidence": True, "rnnt_decoding": {"strategy": strategy}})
        with pytest.raises(ValueError, match=strategy):
            decoding_config(OmegaConf.create({"strategy": strategy}), confidence={"aggregation": "min"})


def _run(model, **cfg):
    from finparakeet.inference.pipeline import transcribe

    return transcribe({"model_path": "unused.nemo", "progress": False, **cfg}, model=model)


@pytest.fixture(scope="module")
def model(world):
    from finparakeet.inference.pipeline import load_model

    return load_model(str(world.base_nemo))


@slow
@pytest.mark.parametrize("strategy", ["greedy_batch", "greedy"])
def test_nemo_word_confidence_on_every_word_and_the_queue(world, model, strategy, tmp_path):
    out = tmp_path / "out.json"
    result = _run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(out), confidence=True,
                  evaluate=True, rnnt_decoding={"strategy": strategy})
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and all(len(r["word"]) == len(r["pred_text"].split()) for r in rows)
    words = [w for r in rows for w in r["word"]]
    assert words and all(0.0 <= w["confidence"] <= 1.0 and w["start"] <= w["end"] for w in words)
    assert len({w["confidence"] for w in words}) > 1  # real values, not a constant
    queue = read_review(tmp_path / REVIEW_JSONL)
    assert queue == result.review and len(queue) >= len(rows) // 2
    assert [it.confidence for it in queue] == sorted(it.confidence for it in queue)
    assert all(it.audio_filepath and it.source == "reference" and it.reference for it in queue)
    report = json.loads((tmp_path / "entity_report.json").read_text())
    conf = report["confidence"]
    assert conf["num_entities"] == sum(it.source == "reference" for it in queue)
    assert conf["auroc"] is None or 0.0 <= conf["auroc"] <= 1.0
    assert "## Confidence" in (tmp_path / "entity_report.md").read_text()
    assert report["review"]["num_items"] == len(queue) and report["review"]["items"][0]["id"] == queue[0].id
    assert set(conf["categories"]) <= set(report["categories"]) and conf["reliability"]["bins"]
    page = (tmp_path / "entity_report.html").read_text()
    assert "id=review-queue" in page and page.count("<audio controls") == min(len(queue), REVIEW_ROWS)
    assert (tmp_path / "entity_report.reliability.png").read_bytes().startswith(b"\x89PNG")


@slow
def test_calibration_recipe_and_calibrated_transcription(world, model, tmp_path):
    import subprocess
    import sys

    from fixtures_inference import ROOT

    dev = tmp_path / "dev" / "out.json"
    _run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(dev), confidence=True)
    cal_path = tmp_path / "cal.json"
    proc = subprocess.run([sys.executable, str(ROOT / "recipes" / "fit_confidence_calibration.py"),
                           f"transcript={dev}", f"output={cal_path}"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "AUROC" in proc.stdout
    cal = json.loads(cal_path.read_text())
    assert cal["method"] == "isotonic" and cal["fitted_on"]["aggregation"] == "mean" and cal["fitted_on"]["entities"]
    result = _run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(tmp_path / "t" / "o.json"),
                  confidence=True, confidence_calibration=str(cal_path), evaluate=True)
    assert all(it.calibrated_confidence is not None for it in result.review)
    report = result.reports["output"]["confidence"]
    assert report["ece_calibrated"] <= report["ece"] + 1e-9  # fitted on these very entities
    assert report["calibration"]["method"] == "isotonic"


@slow
def test_long_recording_in_windows_keeps_confidence(world, model, tmp_path):
    la = {"strategy": "windows", "window": 10.0, "overlap": 2.0, "min_duration": 20.0}
    result = _run(model, dataset_manifest=str(world.long_manifest), output_filename=str(tmp_path / "o.json"),
                  long_audio=la, confidence=True, batch_size=8)
    row = result.rows[0]
    assert result.stats.windows > 1 and len(row["word"]) == len(row["pred_text"].split())
    assert all(0.0 <= w["confidence"] <= 1.0 for w in row["word"])
    starts = [it.start for it in result.review]
    assert result.review and all(0 <= s <= row["duration"] for s in starts)
    assert not math.isnan(sum(starts))
