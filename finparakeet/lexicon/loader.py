"""Load the shipped finance lexicon: tickers and their companies, indices/funds/ETFs, finance terms.

Data lives in ``finparakeet/lexicon/data/*.tsv`` (tab-separated, ``#`` comments, header row). Within a cell,
alternatives are separated by ``|``; the first spoken form is the default a synthetic voice reads.

- ``companies.tsv``: ``ticker  company  spoken_ticker  spoken_company  aliases  sector``
  (empty ``spoken_ticker`` = the letters, "NVDA" -> "N V D A"; empty ``spoken_company`` = the company as written)
- ``funds.tsv``: ``written  kind  spoken  aliases  ticker``  (kind: index | etf | fund)
- ``terms.tsv``: ``written  spoken  expansion``
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from finparakeet.entities import ORG, TERM, TICKER

DATA_DIR = Path(str(resources.files("finparakeet.lexicon") / "data"))


@dataclass(frozen=True)
class LexiconEntry:
    """One finance term as Parakeet writes it (``written``) and the ways people say it (``spoken``)."""

    id: str  # stable and unique: "ticker:NVDA", "company:NVDA", "index:S&P 500", "term:EBITDA"
    written: str
    category: str  # TICKER | ORG | TERM
    kind: str  # ticker | company | index | etf | fund | term
    spoken: tuple[str, ...]
    aliases: tuple[str, ...] = ()  # other written forms of the same thing
    ticker: str | None = None  # links a company, its ticker and an ETF's ticker
    sector: str | None = None
    expansion: str | None = None  # terms: the long form ("earnings before interest, taxes, ...")


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[LexiconEntry, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for e in self.entries:
            if e.id in seen:
                raise ValueError(f"duplicate lexicon id {e.id!r}")
            seen.add(e.id)

    def by_kind(self, *kinds: str) -> list[LexiconEntry]:
        return [e for e in self.entries if e.kind in kinds]

    def by_category(self, *categories: str) -> list[LexiconEntry]:
        return [e for e in self.entries if e.category in categories]

    @cached_property
    def by_id(self) -> dict[str, LexiconEntry]:
        return {e.id: e for e in self.entries}

    def __len__(self) -> int:
        return len(self.entries)


def spell_letters(symbol: str) -> str:
    """How a ticker is read letter by letter: "NVDA" -> "N V D A", "BRK.B" -> "B R K B"."""
    return " ".join(ch for ch in symbol.upper() if ch.isalnum())


def _alts(cell: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in cell.split("|") if a.strip())


def _read_tsv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        lines = [(n, line) for n, line in enumerate(f, 1) if line.strip() and not line.startswith("#")]
    header = lines[0][1].rstrip("\n").split("\t")
    if tuple(header) != columns:
        raise ValueError(f"{path}: header must be the tab-separated columns {list(columns)}, got {header!r}")
    for n, line in lines[1:]:
        cells = line.rstrip("\n").split("\t")
        if len(cells) > len(columns) or not cells[0].strip():
            raise ValueError(f"{path}:{n}: expected up to {len(columns)} tab-separated cells, got {cells!r}")
        cells += [""] * (len(columns) - len(cells))
        rows.append((n, dict(zip(columns, (c.strip() for c in cells)))))
    return rows


def load_lexicon(data_dir: str | Path | None = None) -> Lexicon:
    """Read the lexicon TSVs from ``data_dir`` (default: the shipped data)."""
    d = Path(data_dir) if data_dir else DATA_DIR
    entries: list[LexiconEntry] = []
    for _, r in _read_tsv(d / "companies.tsv",
                          ("ticker", "company", "spoken_ticker", "spoken_company", "aliases", "sector")):
        t = r["ticker"]
        entries.append(LexiconEntry(f"ticker:{t}", t, TICKER, "ticker",
                                    _alts(r["spoken_ticker"]) or (spell_letters(t),), ticker=t, sector=r["sector"] or None))
        entries.append(LexiconEntry(f"company:{t}", r["company"], ORG, "company",
                                    _alts(r["spoken_company"]) or (r["company"],), _alts(r["aliases"]),
                                    ticker=t, sector=r["sector"] or None))
    for n, r in _read_tsv(d / "funds.tsv", ("written", "kind", "spoken", "aliases", "ticker")):
        if r["kind"] not in ("index", "etf", "fund"):
            raise ValueError(f"{d / 'funds.tsv'}:{n}: kind must be index, etf or fund, got {r['kind']!r}")
        entries.append(LexiconEntry(f"{r['kind']}:{r['written']}", r["written"], ORG, r["kind"],
                                    _alts(r["spoken"]) or (r["written"],), _alts(r["aliases"]), ticker=r["ticker"] or None))
    for _, r in _read_tsv(d / "terms.tsv", ("written", "spoken", "expansion")):
        entries.append(LexiconEntry(f"term:{r['written']}", r["written"], TERM, "term",
                                    _alts(r["spoken"]) or (r["written"],), expansion=r["expansion"] or None))
    return Lexicon(tuple(entries))
