"""Lexicon entries per template slot, with a seeded held-out share that the train split never uses.

A company (or fund) and its ticker are held out together (one group), so a test sentence with an unseen ticker does
not leak it through the company name in train.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping

from finparakeet.entities import ORG, PERSON, TERM, TICKER
from finparakeet.lexicon import Lexicon, LexiconEntry

__all__ = ["SLOT_KINDS", "LexiconPools", "slot_key"]

# Template slot -> lexicon kinds it draws from.
SLOT_KINDS: dict[str, tuple[str, ...]] = {
    TICKER: ("ticker",),
    f"{ORG}:company": ("company",),
    f"{ORG}:index": ("index",),
    f"{ORG}:fund": ("etf", "fund"),
    ORG: ("company", "index", "etf", "fund"),
    TERM: ("term",),
    PERSON: ("person",),
}


def slot_key(category: str, kind: str) -> str:
    return f"{category}:{kind}" if kind else category


def _group(e: LexiconEntry) -> str:
    return f"listing:{e.ticker}" if e.ticker else e.id


@dataclass(frozen=True)
class LexiconPools:
    """Entries per slot key: ``seen`` may appear anywhere, ``heldout`` never in train."""

    seen: Mapping[str, tuple[LexiconEntry, ...]]
    heldout: Mapping[str, tuple[LexiconEntry, ...]]

    @classmethod
    def build(cls, lexicon: Lexicon, heldout_fraction: float, rng: random.Random) -> "LexiconPools":
        """Hold out ``heldout_fraction`` of the groups of each kind family (at least one where a family has two or
        more, so the test split always has unseen entries and train keeps some)."""
        family: dict[str, str] = {}  # group -> the kind it is counted under: what it names, not its ticker
        for e in lexicon.entries:
            g = _group(e)
            if e.kind != "ticker" or g not in family:
                family[g] = e.kind
        families: dict[str, list[str]] = {}
        for g, fam in family.items():
            families.setdefault(fam, []).append(g)
        held: set[str] = set()
        for fam in sorted(families):
            groups = sorted(families[fam])
            k = round(heldout_fraction * len(groups))
            if heldout_fraction > 0 and len(groups) >= 2:
                k = min(max(k, 1), len(groups) - 1)
            held.update(rng.sample(groups, k) if k else [])
        seen: dict[str, tuple[LexiconEntry, ...]] = {}
        out: dict[str, tuple[LexiconEntry, ...]] = {}
        for key, kinds in SLOT_KINDS.items():
            entries = sorted((e for e in lexicon.entries if e.kind in kinds), key=lambda e: e.id)
            seen[key] = tuple(e for e in entries if _group(e) not in held)
            out[key] = tuple(e for e in entries if _group(e) in held)
        return cls(seen, out)

    @property
    def heldout_ids(self) -> frozenset[str]:
        return frozenset(e.id for entries in self.heldout.values() for e in entries)

    def available(self, key: str) -> bool:
        return bool(self.seen.get(key) or self.heldout.get(key))

    def pick(self, key: str, rng: random.Random, unseen_prob: float, exclude: frozenset[str] = frozenset()
             ) -> LexiconEntry:
        """An entry for slot ``key``: held out with probability ``unseen_prob`` (0 = never, as in train)."""
        seen = [e for e in self.seen.get(key, ()) if e.id not in exclude]
        held = [e for e in self.heldout.get(key, ()) if e.id not in exclude]
        if unseen_prob <= 0:
            pool = seen or list(self.seen.get(key, ()))
        else:
            pool = held if held and (not seen or rng.random() < unseen_prob) else seen
        if not pool:
            raise LookupError(f"the lexicon has no entries for slot {key!r}")
        return rng.choice(pool)
