"""recipes/train.py as users run it: resume, sweeps (+ summary), Optuna, the offline error, Hydra's config errors."""

from __future__ import annotations

import csv
import json
import time

import pytest
import torch

from conftest import run_train, tiny_run_overrides

pytestmark = pytest.mark.slow


def _history(run_dir):
    return json.loads((run_dir / "metrics.json").read_text())


def test_rerun_resumes_from_last_checkpoint(synth_dir, tmp_path):
    run_dir = tmp_path / "run"
    args = [*tiny_run_overrides(synth_dir, steps=2), f"hydra.run.dir={run_dir}"]
    first = run_train(args)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "resuming" not in first.stdout
    assert [e["step"] for e in _history(run_dir)] == [2]
    assert (run_dir / "reports" / "epoch_0" / "entity_report.html").is_file()
    tokenizer = next(synth_dir.glob("tokenizer_*"))
    stamp = (tokenizer / "tokenizer.model").stat().st_mtime_ns

    second = run_train([*args, "trainer.max_steps=4"])
    assert second.returncode == 0, second.stderr[-3000:]
    log = second.stdout + second.stderr
    assert f"resuming from {run_dir / 'checkpoints' / 'last.ckpt'}" in log
    assert "Restored all states from the checkpoint" in log
    assert "synthesising" not in log and "training a tokenizer" not in log  # data prep skipped
    assert (tokenizer / "tokenizer.model").stat().st_mtime_ns == stamp
    history = _history(run_dir)
    assert [(e["validation"], e["step"]) for e in history] == [(0, 2), (1, 4)]  # step 2 kept, training went on
    doc = json.loads((run_dir / "artifacts" / "run.json").read_text())
    assert doc["global_step"] == 4 and doc["base"]["model_config"] == "tiny_tdt"  # built by the model group
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["global_step"] == 4


def test_two_job_sweep_writes_its_summary(synth_dir, tmp_path):
    sweep = tmp_path / "sweep"
    proc = run_train(["-m", *tiny_run_overrides(synth_dir, steps=2), "adapter.dim=4,8", f"hydra.sweep.dir={sweep}"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    for job in ("0", "1"):
        assert (sweep / job / "artifacts" / "run.json").is_file()
        assert (sweep / job / "reports" / "epoch_0" / "entity_report.json").is_file()
    rows = list(csv.DictReader((sweep / "sweep_summary.csv").open()))
    assert sorted(r["adapter.dim"] for r in rows) == ["4", "8"]
    scores = [float(r["best_val_entity_wer"]) for r in rows]
    assert scores == sorted(scores)
    for r in rows:  # each row holds its job's own best figures, as its metrics.json has them
        job = next(j for j in ("0", "1") if json.loads((sweep / j / "artifacts" / "run.json").read_text())
                   ["adapter"]["dim"] == int(r["adapter.dim"]))
        history = json.loads((sweep / job / "metrics.json").read_text())
        assert float(r["best_val_entity_wer"]) == pytest.approx(min(e["val_entity_wer"] for e in history))
        assert float(r["best_val_wer"]) == pytest.approx(
            min(history, key=lambda e: e["val_entity_wer"])["val_wer"])
    md = (sweep / "sweep_summary.md").read_text()
    assert "adapter.dim" in md and "best_val_entity_wer" in md
    # trainable parameters follow the swept value
    dims = {json.loads((sweep / j / "artifacts" / "run.json").read_text())["adapter"]["dim"]:
            json.loads((sweep / j / "artifacts" / "run.json").read_text())["trainable_params"] for j in ("0", "1")}
    assert dims[8] > dims[4]


def test_optuna_search_runs_trials(synth_dir, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    sweep = tmp_path / "optuna"
    proc = run_train([*tiny_run_overrides(synth_dir, steps=1), "hparams_search=adapter_optuna",
                      "hydra.sweeper.n_trials=2", f"hydra.sweep.dir={sweep}"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = (sweep / "optimization_results.yaml").read_text()
    assert "best_value" in results and "adapter.dim" in results
    rows = list(csv.DictReader((sweep / "sweep_summary.csv").open()))
    assert len(rows) == 2 and "model.optim.lr" in rows[0]


def test_offline_hub_model_fails_at_once_with_a_clear_message(tmp_path):
    run_dir = tmp_path / "offline"
    start = time.monotonic()
    proc = run_train(["+experiment=finance_calls", f"hydra.run.dir={run_dir}"], env={"HF_HUB_OFFLINE": "1"})
    elapsed = time.monotonic() - start
    assert proc.returncode == 1
    assert "model.nemo_path=" in proc.stderr and "nvidia/parakeet-tdt-0.6b-v2" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (run_dir / "data").exists()  # failed before any data work
    # not a speed figure: a hub client retrying offline would take minutes; imports alone take 15-40 s on 2 busy cores
    assert elapsed < 120


def test_missing_local_nemo_is_named(tmp_path):
    proc = run_train(["+experiment=finance_calls", f"model.nemo_path={tmp_path / 'absent.nemo'}",
                      "data.train_cuts=train.jsonl.gz", "data.validation_cuts=dev.jsonl.gz",
                      f"hydra.run.dir={tmp_path / 'run'}"])
    assert proc.returncode == 1
    assert "absent.nemo" in proc.stderr and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("override, expected", [
    ("adapter.dimm=3", "adapter.dimm"),
    ("adapter=lora", "linear_all"),  # Hydra lists the options of the group
    ("+experiment=nope", "finance_calls"),
])
def test_unknown_keys_and_groups_fail_with_hydra_listing(tmp_path, override, expected):
    args = ["+experiment=smoke", override] if not override.startswith("+experiment") else [override]
    proc = run_train([*args, f"hydra.run.dir={tmp_path / 'run'}"])
    assert proc.returncode != 0
    assert expected in proc.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_missing_user_cuts_are_named_before_loading(tmp_path):
    weights = tmp_path / "weights.nemo"
    weights.write_bytes(b"not a model")  # never opened: the missing settings are reported first
    proc = run_train(["+experiment=finance_calls", f"model.nemo_path={weights}", f"hydra.run.dir={tmp_path / 'run'}"])
    assert proc.returncode == 1
    assert "data.train_cuts" in proc.stderr and "data.validation_cuts" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_finance_calls_adapts_a_local_nemo_on_user_cuts(synth_dir, tmp_path):
    """The real job's path on CPU: weights from a local .nemo (no adapters yet, its own tokenizer), user cuts with
    duration bucketing, the experiment's optimiser applied to the loaded model."""
    from finparakeet.data.manifests import load_cuts
    from finparakeet.models.loading import build_model, load_model_config
    from finparakeet.models.tokenizer import train_tokenizer

    texts = [c.supervisions[0].text for c in load_cuts(synth_dir / "train_cuts.jsonl.gz")]
    tok = train_tokenizer(texts, tmp_path / "tok", vocab_size=128)
    base = tmp_path / "tiny_general.nemo"
    build_model(load_model_config("tiny_tdt", [f"model.tokenizer.dir={tok}"])).save_to(str(base))
    run_dir = tmp_path / "run"
    proc = run_train(["+experiment=finance_calls", f"model.nemo_path={base}", "trainer=cpu", "trainer.max_steps=2",
                      "trainer.val_check_interval=2", "trainer.enable_progress_bar=false", "data.num_workers=0",
                      f"data.train_cuts={synth_dir / 'train_cuts.jsonl.gz'}",
                      f"data.validation_cuts={synth_dir / 'dev_cuts.jsonl.gz'}", f"hydra.run.dir={run_dir}"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((run_dir / "artifacts" / "run.json").read_text())
    assert doc["base"]["nemo_path"] == str(base) and doc["global_step"] == 2
    assert doc["base"]["model_config"] is None  # the weights came from the .nemo, not from the model group
    assert doc["adapters"] == "artifacts/adapters.pt" and doc["best_val_entity_wer"] is not None
    import yaml
    saved = yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text())
    assert saved["model"]["optim"]["lr"] == 1.0e-3
    assert "lr: 0.001" in proc.stdout + proc.stderr  # NeMo's optimiser setup used the experiment's rate
