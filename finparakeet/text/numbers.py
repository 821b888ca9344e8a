"""Number values: scales, compound amounts, and the canonical rendering of a number token."""

from __future__ import annotations

import re
from decimal import Decimal

from finparakeet.text import tables as T
from finparakeet.text.tokens import Tok

HUNDRED_OR_SCALE = frozenset({"hundred", "thousand", "million", "billion", "trillion"})
_ORDINAL_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


# A canonical money word: its currency glued before the digits ("$4.2", "chf85", "c$10").
_MONEY_WORD = re.compile("^(" + "|".join(map(re.escape, sorted(set(T.CURRENCY_PREFIXES.values()), key=len,
                                                                 reverse=True))) + r")(?=\d)")


def split_currency(word: str) -> tuple[str, str]:
    """A normalised word -> (its currency, the rest): "$4.2" -> ("$", "4.2"), "chf85" -> ("chf", "85"),
    "4.2" -> ("", "4.2"), "dollars" -> ("", "dollars")."""
    m = _MONEY_WORD.match(word)
    return (m.group(1), word[m.end():]) if m else ("", word)


def is_number(t: Tok) -> bool:
    """A cardinal with a value and no unit (it may carry a currency)."""
    return t.kind == "n" and not t.ordinal and t.value is not None and not t.unit


def merge(a: Tok, b: Tok, **fields: object) -> Tok:
    """A number token spanning a..b (the union of their spans), with ``fields`` set."""
    start, end = a.span_with(b)
    tok = Tok("", start, end, kind="n", sep=a.sep, words=a.words + b.words)
    for k, v in fields.items():
        setattr(tok, k, v)
    return tok


def scale_word(t: Tok) -> Decimal | None:
    """The value of a lone scale word ("million" as text2num read it, or "bn" as a word), else None."""
    if t.kind == "n" and len(t.words) == 1 and t.words[0] in T.SCALE_WORDS and not t.ordinal:
        return T.SCALE_WORDS[t.words[0]]
    if t.kind == "w" and t.text in T.SCALE_WORDS:
        return T.SCALE_WORDS[t.text]
    return None


def scaled(t: Tok, scale: Decimal) -> Decimal | None:
    """``t``'s value times a scale word that follows it, or None when the word cannot scale it: ``t`` already holds
    a scale at least as large ("one million million", "$4.2 billion bn") or the product would pass ``MAX_VALUE``.
    A smaller scale still applies ("one thousand million" = 1 billion)."""
    assert t.value is not None
    if any(T.SCALE_WORDS.get(w, 0) >= scale for w in t.words):
        return None
    value = t.value * scale
    return value if value < T.MAX_VALUE else None


def scales(toks: list[Tok]) -> list[Tok]:
    """A number followed by a scale word takes its value: "4.2 billion", "four point two billion", "$1.5 bn";
    then compound amounts add up: "$1 billion $295 million" = "1 billion 295 million" = $1.295e9 (as text2num reads
    "one billion two hundred ninety five million")."""
    out: list[Tok] = []
    for t in toks:
        prev = out[-1] if out else None
        if prev is not None and not t.sep and is_number(prev) and prev.digits is None:
            scale = scale_word(t)
            value = scaled(prev, scale) if scale is not None else None
            if value is not None:
                word = t.words[0] if t.kind == "n" else t.text
                out[-1] = merge(prev, t, value=value, cur=prev.cur, words=prev.words + (word,))
                continue
        if t.kind == "n" and len(t.words) == 1 and t.words[0] in HUNDRED_OR_SCALE and not t.ordinal:
            # A scale word that found no number to scale stays a word ("90s thousand").
            t = Tok(t.words[0], t.start, t.end, sep=t.sep)
        out.append(t)
    # Compound amounts, once both parts carry their scales.
    merged: list[Tok] = []
    for t in out:
        prev = merged[-1] if merged else None
        if prev is not None and not t.sep and is_number(prev) and prev.digits is None and _compound(prev, t):
            merged[-1] = merge(prev, t, value=prev.value + t.value, cur=prev.cur or t.cur,
                                words=prev.words + t.words)
            continue
        merged.append(t)
    return merged


def _compound(a: Tok, b: Tok) -> bool:
    """Whether b continues the amount a at a smaller scale ("1 billion" then "295 million")."""
    if not (is_number(b) and b.digits is None and b.value is not None
            and (b.value >= 10**6 or (b.words and b.words[-1] in T.SCALE_WORDS))):
        return False
    assert a.value is not None and b.value is not None
    size = next((size for size, _ in T.OUTPUT_SCALES if a.value >= size), None)
    return (size is not None and a.value % size == 0 and 0 < b.value < size
            and (not a.cur or not b.cur or a.cur == b.cur))


def format_decimal(value: Decimal) -> str:
    """Plain positional digits, no exponent, no trailing fractional zeros: 19.10 -> "19.1", 1E+2 -> "100"."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def render_number(t: Tok) -> list[str]:
    """A number token -> its canonical words: "$4.2 billion" -> ["$4.2", "billion"], 12.5% -> ["12.5%"]."""
    if t.digits is not None:
        return [t.cur + t.digits + t.unit]
    assert t.value is not None
    v = t.value
    if t.ordinal:
        k = int(v)
        suf = "th" if 10 <= k % 100 <= 20 else _ORDINAL_SUFFIXES.get(k % 10, "th")
        return [f"{k}{suf}"]
    for size, name in T.OUTPUT_SCALES:
        if v >= size:
            return [t.cur + format_decimal(v / size), name + t.unit]
    return [t.cur + format_decimal(v) + t.unit]
