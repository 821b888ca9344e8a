"""Score a transcribed manifest with the entity scorer (no second decode, no NeMo) and compare two decodes.

``evaluate_manifest`` writes ``entity_report.{json,md,html}`` (the scorer's contract, key-phrase precision, recall
and F1 against the bias list included). ``compare_reports`` makes the small with/without-boosting table
(``boosting_comparison.{json,md}``): the gain in recall, and the false alarms it cost.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from finparakeet.scoring.api import score_manifest
from finparakeet.scoring.report import nested, write_reports

ROWS = (  # (key in the table, label, where in the report)
    ("wer", "WER", ("wer",)),
    ("entity_wer", "entity WER", ("entity_wer",)),
    ("entity_accuracy", "entity accuracy", ("entity_accuracy",)),
    ("keyphrase_precision", "key-phrase precision", ("keyphrases", "precision")),
    ("keyphrase_recall", "key-phrase recall", ("keyphrases", "recall")),
    ("keyphrase_f1", "key-phrase F1", ("keyphrases", "f1")),
    ("keyphrase_hits", "key-phrase hits", ("keyphrases", "hits")),
    ("keyphrase_false_alarms", "key-phrase false alarms", ("keyphrases", "false_alarms")),
    ("keyphrase_misses", "key-phrase misses", ("keyphrases", "misses")),
)


class NoReferenceError(ValueError):
    """``evaluate=true`` on outputs without reference text."""


def evaluate_manifest(manifest: str | Path, report_dir: str | Path, bias_list: Sequence[str] | None = None,
                      extra: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Path]]:
    """Score ``manifest`` (``text`` vs ``pred_text``, ``entities`` when present) and write the reports, with the
    sections of ``extra`` (e.g. ``confidence``) added."""
    report = score_manifest(manifest, bias_list=list(bias_list) if bias_list else None)
    report.update({k: v for k, v in (extra or {}).items() if v is not None})
    if not report.get("num_rows_scored"):
        raise NoReferenceError(f"evaluate=true: no row of {manifest} has a reference 'text' to score against "
                               f"({report.get('num_skipped', 0)} skipped)")
    return report, write_reports(report, report_dir)


def compare_reports(reports: Mapping[str, Mapping[str, Any]], stats: Mapping[str, Mapping[str, Any]] | None = None
                    ) -> dict[str, Any]:
    """``{"systems": [...], "rows": {key: {system: value}}}`` for the table (plus decode seconds and RTFx)."""
    systems = list(reports)
    rows: dict[str, dict[str, Any]] = {k: {s: nested(reports[s], *path) for s in systems} for k, _, path in ROWS}
    if stats:
        rows["decode_seconds"] = {s: (stats.get(s) or {}).get("wall_seconds") for s in systems}
        rows["rtfx"] = {s: (stats.get(s) or {}).get("rtfx") for s in systems}
    return {"systems": systems, "rows": rows}


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def comparison_markdown(table: Mapping[str, Any]) -> str:
    systems = table["systems"]
    labels = {k: label for k, label, _ in ROWS} | {"decode_seconds": "decode seconds", "rtfx": "RTFx"}
    lines = ["| metric | " + " | ".join(systems) + " |", "| --- |" + " --- |" * len(systems)]
    for key, values in table["rows"].items():
        lines.append(f"| {labels.get(key, key)} | " + " | ".join(_fmt(values.get(s)) for s in systems) + " |")
    return "\n".join(lines) + "\n"


def write_comparison(table: Mapping[str, Any], directory: str | Path, stem: str = "boosting_comparison"
                     ) -> dict[str, Path]:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / f"{stem}.json", "md": out / f"{stem}.md"}
    paths["json"].write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    paths["md"].write_text("# Phrase boosting: with and without\n\n" + comparison_markdown(table), encoding="utf-8")
    return paths
