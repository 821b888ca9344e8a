"""Read what to score: a NeMo manifest with ``pred_text``, Lhotse cuts plus a hypotheses file, or Earnings-21.

Every reader returns ``(items, skipped)``. A row with a missing or ill-typed field, malformed JSON, or an entity span
that does not fit its text is not scored: it becomes a ``Skipped`` entry with its file and line, and the rest goes on.

Hypotheses file for cuts: JSON lines, one per cut, ``{"cut_id": ..., "pred_text": ...}`` (``id`` is accepted too).
A row without an id but with ``audio_filepath`` (what NeMo's ``transcribe_speech.py`` writes for a manifest made from
the cuts) is matched by the id ``finparakeet.data.nemo_manifest`` derives from the audio path and offset.

An item's ``entities`` is None when the input has none for it (the scorer then tags the reference); an explicit
empty list means "no entities" and is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from finparakeet.data.references import cut_reference
from finparakeet.entities import EntitySpan, checked_entities, span_errors


@dataclass(frozen=True)
class ScoringItem:
    id: str
    reference: str
    hypothesis: str
    entities: list[EntitySpan] | None  # None: tag the reference


@dataclass(frozen=True)
class Skipped:
    source: str
    line: int | None
    reason: str
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "id": self.id, "reason": self.reason}


def _row_id(row: Mapping[str, Any], line: int) -> str:
    for key in ("id", "cut_id", "utt_id"):
        if isinstance(row.get(key), str) and row[key]:
            return row[key]
    if isinstance(row.get("audio_filepath"), str):
        from finparakeet.data.nemo_manifest import default_cut_id
        try:
            return default_cut_id(row)
        except (TypeError, ValueError):
            pass
    return f"line{line}"


def _field(row: Mapping[str, Any], key: str) -> str:
    if key not in row:
        raise ValueError(f"missing field '{key}'")
    if not isinstance(row[key], str):
        raise ValueError(f"field '{key}' must be a string, got {type(row[key]).__name__}")
    return row[key]


def read_manifest(path: str | Path, text_key: str = "text",
                  pred_key: str = "pred_text") -> tuple[list[ScoringItem], list[Skipped]]:
    """A NeMo manifest (JSON lines) with reference ``text``, hypothesis ``pred_text`` and optional ``entities``."""
    from finparakeet.data.nemo_manifest import read_jsonl

    items: list[ScoringItem] = []
    skipped: list[Skipped] = []
    for n, row, err in read_jsonl(path):
        if row is None:
            skipped.append(Skipped(str(path), n, err or "unreadable line"))
            continue
        try:
            ref, hyp = _field(row, text_key), _field(row, pred_key)
            ents = checked_entities(ref, row["entities"]) if "entities" in row else None
        except ValueError as e:
            skipped.append(Skipped(str(path), n, str(e), _row_id(row, n)))
            continue
        items.append(ScoringItem(_row_id(row, n), ref, hyp, ents))
    return items, skipped


def read_cuts(cuts_path: str | Path, hypotheses_path: str | Path,
              pred_key: str = "pred_text") -> tuple[list[ScoringItem], list[Skipped]]:
    """Lhotse cuts (references, entities in ``supervision.custom["entities"]``) and a hypotheses file."""
    from lhotse import CutSet

    from finparakeet.data.nemo_manifest import read_jsonl

    hyps: dict[str, tuple[int, str]] = {}
    skipped: list[Skipped] = []
    for n, row, err in read_jsonl(hypotheses_path):
        if row is None:
            skipped.append(Skipped(str(hypotheses_path), n, err or "unreadable line"))
            continue
        try:
            hyp = _field(row, pred_key)
        except ValueError as e:
            skipped.append(Skipped(str(hypotheses_path), n, str(e), _row_id(row, n)))
            continue
        hyps[_row_id(row, n)] = (n, hyp)
    items: list[ScoringItem] = []
    for k, cut in enumerate(CutSet.from_file(cuts_path)):
        if cut.id not in hyps:
            skipped.append(Skipped(str(cuts_path), k + 1, f"no hypothesis for cut {cut.id!r}", cut.id))
            continue
        try:
            ref, ents = cut_reference(cut)
        except ValueError as e:
            skipped.append(Skipped(str(cuts_path), k + 1, str(e), cut.id))
            hyps.pop(cut.id)
            continue
        items.append(ScoringItem(cut.id, ref, hyps.pop(cut.id)[1], ents))
    for cid, (n, _) in hyps.items():
        skipped.append(Skipped(str(hypotheses_path), n, f"no cut with id {cid!r}", cid))
    return items, skipped


def normalise_system(system: str) -> str:
    """``output/google`` and ``google`` both name the system folder ``<root>/output/google``."""
    s = system.strip("/")
    return s[len("output/"):] if s.startswith("output/") else s


def iter_earnings21(root: str | Path, system: str, calls: list[str] | None = None,
                    references: Mapping[str, Any] | None = None) -> Iterator[tuple[ScoringItem | None, Skipped | None]]:
    """One item per call: the reference text with the NER sidecar's entities (types as they are), and the system's
    hypothesis. ``references`` (call id -> ``Earnings21Call``) reuses calls already loaded."""
    from finparakeet.data import earnings21 as e21

    system = normalise_system(system)
    for cid in calls if calls is not None else e21.list_calls(root):
        src = f"{root}/output/{system}/{cid}"
        try:
            call = references[cid] if references is not None and cid in references else e21.load_call(root, cid)
            errs = span_errors(call.text, call.entities)
            if errs:
                raise ValueError("; ".join(errs[:3]) + (f" (+{len(errs) - 3} more)" if len(errs) > 3 else ""))
            hyp = e21.load_hypothesis(root, system, cid)
        except (OSError, ValueError, KeyError) as e:
            yield None, Skipped(src, None, f"{type(e).__name__}: {e}", cid)
            continue
        yield ScoringItem(cid, call.text, hyp, list(call.entities)), None


def read_earnings21(root: str | Path, system: str,
                    calls: list[str] | None = None) -> tuple[list[ScoringItem], list[Skipped]]:
    items, skipped = [], []
    for item, skip in iter_earnings21(root, system, calls):
        (items.append(item) if item else skipped.append(skip))
    return items, skipped
