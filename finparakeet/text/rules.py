"""Finance rules over number and word tokens: currency, units, signs, ranges, quarters, spelled letters."""

from __future__ import annotations

from decimal import Decimal

from finparakeet.text import tables as T
from finparakeet.text.numbers import scaled
from finparakeet.text.tokens import Tok

_MAX_UNIT_LEN = max(len(k) for k in T.UNIT_PHRASES)
_MAX_CURRENCY_LEN = max(len(k) for k in T.CURRENCY_PHRASES)
_UNIT_FIRST = frozenset(k[0] for k in T.UNIT_PHRASES)
_CURRENCY_FIRST = frozenset(k[0] for k in T.CURRENCY_PHRASES)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_MILLION = Decimal(10) ** 6


def _plain(t: Tok) -> bool:
    """A cardinal number with no unit yet (a fraction such as "2/3" takes none)."""
    return t.kind == "n" and not t.ordinal and not t.unit and (
        t.value is not None or (t.digits is not None and t.digits.isdigit()))


def _union(toks: list[Tok]) -> tuple[int, int]:
    return min(t.start for t in toks), max(t.end for t in toks)


def _with_span(t: Tok, span_toks: list[Tok], **fields: object) -> Tok:
    start, end = _union(span_toks)
    new = Tok(t.text, start, end, kind=t.kind, sep=span_toks[0].sep, upper=t.upper, value=t.value, digits=t.digits,
              ordinal=t.ordinal, cur=t.cur, unit=t.unit, words=t.words)
    for k, v in fields.items():
        setattr(new, k, v)
    return new


def _phrase(toks: list[Tok], i: int, table: dict[tuple[str, ...], str], longest: int,
            first: frozenset[str]) -> tuple[str, int] | None:
    """The longest phrase of ``table`` starting at word ``i`` with no punctuation inside: (its value, end index).
    ``first``: the first words of the table's phrases."""
    if toks[i].kind == "n" or toks[i].text not in first:
        return None  # no phrase of the table starts here
    for k in range(min(longest, len(toks) - i), 0, -1):
        words = tuple(toks[j].text if toks[j].kind != "n" else "\0" for j in range(i, i + k))
        if words in table and not any(toks[j].sep for j in range(i, i + k)):
            return table[words], i + k
    return None


def _prefix(t: Tok) -> str | None:
    """A written currency prefix standing alone before a number: "$", "€", "CHF", "USD" (codes in capitals)."""
    if t.kind == "w" and t.text.isalpha() and not t.upper:
        return None
    return T.CURRENCY_PREFIXES.get(t.text.upper()) if t.kind in ("w", "l") else None


def units(toks: list[Tok]) -> list[Tok]:
    """Currency and unit words after a number fold into it: "4.2 billion dollars" -> $4.2e9, "twelve point five
    percent" -> 12.5%, "fifty basis points" -> 50bps, "25 cents" -> $0.25, "two dollars and forty cents" -> $2.40;
    a prefix standing before a number ("$ 4.2", "CHF 85") and "a dollar" count too. "pp" after a number reads
    "percentage points"."""
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        # "$ 4.2", "CHF 85": a free-standing prefix before a number.
        if i + 1 < n and _plain(toks[i + 1]) and not toks[i + 1].cur and (cur := _prefix(t)) is not None:
            toks[i + 1] = _with_span(toks[i + 1], [t, toks[i + 1]], cur=cur)
            i += 1
            continue
        # "a dollar" = $1.
        if (t.kind == "w" and t.text == "a" and i + 1 < n and toks[i + 1].kind == "w"
                and toks[i + 1].text in T.A_CURRENCY and not toks[i + 1].sep):
            i += 1
            toks[i] = Tok("", t.start, toks[i].end, kind="n", sep=t.sep, value=_ONE,
                          cur=T.CURRENCY_PHRASES[(toks[i].text,)], words=("a",))
            continue
        # A scale after the currency word ("20 dollars million"): the number still takes it.
        if (_plain(t) and t.value is not None and t.cur and i + 1 < n and toks[i + 1].kind == "w"
                and toks[i + 1].text in T.SCALE_WORDS and not toks[i + 1].sep
                and (value := scaled(t, T.SCALE_WORDS[toks[i + 1].text])) is not None):
            i += 1
            toks[i] = _with_span(t, [t, toks[i]], value=value, words=t.words + (toks[i].text,))
            continue
        if _plain(t) and t.value is not None and i + 1 < n and not toks[i + 1].sep:
            nxt = toks[i + 1]
            matched = _phrase(toks, i + 1, T.CURRENCY_PHRASES, _MAX_CURRENCY_LEN, _CURRENCY_FIRST)
            # The merged number goes back in the stream, to take what follows it too ("$100 dollars").
            if matched is not None and (not t.cur or t.cur == matched[0]):
                i = matched[1] - 1
                toks[i] = _with_span(t, [t, toks[i]], cur=matched[0])
                continue
            if nxt.kind == "w" and nxt.text in T.CENT_WORDS and t.cur in ("", "$"):
                # "25 cents" = $0.25; in "$2.25 cents" the word repeats the symbol.
                value = t.value if t.cur else t.value / _HUNDRED
                i += 1
                toks[i] = _with_span(t, [t, nxt], value=value, cur="$")
                continue
        if _plain(t) and i + 1 < n and not toks[i + 1].sep:
            matched = _phrase(toks, i + 1, T.UNIT_PHRASES, _MAX_UNIT_LEN, _UNIT_FIRST)
            if matched is not None:
                unit, j = matched
                out.append(_with_span(t, toks[i:j], unit=unit))
                i = j
                continue
            nxt = toks[i + 1]
            if nxt.kind in ("w", "l") and nxt.text in T.PP_ABBREVIATIONS:
                out.append(t)
                out.extend(Tok(w, nxt.start, nxt.end) for w in T.PP_WORDS)
                i += 2
                continue
        if t.kind == "w" and t.text == "%":  # a sign with no number before it is the word
            t.text = "percent"
        out.append(t)
        i += 1
    return _dollars_and_cents(out)


def _cents_part(t: Tok, dollars: Tok) -> Decimal | None:
    """The cents after whole dollars: "forty cents" (already $0.40) or "zero cents" said in full, or after spoken
    dollars below a thousand a bare spoken 1..99 ("a dollar five", "twelve dollars fifty")."""
    if t.kind != "n" or t.value is None or t.ordinal or t.unit:
        return None
    if t.cur == "$" and 0 <= t.value < 1 and t.value * 100 == (t.value * 100).to_integral_value() \
            and (t.value or t.words):
        return t.value
    if (dollars.words and dollars.value < 1000 and t.words and not t.cur
            and t.value == t.value.to_integral_value() and 1 <= t.value <= 99):
        return t.value / _HUNDRED
    return None


def _dollars_and_cents(toks: list[Tok]) -> list[Tok]:
    """"two dollars and forty cents" = "two dollars forty" = $2.40; "a dollar five" = $1.05; "two thousand dollars
    and zero cents" = $2000."""
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "n" and t.cur == "$" and t.value is not None and t.value == t.value.to_integral_value() \
                and 1 <= t.value < _MILLION and not t.unit:
            j = i + 1
            if j < n and toks[j].text == "and" and not toks[j].sep:
                j += 1
            if j < n and not toks[j].sep and (cents := _cents_part(toks[j], t)) is not None \
                    and not (j + 1 < n and toks[j + 1].text in T.SCALE_WORDS):
                out.append(_with_span(t, toks[i:j + 1], value=t.value + cents))
                i = j + 1
                continue
        out.append(t)
        i += 1
    return out


def signs_and_ranges(toks: list[Tok]) -> list[Tok]:
    """"negative 2%" -> "minus 2%"; in a range the unit (and scale) of the second number is shared with the
    first: "3 to 5%" -> 3% to 5%, "three to five billion dollars" -> $3e9 to $5e9. Ranges are read right to left
    so that chains ("40 to 40 to $40 million") share too; punctuation does not block them (it would make the
    normaliser depend on its own output's missing commas)."""
    for i in range(len(toks) - 2, 0, -1):
        t = toks[i]
        if t.kind != "w" or t.text not in T.RANGE_WORDS:
            continue
        a, b = toks[i - 1], toks[i + 1]
        if a.kind != "n" or b.kind != "n" or a.ordinal or b.ordinal:
            continue
        if i >= 2 and toks[i - 2].kind == "w" and (
                (len(toks[i - 2].text) == 1 and toks[i - 2].text.isalpha()) or toks[i - 2].text in T.MONTHS):
            continue  # "Q2 to 39%", "March 31 to $3.6 billion": the number belongs to a code or a date
        if b.unit and not a.unit and not a.cur:
            a.unit = b.unit
        if b.cur and not a.cur and not a.unit:
            a.cur = b.cur
        if (a.value is not None and b.value is not None and a.digits is None and a.cur == b.cur
                and a.unit == b.unit and a.value < 1000 and b.value >= _MILLION):
            # The scale b is written with ("5 billion") applies to a bare a ("3 to 5 billion").
            a.value = a.value * next(size for size, _ in T.OUTPUT_SCALES if b.value >= size)
    for i, t in enumerate(toks[:-1]):
        if t.kind == "w" and t.text in T.SIGN_WORDS and toks[i + 1].kind == "n" and not toks[i + 1].sep:
            t.text = T.SIGN_WORDS[t.text]
    return toks


_PERIOD_LETTERS = dict(T.PERIOD_PARTS.values())  # "q" -> 4, "h" -> 2


def _count(t: Tok, most: int) -> bool:
    """A whole number 1..``most`` with no currency or unit: which quarter or half."""
    return (t.kind == "n" and t.value is not None and not t.cur and not t.unit and t.digits is None
            and t.value == t.value.to_integral_value() and 1 <= t.value <= most)


def periods(toks: list[Tok]) -> list[Tok]:
    """Periods written as they are said, and said as they are written: "third quarter" = "3Q" = "Q3" -> "q 3",
    "first half" = "1H" = "H1" -> "h 1"; "fiscal year" = "FY" -> "fy" and "fiscal 2019" = "FY 2019" (likewise
    "calendar" -> "cy"); "YTD" -> "year to date"; and "of" between a quarter or half and its year goes, so
    "first half of 2019" = "H1 2019" = "1H 2019"."""
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < n and not toks[i + 1].sep else None
        if nxt is not None and t.ordinal and nxt.kind == "w" and nxt.text in T.PERIOD_PARTS \
                and _count(t, T.PERIOD_PARTS[nxt.text][1]):
            start, end = t.start, nxt.end
            out.append(Tok(T.PERIOD_PARTS[nxt.text][0], start, end, sep=t.sep, upper=True))
            out.append(Tok("", start, end, kind="n", value=t.value, words=t.words))
            i += 2
            continue
        # "3Q", "1H", "two Q": the letter in capitals after the count.
        if (nxt is not None and not t.ordinal and nxt.kind == "w" and nxt.upper and nxt.text in _PERIOD_LETTERS
                and _count(t, _PERIOD_LETTERS[nxt.text])):
            start, end = t.span_with(nxt)
            out.append(Tok(nxt.text, start, end, sep=t.sep, upper=True))
            out.append(Tok("", start, end, kind="n", value=t.value, words=t.words))
            i += 2
            continue
        if t.kind == "w" and t.text in T.YEAR_KINDS and nxt is not None:
            if nxt.kind == "w" and nxt.text == "year":  # "fiscal year" -> "fy"
                out.append(Tok(T.YEAR_KINDS[t.text], t.start, nxt.end, sep=t.sep, upper=True))
                i += 2
                continue
            if _count(nxt, 2099) and not nxt.ordinal:  # "fiscal 2019", "fiscal nineteen" -> "fy 2019"
                out.append(Tok(T.YEAR_KINDS[t.text], t.start, t.end, sep=t.sep, upper=True))
                i += 1
                continue
        if t.kind in ("w", "l") and t.text in T.SPOKEN_ABBREVIATIONS:
            out.extend(Tok(w, t.start, t.end, sep=t.sep and k == 0)
                       for k, w in enumerate(T.SPOKEN_ABBREVIATIONS[t.text]))
            i += 1
            continue
        out.append(t)
        i += 1
    return _of_year(out)


def _of_year(toks: list[Tok]) -> list[Tok]:
    """Drop "of" between a quarter or half and its year: "q 3 of 2019", "h 1 of fy 2019" (any whole number: a
    transcript may cut a year short, "the second quarter of 201")."""
    out: list[Tok] = []
    for i, t in enumerate(toks):
        # A full stop before "of" does not stop it ("the third quarter. Of 2019" as a recogniser punctuates).
        if (t.kind == "w" and t.text == "of" and len(out) >= 2 and i + 1 < len(toks)
                and not toks[i + 1].sep and out[-2].kind == "w" and out[-2].text in _PERIOD_LETTERS
                and out[-1].kind == "n" and ((_count(toks[i + 1], 2099) and not toks[i + 1].ordinal)
                                             or (toks[i + 1].kind == "w" and toks[i + 1].text in T.YEAR_KINDS.values()))):
            continue
        out.append(t)
    return out


def _letter(t: Tok) -> bool:
    """A spelled letter: a single capital. Lower-case single letters stay apart: in lower-case text they cannot be
    told from stutters ("w- w- what") and words ("a", "i"), and the normaliser's own output is lower-case."""
    return _single(t) and t.upper


def _single(t: Tok) -> bool:
    return t.kind == "w" and len(t.text) == 1 and t.text.isalpha()


def letters(toks: list[Tok]) -> list[Tok]:
    """Spelled capitals join: "N V D A" -> "nvda", "E P S" -> "eps", "A T and T" -> "at and t" (as "AT&T");
    "C O V I D dash nineteen" drops the spoken dash."""
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        if _letter(t):
            j = i + 1
            while j < n and not toks[j].sep and _letter(toks[j]):
                j += 1
            # A run of only "I"s or "A"s is a repetition ("I I think"), not a spelling.
            if j - i >= 2 and any(x.text not in T.LETTER_WORDS for x in toks[i:j]):
                run = toks[i:j]
                start, end = _union(run)
                out.append(Tok("".join(x.text for x in run), start, end, kind="l", sep=t.sep,
                               upper=all(x.upper for x in run)))
                i = j
                continue
        out.append(t)
        i += 1
    return _spoken_dashes(out)


def _spoken_dashes(toks: list[Tok]) -> list[Tok]:
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        # A spoken dash between a code's letters and its number: "COVID dash nineteen", "P D dash one".
        if (t.kind == "w" and t.text in T.DASH_WORDS and out and i + 1 < n and toks[i + 1].kind == "n"
                and (out[-1].kind == "l" or out[-1].upper) and not toks[i + 1].sep):
            i += 1
            continue
        out.append(t)
        i += 1
    return out


def dates_and_numerals(toks: list[Tok]) -> list[Tok]:
    """"June 2nd" -> "june 2" (the day as a number, as "June 2" writes it); "Phase III" -> "phase 3"."""
    prev = None
    for i, t in enumerate(toks):
        if (prev is not None and prev.kind == "w" and prev.text in T.MONTHS and t.kind == "n" and t.ordinal
                and t.value is not None and 1 <= t.value <= 31):
            t.ordinal = False  # even across punctuation ("June, 2nd"), so that the output reads the same again
        elif (prev is not None and not t.sep and prev.kind == "w" and prev.text in T.ROMAN_CONTEXT
              and t.kind in ("w", "l") and t.upper and t.text in T.ROMAN_NUMERALS):
            toks[i] = t = Tok("", t.start, t.end, kind="n", value=Decimal(T.ROMAN_NUMERALS[t.text]))
        prev = t
    return toks
