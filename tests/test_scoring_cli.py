"""The evaluate recipe end to end (subprocess), and Earnings-21 scoring on real calls (skipped without the data)."""

import json
import subprocess
import sys

import pytest

from conftest import EARNINGS21, REPO
from finparakeet.scoring.report import read_report

# Runs the recipe in-process of a fresh interpreter, then checks that NeMo was never imported.
_RUN = """
import runpy, sys
sys.argv = ["evaluate.py"] + sys.argv[1:]
try:
    runpy.run_path({recipe!r}, run_name="__main__")
except SystemExit as e:
    if e.code not in (None, 0):
        raise
assert "nemo" not in sys.modules, "the evaluate recipe imported NeMo"
print("NO_NEMO_OK")
"""


def evaluate(tmp_path, *overrides, check=True):
    code = _RUN.format(recipe=str(REPO / "recipes" / "evaluate.py"))
    p = subprocess.run([sys.executable, "-c", code, *overrides], cwd=tmp_path, capture_output=True, text=True)
    if check:
        assert p.returncode == 0, p.stderr[-3000:]
        assert "NO_NEMO_OK" in p.stdout
    return p


def test_evaluate_manifest_with_bias_list(tmp_path):
    bias = tmp_path / "bias.txt"
    bias.write_text("# finance terms\nEBITDA\n50 bps\nNVIDIA\n", encoding="utf-8")
    manifest = tmp_path / "m.json"
    lines = (REPO / "manifests" / "sample_eval.json").read_text().splitlines()
    manifest.write_text("\n".join(lines + ['{"text": "broken"']) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    p = evaluate(tmp_path, f"manifest={manifest}", f"output_dir={out}", f"bias_list={bias}")
    assert "entity WER" in p.stdout and "rows scored 6, skipped 1" in p.stdout and "key phrases" in p.stdout
    r = json.loads((out / "entity_report.json").read_text())
    assert r["num_rows_scored"] == 6 and r["skipped"][0]["line"] == 7
    assert r["keyphrases"]["misses"] >= 1  # "50 bps" was recognised as "15 bps"
    assert {"MONEY", "BPS", "PERIOD"} <= set(r["categories"])
    assert (out / "entity_report.md").read_text().startswith("# Entity report")
    assert "<svg" in (out / "entity_report.html").read_text()


def test_evaluate_cuts_mode(tmp_path):
    from lhotse import CutSet

    from finparakeet.data.nemo_manifest import row_to_cut
    ref = "Margin rose 50 bps to 3.1% in Q3."
    CutSet.from_cuts([row_to_cut({"audio_filepath": "/x/u1.wav", "duration": 3.0, "text": ref})]).to_file(
        tmp_path / "cuts.jsonl.gz")
    (tmp_path / "hyps.jsonl").write_text(json.dumps({"cut_id": "u1", "pred_text": "Margin rose 15 bps to 3.1% in Q3."})
                                         + "\n", encoding="utf-8")
    out = tmp_path / "out"
    evaluate(tmp_path, f"cuts={tmp_path / 'cuts.jsonl.gz'}", f"hypotheses={tmp_path / 'hyps.jsonl'}",
             f"output_dir={out}")
    r = json.loads((out / "entity_report.json").read_text())
    assert r["num_rows_scored"] == 1 and r["categories"]["BPS"]["entity_accuracy"] == 0.0
    assert r["utterances"][0]["id"] == "u1"


def test_evaluate_needs_exactly_one_input(tmp_path):
    p = evaluate(tmp_path, f"output_dir={tmp_path}", check=False)
    assert p.returncode != 0 and "exactly one of" in p.stderr


@pytest.mark.skipif(not (EARNINGS21 / "transcripts").is_dir(), reason="Earnings-21 not available")
def test_evaluate_earnings21_two_calls(tmp_path):
    out = tmp_path / "e21"
    p = evaluate(tmp_path, f"earnings21.root={EARNINGS21}", "earnings21.system=output/google",
                 "earnings21.calls=[4320211,4341191]", f"output_dir={out}")
    assert (out / "entity_report.json").stat().st_size < 100_000  # whole calls: their details are in the side file
    r = read_report(out / "entity_report.json")
    assert [u["id"] for u in r["utterances"]] == ["4320211", "4341191"]
    assert sum(len(u["entities"]) for u in r["utterances"]) == r["num_entities"]
    assert r["num_utterances"] == 2 and r["skipped"] == []
    # Earnings-21 types are kept as they are
    assert {"MONEY", "PERCENT", "CARDINAL", "ORG", "PERSON", "DATE"} <= set(r["categories"])
    assert 0.02 < r["wer"] < 0.5 and 0.5 < r["entity_accuracy"] < 1.0
    assert r["num_entities"] > 1000
    assert "MONEY" in p.stdout


@pytest.mark.skipif(not (EARNINGS21 / "transcripts").is_dir(), reason="Earnings-21 not available")
def test_earnings21_library_one_reference_many_systems():
    from finparakeet.scoring import PlainNormalizer, score_earnings21, score_earnings21_systems
    calls = ["4320211"]
    both = score_earnings21_systems(EARNINGS21, ["google", "rev/espnet/nlp", "no_such_system"], calls=calls,
                                    normalizer=PlainNormalizer())
    g = both["google"]
    assert g == score_earnings21(EARNINGS21, "output/google", calls=calls, normalizer=PlainNormalizer()) | {
        "inputs": g["inputs"]}
    assert both["rev/espnet/nlp"]["wer"] != g["wer"]
    missing = both["no_such_system"]
    assert missing["num_rows_scored"] == 0 and missing["skipped"][0]["id"] == "4320211"
    # every entity of the sidecar is scored and its ref is the reference text as written
    u = g["utterances"][0]
    money = [e for e in u["entities"] if e["category"] == "MONEY"]
    assert money and all(e["ref"] for e in money)
    assert g["categories"]["MONEY"]["num_entities"] == len(money)
    # Earnings-21 types folded into ours: PERIOD = DATE + YEAR
    cats, fin = g["categories"], g["finance_categories"]
    assert fin["PERIOD"]["num_entities"] == cats["DATE"]["num_entities"] + cats.get("YEAR", {"num_entities": 0})[
        "num_entities"]
    assert fin["MONEY"] == cats["MONEY"] and "PERSON" not in fin
