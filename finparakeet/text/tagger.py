"""Finance tagger: entity spans for references that come without any (lexicon matches + patterns).

- Lexicon (``finparakeet.lexicon``): tickers (TICKER), companies, indices, ETFs and funds (ORG), jargon (TERM); written
  forms and aliases (not the spoken forms, which are for voices); longest match on token boundaries.
- Patterns: MONEY ("$4.2 billion", "25 cents", "four point two billion dollars"), PERCENT ("12.5%", "3-5 percent"),
  BPS ("50 bps", "fifty basis points"), PERIOD (quarters, halves, fiscal years, dates, years 1900-2099) and CARDINAL
  (other numbers written in digits, with a scale word: "1.5 million").

Overlaps resolve leftmost-longest; on equal spans the lexicon wins, then MONEY, BPS, PERCENT, PERIOD, CARDINAL.

Case rules, because a cased reference tells a ticker from a word: a ticker matches only in its exact case, and one that
is a single letter or an everyday word ("A", "IT", "ALL", "NOW") only with a cue: ``$NOW``, ``(NOW)``, ``NYSE: NOW``.
When most of a text is upper case, bare tickers are not tagged at all. A company or fund matches when each of its
capitalised words is capitalised in the text ("Apple", not "apple"); jargon matches in any case, except short
acronyms ("EPS", "ROE") which must be upper case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from finparakeet.entities import (BPS, CARDINAL, MONEY, ORG, PERCENT, PERIOD, TERM, TICKER, EntitySpan)
from finparakeet.lexicon import Lexicon, load_lexicon

# Tokens for lexicon matching: letters/digits joined by & . - / ("S&P", "10-K", "BRK.B"); a trailing period or an
# apostrophe ("Apple's") is not part of the token.
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[&.\-/][A-Za-z0-9]+)*")
_WS = re.compile(r"\s+")

# Tickers that are also everyday words or common acronyms need a cue to be tagged.
_AMBIGUOUS_TICKERS = frozenset("""
A I AN AM AS AT BE BY DO GO HE IF IN IS IT ME MY NO OF OH OK ON OR SO TO UP US WE AI PM CEO CFO COO CTO USA UK EU
EPS GDP ESG IPO ETF SEC FDA ALL AND ANY ARE BIG CAN CAR DAY FOR HAS HOT KEY LOW MAN NEW NOW ONE OUT SEE TWO WAY WHO
YOU ARM BEST CASH FAST FUN LIFE LOVE NICE OPEN PLAY REAL SAFE TRUE WELL GOOD GAIN EAT TECH HAS NICE GOLD
""".split())

_NUMBER_WORD = (r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
                r"|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
                r"|hundred|thousand|million|billion|trillion|point|oh)")
_SPELLED = rf"(?<![\w-]){_NUMBER_WORD}(?:(?:\s+|-)(?:and\s+)?{_NUMBER_WORD})*"
_DIGITS = r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])"
_NUM = rf"(?:{_DIGITS}|{_SPELLED})"
_SCALE_WORD = r"(?:thousand|million|billion|trillion)"
_SCALE_ABBR = r"(?:k|K|m|M|mm|MM|mn|bn|B|b|tn)"
_RANGE = r"(?:\s?(?:-|–|to)\s?)"
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
          r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
# "Q3 2024", "Q3 FY2024", "Q3'24", "Q3FY24", "3Q24"; two bare digits only when attached.
_YEAR_SUFFIX = r"(?:\s?(?:FY\s?)?(?:\d{4}|'\d{2})|FY\d{2}|\d{2})"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (MONEY, re.compile(
        rf"(?<![\w$€£¥])[-–]?(?:US|C|A|HK)?[$€£¥]\s?{_DIGITS}"
        rf"(?:{_RANGE}[$€£¥]?{_DIGITS})?(?:\s?{_SCALE_WORD}\b|{_SCALE_ABBR}\b)?")),
    (MONEY, re.compile(
        rf"{_NUM}(?:{_RANGE}{_NUM})?(?:\s+{_SCALE_WORD})?\s+(?:(?:US|U\.S\.|Canadian|Australian)\s+)?"
        rf"(?:dollars?|cents?|euros?|pounds?(?:\s+sterling)?|yen|bucks)\b", re.IGNORECASE)),
    (MONEY, re.compile(rf"{_DIGITS}(?:\s?{_SCALE_WORD}|{_SCALE_ABBR})?\s?(?:USD|EUR|GBP|JPY|CAD)\b")),
    (BPS, re.compile(rf"{_NUM}(?:{_RANGE}{_NUM})?\s?(?:bps\b|bp\b|basis[\s-]points?\b)", re.IGNORECASE)),
    (PERCENT, re.compile(
        rf"[-+]?{_NUM}(?:{_RANGE}{_NUM})?\s?(?:%|percent\b|per\s+cent\b|percentage\s+points?\b)", re.IGNORECASE)),
    (PERIOD, re.compile(rf"\b(?:Q[1-4]|[1-4]Q|H[12]|[12]H){_YEAR_SUFFIX}?\b")),
    (PERIOD, re.compile(
        r"\b(?:(?:first|second|third|fourth|1st|2nd|3rd|4th)[\s-]+(?:fiscal\s+)?quarter"
        r"|(?:first|second|1st|2nd)\s+half)"
        r"(?:\s+(?:of\s+)?(?:(?:fiscal|calendar)\s+(?:year\s+)?)?(?:\d{4}|'\d{2}))?\b", re.IGNORECASE)),
    (PERIOD, re.compile(r"\b(?:[Ff]iscal(?:\s+[Yy]ear)?\s+|[Cc]alendar(?:\s+[Yy]ear)?\s+|FY\s?|CY\s?)"
                        r"(?:\d{4}|'\d{2}|\d{2})\b")),
    (PERIOD, re.compile(rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b|\b{_MONTH}\s+\d{{4}}\b")),
    (PERIOD, re.compile(r"\b\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b")),
    (PERIOD, re.compile(r"(?<![\w.,$])(?:19|20)\d{2}(?!\w|[,.]\d)")),
    (CARDINAL, re.compile(rf"[-+]?{_DIGITS}(?:\s{_SCALE_WORD}\b)?")),
)

# Lower is preferred when two candidates cover the same characters.
_PRIORITY = {TICKER: 0, ORG: 0, TERM: 0, MONEY: 1, BPS: 2, PERCENT: 3, PERIOD: 4, CARDINAL: 5}


@dataclass(frozen=True)
class _Form:
    tokens: tuple[str, ...]  # as written in the lexicon
    lower: tuple[str, ...]
    gaps: tuple[str, ...]  # what separates the tokens in the lexicon, whitespace runs as one space
    category: str
    lexicon_id: str
    case_rule: str  # exact | capitals | any


@dataclass
class FinanceTagger:
    """``FinanceTagger().tag("NVDA rose 4.2% in Q3")`` -> TICKER "NVDA", PERCENT "4.2%", PERIOD "Q3"."""

    lexicon: Lexicon | None = None
    _forms: dict[str, list[_Form]] = field(init=False, repr=False)
    _max_len: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lex = self.lexicon if self.lexicon is not None else load_lexicon()
        forms: dict[str, list[_Form]] = {}
        seen: set[tuple[tuple[str, ...], str]] = set()
        for e in lex.entries:
            # Written forms only: references are written text, and the spoken forms are for voices ("gap" for
            # GAAP, "on" for ON) — matching them would tag everyday words.
            for surface in dict.fromkeys((e.written, *e.aliases)):
                f = _make_form(surface, e.category, e.id)
                if f is None or (f.tokens, f.case_rule) in seen:
                    continue
                seen.add((f.tokens, f.case_rule))
                forms.setdefault(f.lower[0], []).append(f)
        for v in forms.values():
            v.sort(key=lambda f: -len(f.tokens))  # longest match first
        self._forms = forms
        self._max_len = max((len(f.tokens) for v in forms.values() for f in v), default=0)

    def tag(self, text: str) -> list[EntitySpan]:
        """Non-overlapping entity spans of ``text``, in order, with ``text[start:end] == span.text``."""
        cands = self._lexicon_candidates(text)
        for cat, pat in _PATTERNS:
            cands.extend((m.start(), m.end(), cat, None) for m in pat.finditer(text) if m.end() > m.start())
        cands.sort(key=lambda c: (c[0], c[0] - c[1], _PRIORITY.get(c[2], 9)))
        out: list[EntitySpan] = []
        end = -1
        for s, e, cat, lex_id in cands:
            if s < end:
                continue
            s, e = _trim(text, s, e)
            if s >= e:
                continue
            out.append(EntitySpan(s, e, cat, text[s:e], source="tagger",
                                  extra={"lexicon_id": lex_id} if lex_id else {}))
            end = e
        return out

    def _lexicon_candidates(self, text: str) -> list[tuple[int, int, str, str | None]]:
        toks = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
        lower = [t[2].lower() for t in toks]
        alpha = [t[2] for t in toks if t[2].isalpha()]
        shouting = len(alpha) >= 4 and sum(w.isupper() for w in alpha) > 0.6 * len(alpha)
        out = []
        n = len(toks)
        for i in range(n):
            forms = self._forms.get(lower[i])
            if not forms:
                continue
            for f in forms:
                m = len(f.tokens)
                if i + m > n or tuple(lower[i:i + m]) != f.lower:
                    continue
                if not all(_gap(text[toks[i + k][1]:toks[i + k + 1][0]]) == f.gaps[k] for k in range(m - 1)):
                    continue
                words = [t[2] for t in toks[i:i + m]]
                if not _case_ok(words, f):
                    continue
                s, e = toks[i][0], toks[i + m - 1][1]
                if f.category == TICKER and not _ticker_ok(text, s, e, f.tokens[0], shouting):
                    continue
                out.append((s, e, f.category, f.lexicon_id))
                break  # longest form at this token found
        return out


def tag_entities(texts: Iterable[str], tagger: FinanceTagger | None = None) -> list[list[EntitySpan]]:
    """Tag several texts with one tagger (the lexicon is compiled once)."""
    tagger = tagger or FinanceTagger()
    return [tagger.tag(t) for t in texts]


def _make_form(surface: str, category: str, lexicon_id: str) -> _Form | None:
    ms = list(_TOKEN.finditer(surface))
    if not ms:
        return None
    tokens = tuple(m.group() for m in ms)
    gaps = tuple(_gap(surface[a.end():b.start()]) for a, b in zip(ms, ms[1:]))
    letters = "".join(ch for ch in surface if ch.isalpha())
    if category == TICKER:
        rule = "exact"
    elif category == TERM:
        rule = "exact" if letters.isupper() and len(letters) <= 4 else "any"
    else:
        rule = "capitals"
    return _Form(tokens, tuple(t.lower() for t in tokens), gaps, category, lexicon_id, rule)


def _gap(s: str) -> str:
    return _WS.sub(" ", s)


def _case_ok(words: list[str], f: _Form) -> bool:
    if f.case_rule == "exact":
        return tuple(words) == f.tokens
    if f.case_rule == "capitals":
        return all(w[0] == t[0] or not t[0].isupper() for w, t in zip(words, f.tokens))
    return True


def _ticker_ok(text: str, s: int, e: int, symbol: str, shouting: bool) -> bool:
    before, after = text[max(0, s - 12):s], text[e:e + 1]
    cue = (before.endswith("$") or (before.endswith("(") and after == ")")
           or re.search(r"(?:NYSE|NASDAQ|Nasdaq|ticker|symbol)\s*:?\s*$", before) is not None)
    if cue:
        return True
    letters = sum(ch.isalpha() for ch in symbol)
    return not shouting and letters > 1 and symbol not in _AMBIGUOUS_TICKERS


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    # Patterns may start on a sign or end on a separator; an entity is never bordered by whitespace.
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e
