"""Two-way conversion between NeMo JSON manifests and Lhotse cuts, losing nothing.

A NeMo row is ``{"audio_filepath", "duration", "offset"?, "text", "entities"?, ...}``. In the cut, the row's text and
``entities`` go to the supervision; every other field goes to ``supervision.custom`` under its own name, so
``cut_to_row(row_to_cut(row)) == row`` (a derived cut id is stored as ``cut_id`` only when the row carried one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from lhotse import CutSet, MonoCut, Recording, SupervisionSegment
from lhotse.audio import AudioSource

from finparakeet.entities import parse_entities

NEMO_CORE_FIELDS = ("audio_filepath", "duration", "offset", "text")
_ROW_HAD_OFFSET = "_nemo_has_offset"  # remembers whether the row carried "offset", for an exact round trip


def default_cut_id(row: dict[str, Any]) -> str:
    """A stable cut id for a row that has none: audio stem, plus the offset when the row is a segment."""
    stem = Path(row["audio_filepath"]).stem
    offset = float(row.get("offset") or 0.0)
    return f"{stem}-{round(offset * 1000):08d}" if offset else stem


def row_to_cut(row: dict[str, Any], recording: Recording | None = None, cut_id: str | None = None) -> MonoCut:
    """A cut spanning ``[offset, offset + duration)`` of the row's audio with one supervision.

    ``recording`` avoids re-reading the audio header when the caller already has it; otherwise a recording is
    described from the row alone (16 kHz assumed until validation reads the real header).
    """
    for key in ("audio_filepath", "duration", "text"):
        if key not in row:
            raise ValueError(f"row has no '{key}' field")
    entities = parse_entities(row.get("entities"))
    cid = cut_id or row.get("cut_id") or default_cut_id(row)
    offset = float(row.get("offset") or 0.0)
    duration = float(row["duration"])
    if recording is None:
        sr = 16000
        total = offset + duration
        recording = Recording(id=cid, sources=[AudioSource(type="file", channels=[0], source=str(row["audio_filepath"]))],
                              sampling_rate=sr, num_samples=round(total * sr), duration=total)
    custom = {k: v for k, v in row.items() if k not in NEMO_CORE_FIELDS and k not in ("entities", "cut_id")}
    if "offset" not in row:  # only the exception is recorded, so cuts from elsewhere come back unchanged
        custom[_ROW_HAD_OFFSET] = False
    if "cut_id" in row:
        custom["cut_id"] = row["cut_id"]
    if entities:
        custom["entities"] = [e.to_dict() for e in entities]
    sup = SupervisionSegment(id=cid, recording_id=recording.id, start=0.0, duration=duration, channel=0,
                             text=row["text"], language="en", custom=custom)
    return MonoCut(id=cid, start=offset, duration=duration, channel=0, recording=recording, supervisions=[sup])


def cut_to_row(cut: MonoCut) -> dict[str, Any]:
    """The NeMo row for a single-supervision cut (text from its supervisions, joined when there are several)."""
    src = cut.recording.sources[0]
    if src.type != "file":
        raise ValueError(f"cut {cut.id}: NeMo manifests need audio files, but its audio is {src.type!r}")
    sups = sorted(cut.supervisions, key=lambda s: s.start)
    custom = dict(sups[0].custom or {}) if sups else {}
    had_offset = custom.pop(_ROW_HAD_OFFSET, True)
    row: dict[str, Any] = {"audio_filepath": src.source, "duration": cut.duration}
    if had_offset or cut.start:
        row["offset"] = cut.start
    row["text"] = " ".join(s.text or "" for s in sups)
    entities = custom.pop("entities", None)
    row.update(custom)
    if entities:
        row["entities"] = entities
    if "cut_id" not in row and cut.id != default_cut_id(row):
        row["cut_id"] = cut.id
    return row


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield ``(line_number, row, error)`` for each non-blank line: a parsed object, or None and why not."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield n, None, f"line is not UTF-8 ({e.reason} at byte {e.start})"
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                yield n, None, f"malformed JSON: {e.msg} (column {e.colno})"
                continue
            if not isinstance(row, dict):
                yield n, None, f"a manifest line must be a JSON object, got {type(row).__name__}"
                continue
            yield n, row, None


def write_nemo_manifest(rows: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write rows as a NeMo manifest (one JSON object per line, UTF-8, non-ASCII kept)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def cuts_to_nemo_manifest(cuts: CutSet | Iterable[MonoCut], path: str | Path) -> Path:
    return write_nemo_manifest((cut_to_row(c) for c in cuts), path)
