"""A cut's reference: its supervisions' texts joined in time order, with their entity spans moved onto that text.

What the scorer scores a cut against, and what the validation hook reads from the cuts that ride along its batches.
"""

from __future__ import annotations

from typing import Any

from finparakeet.entities import EntitySpan, checked_entities


def cut_reference(cut: Any) -> tuple[str, list[EntitySpan] | None]:
    """A cut's text (its supervisions joined by spaces, in time order) and entities shifted onto that text; None
    when no supervision carries an ``entities`` field. ``ValueError`` when a span does not fit its text."""
    parts, ents, any_entities, offset = [], [], False, 0
    for s in sorted(cut.supervisions, key=lambda s: s.start):
        text = s.text or ""
        custom = s.custom or {}
        if "entities" in custom:
            any_entities = True
            for e in checked_entities(text, custom["entities"]):
                ents.append(EntitySpan(e.start + offset, e.end + offset, e.category, e.text, e.seen, e.source,
                                       e.extra))
        parts.append(text)
        offset += len(text) + 1
    return " ".join(parts), (ents if any_entities else None)
