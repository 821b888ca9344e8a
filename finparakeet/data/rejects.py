"""A rejected input row and why: what validation, transcription, scoring and the importers hand back instead of
dropping data silently (the one bad-row record of the project)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

# Kinds of rejection (the first word of every reason); the summary counts by kind.
MALFORMED_JSON = "malformed_json"
NOT_UTF8 = "not_utf8"
BAD_ROW = "bad_row"  # a field missing or of the wrong type
AUDIO_MISSING = "audio_missing"
AUDIO_UNREADABLE = "audio_unreadable"
ZERO_DURATION = "zero_duration"
DURATION_MISMATCH = "duration_mismatch"
AUDIO_MISMATCH = "audio_mismatch"  # the cut's recording says another sample rate or channel count than the file
EMPTY_TEXT = "empty_text"
ENTITY_MISMATCH = "entity_mismatch"
DUPLICATE_ID = "duplicate_id"
NO_TRANSCRIPT = "no_transcript"
UNMATCHED = "unmatched"  # a reference without its hypothesis, or a hypothesis without its reference
UNREADABLE = "unreadable"  # a whole input file that cannot be read (e.g. an Earnings-21 call)


@dataclass(frozen=True)
class Reject:
    """One rejected input: the file it is in (``source``), its 1-based line (None when the input has no lines), what
    it was, and why."""

    line: int | None
    kind: str
    reason: str
    id: str | None = None
    audio_filepath: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"source": self.source} if self.source is not None else {}
        d["line"] = self.line
        if self.id is not None:
            d["id"] = self.id
        if self.audio_filepath is not None:
            d["audio_filepath"] = self.audio_filepath
        d["kind"] = self.kind
        d["reason"] = self.reason
        return d


class InvalidCut(ValueError):
    """A check failed: ``kind`` is one of the module's kinds, the message says why in words."""

    def __init__(self, kind: str, reason: str):
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


def count_kinds(rejects: Iterable[Reject]) -> dict[str, int]:
    return dict(Counter(r.kind for r in rejects).most_common())


def write_rejects(rejects: Iterable[Reject], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rejects:
            f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    return path
