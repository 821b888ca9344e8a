"""The experiment's training stages: which systems there are, and training each one (or finding it trained).

Each training stage is the user-facing command (``recipes/train.py`` with the stage's overrides), run in this process
through the library (:func:`finparakeet.training.job.train_job`: the same config, run dir and ``.hydra/`` record), so
the experiment is exactly what a user can rerun by hand; a finished stage (``artifacts/run.json`` at its step budget)
is skipped and an interrupted one resumes from its newest intact checkpoint. A system whose ``train`` is null is
never trained here: its run dir must already hold the finished model (a base trained by its own script).
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence


@dataclass(frozen=True)
class SystemSpec:
    """One row of the results table: how it is trained and which run dir holds it."""

    key: str
    label: str
    run: str  # run dir name under runs_dir
    train: tuple[str, ...] | None  # recipes/train.py overrides; None: not trained by the experiment
    adapted: bool = False  # the general base adapted to finance (a candidate for the best adapted system)


@dataclass
class StageLog:
    """Wall seconds of each stage this invocation ran (training stages skipped as done are absent)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        out = fn()
        self.seconds[name] = round(time.perf_counter() - t0, 1)
        return out


def systems_from_cfg(systems: Mapping[str, Mapping[str, Any]]) -> list[SystemSpec]:
    return [SystemSpec(k, str(v["label"]), str(v["run"]),
                       None if v.get("train") is None else tuple(str(o) for o in v["train"]),
                       bool(v.get("adapted", False))) for k, v in systems.items()]


def select_stages(stages: Sequence[SystemSpec], runs: Sequence[str] | None) -> list[SystemSpec]:
    """The training stages whose run dir is in ``runs`` (in training order); all of them when ``runs`` is None."""
    if runs is None:
        return list(stages)
    known = [s.run for s in stages]
    unknown = [r for r in runs if r not in known]
    if unknown:
        raise ValueError(f"train_only: no training stage has run dir {', '.join(map(str, unknown))}; the stages are: "
                         f"{', '.join(known)}")
    return [s for s in stages if s.run in set(runs)]


def train_overrides(spec: SystemSpec, runs_dir: Path, data_dir: Path, extra: Sequence[str]) -> list[str]:
    """The stage's ``recipes/train.py`` overrides (what a user would type)."""
    return [*(spec.train or ()), f"paths.runs_dir={runs_dir}", f"paths.data_dir={data_dir}", *extra]


def is_trained(run_dir: Path) -> bool:
    """True when the run finished (run.json written after the last step of its budget)."""
    from finparakeet.rundir import ARTIFACTS, RUN_JSON, read_run

    if not (run_dir / ARTIFACTS / RUN_JSON).is_file():
        return False
    cfg_file = run_dir / ".hydra" / "config.yaml"
    if not cfg_file.is_file():
        return True
    from omegaconf import OmegaConf

    max_steps = OmegaConf.load(cfg_file).trainer.get("max_steps", -1)
    step = read_run(run_dir).get("global_step", 0)
    return max_steps is None or max_steps < 0 or step >= max_steps


def run_training(spec: SystemSpec, runs_dir: Path, data_dir: Path, extra: Sequence[str]) -> bool:
    """Train (or resume) one system in this process; returns False when it was already done."""
    from finparakeet.rundir import ARTIFACTS, RUN_JSON

    run_dir = runs_dir / spec.run
    if is_trained(run_dir) or (spec.train is None and (run_dir / ARTIFACTS / RUN_JSON).is_file()):
        print(f"[experiment] {spec.key}: trained already ({run_dir})", flush=True)
        return False
    if spec.train is None:
        raise FileNotFoundError(f"systems.{spec.key}.train is null (used as it is, never trained by the experiment), "
                                f"but {run_dir} holds no model (artifacts/run.json): train it first, or give its "
                                "train overrides")
    from finparakeet.training.job import train_job  # NeMo and Lightning: only when there is something to train

    overrides = train_overrides(spec, runs_dir, data_dir, extra)
    print(f"[experiment] {spec.key}: python recipes/train.py {' '.join(overrides)}", flush=True)
    train_job(overrides)
    gc.collect()  # the stage's model and trainer are gone: give their memory back before the next stage
    return True


def training_wall_seconds(run_dir: Path) -> float | None:
    """Training time from the run's TensorBoard event files: per file (one per invocation), first to last event.

    Summed per file so that the pause between an interrupted run and its resumption is not counted.
    """
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    total, found = 0.0, False
    for events in sorted((run_dir / "tensorboard").rglob("events.out.tfevents.*")):
        times = [e.wall_time for e in EventFileLoader(str(events)).Load() if e.wall_time]
        if len(times) > 1:
            total += max(times) - min(times)
            found = True
    return round(total, 1) if found else None
