"""Finance utterances from templates: the written label with exact entity spans, and the spoken form for the voice."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

from finparakeet.entities import ORG, TICKER, EntitySpan
from finparakeet.lexicon import LexiconEntry
from finparakeet.synth.patterns import PATTERN_KINDS, Fill, Piece, pattern_pieces
from finparakeet.synth.pools import LexiconPools, slot_key
from finparakeet.synth.templates import Slot, Template
from finparakeet.synth.verbalize import verbalize

__all__ = ["TextConfig", "Utterance", "FinanceTextGenerator", "assemble"]

_DISCOURSE = ("So, ", "And ", "Now, ", "Okay, ", "Well, ", "Yes, ", "Right, ", "Sure, ", "Also, ")
_KEEP_CASE = re.compile(r"^(I\b|I'|\{)")  # "I", "I'd": never lower-cased after a discourse marker


@dataclass(frozen=True)
class TextConfig:
    callcentre_share: float = 0.3  # share of utterances in call-centre style (the rest: earnings calls)
    two_sentence_share: float = 0.25  # utterances made of two templates, for length and entity variety
    discourse_share: float = 0.15  # utterances opened with "So, ", "Okay, " ...


@dataclass(frozen=True)
class Utterance:
    """A label (written, Parakeet style), its entity spans, and the spoken form the voice reads."""

    label: str
    spoken: str
    entities: tuple[EntitySpan, ...] = ()
    templates: tuple[str, ...] = field(default=())  # template ids, for diagnostics


def _verbalize_keep_edges(s: str, rng: random.Random) -> str:
    # Literal pieces sit between entities: keep their edge spaces so "NVIDIA" + "'s" stays "Nvidia's".
    core = verbalize(s, rng)
    if not core:
        return " " if s.strip() == "" and s else ""
    lead = " " if s[:1].isspace() else ""
    trail = " " if s[-1:].isspace() else ""
    return lead + core + trail


def assemble(pieces: Sequence[Piece], rng: random.Random) -> Utterance:
    """Join literal strings and entity fills into a label with exact spans and the matching spoken form."""
    label: list[str] = []
    spoken: list[str] = []
    spans: list[tuple[int, int, Fill]] = []
    pos = 0
    for p in pieces:
        if isinstance(p, str):
            label.append(p)
            spoken.append(_verbalize_keep_edges(p, rng))
            pos += len(p)
            continue
        if p.prefix:
            label.append(p.prefix)
            spoken.append(_verbalize_keep_edges(p.prefix, rng))
            pos += len(p.prefix)
        label.append(p.written)
        spoken.append(p.spoken)
        spans.append((pos, pos + len(p.written), p))
        pos += len(p.written)
    text = "".join(label)
    first = text.split(" ", 1)[0]
    if first.islower():  # a sentence may open with a slot ("free cash flow grew ..."); "iShares" stays as it is
        text = text[0].upper() + text[1:]
    entities = tuple(EntitySpan(a, b, f.category, text[a:b], source=f.source) for a, b, f in spans)
    return Utterance(text, " ".join("".join(spoken).split()), entities)


@dataclass(frozen=True)
class FinanceTextGenerator:
    """Fills templates with pattern entities and lexicon entries (held-out ones with a given probability)."""

    templates: tuple[Template, ...]
    pools: LexiconPools
    config: TextConfig = TextConfig()

    def __post_init__(self) -> None:
        usable = tuple(t for t in self.templates if all(self._fillable(s) for s in t.slots))
        if not usable:
            raise ValueError("no template can be filled from this lexicon")
        object.__setattr__(self, "templates", usable)

    def _fillable(self, s: Slot) -> bool:
        if s.category in PATTERN_KINDS:
            return s.kind in PATTERN_KINDS[s.category]
        return self.pools.available(slot_key(s.category, s.kind))

    def _styles(self, rng: random.Random) -> list[Template]:
        style = "callcentre" if rng.random() < self.config.callcentre_share else "earnings"
        return [t for t in self.templates if t.style == style] or list(self.templates)

    @staticmethod
    def _lexicon_fill(entry: LexiconEntry, rng: random.Random) -> Fill:
        # The lexicon's spoken forms are already spoken ("N V D A", "S and P"); only digits and symbols need words.
        return Fill(entry.written, verbalize(rng.choice(entry.spoken), rng, spell_acronyms=False), entry.category,
                    entry.id)

    def _fill_slots(self, t: Template, rng: random.Random, unseen_prob: float, used: set[str]) -> list[Piece]:
        pieces: list[Piece] = []
        tagged: dict[str, str] = {}  # tag -> ticker symbol of the company it names
        for part in t.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            if part.category in PATTERN_KINDS:
                pieces.extend(pattern_pieces(part.category, part.kind, rng))
                continue
            entry = None
            if part.tag and part.tag in tagged:  # the entry of the same listing: its ticker, or what it names
                entry = next((e for e in self._by_ticker.get(tagged[part.tag], ())
                              if (e.kind == "ticker") == (part.category == TICKER)), None)
            if entry is None:
                entry = self.pools.pick(slot_key(part.category, part.kind), rng, unseen_prob, frozenset(used))
            if part.tag and entry.ticker and part.category in (TICKER, ORG):
                tagged.setdefault(part.tag, entry.ticker)
            used.add(entry.id)
            pieces.append(self._lexicon_fill(entry, rng))
        return pieces

    @cached_property
    def _by_ticker(self) -> dict[str, tuple[LexiconEntry, ...]]:
        out: dict[str, dict[str, LexiconEntry]] = {}
        for entries in (*self.pools.seen.values(), *self.pools.heldout.values()):
            for e in entries:
                if e.ticker:
                    out.setdefault(e.ticker, {})[e.id] = e
        return {t: tuple(sorted(d.values(), key=lambda e: e.id)) for t, d in out.items()}

    def generate(self, rng: random.Random, unseen_prob: float = 0.0) -> Utterance:
        """One utterance; lexicon slots draw held-out entries with probability ``unseen_prob`` (0 in train)."""
        n = 2 if rng.random() < self.config.two_sentence_share else 1
        pieces: list[Piece] = []
        ids: list[str] = []
        used: set[str] = set()
        choices = self._styles(rng)  # one style per utterance: a caller does not turn analyst mid-sentence
        for i in range(n):
            t = rng.choice(choices)
            ids.append(t.id)
            filled = self._fill_slots(t, rng, unseen_prob, used)
            if i == 0 and rng.random() < self.config.discourse_share:
                first = filled[0]
                if isinstance(first, str) and not _KEEP_CASE.match(first):
                    filled[0] = first[:1].lower() + first[1:]
                filled.insert(0, rng.choice(_DISCOURSE))
            if i:
                pieces.append(" ")
            pieces.extend(filled)
        u = assemble(pieces, rng)
        return Utterance(u.label, u.spoken, u.entities, tuple(ids))
