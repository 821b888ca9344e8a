"""Summarise a Hydra multirun of the training recipe: ``sweep_summary.csv`` and ``sweep_summary.md``.

One row per job dir (``<sweep dir>/<n>/``): the swept values (the overrides that differ between jobs, read from each
job's ``.hydra/overrides.yaml``), its best ``val_entity_wer`` and the ``val_wer`` of that validation (from
``artifacts/run.json``, else ``metrics.json``), its step and run dir. Best first; jobs without a score last.
``recipes/sweep_summary.py`` and :class:`SweepSummaryCallback` (Hydra's ``on_multirun_end``) both call
:func:`summarise_sweep`.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Optional

import yaml
from hydra.experimental.callback import Callback

__all__ = ["collect_jobs", "summarise_sweep", "SweepSummaryCallback", "SUMMARY_CSV", "SUMMARY_MD"]

SUMMARY_CSV = "sweep_summary.csv"
SUMMARY_MD = "sweep_summary.md"
METRICS = ("best_val_entity_wer", "best_val_wer")


def _overrides(job_dir: Path) -> dict[str, str]:
    path = job_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    out = {}
    for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        key, _, value = str(item).partition("=")
        out[key.lstrip("+~")] = value
    return out


def _scores(job_dir: Path) -> dict[str, Any]:
    run = job_dir / "artifacts" / "run.json"
    if run.is_file():
        doc = json.loads(run.read_text(encoding="utf-8"))
        return {"best_val_entity_wer": doc.get("best_val_entity_wer"), "best_val_wer": doc.get("best_val_wer"),
                "global_step": doc.get("global_step"), "status": "done"}
    metrics = job_dir / "metrics.json"
    history = json.loads(metrics.read_text(encoding="utf-8")) if metrics.is_file() else []
    scored = [e for e in history if isinstance(e.get("val_entity_wer"), (int, float))]
    best = min(scored, key=lambda e: e["val_entity_wer"]) if scored else None
    return {"best_val_entity_wer": best["val_entity_wer"] if best else None,
            "best_val_wer": best.get("val_wer") if best else None,
            "global_step": history[-1].get("step") if history else None,
            "status": "incomplete" if history else "no validation"}


_SWEEP_SYNTAX = (",", "range(", "choice(", "interval(", "glob(")


def _declared(sweep_dir: Path, job_dirs: list[Path]) -> set[str]:
    """Keys the sweep itself names: ``a=1,2`` style overrides (``multirun.yaml``) and ``hydra.sweeper.params``."""
    keys: set[str] = set()
    multirun = sweep_dir / "multirun.yaml"
    if multirun.is_file():
        doc = yaml.safe_load(multirun.read_text(encoding="utf-8")) or {}
        for item in (doc.get("hydra", {}).get("overrides", {}) or {}).get("task", []) or []:
            key, _, value = str(item).partition("=")
            if any(t in value for t in _SWEEP_SYNTAX):
                keys.add(key.lstrip("+~"))
    for d in job_dirs[:1]:
        path = d / ".hydra" / "hydra.yaml"
        if path.is_file():
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            keys.update((doc.get("hydra", {}).get("sweeper", {}) or {}).get("params") or {})
    return keys


def collect_jobs(sweep_dir: str | Path) -> tuple[list[str], list[dict[str, Any]]]:
    """``(swept keys, rows)`` for the job dirs under ``sweep_dir``, best ``val_entity_wer`` first."""
    sweep_dir = Path(sweep_dir)
    job_dirs = sorted((p for p in sweep_dir.iterdir() if (p / ".hydra").is_dir()),
                      key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0, p.name))
    overrides = {d: _overrides(d) for d in job_dirs}
    keys = sorted({k for o in overrides.values() for k in o})
    # Swept: what the sweep declares (CLI sweep values, sweeper params) plus whatever differs between jobs.
    declared = _declared(sweep_dir, job_dirs)
    swept = [k for k in keys if k in declared or len({o.get(k) for o in overrides.values()}) > 1]
    if not swept and len(job_dirs) == 1:
        swept = keys
    rows = []
    for d in job_dirs:
        row: dict[str, Any] = {"job": d.name}
        row.update({k: overrides[d].get(k, "") for k in swept})
        row.update(_scores(d))
        row["run_dir"] = str(d)
        rows.append(row)

    def order(r: dict[str, Any]) -> tuple:
        v = r.get("best_val_entity_wer")
        ok = isinstance(v, (int, float)) and not math.isnan(v)
        return (not ok, v if ok else 0.0, r.get("best_val_wer") or 0.0, r["job"])

    rows.sort(key=order)
    return swept, rows


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def summarise_sweep(sweep_dir: str | Path) -> dict[str, Path]:
    """Write ``sweep_summary.csv`` and ``sweep_summary.md`` into ``sweep_dir``; returns their paths."""
    sweep_dir = Path(sweep_dir)
    swept, rows = collect_jobs(sweep_dir)
    columns = ["job", *swept, *METRICS, "global_step", "status", "run_dir"]
    csv_path, md_path = sweep_dir / SUMMARY_CSV, sweep_dir / SUMMARY_MD
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            writer.writerow({c: _fmt(r.get(c)) for c in columns})
    md_cols = [c for c in columns if c != "run_dir"]
    lines = [f"# Sweep {sweep_dir}", "", f"{len(rows)} jobs, best `val_entity_wer` first.", "",
             "| " + " | ".join(md_cols) + " |", "| " + " | ".join("---" for _ in md_cols) + " |"]
    lines += ["| " + " | ".join(_fmt(r.get(c)).replace("|", "\\|") for c in md_cols) + " |" for r in rows]
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"csv": csv_path, "md": md_path}


class SweepSummaryCallback(Callback):
    """Hydra callback (``hydra.callbacks``): summarise the sweep dir when a multirun ends."""

    def __init__(self) -> None:
        self.job_dirs: list[Path] = []

    def on_job_end(self, config, job_return, **kwargs: Any) -> None:
        # The job's output dir (``working_dir`` is the process cwd, which hydra.job.chdir=false leaves alone).
        try:
            self.job_dirs.append(Path(str(job_return.hydra_cfg.hydra.runtime.output_dir)))
        except Exception:  # noqa: BLE001 - a launcher that reports no hydra config: fall back to hydra.sweep.dir
            pass

    def on_multirun_end(self, config, **kwargs: Any) -> None:
        sweep_dir = self._sweep_dir(config)
        if sweep_dir is None or not sweep_dir.is_dir():
            return
        paths = summarise_sweep(sweep_dir)
        print(f"[finparakeet] sweep summary: {paths['md']}", flush=True)

    def _sweep_dir(self, config) -> Optional[Path]:
        # The jobs' own dirs first: `hydra.sweep.dir` holds ${now:...}, which could re-resolve to another second.
        parents = {d.parent for d in self.job_dirs}
        if len(parents) == 1:
            return parents.pop()
        try:
            return Path(str(config.hydra.sweep.dir))
        except Exception:  # noqa: BLE001
            return None
