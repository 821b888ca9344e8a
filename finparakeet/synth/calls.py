"""Calls, not loose sentences: a company's earnings call with its own executives, analysts and peers.

A :class:`Call` is what a call-prep sheet knows before the call starts (company, ticker, sector, the people who will
speak, the peers they will mention). Its utterances are generated from the same templates as loose sentences, but
their company, ticker and person slots draw only from the call's own entities (:func:`call_pools`), so a call
names one company's people again and again, as real calls do. Bias lists are built from this metadata alone
(``finparakeet.biasing.build.call_phrases``), never from the transcripts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from finparakeet.entities import ORG, PERSON, TICKER
from finparakeet.lexicon import LexiconEntry
from finparakeet.synth.pools import LexiconPools, slot_key

__all__ = ["CallConfig", "Call", "plan_call", "call_pools", "group_into_calls"]

EXECUTIVE_ROLES = ("Chief Executive Officer", "Chief Financial Officer", "Chief Operating Officer",
                   "Head of Investor Relations", "President")


@dataclass(frozen=True)
class CallConfig:
    enabled: bool = False  # group finance utterances into calls (the synthetic corpus of loose sentences otherwise)
    utterances: tuple[int, int] = (10, 40)  # utterances per call (inclusive range)
    executives: tuple[int, int] = (1, 2)  # named company speakers per call
    analysts: tuple[int, int] = (1, 2)  # named analysts who ask questions
    peers: tuple[int, int] = (2, 3)  # other companies of the sector the call may mention
    recordings: bool = False  # also write each test call as one recording (test_calls/, test_calls_manifest.json)
    pause_s: float = 0.4  # silence between utterances in those recordings
    recording_min_s: float = 0.0  # join consecutive test calls into one recording until it lasts this long; 0: one
                                  # recording per call


@dataclass(frozen=True)
class Call:
    """The metadata of one call: what is known before it starts."""

    id: str
    split: str
    company: LexiconEntry  # kind "company"
    ticker: LexiconEntry | None
    executives: tuple[tuple[LexiconEntry, str], ...]  # (person, role)
    analysts: tuple[LexiconEntry, ...]
    peers: tuple[LexiconEntry, ...]  # company entries
    peer_tickers: tuple[LexiconEntry, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "split": self.split, "company": self.company.written,
                "ticker": self.ticker.written if self.ticker else None, "sector": self.company.sector,
                "executives": [{"name": p.written, "role": r} for p, r in self.executives],
                "analysts": [p.written for p in self.analysts],
                "peers": [{"company": c.written, "ticker": c.ticker} for c in self.peers]}

    @property
    def people(self) -> tuple[LexiconEntry, ...]:
        return tuple(p for p, _ in self.executives) + self.analysts


def group_into_calls(indices: list[int], cfg: CallConfig, rng: random.Random) -> list[list[int]]:
    """Consecutive runs of ``indices`` (one split's utterances) of ``cfg.utterances`` length each; a short remainder
    joins the last call rather than make a call of a few lines."""
    lo, hi = cfg.utterances
    if not 1 <= lo <= hi:
        raise ValueError(f"calls.utterances must be 1 <= min <= max, got {cfg.utterances}")
    groups: list[list[int]] = []
    pos = 0
    while pos < len(indices):
        n = rng.randint(lo, hi)
        groups.append(indices[pos:pos + n])
        pos += n
    if len(groups) > 1 and len(groups[-1]) < lo:
        groups[-2].extend(groups.pop())
    return groups


def _distinct(pools: LexiconPools, key: str, n: int, rng: random.Random, unseen_prob: float,
              exclude: set[str]) -> list[LexiconEntry]:
    out = []
    for _ in range(n):
        e = pools.pick(key, rng, unseen_prob, frozenset(exclude))
        if e.id in exclude:  # the pool ran out of fresh entries
            break
        exclude.add(e.id)
        out.append(e)
    return out


def plan_call(call_id: str, split: str, pools: LexiconPools, by_ticker: dict[str, tuple[LexiconEntry, ...]],
              cfg: CallConfig, rng: random.Random, unseen_prob: float) -> Call:
    """A call's company (held out with ``unseen_prob``, as any lexicon slot), its people and its peers (companies of
    the same sector; in train only seen ones)."""
    company_key = slot_key(ORG, "company")
    used: set[str] = set()
    company = _distinct(pools, company_key, 1, rng, unseen_prob, used)[0]
    n_exec, n_analysts = rng.randint(*cfg.executives), rng.randint(*cfg.analysts)
    people = _distinct(pools, PERSON, n_exec + n_analysts, rng, unseen_prob, used)
    n_exec = min(n_exec, len(people))
    roles = rng.sample(EXECUTIVE_ROLES, k=min(n_exec, len(EXECUTIVE_ROLES)))
    candidates = [*pools.seen.get(company_key, ()), *(pools.heldout.get(company_key, ()) if unseen_prob > 0 else ())]
    sector = [e for e in candidates if e.sector == company.sector and e.id not in used]
    rng.shuffle(sector)
    peers = tuple(sector[:rng.randint(*cfg.peers)])

    def ticker_of(e: LexiconEntry) -> LexiconEntry | None:
        return next((t for t in by_ticker.get(e.ticker or "", ()) if t.kind == "ticker"), None)

    return Call(call_id, split, company, ticker_of(company), tuple(zip(people[:n_exec], roles)),
                tuple(people[n_exec:]), peers, tuple(t for t in map(ticker_of, peers) if t is not None))


def call_pools(pools: LexiconPools, call: Call) -> LexiconPools:
    """``pools`` with the company, ticker and person slots narrowed to the call's own entities (indices, funds and
    jargon as they are): the call's company and its peers, their tickers, its people."""
    companies = {e.id for e in (call.company, *call.peers)}
    tickers = {t.id for t in (call.ticker, *call.peer_tickers) if t is not None}
    people = {p.id for p in call.people}

    def keep(key: str, e: LexiconEntry) -> bool:
        if e.kind == "company":  # under ORG:company and under ORG (any): indices and funds stay open
            return e.id in companies
        if key == TICKER:
            return e.id in tickers
        return e.id in people if key == PERSON else True

    def narrow(side: Any) -> dict[str, tuple[LexiconEntry, ...]]:
        return {k: tuple(e for e in v if keep(k, e)) for k, v in side.items()}

    return LexiconPools(narrow(pools.seen), narrow(pools.heldout))
