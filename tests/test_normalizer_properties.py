"""Property tests of the finance normaliser (hypothesis): a number said in words normalises as its digits do,
different values never normalise alike, and no input makes a malformed number."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from num2words import num2words

from finparakeet.text import FinanceNormalizer
from finparakeet.text.numbers import render_number

N = FinanceNormalizer()
# Modest example counts: each example runs the full rule pipeline on a new text.
FAST = settings(max_examples=120, deadline=None)
SCALES = ("thousand", "million", "billion", "trillion")


def said(n: int, drop_and: bool) -> str:
    """num2words' reading of an integer as a recogniser writes it: no hyphens, no commas, maybe no "and"."""
    words = num2words(n).replace("-", " ").replace(",", " ")
    return " ".join(w for w in words.split() if not (drop_and and w == "and"))


def written_int(n: int, commas: bool) -> str:
    # Seven or more bare digits are an identifier (an account, a phone number): amounts that long carry commas.
    return f"{n:,}" if commas or n >= 10**6 else str(n)


@st.composite
def decimals(draw) -> Decimal:
    """A decimal below 1000 with one to three places, as a finance amount is written ("4.2", "12.05", "0.125")."""
    places = draw(st.integers(1, 3))
    return Decimal(draw(st.integers(0, 999_999))).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def said_decimal(d: Decimal, drop_and: bool) -> str:
    whole, _, frac = format(d, "f").partition(".")
    return f"{said(int(whole), drop_and)} point " + " ".join(num2words(int(c)) for c in frac)


# A value and how it is written and said: (value key, written form, spoken form).
@st.composite
def amounts(draw) -> tuple[tuple[str, Decimal], str, str]:
    kind = draw(st.sampled_from(("int", "decimal", "money", "percent")))
    drop_and = draw(st.booleans())
    if kind == "int":
        n = draw(st.integers(0, 10**12 - 1))
        return ("", Decimal(n)), written_int(n, draw(st.booleans())), said(n, drop_and)
    d = draw(decimals())
    if kind == "decimal":
        return ("", d), format(d, "f"), said_decimal(d, drop_and)
    if kind == "percent":
        return ("%", d), f"{d}%", said_decimal(d, drop_and) + " percent"
    scale = draw(st.sampled_from(SCALES))
    mantissa = Decimal(draw(st.integers(1, 999))) + (d - int(d))  # 1 <= mantissa < 1000: "4.2", "329.3"
    value = mantissa * 10 ** (3 * (SCALES.index(scale) + 1))
    return ("$", value), f"${mantissa} {scale}", f"{said_decimal(mantissa, drop_and)} {scale} dollars"


@FAST
@given(st.integers(0, 10**12 - 1), st.booleans(), st.booleans())
def test_an_integer_said_in_words_normalises_as_its_digits(n: int, commas: bool, drop_and: bool) -> None:
    assert N(said(n, drop_and)) == N(written_int(n, commas))


@FAST
@given(decimals(), st.booleans())
def test_a_decimal_said_point_by_digit_normalises_as_its_digits(d: Decimal, drop_and: bool) -> None:
    assert N(said_decimal(d, drop_and)) == N(format(d, "f"))


@FAST
@given(amounts())
def test_spoken_and_written_amounts_agree(amount: tuple[tuple[str, Decimal], str, str]) -> None:
    _, written, spoken = amount
    assert N(spoken) == N(written)


@FAST
@given(amounts(), amounts())
def test_different_values_never_normalise_alike(a: tuple[tuple[str, Decimal], str, str],
                                                b: tuple[tuple[str, Decimal], str, str]) -> None:
    (key_a, written_a, spoken_a), (key_b, written_b, spoken_b) = a, b
    if key_a[0] != key_b[0] or key_a[1] != key_b[1]:
        assert N(written_a) != N(written_b)
        assert N(spoken_a) != N(written_b)
        assert N(spoken_a) != N(spoken_b)


# Number words, digits and the finance words around them, in any order.
VOCAB = ("zero oh one two three four five six seven eight nine ten eleven twelve thirteen twenty thirty forty ninety "
         "hundred thousand million billion trillion point and a dollars dollar percent cents half first second "
         "third quarter basis points bn m k x to $ % , . - 1 2.5 10 007 1,000 $4.2 12% 2019 Q3 H1 20 21").split()
# A canonical number: currency, digits without leading or trailing zeros, unit.
_CANONICAL = re.compile(r"^(?:[$€£¥₹]|chf|c\$|a\$|cny)?(?P<m>(?:0|[1-9]\d*)(?:\.\d*[1-9])?)(?:%|bps|x|s)?$")
_ORDINAL = re.compile(r"^[1-9]\d*(?:st|nd|rd|th)$")


def malformed_numbers(text: str) -> list[str]:
    """The rendered number tokens of ``text`` that are not canonical: "1000000.001 trillion" (a mantissa past
    999 before its scale), "2.50", "1E+3"."""
    bad = []
    for t in N.tokens(text):
        if t.kind != "n" or t.value is None:
            continue
        words = render_number(t)
        if t.ordinal:
            ok = _ORDINAL.match(words[0]) is not None
        else:
            m = _CANONICAL.match(words[0])
            ok = m is not None and (len(words) == 1 or 1 <= Decimal(m["m"]) < 1000)
        if not ok:
            bad.append(" ".join(words))
    return bad


def test_the_malformed_check_catches_what_it_is_for() -> None:
    from finparakeet.text.tokens import Tok

    assert render_number(Tok("", 0, 1, kind="n", value=Decimal("1000000001000000000"))) == ["1000000.001",
                                                                                         "trillion"]
    assert malformed_numbers("4.2 billion, 12.05%, $0.25, 3rd, 007") == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=9))
def test_no_word_salad_makes_a_malformed_number(words: list[str]) -> None:
    text = " ".join(words)
    assert malformed_numbers(text) == [], text


def test_repeated_scales_are_separate_numbers() -> None:
    # text2num reads these runs as one value ("2.2 1000000.001 trillion" before the fix).
    assert N("two point two billion one billion") == "2.2 billion 1 billion"
    assert N("one billion one billion") == "1 billion 1 billion" == N("1 billion 1 billion")
    assert N("five million five million dollars") == "5 million $5 million"
    assert N("four hundred million five hundred million") == "400 million 500 million"
    assert N("one hundred two hundred") == "100 200"
    assert N("1,000 billion eight") == "1 trillion 8"
    assert N("one million million") == "1 million million"


def test_falling_scales_still_make_one_number() -> None:
    assert N("one billion two hundred ninety five million dollars") == "$1.295 billion"
    assert N("two hundred thousand three hundred") == "200300"
    assert N("one thousand million") == "1 billion"  # the British billion
    assert N("a million two hundred thousand") == "1.2 million"
    assert N("a hundred twenty million dollars") == "$120 million"


def test_values_past_the_largest_scale_are_identifiers() -> None:
    assert N("1,000,000,000,000,000") == "1000000000000000"
    assert malformed_numbers("1,000,000,000,000,000 and $5,000 trillion") == []
