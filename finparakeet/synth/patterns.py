"""Pattern entities: random money amounts, percentages, basis points, counts and fiscal periods, written and spoken.

Each generator returns the pieces a template slot expands to: usually one :class:`Fill`, sometimes a range such as
"$4.1 billion to $4.3 billion" (two entities and the literal between them). Values are drawn from the caller's RNG.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from num2words import num2words

from finparakeet.entities import BPS, CARDINAL, MONEY, PERCENT, PERIOD
from finparakeet.synth.verbalize import say_digits, verbalize

__all__ = ["Fill", "Piece", "pattern_pieces", "PATTERN_KINDS"]


@dataclass(frozen=True)
class Fill:
    """One entity as written in the label and as the voice says it.

    ``prefix`` is label text that comes with the entity but is not part of it ("the" in "the third quarter").
    """

    written: str
    spoken: str
    category: str
    source: str  # "pattern:MONEY" or a lexicon id
    prefix: str = ""


Piece = Fill | str  # a literal between entities is a plain string, verbalised with the rest of the template

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ORDINAL_WORDS = ("first", "second", "third", "fourth")
_YEARS = range(2015, 2028)


def _fill(written: str, category: str, rng: random.Random, spoken: str | None = None, prefix: str = "") -> Fill:
    return Fill(written, spoken if spoken is not None else verbalize(written, rng), category, f"pattern:{category}",
                prefix)


def _log_uniform_int(lo: int, hi: int, rng: random.Random) -> int:
    # Amounts spread over orders of magnitude, as in real calls: as many 3-digit as 5-digit values.
    return int(round(lo * (hi / lo) ** rng.random()))


def _round_sig(n: int, digits: int) -> int:
    p = max(len(str(n)) - digits, 0)
    return int(round(n, -p)) if p else n


def _dec(x: float, places: int) -> str:
    """``x`` with up to ``places`` decimals, as people write it: "4.2", "1.25", "63" (never "63.0")."""
    s = f"{x:.{places}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _mantissa(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return _dec(rng.uniform(1, 99.9), 1)
    if r < 0.6:
        return _dec(rng.uniform(1, 9.99), 2)
    return str(_log_uniform_int(1, 999, rng))


def _money(kind: str, rng: random.Random) -> list[Piece]:
    if kind == "big":
        scale = rng.choices(("million", "billion", "trillion"), (0.55, 0.42, 0.03))[0]
        m = _mantissa(rng) if scale != "trillion" else _dec(rng.uniform(1, 4), 1)
        return [_fill(f"${m} {scale}", MONEY, rng)]
    if kind == "eps":
        return [_fill(f"${rng.randint(1, 599) / 100:.2f}", MONEY, rng)]
    if kind == "exact":
        return [_fill(f"${_round_sig(_log_uniform_int(1000, 5_000_000, rng), 2):,}", MONEY, rng)]
    if kind == "small":
        r = rng.random()
        if r < 0.55:
            return [_fill(f"${rng.randint(100, 99_999) / 100:,.2f}", MONEY, rng)]
        if r < 0.85:
            return [_fill(f"${_log_uniform_int(5, 2500, rng):,}", MONEY, rng)]
        return [_fill(f"${_round_sig(_log_uniform_int(100, 9999, rng), 2):,}.00", MONEY, rng)]
    if kind == "price":
        if rng.random() < 0.8:
            return [_fill(f"${rng.randint(500, 99_999) / 100:,.2f}", MONEY, rng)]
        return [_fill(f"${rng.randint(5, 999)}", MONEY, rng)]
    if kind == "range":
        scale = rng.choice(("million", "billion"))
        lo = rng.uniform(1, 50)
        hi = lo * rng.uniform(1.02, 1.2)
        a, b = _dec(lo, 1), _dec(hi, 1)
        if a == b:
            b = _dec(hi + 0.1, 1)
        if rng.random() < 0.6:
            return [_fill(f"${a} {scale}", MONEY, rng), " to ", _fill(f"${b} {scale}", MONEY, rng)]
        return [_fill(f"${a} to ${b} {scale}", MONEY, rng)]  # one amount, the scale said once
    raise ValueError(f"unknown MONEY kind {kind!r}")


def _pct_value(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.5:
        return _dec(rng.uniform(0.1, 60), 1)
    if r < 0.9:
        return str(rng.randint(1, 80))
    return _dec(rng.uniform(0.1, 20), 2)


def _percent(kind: str, rng: random.Random) -> list[Piece]:
    if kind in ("", "pct"):
        return [_fill(f"{_pct_value(rng)}%", PERCENT, rng)]
    if kind == "small":
        v = _dec(rng.uniform(0.01, 5), 2 if rng.random() < 0.6 else 1)
        return [_fill(f"{v}%", PERCENT, rng)]
    if kind == "range":
        lo = rng.randint(1, 30)
        hi = lo + rng.randint(1, 5)
        if rng.random() < 0.7:
            return [_fill(f"{lo}%", PERCENT, rng), " to ", _fill(f"{hi}%", PERCENT, rng)]
        return [_fill(f"{lo}-{hi}%", PERCENT, rng)]
    raise ValueError(f"unknown PERCENT kind {kind!r}")


_COMMON_BPS = (5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 80, 100, 125, 150, 175, 200, 250, 300)


def _bps(kind: str, rng: random.Random) -> list[Piece]:
    n = rng.choice(_COMMON_BPS) if rng.random() < 0.7 else rng.randint(1, 99)
    unit = "bps" if rng.random() < 0.5 else ("basis point" if n == 1 else "basis points")
    return [_fill(f"{n} {unit}", BPS, rng)]


def _cardinal(kind: str, rng: random.Random) -> list[Piece]:
    if kind in ("", "count"):
        return [_fill(f"{_log_uniform_int(10, 99_999, rng):,}", CARDINAL, rng)]
    if kind == "small":
        return [_fill(str(rng.randint(10, 99)), CARDINAL, rng)]
    if kind == "big":
        if rng.random() < 0.6:
            return [_fill(f"{_dec(rng.uniform(1, 99), 1)} million", CARDINAL, rng)]
        return [_fill(f"{_round_sig(_log_uniform_int(10_000, 999_999, rng), 2):,}", CARDINAL, rng)]
    if kind == "shares":
        return [_fill(f"{_round_sig(_log_uniform_int(10, 5000, rng), 1 if rng.random() < 0.5 else 2):,}",
                      CARDINAL, rng)]
    if kind == "digits":
        code = "".join(str(rng.randint(0, 9)) for _ in range(4))
        return [_fill(code, CARDINAL, rng, spoken=say_digits(code, rng))]
    if kind == "ordinal":
        return [_fill(num2words(rng.randint(2, 40), to="ordinal_num"), CARDINAL, rng)]
    if kind == "multiple":
        return [_fill(f"{_dec(rng.uniform(0.5, 5.9), 1)}x", CARDINAL, rng)]
    raise ValueError(f"unknown CARDINAL kind {kind!r}")


def _period(kind: str, rng: random.Random) -> list[Piece]:
    if not kind:
        kind = rng.choices(("quarter", "year", "half"), (0.5, 0.3, 0.2))[0]
    year = rng.choice(_YEARS)
    if kind == "quarter":
        q = rng.randint(1, 4)
        form = rng.choices(("q", "qy", "ord", "ordy", "ordfy"), (0.3, 0.2, 0.25, 0.15, 0.1))[0]
        if form == "q":
            return [_fill(f"Q{q}", PERIOD, rng)]
        if form == "qy":
            return [_fill(f"Q{q} {year}", PERIOD, rng)]
        written = {"ord": f"{_ORDINAL_WORDS[q - 1]} quarter", "ordy": f"{_ORDINAL_WORDS[q - 1]} quarter of {year}",
                   "ordfy": f"{_ORDINAL_WORDS[q - 1]} quarter of fiscal {year}"}[form]
        return [_fill(written, PERIOD, rng, prefix="the ")]
    if kind == "year":
        form = rng.choices(("fiscal", "fiscal year", "calendar", "full year", "bare"), (0.4, 0.2, 0.1, 0.1, 0.2))[0]
        return [_fill(str(year) if form == "bare" else f"{form} {year}", PERIOD, rng)]
    if kind == "half":
        h = rng.randint(1, 2)
        r = rng.random()
        if r < 0.3:
            return [_fill(f"H{h} {year}" if rng.random() < 0.5 else f"H{h}", PERIOD, rng)]
        written = f"{('first', 'second')[h - 1]} half" + (f" of {year}" if r < 0.7 else "")
        return [_fill(written, PERIOD, rng, prefix="the ")]
    if kind == "date":
        m = rng.randrange(12)
        day = rng.randint(1, _DAYS_IN_MONTH[m])
        written = f"{_MONTHS[m]} {day}" + (f", {year}" if rng.random() < 0.4 else "")
        return [_fill(written, PERIOD, rng)]
    raise ValueError(f"unknown PERIOD kind {kind!r}")


_GENERATORS = {MONEY: _money, PERCENT: _percent, BPS: _bps, CARDINAL: _cardinal, PERIOD: _period}
PATTERN_KINDS: dict[str, tuple[str, ...]] = {
    MONEY: ("", "big", "eps", "exact", "small", "price", "range"),
    PERCENT: ("", "pct", "small", "range"),
    BPS: ("",),
    CARDINAL: ("", "count", "small", "big", "shares", "digits", "ordinal", "multiple"),
    PERIOD: ("", "quarter", "year", "half", "date"),
}


def pattern_pieces(category: str, kind: str, rng: random.Random) -> list[Piece]:
    """The pieces one ``{CATEGORY:kind}`` slot expands to (MONEY without a kind picks one of its kinds)."""
    if category == MONEY and not kind:
        kind = rng.choice(("big", "eps", "exact", "small"))
    return _GENERATORS[category](kind, rng)
