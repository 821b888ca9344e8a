"""Crash-safe resume with real processes: a run killed with SIGKILL mid-training resumes from its newest intact
checkpoint; a process killed mid-save leaves the previous checkpoint whole; a truncated or corrupt ``last.ckpt`` is
named and the run falls back to the newest intact one; a folder of broken checkpoints stops the run (never a pickle
traceback, never a silent restart from step 0)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import REPO, run_train, tiny_run_overrides
from finparakeet.training.checkpoints import (AtomicCheckpointIO, CheckpointError, checkpoint_step,
                                              find_resume_checkpoint, remove_stale_temporaries)

pytestmark = pytest.mark.slow

EVERY = 2  # checkpoint.every_n_train_steps


def _overrides(synth_dir, run_dir, steps):
    return [*tiny_run_overrides(synth_dir, steps=steps), "trainer.val_check_interval=4",
            f"checkpoint.every_n_train_steps={EVERY}", f"hydra.run.dir={run_dir}"]


def _steps(run_dir):
    return [e["step"] for e in json.loads((run_dir / "metrics.json").read_text())]


def _popen(args):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    return subprocess.Popen([sys.executable, str(REPO / "recipes" / "train.py"), *args], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _last_step(path: Path):
    try:
        return checkpoint_step(path)
    except (CheckpointError, FileNotFoundError):
        return None


@pytest.fixture(scope="module")
def killed_run(synth_dir, tmp_path_factory):
    """A 40-step run SIGKILLed as soon as last.ckpt holds step >= 6; returns (run_dir, step seen before the kill)."""
    run_dir = tmp_path_factory.mktemp("killed") / "run"
    proc = _popen(_overrides(synth_dir, run_dir, steps=40))
    last = run_dir / "checkpoints" / "last.ckpt"
    seen, deadline = None, time.monotonic() + 400
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            seen = _last_step(last) if last.is_file() else None
            if seen is not None and seen >= 6:
                break
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert seen is not None and seen >= 6, "no checkpoint at step >= 6 in time"
    return run_dir, seen


def test_killed_run_resumes_from_newest_checkpoint(killed_run, synth_dir):
    run_dir, seen = killed_run
    step = checkpoint_step(run_dir / "checkpoints" / "last.ckpt")  # intact after the kill, whenever it came
    assert step >= seen and step % EVERY == 0
    proc = run_train(_overrides(synth_dir, run_dir, steps=12))
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert f"resuming from {run_dir / 'checkpoints' / 'last.ckpt'} (step {step})" in log
    assert "Restored all states from the checkpoint" in log and "Traceback" not in log
    assert json.loads((run_dir / "artifacts" / "run.json").read_text())["global_step"] == 12
    assert _steps(run_dir) == [4, 8, 12]  # the validations before the kill are kept, none repeated twice
    assert not list((run_dir / "checkpoints").glob(".*.tmp"))


def test_kill_during_a_save_keeps_the_previous_checkpoint(tmp_path):
    """A real SIGKILL while AtomicCheckpointIO writes a ~400 MB checkpoint over a small intact one."""
    target = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"global_step": 3, "state_dict": {}}, target)
    script = ("import sys, torch\nfrom finparakeet.training.checkpoints import AtomicCheckpointIO\n"
              "big = {'global_step': 9, 'state_dict': {'w': torch.ones(100_000_000)}}\n"
              "print('saving', flush=True)\nAtomicCheckpointIO().save_checkpoint(big, sys.argv[1])\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.stdout.readline().strip() == "saving"
    tmp_file = tmp_path / f".last.ckpt.{proc.pid}.tmp"
    deadline = time.monotonic() + 60
    while not (tmp_file.is_file() and tmp_file.stat().st_size > 1_000_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert tmp_file.is_file(), "the save finished before the kill: nothing was tested"
    assert checkpoint_step(target) == 3  # the previous checkpoint, whole
    assert find_resume_checkpoint(tmp_path).path == target  # the half-written temporary is not a candidate
    assert remove_stale_temporaries(tmp_path) == [tmp_file] and not tmp_file.exists()


def test_truncated_last_checkpoint_falls_back_to_best(killed_run, synth_dir, tmp_path):
    import shutil

    src, _ = killed_run
    run_dir = tmp_path / "run"
    shutil.copytree(src, run_dir)
    (best,) = (run_dir / "checkpoints").glob("best-step=*.ckpt")
    best_step = checkpoint_step(best)
    last = run_dir / "checkpoints" / "last.ckpt"
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 2])
    assert best_step < 12
    proc = run_train(_overrides(synth_dir, run_dir, steps=14))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert f"skipping checkpoint {last}: not a complete checkpoint" in log
    assert f"resuming from {best} (step {best_step})" in log
    assert "Traceback" not in log and "UnpicklingError" not in log
    assert checkpoint_step(last) == 14  # written anew


def test_corrupt_last_checkpoint_is_named(tmp_path):
    torch.save({"global_step": 4, "state_dict": {"w": torch.arange(1000.0)}}, tmp_path / "best-step=4.ckpt")
    torch.save({"global_step": 6, "state_dict": {"w": torch.arange(1000.0)}}, tmp_path / "last.ckpt")
    raw = bytearray((tmp_path / "last.ckpt").read_bytes())
    raw[len(raw) // 3: len(raw) // 3 + 64] = b"\x00" * 64  # same length, damaged tensor data
    (tmp_path / "last.ckpt").write_bytes(bytes(raw))
    point = find_resume_checkpoint(tmp_path)
    assert point.path == tmp_path / "best-step=4.ckpt" and point.step == 4
    (broken,) = point.broken
    assert broken.path.name == "last.ckpt" and "CRC" in broken.reason


def test_only_broken_checkpoints_stop_the_run(synth_dir, tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"PK\x03\x04 truncated")
    proc = run_train(_overrides(synth_dir, run_dir, steps=4))
    assert proc.returncode == 1
    assert "no intact checkpoint" in proc.stderr and "last.ckpt" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (run_dir / "metrics.json").exists()  # nothing trained from step 0


def test_validation_repeated_after_resume_covers_the_whole_dev_set(synth_dir, tmp_path):
    """last.ckpt at step 4 is written before step 4's validation; the resumed run repeats that validation. It must
    score as many dev batches as every other validation (Lightning 2.4 would carry the previous validation's batch
    count into the repeat and stop it after one batch)."""
    run_dir = tmp_path / "run"
    common = [*tiny_run_overrides(synth_dir), "trainer.val_check_interval=2", "checkpoint.every_n_train_steps=2",
              "data.batch_duration=8", "trainer.limit_val_batches=3", f"hydra.run.dir={run_dir}"]
    first = run_train([*common, "trainer.max_steps=4"])
    assert first.returncode == 0, first.stderr[-3000:]
    assert checkpoint_step(run_dir / "checkpoints" / "last.ckpt") == 4

    def scored():  # utterances in each validation's predictions, by validation index
        return {int(p.parent.name.split("_")[1]): len(p.read_text().splitlines())
                for p in (run_dir / "reports").glob("epoch_*/predictions.jsonl")}

    before = scored()
    assert before[0] == before[1] > 1  # three batches of one or two utterances each
    resumed = run_train([*common, "trainer.max_steps=6"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _steps(run_dir) == [2, 4, 6]
    assert scored() == {0: before[0], 1: before[0], 2: before[0]}
