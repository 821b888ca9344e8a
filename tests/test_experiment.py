"""The experiment: goals, RESULTS.md against the committed records, and a miniature of the pipeline."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from finparakeet.experiment.book import render_results
from finparakeet.experiment.results import evaluate_goals, render_markdown, same_transcripts
from finparakeet.experiment.runner import is_trained

REPO = Path(__file__).resolve().parents[1]


def _system(general_wer, ewer, ewer_boost, unseen, unseen_boost, precision=1.0, hits=5, off=True):
    def rep(e, u, kp):
        return {"wer": 0.3, "entity_wer": e, "entity_accuracy": 1 - e, "num_utterances": 10, "num_entities": 20,
                "categories": {}, "unseen": {"entity_wer": u, "entity_accuracy": 1 - u, "num_entities": 8},
                "keyphrases": kp}
    return {"label": "x", "general_test_wer": general_wer,
            "adapters_off": {"equal": off, "differing_rows": 0 if off else 3, "rows": 10},
            "finance": {"no_boosting": rep(ewer, unseen, None),
                        "boosting": rep(ewer_boost, unseen_boost, {"precision": precision, "hits": hits})}}


def test_goals_are_judged_on_the_numbers():
    systems = {"general_base": _system(0.18, 0.60, 0.55, 0.8, 0.7),
               "finance_scratch": _system(0.90, 0.50, 0.45, 0.7, 0.6),
               "adapt_linear": _system(0.19, 0.30, 0.20, 0.5, 0.3),
               "adapt_linear_all": _system(0.25, 0.55, 0.56, 0.5, 0.5, precision=0.5, off=False)}
    g = evaluate_goals(systems)
    assert g["general_base_wer_le_0.20"]["met"] is True
    assert g["adapt_linear_beats_base_and_scratch"]["met"] is True
    assert g["adapt_linear_general_wer_cost_le_2_points"]["met"] is True
    assert g["adapt_linear_boosting_lowers_entity_wer_most_on_unseen"]["met"] is True  # 0.10 overall, 0.20 unseen
    assert g["adapt_linear_keyphrase_precision_ge_0.9"]["met"] is True
    assert g["adapt_linear_adapters_off_equals_base"]["met"] is True
    assert g["adapt_linear_all_beats_base_and_scratch"]["met"] is False  # 0.55 is not below scratch's 0.50
    assert g["adapt_linear_all_general_wer_cost_le_2_points"]["met"] is False  # 7 points
    assert g["adapt_linear_all_boosting_lowers_entity_wer_most_on_unseen"]["met"] is False
    assert g["adapt_linear_all_keyphrase_precision_ge_0.9"]["met"] is False
    assert g["adapt_linear_all_adapters_off_equals_base"]["met"] is False


def test_precision_without_any_hit_is_not_a_met_goal():
    systems = {"adapt_linear": _system(0.2, 0.5, 0.5, 0.5, 0.5, precision=1.0, hits=0)}
    assert evaluate_goals(systems)["adapt_linear_keyphrase_precision_ge_0.9"]["met"] is False


def test_same_transcripts_counts_differing_rows():
    a = [{"pred_text": "a b"}, {"pred_text": "c"}]
    assert same_transcripts(a, a) == {"equal": True, "differing_rows": 0, "rows": 2}
    assert same_transcripts(a, [{"pred_text": "a b"}, {"pred_text": "d"}])["differing_rows"] == 1
    assert same_transcripts(a, a[:1])["equal"] is False


def test_results_md_is_the_rendering_of_the_committed_records():
    expected = render_results(REPO / "results")
    assert (REPO / "RESULTS.md").read_text(encoding="utf-8") == expected, \
        "RESULTS.md is stale: run python recipes/write_results.py"
    assert "python recipes/train.py +experiment=finance_adapt adapter=linear_all trainer.max_steps=750" in expected
    assert "| General base | no boosting | 5.18M | 4000 |" in expected
    assert (REPO / "results" / "experiment.png").is_file()


@pytest.mark.slow
def test_quick_experiment_end_to_end(tmp_path):
    quick = ["model=tiny_tdt", "data.synth.num_utterances=30", "trainer.max_steps=3", "trainer.val_check_interval=3",
             "trainer.limit_val_batches=1", "checkpoint.every_n_train_steps=3", "data.batch_duration=20"]
    cmd = [sys.executable, str(REPO / "recipes" / "run_experiment.py"), f"output_dir={tmp_path / 'results'}",
           f"runs_dir={tmp_path / 'runs'}", f"data_dir={tmp_path / 'data'}", "results_md=null",
           "decode.progress=false", "decode.tune_alpha=[0.1,0.5]", "train_overrides=[" + ",".join(f'"{o}"' for o in quick) + "]"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    doc = json.loads((tmp_path / "results" / "experiment.json").read_text())
    assert list(doc["systems"]) == ["general_base", "finance_scratch", "adapt_linear", "adapt_linear_all", "full_ft"]
    for key, s in doc["systems"].items():
        assert s["train_steps"] == 3
        assert set(s["finance"]) == {"no_boosting", "boosting"}
        general = json.loads((tmp_path / "runs" / "experiment_decodes" / key / "general_test" /
                              "entity_report.json").read_text())
        assert s["general_test_wer"] == general["wer"]  # the table's figure is the report's, not recomputed
        kp = s["finance"]["boosting"]["keyphrases"]
        assert kp["hits"] + kp["misses"] > 0  # the bias list met the test transcripts
        assert is_trained(tmp_path / "runs" / s["run"])
        # the boosting weight is chosen on the dev split, from the configured candidates, and used on the test split
        assert set(s["boosting_dev_sweep"]) == {"0.1", "0.5"} and s["boosting_alpha"] in (0.1, 0.5)
        best = min(s["boosting_dev_sweep"].items(), key=lambda kv: (kv[1]["entity_wer"], float(kv[0])))
        assert float(best[0]) == s["boosting_alpha"]
        assert (tmp_path / "runs" / "experiment_decodes" / key / "dev" / "finance_dev.alpha0.1.json").is_file()
    # adapters switched off give the general base back, exactly; full fine-tuning has no adapters to switch off
    assert doc["systems"]["adapt_linear"]["adapters_off"]["equal"] is True
    assert doc["systems"]["adapt_linear_all"]["adapters_off"]["equal"] is True
    assert doc["systems"]["full_ft"]["adapters_off"] is None
    assert doc["systems"]["adapt_linear"]["trainable_params"] < doc["systems"]["full_ft"]["trainable_params"]
    assert doc["bias_list"]["phrases"] > 1000
    assert (tmp_path / "results" / "experiment.md").read_text() == render_markdown(doc)
    assert (tmp_path / "results" / "experiment.png").stat().st_size > 10_000
    # each system's finance decodes were scored into their own folder
    dec = tmp_path / "runs" / "experiment_decodes" / "adapt_linear"
    assert (dec / "finance_test" / "entity_report.json").is_file()
    assert (dec / "finance_test" / "no_boosting" / "entity_report.json").is_file()
    assert (dec / "general_test" / "entity_report.json").is_file()
