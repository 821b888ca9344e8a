"""Read what to score: a NeMo manifest with ``pred_text``, Lhotse cuts plus a hypotheses file, or Earnings-21.

Every reader returns ``(items, rejects)``. A row with a missing or ill-typed field, malformed JSON, or an entity span
that does not fit its text is not scored: it becomes a ``Reject`` (``finparakeet.data.rejects``) with its file, line
and reason, and the rest goes on. Rows are read by ``finparakeet.data.rows``, as validation and transcription read
them.

Hypotheses file for cuts: JSON lines, one per cut, ``{"cut_id": ..., "pred_text": ...}`` (``id`` is accepted too).
A row without an id but with ``audio_filepath`` (what NeMo's ``transcribe_speech.py`` writes for a manifest made from
the cuts) is matched by the id ``finparakeet.data.rows.default_cut_id`` derives from the audio path and offset.

An item's ``entities`` is None when the input has none for it (the scorer then tags the reference); an explicit
empty list means "no entities" and is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from finparakeet.data import earnings21 as e21
from finparakeet.data.references import cut_reference
from finparakeet.data.rejects import ENTITY_MISMATCH, UNMATCHED, UNREADABLE, InvalidCut, Reject
from finparakeet.data.rows import read_rows, row_entities, row_id, string_field
from finparakeet.entities import EntitySpan, span_errors


@dataclass(frozen=True)
class ScoringItem:
    id: str
    reference: str
    hypothesis: str
    entities: list[EntitySpan] | None  # None: tag the reference


def read_manifest(path: str | Path, text_key: str = "text",
                  pred_key: str = "pred_text") -> tuple[list[ScoringItem], list[Reject]]:
    """A NeMo manifest (JSON lines) with reference ``text``, hypothesis ``pred_text`` and optional ``entities``."""
    items: list[ScoringItem] = []
    rejects: list[Reject] = []
    for row in read_rows(path):
        if isinstance(row, Reject):
            rejects.append(row)
            continue
        utt_id = row_id(row.fields, row.line)
        try:
            ref, hyp = string_field(row.fields, text_key), string_field(row.fields, pred_key)
            ents = row_entities(row.fields, text_key)
        except InvalidCut as e:
            rejects.append(row.reject(e, utt_id))
            continue
        items.append(ScoringItem(utt_id, ref, hyp, ents))
    return items, rejects


def read_cuts(cuts_path: str | Path, hypotheses_path: str | Path,
              pred_key: str = "pred_text") -> tuple[list[ScoringItem], list[Reject]]:
    """Lhotse cuts (references, entities in ``supervision.custom["entities"]``) and a hypotheses file."""
    from lhotse import CutSet  # Lhotse (~1 s to import) only for cuts: scoring a manifest never needs it

    hyps: dict[str, tuple[int, str]] = {}
    rejects: list[Reject] = []
    for row in read_rows(hypotheses_path):
        if isinstance(row, Reject):
            rejects.append(row)
            continue
        try:
            hyps[row_id(row.fields, row.line)] = (row.line, string_field(row.fields, pred_key))
        except InvalidCut as e:
            rejects.append(row.reject(e, row_id(row.fields, row.line)))
    items: list[ScoringItem] = []
    for k, cut in enumerate(CutSet.from_file(cuts_path)):
        if cut.id not in hyps:
            rejects.append(Reject(k + 1, UNMATCHED, f"no hypothesis for cut {cut.id!r} in {hypotheses_path}",
                                  cut.id, source=str(cuts_path)))
            continue
        try:
            ref, ents = cut_reference(cut)
        except ValueError as e:
            rejects.append(Reject(k + 1, ENTITY_MISMATCH, str(e), cut.id, source=str(cuts_path)))
            hyps.pop(cut.id)
            continue
        items.append(ScoringItem(cut.id, ref, hyps.pop(cut.id)[1], ents))
    for cid, (n, _) in hyps.items():
        rejects.append(Reject(n, UNMATCHED, f"no cut with id {cid!r} in {cuts_path}", cid,
                              source=str(hypotheses_path)))
    return items, rejects


def normalise_system(system: str) -> str:
    """``output/google`` and ``google`` both name the system folder ``<root>/output/google``."""
    s = system.strip("/")
    return s[len("output/"):] if s.startswith("output/") else s


def iter_earnings21(root: str | Path, system: str, calls: list[str] | None = None,
                    references: Mapping[str, Any] | None = None) -> Iterator[tuple[ScoringItem | None, Reject | None]]:
    """One item per call: the reference text with the NER sidecar's entities (types as they are), and the system's
    hypothesis. ``references`` (call id -> ``Earnings21Call``) reuses calls already loaded."""
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
            yield None, Reject(None, UNREADABLE, f"{type(e).__name__}: {e}", cid, source=src)
            continue
        yield ScoringItem(cid, call.text, hyp, list(call.entities)), None


def read_earnings21(root: str | Path, system: str,
                    calls: list[str] | None = None) -> tuple[list[ScoringItem], list[Reject]]:
    items, skipped = [], []
    for item, skip in iter_earnings21(root, system, calls):
        (items.append(item) if item else skipped.append(skip))
    return items, skipped
