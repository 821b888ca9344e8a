"""Entity spans over a transcript's written text: the unit every part of FinParakeet agrees on.

A span is stored in a Lhotse supervision's ``custom["entities"]`` and in a NeMo manifest row's ``entities`` field as
``{"start": int, "end": int, "category": str, "text": str, ...}`` with ``text == transcript[start:end]``.
Keys other than the known ones are kept in ``extra`` so a round trip loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

# FinParakeet's finance categories (DESIGN.md, "Entity scoring").
MONEY = "MONEY"
PERCENT = "PERCENT"
BPS = "BPS"
CARDINAL = "CARDINAL"
TICKER = "TICKER"
ORG = "ORG"
PERIOD = "PERIOD"
TERM = "TERM"
PERSON = "PERSON"  # executives and analysts named on a call
FINANCE_CATEGORIES: tuple[str, ...] = (MONEY, PERCENT, BPS, CARDINAL, TICKER, ORG, PERIOD, TERM, PERSON)

# Where Earnings-21's NER types (spaCy/OntoNotes style) overlap ours. Spans imported from the Earnings-21 sidecar keep
# their own type; this table only says which of our categories a type corresponds to, for side-by-side reports.
EARNINGS21_TO_FINANCE: dict[str, str] = {
    "MONEY": MONEY,
    "PERCENT": PERCENT,
    "CARDINAL": CARDINAL,
    "ORG": ORG,
    "PERSON": PERSON,
    "DATE": PERIOD,
    "YEAR": PERIOD,
}

_KNOWN_KEYS = ("start", "end", "category", "text", "seen", "source")


@dataclass(frozen=True)
class EntitySpan:
    """A labelled character span ``[start, end)`` of a transcript's written text."""

    start: int
    end: int
    category: str
    text: str
    seen: bool | None = None  # False: built from a lexicon entry never used in training
    source: str | None = None  # where it came from: a lexicon id, "tagger", "earnings21:<entity id>", ...
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end, "category": self.category, "text": self.text}
        if self.seen is not None:
            d["seen"] = self.seen
        if self.source is not None:
            d["source"] = self.source
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "EntitySpan":
        """Build from a manifest dict; raises ``ValueError`` naming the missing or ill-typed field."""
        for key, typ in (("start", int), ("end", int), ("category", str), ("text", str)):
            if key not in d:
                raise ValueError(f"entity {dict(d)!r} has no '{key}' field")
            if not isinstance(d[key], typ) or isinstance(d[key], bool):
                raise ValueError(f"entity field '{key}' must be {typ.__name__}, got {d[key]!r}")
        seen = d.get("seen")
        if seen is not None and not isinstance(seen, bool):
            raise ValueError(f"entity field 'seen' must be true/false, got {seen!r}")
        extra = {k: v for k, v in d.items() if k not in _KNOWN_KEYS}
        return cls(d["start"], d["end"], d["category"], d["text"], seen, d.get("source"), extra)


def span_errors(text: str, spans: Iterable[EntitySpan]) -> list[str]:
    """Reasons why ``spans`` do not fit ``text`` (empty list when all are exact)."""
    errors = []
    for i, s in enumerate(spans):
        if not (0 <= s.start < s.end <= len(text)):
            errors.append(f"entity {i} ({s.category} {s.text!r}): span [{s.start}, {s.end}) is outside the text "
                          f"(length {len(text)})")
        elif text[s.start:s.end] != s.text:
            errors.append(f"entity {i} ({s.category}): text[{s.start}:{s.end}] is {text[s.start:s.end]!r}, "
                          f"not {s.text!r}")
    return errors


def parse_entities(raw: Any) -> list[EntitySpan]:
    """Parse a manifest's ``entities`` value (a list of dicts, or None); raises ``ValueError`` on bad shape."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"'entities' must be a list of objects, got {type(raw).__name__}")
    out = []
    for i, d in enumerate(raw):
        if not isinstance(d, Mapping):
            raise ValueError(f"entity {i} must be an object, got {d!r}")
        try:
            out.append(EntitySpan.from_dict(d))
        except ValueError as e:
            raise ValueError(f"entity {i}: {e}") from None
    return out


def checked_entities(text: str, raw: Any) -> list[EntitySpan]:
    """``parse_entities(raw)``, each span checked against ``text``; ``ValueError`` saying which span does not fit."""
    spans = parse_entities(raw)
    errors = span_errors(text, spans)
    if errors:
        raise ValueError("; ".join(errors))
    return spans
