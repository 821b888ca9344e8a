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
    bias.write_text("# finance terms\nEBITDA\n50 bps\nNVIDIA\nS&P 500\n", encoding="utf-8")
    manifest = tmp_path / "m.json"
    lines = (REPO / "manifests" / "sample_eval.json").read_text().splitlines()
    manifest.write_text("\n".join(lines + ['{"text": "broken"']) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    p = evaluate(tmp_path, f"manifest={manifest}", f"output_dir={out}", f"bias_list={bias}")
    assert "entity WER" in p.stdout and "rows scored 6, skipped 1" in p.stdout and "key phrases" in p.stdout
    r = json.loads((out / "entity_report.json").read_text())
    assert r["num_rows_scored"] == 6 and r["skipped"][0]["line"] == 7
    # "50 bps" heard as "15 bps", "EBITDA" as "a bit a", "Nvidia" as "and video"; "S&P 500" right
    kp = r["keyphrases"]
    assert (kp["hits"], kp["false_alarms"], kp["misses"]) == (1, 0, 3)
    assert {m["phrase"] for m in kp["top_misses"]} == {"50 bps", "EBITDA", "NVIDIA"}
    assert (kp["precision"], kp["recall"]) == (1.0, 0.25) and kp["f1"] == pytest.approx(2 * 0.25 / 1.25)
    # $4.2 billion -> $4.2 million is the one MONEY error of two; the one BPS entity is wrong
    assert (r["categories"]["MONEY"]["num_entities"], r["categories"]["MONEY"]["errors"]) == (2, 1)
    assert r["categories"]["BPS"]["entity_accuracy"] == 0.0 and r["categories"]["PERIOD"]["errors"] == 0
    assert (out / "entity_report.md").read_text().startswith("# Entity report")
    assert "<svg" in (out / "entity_report.html").read_text()


@pytest.mark.slow  # a recipe in a fresh Python (Hydra, Lhotse): ~5 s
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
    import jiwer

    from finparakeet.data.earnings21 import load_call, load_hypothesis
    from finparakeet.scoring import PlainNormalizer, score_earnings21, score_earnings21_systems
    calls = ["4320211"]
    plain = PlainNormalizer()
    both = score_earnings21_systems(EARNINGS21, ["google", "rev/espnet/nlp", "no_such_system"], calls=calls,
                                    normalizer=plain)
    g = both["google"]
    # Errors against an independent count: jiwer on the same (plainly normalised) words, where a word that differs
    # only by a missing currency ("22.7" for "$22.7") is one substitution, and for the scorer a format difference.
    call = load_call(EARNINGS21, "4320211")
    for system in ("google", "rev/espnet/nlp"):
        r = both[system]
        out = jiwer.process_words(plain.normalize(call.text),
                                  plain.normalize(load_hypothesis(EARNINGS21, system, "4320211")))
        errors = r["substitutions"] + r["deletions"] + r["insertions"]
        assert errors + r["format_only_words"] == out.substitutions + out.deletions + out.insertions, system
        assert r["ref_words"] == len(out.references[0]) and r["wer"] == errors / r["ref_words"]
    assert g["format_only_words"] > 0  # "$22.7" heard as "22.7", ...
    assert both["rev/espnet/nlp"]["wer"] != g["wer"]
    # "output/google" names the same folder as "google"
    assert score_earnings21(EARNINGS21, "output/google", calls=calls, normalizer=plain)["wer"] == g["wer"]
    missing = both["no_such_system"]
    assert missing["num_rows_scored"] == 0 and missing["skipped"][0]["id"] == "4320211"
    assert missing["skipped"][0]["kind"] == "unreadable" and "no_such_system" in missing["skipped"][0]["reason"]
    # every entity of the sidecar that has words is scored, the rest counted as unscorable
    assert g["num_entities"] + g["num_unscorable_entities"] == len(call.entities)
    # every entity of the sidecar is scored and its ref is the reference text as written
    u = g["utterances"][0]
    money = [e for e in u["entities"] if e["category"] == "MONEY"]
    assert money and all(e["ref"] for e in money)
    assert g["categories"]["MONEY"]["num_entities"] == len(money)
    # Earnings-21 types folded into ours: PERIOD = DATE + YEAR
    cats, fin = g["categories"], g["finance_categories"]
    assert fin["PERIOD"]["num_entities"] == cats["DATE"]["num_entities"] + cats.get("YEAR", {"num_entities": 0})[
        "num_entities"]
    assert fin["MONEY"] == cats["MONEY"] and fin["PERSON"] == cats["PERSON"]  # Earnings-21 PERSON is ours


def test_evaluate_confidence_builds_the_review_queue_from_a_transcript(tmp_path):
    from conftest import transcript_row

    rows = [transcript_row("Revenue was $4.2 billion.", "Revenue was $4.2 million.", [0.9, 0.95, 0.3, 0.4], id="a"),
            transcript_row("We hold EBITDA steady.", "We hold EBITDA steady.", [0.9, 0.9, 0.8, 0.9], id="b")]
    manifest = tmp_path / "transcript.json"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    evaluate(tmp_path, f"manifest={manifest}", f"output_dir={tmp_path / 'out'}", "confidence=true")
    queue = [json.loads(x) for x in (tmp_path / "out" / "review.jsonl").read_text().splitlines()]
    assert [(q["text"], q["confidence"], q["id"], q["correct"]) for q in queue] == [
        ("$4.2 million", 0.3, "a", False), ("EBITDA", 0.8, "b", True), ("Revenue", 0.9, "a", True)]  # least sure first
    assert queue[0]["start"] == 1.0 and queue[0]["end"] == 1.9  # the money words' times
    report = read_report(tmp_path / "out" / "entity_report.json")
    assert report["confidence"]["auroc"] == 1.0 and report["review"]["items"][0]["text"] == "$4.2 million"
    assert report["review"]["num_items"] == 3 and (tmp_path / "out" / "entity_report.reliability.png").is_file()

    plain = tmp_path / "plain.json"  # rows without word confidence: named, nothing written
    plain.write_text(json.dumps({"text": "a b", "pred_text": "a b"}) + "\n", encoding="utf-8")
    p = evaluate(tmp_path, f"manifest={plain}", f"output_dir={tmp_path / 'out2'}", "confidence=true", check=False)
    assert p.returncode != 0 and "line 1: the row has no word confidence" in p.stderr
    assert not (tmp_path / "out2" / "review.jsonl").exists()
