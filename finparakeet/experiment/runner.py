"""Run the "start big, then fine-tune" experiment: train every system, decode the test splits, collect the numbers.

Each training stage is the user-facing command (``recipes/train.py`` with the stage's overrides), run in this process
through the library (:func:`finparakeet.training.job.train_job`: the same config, run dir and ``.hydra/`` record), so
the experiment is exactly what a user can rerun by hand; a finished stage (``artifacts/run.json`` at its step budget)
is skipped and an interrupted one resumes from its newest intact checkpoint. Decoding goes through the transcribe
library in this process (one model load per system) with the finance bias list, with and without boosting.
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
    train: tuple[str, ...]  # recipes/train.py overrides


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
    return [SystemSpec(k, str(v["label"]), str(v["run"]), tuple(str(o) for o in v.get("train") or ()))
            for k, v in systems.items()]


def train_overrides(spec: SystemSpec, runs_dir: Path, data_dir: Path, extra: Sequence[str]) -> list[str]:
    """The stage's ``recipes/train.py`` overrides (what a user would type)."""
    return [*spec.train, f"paths.runs_dir={runs_dir}", f"paths.data_dir={data_dir}", *extra]


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
    from finparakeet.training.job import train_job

    run_dir = runs_dir / spec.run
    if is_trained(run_dir):
        print(f"[experiment] {spec.key}: trained already ({run_dir})", flush=True)
        return False
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


def decode_system(model, name: str, finance_test: Path, general_test: Path, bias_file: Path, out_dir: Path,
                  decode: Mapping[str, Any]) -> dict[str, Any]:
    """Finance test with and without boosting, general test without; returns the reports and output paths."""
    from finparakeet.inference.pipeline import BOOSTED, NO_BOOSTING, transcribe

    common = {"batch_size": decode["batch_size"], "progress": decode.get("progress", True), "evaluate": True,
              "cuda": decode.get("cuda")}
    fin = transcribe({**common, "cuts_path": str(finance_test), "output_filename": str(out_dir / "finance_test.json"),
                      "report_dir": str(out_dir / "finance_test"),
                      "boosting": {**decode["boosting"], "key_phrases_file": str(bias_file), "compare": True}},
                     model=model)
    gen = transcribe({**common, "cuts_path": str(general_test), "output_filename": str(out_dir / "general_test.json"),
                      "report_dir": str(out_dir / "general_test"),
                      "boosting": {"enabled": False}}, model=model)
    print(f"[experiment] {name}: finance RTFx {fin.stats.rtfx or 0:.1f}, general RTFx {gen.stats.rtfx or 0:.1f}",
          flush=True)
    return {"finance": {NO_BOOSTING: fin.reports[NO_BOOSTING], BOOSTED: fin.reports[BOOSTED]},
            "general": gen.reports["output"], "general_rows": gen.rows,
            "rtfx": {"finance": fin.stats.rtfx, "general": gen.stats.rtfx}}


def tune_boosting_alpha(model, name: str, dev_cuts: Path, bias_file: Path, out_dir: Path,
                        decode: Mapping[str, Any], alphas: Sequence[float]) -> dict[str, Any]:
    """Choose the boosting weight on the finance *dev* split (the test split is never looked at).

    Each ``alpha`` decodes the dev split with the bias list; the lowest entity WER wins (ties: the smaller alpha).
    Returns ``{"alpha": best, "dev": {alpha: {entity_wer, wer, precision}}}``.
    """
    from finparakeet.inference.pipeline import BOOSTED, transcribe

    scores: dict[float, dict[str, Any]] = {}
    for alpha in alphas:
        tag = f"alpha{alpha:g}"
        res = transcribe({"batch_size": decode["batch_size"], "progress": decode.get("progress", True),
                          "evaluate": True, "cuda": decode.get("cuda"), "cuts_path": str(dev_cuts),
                          "output_filename": str(out_dir / "dev" / f"finance_dev.{tag}.json"),
                          "report_dir": str(out_dir / "dev" / tag),
                          "boosting": {**decode["boosting"], "boosting_tree_alpha": float(alpha),
                                       "key_phrases_file": str(bias_file), "compare": False}}, model=model)
        r = res.reports[BOOSTED]
        scores[float(alpha)] = {"entity_wer": r["entity_wer"], "wer": r["wer"],
                                "precision": (r.get("keyphrases") or {}).get("precision")}
    best = min(scores, key=lambda a: (scores[a]["entity_wer"], a))
    print(f"[experiment] {name}: boosting alpha {best:g} chosen on the dev split ("
          + ", ".join(f"{a:g}: {v['entity_wer']:.3f}" for a, v in scores.items()) + " entity WER)", flush=True)
    return {"alpha": best, "dev": {f"{a:g}": v for a, v in scores.items()}}


def decode_adapters_off(model, general_test: Path, out_dir: Path, decode: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The general test decoded with the model's adapters switched off (should be the base model's output)."""
    from finparakeet.inference.pipeline import transcribe
    from finparakeet.models.adapters import set_adapters_enabled

    set_adapters_enabled(model, False)
    try:
        res = transcribe({"batch_size": decode["batch_size"], "progress": decode.get("progress", True),
                          "cuts_path": str(general_test), "cuda": decode.get("cuda"),
                          "output_filename": str(out_dir / "general_test.adapters_off.json"),
                          "boosting": {"enabled": False}}, model=model)
    finally:
        set_adapters_enabled(model, True)
    return res.rows
