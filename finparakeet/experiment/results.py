"""The results of the experiment: ``experiment.json`` (the record), its Markdown block and chart.

RESULTS.md shows ``render_markdown`` of the committed JSON (:mod:`.book` renders it; a test checks it), so table and
JSON cannot drift apart (:mod:`.table` renders a record of this ``SCHEMA``; an older one is refused, naming the rerun).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from finparakeet.experiment.fmt import pct
from finparakeet.experiment.table import render_table
from finparakeet.scoring.report import nested

__all__ = ["SCHEMA", "pct", "same_transcripts", "render_markdown", "write_chart", "write_results"]

SCHEMA = 2  # calls with per-call lists, replay, the LM, Whisper, long-form recordings


def same_transcripts(rows: list[Mapping[str, Any]], base_rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Whether two decodes of the same input gave the same text row by row."""
    a = [r.get("pred_text") for r in rows]
    b = [r.get("pred_text") for r in base_rows]
    diff = sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
    return {"equal": diff == 0, "differing_rows": diff, "rows": max(len(a), len(b))}


def render_markdown(doc: Mapping[str, Any]) -> str:
    """The RESULTS.md block of an ``experiment.json`` record."""
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"experiment.json has schema {doc.get('schema')!r}; this version renders schema {SCHEMA} "
                         "(calls, per-call lists, replay, LM, Whisper): rerun `make experiment` to write it anew")
    return render_table(doc)


def write_chart(doc: Mapping[str, Any], path: Path) -> Path:
    """Finance test entity WER with no list, the per-call list and (where decoded) LM + per-call list, and general
    test WER, per system, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = list(doc["systems"].values())
    labels = [s["label"].replace(" + ", "\n+ ").replace(" from ", "\nfrom ").replace(" (", "\n(") for s in systems]
    series = [("entity WER, no list", [nested(s, "finance", "none", "entity_wer") for s in systems]),
              ("entity WER, per-call list", [nested(s, "finance", "per_call", "entity_wer") for s in systems]),
              ("entity WER, LM + per-call list", [nested(s, "finance", "lm_per_call", "entity_wer") for s in systems]),
              ("general-test WER", [nested(s, "general", "none", "wer") for s in systems])]
    fig, ax = plt.subplots(figsize=(12, 4.8), dpi=110)
    width = 0.8 / len(series)
    for i, (name, vals) in enumerate(series):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(systems))]
        ax.bar(xs, [100 * (v or 0) for v in vals], width, label=name)
    ax.set_xticks(range(len(systems)), labels, fontsize=7)
    ax.set_ylabel("%  (lower is better)")
    ax.set_title("Start big, then fine-tune — tiny TDT on synthetic finance calls, and Whisper tiny.en")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_results(doc: Mapping[str, Any], markdown: str, output_dir: Path) -> dict[str, Path]:
    """``experiment.json``, ``experiment.md`` (``markdown``: ``render_markdown(doc)``) and ``experiment.png``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": output_dir / "experiment.json", "md": output_dir / "experiment.md",
             "png": output_dir / "experiment.png"}
    paths["json"].write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["md"].write_text(markdown, encoding="utf-8")
    write_chart(doc, paths["png"])
    return paths
