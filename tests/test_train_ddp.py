"""Validation over two real processes (``trainer.devices=2 trainer.strategy=ddp``, gloo on CPU) gives what one process
gives over the same validation cuts: val_wer, val_entity_wer, every per-category figure, the epoch report and the
predictions (every utterance once).

Both runs train with learning rate 0 and adapters that start at zero (BatchNorm statistics frozen), so they validate
the same model; one cut per validation batch makes the decoding independent of how batches are composed, and the
TDT loss's random RNN-T draw is off (omega 0) so val_loss is comparable too. Five
validation cuts over two ranks leave one cut for the last round: Lhotse's sampler then gives rank 1 a padding copy
(``<id>_dup0``), which must not be counted twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import REPO, tiny_run_overrides

pytestmark = pytest.mark.slow


def _run(args, timeout=600):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "HYDRA_FULL_ERROR": "1"}
    # Own process group: a hung rank is killed with its launcher.
    proc = subprocess.Popen([sys.executable, str(REPO / "recipes" / "train.py"), *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail("training hung:\n" + out[-4000:])
    return proc.returncode, out


def _one_and_two(synth_dir, tmp, model_overrides=()):
    from lhotse import CutSet

    five = tmp / "dev5.jsonl.gz"
    CutSet.from_cuts(list(CutSet.from_file(synth_dir / "dev_cuts.jsonl.gz"))[:5]).to_file(five)
    common = [*tiny_run_overrides(synth_dir, steps=2), *model_overrides, f"data.validation_cuts={five}",
              "model.optim.lr=0", "model.optim.sched.min_lr=0", "+data.validation_ds.batch_size=1",
              "model.loss.tdt_kwargs.omega=0"]  # omega > 0 draws the RNN-T loss at random per batch: val_loss varies
    out = {}
    for name, extra in (("one", []), ("two", ["trainer.devices=2", "trainer.strategy=ddp"])):
        run_dir = tmp / name
        rc, log = _run([*common, *extra, f"hydra.run.dir={run_dir}"])
        assert rc == 0, log[-4000:]
        out[name] = (run_dir, log)
    return out


@pytest.fixture(scope="module")
def runs(synth_dir, tmp_path_factory):
    return _one_and_two(synth_dir, tmp_path_factory.mktemp("ddp"))


def _metrics(run_dir):
    (entry,) = json.loads((run_dir / "metrics.json").read_text())
    return {k: v for k, v in entry.items() if k.startswith("val_")}


def test_two_processes_ran(runs):
    _, log = runs["two"]
    assert "distributed_backend=gloo" in log and "All distributed processes registered" in log
    # rank 1's last batch was Lhotse's padding copy of the fifth cut
    assert "validation: 1 repeated cut(s) counted once (5 utterances)" in log
    assert "repeated cut" not in runs["one"][1]


def test_same_figures_as_one_process(runs):
    one, two = _metrics(runs["one"][0]), _metrics(runs["two"][0])
    assert set(one) == set(two) and {"val_wer", "val_entity_wer", "val_loss"} <= set(one)
    assert any(k.startswith("val_entity_wer/") for k in one)  # per category
    assert two == pytest.approx(one, rel=1e-6, abs=1e-9)


def test_same_report_and_predictions_every_utterance_once(runs):
    (one_dir, _), (two_dir, _) = runs["one"], runs["two"]
    one = json.loads((one_dir / "reports" / "epoch_0" / "entity_report.json").read_text())
    two = json.loads((two_dir / "reports" / "epoch_0" / "entity_report.json").read_text())
    assert one["num_utterances"] == two["num_utterances"] == 5
    assert [u["id"] for u in two["utterances"]] == [u["id"] for u in one["utterances"]]
    assert not any("_dup" in u["id"] for u in two["utterances"])
    assert two == one
    preds = [(d / "reports" / "epoch_0" / "predictions.jsonl").read_text() for d in (one_dir, two_dir)]
    assert preds[0] == preds[1] and len(preds[0].splitlines()) == 5


def test_hybrid_model_ctc_head_scored_over_both_processes(synth_dir, tmp_path):
    """NeMo's hybrid TDT+CTC model (the general base's family) also reads the CTC head's error counts from every
    validation output: two processes must give its val_wer_ctc as one process does (it once failed with a KeyError)."""
    hybrid = ["model=tiny_tdt_ctc_5m", "model.encoder.n_layers=1", "model.encoder.d_model=32",
              "model.encoder.n_heads=2", "model.encoder.subsampling_conv_channels=16", "adapter.dim=8"]
    runs = _one_and_two(synth_dir, tmp_path, hybrid)
    one, two = _metrics(runs["one"][0]), _metrics(runs["two"][0])
    assert "val_wer_ctc" in one
    assert two == pytest.approx(one, rel=1e-6, abs=1e-9)
