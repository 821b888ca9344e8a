"""Spoken numbers -> number tokens: text2num, and the readings it does not cover.

text2num's ``find_numbers`` reads standard spoken cardinals, ordinals and decimals ("one hundred and twenty five",
"twelve point five", "thirty first") over our token stream. On top of it, tables and rules here add what it lacks:
paired readings ("twenty twenty four" -> 2024, "one forty four" -> 144; it returns "20 24", "1 44"), "oh" as a digit
("two oh three"), leading-point decimals ("point nine" -> 0.9), "a hundred", "one and a half", fractions ("two
thirds"), and years a recogniser wrote in halves ("20 21"). Scales after decimals ("four point two billion") are
applied later by ``numbers.scales``.
"""

from __future__ import annotations

from decimal import Decimal

from text_to_num import find_numbers

from finparakeet.text import tables as T
from finparakeet.text.numbers import HUNDRED_OR_SCALE, is_number, merge, scale_word
from finparakeet.text.tokens import Tok

_NOT_A_NUMBER = "\u2400"  # what find_numbers sees for tokens that are not words (digits, symbols, acronyms)
_SINGLE_DIGIT_WORDS = T.UNIT_WORDS
_POINT_WORDS = frozenset({"point", "dot"})
_CONTEXT_WORDS = frozenset({"o", "oh", "dot"})  # words _fn_text reads other than as they are


class _FNTok:
    """Adapter to text2num's token protocol."""

    __slots__ = ("_text", "_sep")

    def __init__(self, text: str, sep: bool) -> None:
        self._text = text
        self._sep = sep

    def text(self) -> str:
        return self._text

    def nt_separated(self, previous: object) -> bool:
        return self._sep

    def not_a_number_part(self) -> bool:
        return False


def _fn_text(toks: list[Tok], i: int, after_zero: bool = False) -> str:
    """What find_numbers sees for token ``i``: "oh" inside a number is "zero", "dot" inside one is "point".
    ``after_zero``: the token before (no punctuation between) was read as "zero"."""
    t = toks[i]
    if t.kind != "w" or t.text == "o":  # text2num reads a lone "o" (the letter in "C O V I D") as zero
        return _NOT_A_NUMBER
    if t.text in ("oh", "dot"):
        prev = toks[i - 1] if i > 0 and not t.sep else None
        nxt = toks[i + 1] if i + 1 < len(toks) and not toks[i + 1].sep else None
        nxt2 = toks[i + 2] if nxt is not None and i + 2 < len(toks) and not toks[i + 2].sep else None
        p, q, r = (x.text if x is not None else "" for x in (prev, nxt, nxt2))
        if t.text == "dot":
            # "oh dot seven two": a decimal point between digit words.
            return "point" if p in _SINGLE_DIGIT_WORDS and q in _SINGLE_DIGIT_WORDS else t.text
        if (q in _POINT_WORDS                                   # "oh point nine"
                or (p in _SINGLE_DIGIT_WORDS and p != "oh")        # "two oh three", "six oh" (not "oh oh")
                or (p == "oh" and after_zero and not t.sep)         # "six oh oh two", "oh oh one"
                or p in _POINT_WORDS                                # "point oh five"
                or (p in T.TEEN_TENS_WORDS and q in _SINGLE_DIGIT_WORDS)  # "twenty oh five"
                or (q in _SINGLE_DIGIT_WORDS and r in _SINGLE_DIGIT_WORDS)):  # "oh oh one"
            return "zero"
    return t.text


# Words text2num joins into one number; any other word (or punctuation) ends the number being read.
_NUMBER_PARTS = frozenset({*T.UNIT_WORDS, *T.TEEN_TENS_WORDS, "hundred", "and", "point", *T.SPOKEN_SCALES})


def number_breaks(words: list[str], seps: list[bool]) -> set[int]:
    """Indices where a new spoken number starts although text2num would read on. Within one number the scale words
    fall ("two billion three hundred million"): a scale word not below the one before it ("two billion three
    billion", "one hundred two hundred") starts a second number right after that earlier scale word. text2num
    reads such runs as one garbled value ("two billion three billion" -> 2000000003000000000). A thousand/million/...
    that opens a number stands alone ("1,000 billion eight" is 1000 billion, then 8; text2num reads "billion eight" as
    1000000008), except after "a" ("a million two hundred thousand")."""
    breaks: set[int] = set()
    big: tuple[int, int] | None = None  # (scale, index) of the current number's last thousand/million/...
    hundred: int | None = None  # index of "hundred" since that scale word (one per group)
    opens = True  # the next number word opens a number
    for i, (w, sep) in enumerate(zip(words, seps)):
        if sep or w not in _NUMBER_PARTS:  # punctuation or another word ends the number
            big = hundred = None
            opens = True
            if w not in _NUMBER_PARTS:
                continue
        if opens:
            opens = w in T.SPOKEN_SCALES and (i == 0 or words[i - 1] != "a")
            if opens:
                breaks.add(i + 1)
                continue
        if w == "hundred":
            if hundred is not None:
                breaks.add(hundred + 1)
                big = None
            hundred = i
        elif w in T.SPOKEN_SCALES:
            scale = T.SPOKEN_SCALES[w]
            if big is not None and scale >= big[0]:
                breaks.add(big[1] + 1)
            big, hundred = (scale, i), None
    return breaks


def spoken_numbers(toks: list[Tok]) -> list[Tok]:
    """Replace runs of number words by number tokens (text2num), keeping everything else."""
    texts: list[str] = []
    for i, t in enumerate(toks):  # left to right: a run of "oh"s reads as zeros once the first does
        texts.append(t.text if t.kind == "w" and t.text not in _CONTEXT_WORDS
                     else _fn_text(toks, i, bool(texts) and texts[-1] == "zero"))
    seps = [t.sep for t in toks]
    breaks = number_breaks(texts, seps)
    stream = [_FNTok(w, sep or i in breaks) for i, (w, sep) in enumerate(zip(texts, seps))]
    occ = find_numbers(stream, "en", 0.0)
    if not occ:
        return toks
    out: list[Tok] = []
    pos = 0
    for o in occ:
        out.extend(toks[pos:o.start])
        src = toks[o.start:o.end]
        words = tuple(s.text for s in src)
        pos = o.end
        # A lone "hundred"/"million" with no number before it stays a word ("a few hundred", "per million");
        # "a million" and "4.2 million" are handled by the rules below.
        if len(words) == 1 and words[0] in HUNDRED_OR_SCALE:
            prev = out[-1] if out else None
            if prev is None or src[0].sep or not (prev.kind == "n" or prev.text == "a"):
                out.append(src[0])
                continue
        text = o.text
        if o.is_ordinal:
            value, ordinal = Decimal(text.rstrip("stndrh")), True
        else:
            value, ordinal = Decimal(text), False
        out.append(Tok("", src[0].start, src[-1].end, kind="n", sep=src[0].sep, value=value, ordinal=ordinal,
                       words=words))
    out.extend(toks[pos:])
    return out


def _two_digit(words: tuple[str, ...]) -> int | None:
    """10..99 said as one or two words ("nineteen", "forty", "forty four"), else None."""
    if not 1 <= len(words) <= 2 or words[0] not in T.TEEN_TENS_WORDS:
        return None
    tens = T.TEEN_TENS_WORDS[words[0]]
    if len(words) == 1:
        return tens
    unit = T.UNIT_WORDS.get(words[1], 0)
    return tens + unit if tens >= 20 and unit > 0 and words[1] != "oh" else None


def _pair_head(t: Tok) -> int | None:
    """The first half of a paired reading: a spoken 1..99 integer ("one", "twenty", "thirty one")."""
    if t.kind != "n" or t.ordinal or t.unit or not t.words or t.value is None:
        return None
    if len(t.words) == 1 and t.words[0] in T.UNIT_WORDS and t.words[0] not in ("zero", "oh"):
        return T.UNIT_WORDS[t.words[0]]
    return _two_digit(t.words)


def _pair_tail(t: Tok) -> tuple[Decimal, Decimal] | None:
    """The second half of a paired reading: a spoken 10..99, maybe with decimals and a trailing scale
    ("forty four", "eighty one point three", "forty four million") -> (value before the scale, scale)."""
    if t.kind != "n" or t.ordinal or not t.words or t.value is None:
        return None
    words, scale = t.words, Decimal(1)
    if len(words) > 1 and words[-1] in T.SCALE_WORDS:
        words, scale = words[:-1], T.SCALE_WORDS[words[-1]]
    if "point" in words:
        words = words[:words.index("point")]
    if _two_digit(words) is None:
        return None
    head = t.value / scale
    return (head, scale) if 10 <= head < 100 else None


def _digit_string(t: Tok) -> str | None:
    """A spoken number said digit by digit ("two", "oh three"): its digits."""
    if t.kind != "n" or t.ordinal or not t.words or any(w not in _SINGLE_DIGIT_WORDS for w in t.words):
        return None
    return "".join(str(_SINGLE_DIGIT_WORDS[w]) for w in t.words)


def _scaled_digit_string(t: Tok) -> tuple[str, Decimal] | None:
    """Spoken digits with a scale after them, as text2num reads the end of "one oh four million" ("oh four
    million"): (digits, scale)."""
    if t.kind != "n" or t.ordinal or len(t.words) < 2 or t.words[-1] not in T.SPOKEN_SCALES:
        return None
    digits = _digit_string(Tok("", t.start, t.end, kind="n", words=t.words[:-1]))
    return (digits, T.SCALE_WORDS[t.words[-1]]) if digits is not None else None


def paired_readings(toks: list[Tok]) -> list[Tok]:
    """Digit-by-digit and paired readings of spoken numbers: "two oh three" 203, "twenty nineteen" 2019,
    "twenty oh five" 2005, "one forty four million" 144e6; three or more spoken digits in a row are one number
    ("five five five one two one two" -> 5551212; "zero two one" keeps its zero as a digit string)."""
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        digits = _digit_string(t)
        if digits is not None:
            j = i + 1
            while j < n and not toks[j].sep and (d := _digit_string(toks[j])) is not None:
                digits += d
                j += 1
            # "one oh four million": the digits' last group carries the scale.
            scaled = _scaled_digit_string(toks[j]) if j < n and not toks[j].sep and digits[0] != "0" else None
            if scaled is not None and len(digits + scaled[0]) >= 3 \
                    and Decimal(digits + scaled[0]) * scaled[1] < T.MAX_VALUE:
                out.append(merge(t, toks[j], value=Decimal(digits + scaled[0]) * scaled[1],
                                 words=tuple(w for x in toks[i:j + 1] for w in x.words)))
                i = j + 1
                continue
            if len(digits) >= 3:
                merged = merge(t, toks[j - 1], words=tuple(w for x in toks[i:j] for w in x.words))
                if digits[0] == "0" and len(digits) > 1:
                    merged.digits = digits
                else:
                    merged.value = Decimal(digits)
                out.append(merged)
                i = j
                continue
        a_val = _pair_head(t)
        if a_val and i + 1 < n and not toks[i + 1].sep:
            b = toks[i + 1]
            b_digits = _digit_string(b)
            # "twenty oh five": a tens/teens word, then "oh" and a digit.
            if b_digits is not None and len(b_digits) == 2 and b_digits[0] == "0" and a_val >= 10:
                out.append(merge(t, b, value=Decimal(a_val * 100 + int(b_digits))))
                i += 2
                continue
            tail = _pair_tail(b)
            # "Q four twenty twenty": when b pairs with what follows ("twenty twenty"), a stands alone.
            if tail is not None and len(b.words) == 1 and i + 2 < n and not toks[i + 2].sep \
                    and _pair_head(b) and _pair_tail(toks[i + 2]) is not None:
                tail = None
            if tail is not None and (a_val * 100 + tail[0]) * tail[1] < T.MAX_VALUE:
                out.append(merge(t, b, value=(a_val * 100 + tail[0]) * tail[1]))
                i += 2
                continue
            # "nineteen nineties" -> 1990s.
            if b.kind == "w" and b.text in T.DECADE_WORDS and a_val >= 10:
                out.append(merge(t, b, value=Decimal(a_val * 100 + T.DECADE_WORDS[b.text]), unit="s",
                                  words=t.words + (b.text,)))
                i += 2
                continue
        if t.kind == "w" and t.text in T.DECADE_WORDS:  # "the nineties" -> 90s
            out.append(Tok("", t.start, t.end, kind="n", sep=t.sep, value=Decimal(T.DECADE_WORDS[t.text]),
                           unit="s", words=(t.text,)))
            i += 1
            continue
        if digits is not None and len(digits) > 1 and digits[0] == "0":
            t.digits, t.value = digits, None  # "oh five" alone: a code with its zero
        out.append(t)
        i += 1
    return out


def _after_point(t: Tok) -> tuple[str, Decimal, bool] | None:
    """What a number after "point" adds: (digits, scale it carries, whether it was said digit by digit)."""
    if t.kind != "n" or t.ordinal or t.cur or t.unit:
        return None
    words, scale = t.words, Decimal(1)
    if len(words) > 1 and words[-1] in T.SCALE_WORDS:
        words, scale = words[:-1], T.SCALE_WORDS[words[-1]]
    if words and all(w in _SINGLE_DIGIT_WORDS for w in words):
        return "".join(str(_SINGLE_DIGIT_WORDS[w]) for w in words), scale, True
    if t.digits is not None:
        return (t.digits, scale, False) if t.digits.isdigit() else None
    if t.value is None:
        return None
    head = t.value / scale
    return (str(int(head)), scale, False) if head == head.to_integral_value() and head >= 0 else None


def _written_integer(t: Tok) -> str | None:
    """The digits of a bare integer written in digits ("7", "05"), else None."""
    if t.kind != "n" or t.words or t.cur or t.unit or t.ordinal:
        return None
    if t.digits is not None:
        return t.digits if t.digits.isdigit() else None
    if t.value is not None and t.value == t.value.to_integral_value() and t.value >= 0:
        return str(int(t.value))
    return None


def _year_half(t: Tok) -> int | None:
    """The second half of a year a recogniser wrote apart: 10..49, or "05"/"oh five"."""
    if t.kind != "n" or t.ordinal or t.cur or t.unit:
        return None
    if t.digits is not None:
        return int(t.digits) if len(t.digits) == 2 and t.digits.isdigit() else None
    if t.value is None or t.value != t.value.to_integral_value() or not 10 <= t.value <= 49:
        return None
    return int(t.value)


def written_years(toks: list[Tok]) -> list[Tok]:
    """Years a recogniser wrote in two halves: "20 21" = "twenty 21" -> 2021, "2000 and 21" -> 2021. Only
    2000-2049: other halves ("19 90", "30 40") are likelier two numbers. (Punctuation between the halves blocks
    this, so "20, 21" is not idempotent: its output "20 21" reads as 2021.)"""
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        w = _written_integer(t) if not t.words else ("20" if t.words == ("twenty",) else None)
        if w is not None and i + 1 < n and not toks[i + 1].sep:
            b = toks[i + 1]
            half = _year_half(b)
            if w == "20" and half is not None and (t.words == () or b.words == ()):
                out.append(merge(t, b, value=Decimal(2000 + half), words=()))
                i += 2
                continue
            if (w == "2000" and b.kind == "w" and b.text == "and" and i + 2 < n and not toks[i + 2].sep
                    and (wc := _written_integer(toks[i + 2])) is not None and 1 <= int(wc) <= 99
                    and not (i + 3 < n and scale_word(toks[i + 3]) is not None)):
                out.append(merge(t, toks[i + 2], value=Decimal(2000 + int(wc)), words=()))
                i += 3
                continue
        out.append(t)
        i += 1
    return out


def fractions(toks: list[Tok]) -> list[Tok]:
    """"two thirds" = "2/3", "one half" = "1/2" (text2num reads "thirds" as the ordinal 3rd)."""
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        if (i + 1 < n and is_number(t) and not t.cur and t.value == t.value.to_integral_value() and 1 <= t.value <= 9
                and not toks[i + 1].sep):
            b = toks[i + 1]
            den = None
            if b.kind == "n" and b.ordinal and len(b.words) == 1 and b.words[0] in T.FRACTION_DENOMINATORS:
                den = int(b.value)
            elif b.kind == "w" and b.text == "half" and t.value == 1:
                den = 2
            following = toks[i + 2].text if i + 2 < n else ""
            if den is not None and t.value < den and following not in T.QUARTER_WORDS:
                out.append(merge(t, b, digits=f"{int(t.value)}/{den}", words=()))
                i += 2
                continue
        out.append(t)
        i += 1
    return out


def decimal_words(toks: list[Tok]) -> list[Tok]:
    """Point-decimals text2num leaves apart: "point nine" 0.9, "four point twenty five" 4.25,
    and "one and a half" 1.5, "a hundred" 100, "a million" 1e6."""
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "w" and t.text == "point" and i + 1 < n and not toks[i + 1].sep:
            digits, scale, j = "", Decimal(1), i + 1
            # "point two five (million)": spoken digits, the last maybe with a scale; else one whole number
            # ("point twenty five", "2 point 7" as a recogniser writes it).
            while j < n and not toks[j].sep and (d := _after_point(toks[j])) is not None \
                    and (d[2] or not digits):
                digits, scale, j = digits + d[0], d[1], j + 1
                if scale != 1 or not d[2]:
                    break
            if digits:
                prev = out[-1] if out else None
                whole = "0"
                first = t
                if (prev is not None and not t.sep and is_number(prev) and not prev.cur and prev.digits is None
                        and prev.value == prev.value.to_integral_value() and prev.value < 10**6):
                    whole = str(int(prev.value))
                    first = prev
                value = Decimal(f"{whole}.{digits}") * scale
                if value < T.MAX_VALUE:  # "five hundred thousand point five trillion" is not one number
                    if first is prev:
                        out.pop()
                    out.append(merge(first, toks[j - 1], value=value, words=first.words + ("point",)))
                    i = j
                    continue
        # "a hundred", "a million", "a thousand": "a" counts one.
        if (t.kind == "w" and t.text == "a" and i + 1 < n and not toks[i + 1].sep and toks[i + 1].kind == "n"
                and toks[i + 1].words and toks[i + 1].words[0] in HUNDRED_OR_SCALE):
            nxt = toks[i + 1]
            merged = merge(t, nxt, value=nxt.value, words=("a",) + nxt.words)
            out.append(merged)
            i += 2
            continue
        # "one and a half (billion)".
        if (is_number(t) and t.value == t.value.to_integral_value() and i + 3 < n
                and toks[i + 1].text == "and" and toks[i + 2].text == "a"
                and toks[i + 3].kind == "w" and toks[i + 3].text in T.AND_A_FRACTIONS
                and not any(x.sep for x in toks[i + 1:i + 4])):
            out.append(merge(t, toks[i + 3], value=t.value + Decimal(T.AND_A_FRACTIONS[toks[i + 3].text]),
                              cur=t.cur, words=t.words))
            i += 4
            continue
        out.append(t)
        i += 1
    return out
