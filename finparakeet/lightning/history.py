"""``<run_dir>/metrics.json``: one entry per validation epoch (``validation``, ``epoch``, ``step`` and every logged
``val_*`` scalar), so runs and sweeps can be compared without TensorBoard. Plain JSON, no Lightning import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["METRICS_FILE", "read_metrics", "append_metrics", "before_after_table"]

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


def before_after_table(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A Markdown table of two ``metrics.json`` entries (e.g. step 0 and the best step): WER, entity WER, entity
    accuracy and entity WER per category, in percent, with the relative change of each."""

    def pct(v: Any) -> str:
        return "—" if v is None else f"{100 * v:.1f}"

    def change(a: Any, b: Any) -> str:
        return "—" if a in (None, 0) or b is None else f"{100 * (b - a) / a:+.0f}%"

    rows = [("WER (NeMo, written labels)", "val_wer"), ("WER (normalised)", "val_normalized_wer"),
            ("entity WER", "val_entity_wer"), ("entity accuracy", "val_entity_accuracy")]
    cats = sorted({k.split("/", 1)[1] for e in (before, after) for k in e
                   if k.startswith("val_entity_wer/") and k != "val_entity_wer/unseen"})
    rows += [(f"entity WER {c}", f"val_entity_wer/{c}") for c in cats]
    if "val_entity_wer/unseen" in before or "val_entity_wer/unseen" in after:
        rows.append(("entity WER unseen", "val_entity_wer/unseen"))
    head = f"| dev (%) | before (step {before.get('step', 0)}) | after (step {after.get('step', '?')}) | change |"
    lines = [head, "| --- | ---: | ---: | ---: |"]
    lines += [f"| {name} | {pct(before.get(k))} | {pct(after.get(k))} | {change(before.get(k), after.get(k))} |"
              for name, k in rows]
    return "\n".join(lines)
