"""``<run_dir>/metrics.json``: one entry per validation epoch (``validation``, ``epoch``, ``step`` and every logged
``val_*`` scalar), so runs and sweeps can be compared without TensorBoard. Plain JSON, no Lightning import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["METRICS_FILE", "read_metrics", "append_metrics"]

METRICS_FILE = "metrics.json"


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def append_metrics(path: str | Path, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Append one validation's scalars to a JSON list; an entry with the same ``validation`` index is replaced
    (a resumed run repeats the validations after its last checkpoint)."""
    history = [e for e in read_metrics(path) if e.get("validation") != entry.get("validation")]
    history.append(entry)
    history.sort(key=lambda e: (e.get("validation", 0), e.get("step", 0)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(history, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a run killed mid-write keeps the previous history
    return history
