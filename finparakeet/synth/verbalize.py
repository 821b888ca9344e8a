"""Written -> spoken: what the synthetic voice reads for a Parakeet-style written label.

Every reading says what the label writes, so the label can be recovered from the audio: the project's normaliser
maps the spoken form back to the label's (``tests/test_synth_recoverable.py``). A price is never said "four twenty
seven" for "$4.27" (that is 427, with no currency): it is "four dollars twenty seven" or "four dollars and twenty
seven cents".

espeak-ng misreads finance text ("$4.2 billion" -> "dollar four point two billion", "25bp" -> "B P", "3-5%" -> "three
dash five"), so the voice always gets the verbalised form. Integers, ordinals and years come from num2words; this module
only adds the finance grammar around them (currency order, cents, percent, basis points, quarters, ranges). Where people
say a thing several ways, the caller's ``random.Random`` picks one, so a seed fixes the choice.
"""

from __future__ import annotations

import random
import re
from typing import Callable

from num2words import num2words

__all__ = ["say_int", "say_decimal", "say_number", "say_digits", "say_year", "say_money", "say_percent", "say_bps",
           "say_quarter", "verbalize"]

_DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_SCALES = ("thousand", "million", "billion", "trillion")
_QUARTER_ORDINALS = {"1": "first", "2": "second", "3": "third", "4": "fourth"}
_HALF_ORDINALS = {"1": "first", "2": "second"}
_DECADES = {"2": "twenties", "3": "thirties", "4": "forties", "5": "fifties", "6": "sixties", "7": "seventies",
            "8": "eighties", "9": "nineties"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _words(s: str) -> str:
    # num2words writes "twenty-four" and "one million, two hundred"; the voice needs neither hyphens nor commas.
    return " ".join(s.replace("-", " ").replace(",", " ").split())


def say_int(n: int, rng: random.Random | None = None) -> str:
    """123 -> "one hundred twenty three"; the British "and" ("one hundred and twenty three") now and then."""
    w = _words(num2words(n))
    if rng is None or rng.random() < 0.75:
        w = w.replace(" and ", " ")
    return w


def say_decimal(s: str, rng: random.Random | None = None) -> str:
    """ "12.05" -> "twelve point zero five"; "0.5" -> "zero point five" or, sometimes, "point five"."""
    s = s.replace(",", "")
    whole, _, frac = s.partition(".")
    head = say_int(int(whole or "0"), rng)
    if not frac:
        return head
    if whole in ("", "0") and rng is not None and rng.random() < 0.3:
        head = ""
    # Digits after the point are read one by one: "12.05" must never sound like "12.5".
    return " ".join(filter(None, [head, "point", " ".join(_DIGIT_NAMES[int(d)] for d in frac)]))


def say_number(s: str, rng: random.Random | None = None) -> str:
    """A written number ("1,200", "4.2", "35") in words; round hundreds sometimes as "twelve hundred"."""
    plain = s.replace(",", "")
    if "." in plain:
        return say_decimal(plain, rng)
    n = int(plain)
    if rng is not None and 1100 <= n < 10000 and n % 100 == 0 and n % 1000 and rng.random() < 0.5:
        return f"{say_int(n // 100)} hundred"
    return say_int(n, rng)


def say_digits(s: str, rng: random.Random | None = None) -> str:
    """ "4821" -> "four eight two one" (account numbers, codes); zero as "oh" sometimes."""
    zero = "oh" if rng is not None and rng.random() < 0.4 else "zero"
    return " ".join(zero if d == "0" else _DIGIT_NAMES[int(d)] for d in s if d.isdigit())


def say_year(y: int, rng: random.Random | None = None) -> str:
    """2024 -> "twenty twenty four"; 2005 -> "two thousand five" or "twenty oh five"."""
    if 2001 <= y <= 2009 and rng is not None and rng.random() < 0.5:
        return f"twenty oh {_DIGIT_NAMES[y % 10]}"
    w = _words(num2words(y, to="year"))
    return w.replace(" and ", " ") if rng is None or rng.random() < 0.8 else w


def say_money(amount: str, scale: str | None = None, rng: random.Random | None = None) -> str:
    """ "$4.2 billion" -> "four point two billion dollars"; "$0.25" -> "twenty five cents"; "$12.50" -> "twelve
    dollars and fifty cents" / "twelve dollars fifty"; ``amount`` without "$", ``scale`` a word such as "billion"."""
    plain = amount.replace(",", "")
    whole, _, cents = plain.partition(".")
    if scale:
        return f"{say_number(amount, rng)} {scale} dollars"
    n = int(whole or "0")
    dollars = "dollar" if n == 1 else "dollars"
    if not cents or int(cents) == 0:
        if cents and rng is not None and rng.random() < 0.2:  # "$1,250.00" read out in full
            return f"{say_number(whole, rng)} {dollars} and zero cents"
        alt = " bucks" if rng is not None and n > 1 and rng.random() < 0.05 else f" {dollars}"
        return say_number(whole, rng) + alt
    if len(cents) != 2:  # "$0.125": a price quoted to the tenth of a cent
        return f"{say_decimal(plain, rng)} dollars"
    c = int(cents)
    r = rng.random() if rng is not None else 0.0
    cent_words = f"{say_int(c, rng)} {'cent' if c == 1 else 'cents'}"
    if n == 0:
        return cent_words if r < 0.7 else f"{say_decimal(plain)} dollars"
    if r < 0.6 or n >= 100 or c < 10:  # "seven hundred dollars thirteen" would sound like $713
        return f"{say_number(whole, rng)} {dollars} and {cent_words}"
    # How prices are said, with the currency that the label writes ("twelve fifty" alone would be 1250).
    return f"{say_number(whole, rng)} {dollars} {say_int(c, rng)}"


def say_percent(value: str, rng: random.Random | None = None) -> str:
    return f"{say_number(value, rng)} percent"


def say_bps(value: str, rng: random.Random | None = None) -> str:
    n = int(value.replace(",", ""))
    unit = "basis point" if n == 1 else "basis points"
    if n != 1 and rng is not None and rng.random() < 0.1:
        unit = "bips"  # trader slang for bps
    return f"{say_number(value, rng)} {unit}"


def say_quarter(q: str, rng: random.Random | None = None) -> str:
    """ "3" (from "Q3") -> "Q three" or "third quarter"."""
    if rng is not None and rng.random() < 0.35:
        return f"{_QUARTER_ORDINALS[q]} quarter"
    return f"Q {_DIGIT_NAMES[int(q)]}"


# One alternation, tried left to right at each position; finance patterns come before plain numbers.
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_RULES: list[tuple[str, str]] = [
    ("money_range", rf"\$(?P<mr_a>{_NUM})\s?(?:-|–|to)\s?\$?(?P<mr_b>{_NUM})(?:\s(?P<mr_s>thousand|million|billion|trillion)\b)?"),
    ("money", rf"\$(?P<m_v>{_NUM})(?:\s(?P<m_s>thousand|million|billion|trillion)\b)?"),
    ("pct_range", rf"(?P<pr_a>{_NUM})\s?(?:-|–)\s?(?P<pr_b>{_NUM})\s?%"),
    ("pct", rf"(?P<p_v>{_NUM})\s?%"),
    ("bps", rf"(?P<b_v>{_NUM})\s?(?:bps|bp|basis points?)\b"),
    ("fy", r"\bFY\s?'?(?P<fy>\d{4}|\d{2})\b"),
    ("quarter", r"\bQ(?P<q>[1-4])\b"),
    ("half", r"\b(?:H(?P<h>[12])|(?P<h2>[12])H)\b"),
    ("date", rf"\b(?P<month>{'|'.join(_MONTHS)})\s(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"),
    ("ordinal", r"\b(?P<o>\d+)(?:st|nd|rd|th)\b"),
    ("decade", r"(?:\b|')(?P<dc>19|20)?(?P<dd>[2-9]0)'?s\b"),  # "1990s" -> "nineteen nineties", "'90s" -> "nineties"
    ("year_range", r"\b(?P<yr_a>(?:19|20)\d{2})\s?(?:-|–)\s?(?P<yr_b>(?:19|20)\d{2})\b"),
    ("year", r"\b(?P<y>(?:19|20)\d{2})\b(?![.,]\d)"),
    ("multiple", rf"\b(?P<x>{_NUM})x\b"),
    ("num_range", rf"\b(?P<nr_a>{_NUM})\s?(?:-|–)\s?(?P<nr_b>{_NUM})\b"),
    ("num_unit", rf"(?P<nu>{_NUM})-(?P<nu_l>[A-Z])\b"),  # "10-K", "8-K"
    ("num", rf"(?P<n>{_NUM})"),
    ("amp", r"\s?&\s?"),
    ("acronym", r"\b[A-Z]{2,5}\b"),  # "CFO" -> "C F O" (only where the caller allows it)
]
_PATTERN = re.compile("|".join(f"(?P<rule_{name}>{rx})" for name, rx in _RULES))


def _sub(m: re.Match, rng: random.Random | None, spell: bool = True) -> str:
    g = m.groupdict()
    kind = (m.lastgroup or "").removeprefix("rule_")
    if kind == "money_range":
        s = g["mr_s"]
        a, b = say_number(g["mr_a"], rng), say_number(g["mr_b"], rng)
        return f"{a} to {b} {s} dollars" if s else f"{a} to {b} dollars"
    if kind == "money":
        return say_money(g["m_v"], g["m_s"], rng)
    if kind == "pct_range":
        return f"{say_number(g['pr_a'], rng)} to {say_number(g['pr_b'], rng)} percent"
    if kind == "pct":
        return say_percent(g["p_v"], rng)
    if kind == "bps":
        return say_bps(g["b_v"], rng)
    if kind == "fy":
        y = g["fy"]
        year = say_year(int(y), rng) if len(y) == 4 else say_int(int(y))
        return f"F Y {year}" if rng is None or rng.random() < 0.5 else f"fiscal {year}"
    if kind == "quarter":
        return say_quarter(g["q"], rng)
    if kind == "half":
        h = g["h"] or g["h2"]
        return f"{_HALF_ORDINALS[h]} half" if rng is not None and rng.random() < 0.5 else f"H {_DIGIT_NAMES[int(h)]}"
    if kind == "date":
        day = int(g["day"])
        said = _words(num2words(day, to="ordinal")) if rng is None or rng.random() < 0.8 else say_int(day)
        return f"{g['month']} {said}"
    if kind == "ordinal":
        return _words(num2words(int(g["o"]), to="ordinal"))
    if kind == "decade":
        return (f"{say_int(int(g['dc']))} " if g["dc"] else "") + _DECADES[g["dd"][0]]
    if kind == "year_range":
        return f"{say_year(int(g['yr_a']), rng)} to {say_year(int(g['yr_b']), rng)}"
    if kind == "year":
        return say_year(int(g["y"]), rng)
    if kind == "multiple":
        return f"{say_number(g['x'], rng)} times"
    if kind == "num_range":
        return f"{say_number(g['nr_a'], rng)} to {say_number(g['nr_b'], rng)}"
    if kind == "num_unit":
        return f"{say_number(g['nu'], rng)} {g['nu_l']}"
    if kind == "num":
        # Digits glued to letters are said apart: "13D" -> "thirteen D", "B2B" -> "B two B".
        text, s, e = m.string, m.start(), m.end()
        return ((" " if s and text[s - 1].isalpha() else "") + say_number(g["n"], rng)
                + (" " if e < len(text) and text[e].isalpha() else ""))
    if kind == "amp":
        return " and "
    if kind == "acronym":
        return " ".join(m.group()) if spell else m.group()
    raise AssertionError(kind)


_SPACES = re.compile(r"\s+")
_DROP = re.compile(r"[\"“”()\[\]*_]")  # read aloud or mangled by espeak-ng, never spoken
_LETTER_DASH_DIGIT = re.compile(r"(?<=[A-Za-z])-(?=\d)")  # "COVID-19": the dash is not said


def verbalize(text: str, rng: random.Random | None = None, spell_acronyms: bool = True) -> str:
    """The spoken form of written ``text``: numbers, money, percent, bps, years, quarters and "&" in words, and
    acronyms ("CFO") letter by letter unless ``spell_acronyms`` is False (for text that is already a spoken form).

    Without ``rng`` the most common reading is chosen; with it, one of the usual alternatives.
    """
    sub: Callable[[re.Match], str] = lambda m: _sub(m, rng, spell_acronyms)
    text = _LETTER_DASH_DIGIT.sub(" ", _DROP.sub(" ", text.replace("—", ", ").replace("’", "'")))
    out = _PATTERN.sub(sub, text)
    return _SPACES.sub(" ", out).strip()
