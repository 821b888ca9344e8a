"""Load the shipped finance lexicon: tickers and their companies, indices/funds/ETFs, finance terms.

Data lives in ``finparakeet/lexicon/data/*.tsv`` (tab-separated, ``#`` comments, header row). Within a cell,
alternatives are separated by ``|``; the first spoken form is the default a synthetic voice reads.

- ``companies.tsv``: ``ticker  company  spoken_ticker  spoken_company  aliases  sector``
  (empty ``spoken_ticker`` = the letters, "NVDA" -> "N V D eh"; empty ``spoken_company`` = the company as written)
- ``funds.tsv``: ``written  kind  spoken  aliases  ticker``  (kind: index | etf | fund; a fund's ticker also gets a
  ``ticker:`` entry, read as letters)
- ``terms.tsv``: ``written  spoken  expansion``
- ``people.tsv``: ``written  spoken  aliases`` (PERSON: the executives and analysts of synthetic calls; made-up names)

Written forms are what Parakeet writes (cased, with symbols: "S&P 500", "10-K", "JPMorgan Chase"); ``aliases`` are
other written forms of the same thing. Every spoken form is a reading of the written form (never of an alias), as
text for the espeak-ng voice: only letters, spaces, apostrophes and hyphens; numbers as words ("ten K"); acronyms
said as letters spaced ("E T F"), never in capitals run together (espeak reads "AAPL" as a word); the letter A
written "eh", because espeak reads a lone "A" inside a sentence as the article ("uh"). Spoken forms are voice
text, not transcript text ("gap", "now", "Nye key"): match transcripts against ``written_forms()`` and, for
tickers, ``spell_letters(ticker)`` ("N V D A").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from finparakeet.entities import ORG, PERSON, TERM, TICKER

DATA_DIR = Path(str(resources.files("finparakeet.lexicon") / "data"))

COMPANY_COLUMNS = ("ticker", "company", "spoken_ticker", "spoken_company", "aliases", "sector")
FUND_COLUMNS = ("written", "kind", "spoken", "aliases", "ticker")
TERM_COLUMNS = ("written", "spoken", "expansion")
PEOPLE_COLUMNS = ("written", "spoken", "aliases")
FUND_KINDS = ("index", "etf", "fund")

_TICKER = re.compile(r"[A-Z][A-Z0-9]*(?:\.[A-Z])?")  # "NVDA", "BRK.B"
_SPOKEN = re.compile(r"[A-Za-z']+(?:[ -][A-Za-z']+)*")
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class LexiconEntry:
    """One finance term as Parakeet writes it (``written``) and the ways people say it (``spoken``)."""

    id: str  # stable and unique: "ticker:NVDA", "company:NVDA", "index:S&P 500", "term:EBITDA", "person:Jane Doe"
    written: str
    category: str  # TICKER | ORG | TERM | PERSON
    kind: str  # ticker | company | index | etf | fund | term | person
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

    @cached_property
    def by_ticker(self) -> dict[str, tuple[LexiconEntry, ...]]:
        """Ticker symbol -> the entries it links: its ``ticker:`` entry and the company or fund it names."""
        out: dict[str, list[LexiconEntry]] = {}
        for e in self.entries:
            if e.ticker:
                out.setdefault(e.ticker, []).append(e)
        return {t: tuple(v) for t, v in out.items()}

    def name_of(self, ticker: str) -> LexiconEntry | None:
        """The company, ETF or fund that ``ticker`` names ("NVDA" -> NVIDIA, "SPY" -> SPDR S&P 500 ETF)."""
        return next((e for e in self.by_ticker.get(ticker, ()) if e.kind != "ticker"), None)

    def written_forms(self, *kinds: str) -> list[str]:
        """Written forms and aliases of the entries of ``kinds`` (all when none given), without repeats:
        what a bias list or a tagger looks for in Parakeet's output."""
        entries = self.by_kind(*kinds) if kinds else self.entries
        return list(dict.fromkeys(w for e in entries for w in (e.written, *e.aliases)))

    def __len__(self) -> int:
        return len(self.entries)


def spell_letters(symbol: str, voice: bool = False) -> str:
    """How a ticker is read letter by letter: "NVDA" -> "N V D A", "BRK.B" -> "B R K B".

    ``voice=True`` gives the espeak-ng text instead: "A" as "eh" and digits as words ("NVDA" -> "N V D eh").
    """
    chars = [ch for ch in symbol.upper() if ch.isalnum()]
    if voice:
        chars = ["eh" if ch == "A" else _DIGIT_WORDS[int(ch)] if ch.isdigit() else ch for ch in chars]
    return " ".join(chars)


def spoken_problem(text: str) -> str | None:
    """Why ``text`` is not safe for the espeak-ng voice, or ``None`` when it is (see the module docstring)."""
    if not _SPOKEN.fullmatch(text):
        return "may hold only letters, apostrophes and single spaces or hyphens between words (no digits or symbols)"
    for word in re.split(r"[ -]", text):
        if word == "A":
            return 'has a lone "A" (espeak reads it as the article): write the letter as "eh"'
        letters = word.replace("'", "")
        if len(letters) > 1 and letters.isupper():
            return f"has {word!r} in capitals (espeak may read it as a word): space the letters or respell it"
    return None


def _alts(cell: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in cell.split("|") if a.strip())


def _read_tsv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        lines = [(n, line) for n, line in enumerate(f, 1) if line.strip() and not line.startswith("#")]
    if not lines:
        raise ValueError(f"{path}: no header row; expected the tab-separated columns {list(columns)}")
    n, line = lines[0]
    header = line.rstrip("\r\n").split("\t")
    if tuple(header) != columns:
        raise ValueError(f"{path}:{n}: header must be the tab-separated columns {list(columns)}, got {header!r}")
    for n, line in lines[1:]:
        cells = line.rstrip("\r\n").split("\t")
        if len(cells) > len(columns):
            raise ValueError(f"{path}:{n}: expected up to {len(columns)} tab-separated cells, got {cells!r}")
        if not cells[0].strip():
            raise ValueError(f"{path}:{n}: the first cell ({columns[0]}) is empty")
        cells += [""] * (len(columns) - len(cells))
        rows.append((n, dict(zip(columns, (c.strip() for c in cells)))))
    return rows


def load_lexicon(data_dir: str | Path | None = None) -> Lexicon:
    """Read the lexicon TSVs from ``data_dir`` (default: the shipped data).

    Raises ``ValueError`` naming the file and line of a bad header, ticker, kind, spoken form or repeated id.
    """
    d = Path(data_dir) if data_dir else DATA_DIR
    entries: list[LexiconEntry] = []
    where: dict[str, str] = {}

    def add(e: LexiconEntry, loc: str) -> None:
        if e.id in where:
            raise ValueError(f"{loc}: duplicate lexicon id {e.id!r} (first at {where[e.id]})")
        for s in e.spoken:
            if why := spoken_problem(s):
                raise ValueError(f"{loc}: spoken form {s!r} of {e.id!r} {why}")
        where[e.id] = loc
        entries.append(e)

    def check_ticker(t: str, loc: str) -> None:
        if not _TICKER.fullmatch(t):
            raise ValueError(f"{loc}: ticker {t!r} must be capitals and digits, with an optional class suffix (BRK.B)")

    path = d / "companies.tsv"
    for n, r in _read_tsv(path, COMPANY_COLUMNS):
        t, loc = r["ticker"], f"{path}:{n}"
        check_ticker(t, loc)
        if not r["company"]:
            raise ValueError(f"{loc}: ticker {t!r} has no company")
        sector = r["sector"] or None
        add(LexiconEntry(f"ticker:{t}", t, TICKER, "ticker", _alts(r["spoken_ticker"]) or (spell_letters(t, True),),
                         ticker=t, sector=sector), loc)
        add(LexiconEntry(f"company:{t}", r["company"], ORG, "company", _alts(r["spoken_company"]) or (r["company"],),
                         _alts(r["aliases"]), ticker=t, sector=sector), loc)
    path = d / "funds.tsv"
    for n, r in _read_tsv(path, FUND_COLUMNS):
        loc, t = f"{path}:{n}", r["ticker"] or None
        if r["kind"] not in FUND_KINDS:
            raise ValueError(f"{loc}: kind must be index, etf or fund, got {r['kind']!r}")
        add(LexiconEntry(f"{r['kind']}:{r['written']}", r["written"], ORG, r["kind"],
                         _alts(r["spoken"]) or (r["written"],), _alts(r["aliases"]), ticker=t), loc)
        if t:
            check_ticker(t, loc)
            add(LexiconEntry(f"ticker:{t}", t, TICKER, "ticker", (spell_letters(t, True),), ticker=t), loc)
    path = d / "terms.tsv"
    for n, r in _read_tsv(path, TERM_COLUMNS):
        add(LexiconEntry(f"term:{r['written']}", r["written"], TERM, "term", _alts(r["spoken"]) or (r["written"],),
                         expansion=r["expansion"] or None), f"{path}:{n}")
    path = d / "people.tsv"
    if path.is_file():  # optional: a lexicon of one's own may name no people
        for n, r in _read_tsv(path, PEOPLE_COLUMNS):
            add(LexiconEntry(f"person:{r['written']}", r["written"], PERSON, "person",
                             _alts(r["spoken"]) or (r["written"],), _alts(r["aliases"])), f"{path}:{n}")
    return Lexicon(tuple(entries))
