"""Finance-aware text normaliser: one canonical word sequence for reference and hypothesis alike.

Canonical forms (lower-case words; a number and its unit are one word so that "50 bps" vs "15 bps" is one
substitution, not a pair of edits):

- numbers as digits, no thousands separators, no trailing fractional zeros: "1,250" = "twelve hundred and fifty"
  -> ``1250``; "19.10" -> ``19.1``; "point nine" -> ``0.9``. Values of a million or more are written
  "<mantissa> <scale>" with the largest scale: "4.2 billion" = "4,200,000,000" = "4200 million" -> ``4.2 billion``
  (scale-expanded forms mean the same, so they are equal). Below a million scales fold: "600 thousand" -> ``600000``.
- money: the currency symbol glued to the number, the scale (if any) a separate word:
  "$4.2 billion" = "4.2 billion dollars" = "four point two billion dollars" -> ``$4.2 billion``;
  "$0.25" = "zero point two five dollars" = "twenty five cents" = "25¢" -> ``$0.25``;
  euros, pounds, yen likewise (``€33``).
- percent ``12.5%``; basis points ``50bps`` ("50 bps" = "50bp" = "fifty basis points"); multiples ``4.2x``
  ("4.2 times"); "pp"/"ppt" -> ``percentage points`` (not %: a change of points is not a percent change).
- signs: "-2%" = "negative two percent" -> ``minus 2%``. Ranges share the second unit/scale: "3-5%" =
  "three to five percent" -> ``3% to 5%``; "$3 to $5 billion" -> ``$3 billion to $5 billion``.
- one spoken number has falling scale words: "two billion three billion" is two numbers (``2 billion 3 billion``),
  as is "one hundred two hundred"; no value reaches a quadrillion (longer digit runs are identifiers), so every
  number renders with a mantissa below 1000 before its scale word.
- spoken readings: years and pairs "twenty twenty four" = "two thousand twenty four" -> ``2024``; "one forty four"
  -> ``144``; "two oh three" -> ``203``; three or more spoken digits -> a digit string.
- years a recogniser wrote in halves: "20 21" = "2000 and 21" -> ``2021``.
- periods: quarters "Q3" = "3Q" = "Q three" = "third quarter" -> ``q 3``; halves "H1" = "1H" = "first half" ->
  ``h 1``; "FY" = "fiscal year" -> ``fy`` ("fiscal 2019" = "FY 2019" -> ``fy 2019``; "calendar" -> ``cy``); "YTD" ->
  ``year to date``; "of" before the year goes ("first half of 2019" = "H1 2019" -> ``h 1 2019``).
- ordinals ``1st``, ``21st``; a day after a month is a
  number ("June 2nd" = "June 2" -> ``june 2``); times "8:00" = "eight o'clock" -> ``8``, "4:05" = "four oh five"
  -> ``405``; fractions "two thirds" -> ``2/3``; Roman numerals after "phase", "class", ... ("Phase III" -> ``phase 3``).
- letters and codes: spelled capitals join ("N V D A" = "NVDA" -> ``nvda``, "E P S" -> ``eps``); letters and digits
  split ("10-K" = "ten K" -> ``10 k``, "COVID-19" = "COVID dash nineteen" -> ``covid 19``); "&" reads
  ``and``: "S&P 500" = "S and P five hundred" -> ``s and p 500``, "M&A" = "m and a". Only capitals join: lower-case
  single letters are words or stutters ("a", "i", "w- w- what"), and the normaliser's own output is lower-case.
- contractions expand ("we'll" -> ``we will``, "gonna" -> ``going to``); punctuation and case are dropped.

Every output word carries the ``[start, end)`` span of the source text that produced it: a rule that merges source
tokens gives each output word the union span; a token split into pieces gives each piece the token's span.
"""

from __future__ import annotations

from dataclasses import dataclass

from finparakeet.text import numbers, rules, spoken
from finparakeet.text.fast import FastPath
from finparakeet.text.tokens import Tok, tokenize


@dataclass(frozen=True)
class NormWord:
    """A normalised word and the ``[start, end)`` characters of the source text that produced it."""

    text: str
    start: int
    end: int


class FinanceNormalizer:
    """``normalize("$4.2 billion") == normalize("four point two billion dollars")``.

    ``expand_contractions``: read "we'll" as "we will" (default True; off keeps the written contraction).

    The rules run only where they can act (``finparakeet.text.fast``): plain words are passed through, which gives
    exactly the full pipeline's output (``_normalize_full_with_spans``) several times faster.
    """

    def __init__(self, *, expand_contractions: bool = True) -> None:
        self.expand_contractions = expand_contractions
        self._fast = FastPath(expand_contractions, _pipeline)

    def clear_cache(self) -> None:
        """Forget the chunk classes and region results learnt from earlier texts (for benchmarks; the caches are
        bounded anyway)."""
        self._fast.clear()

    def tokens(self, text: str) -> list[Tok]:
        """The rule pipeline over every token, before rendering (exposed for debugging and for the tagger)."""
        return _pipeline(tokenize(text, expand_contractions=self.expand_contractions))

    def normalize_arrays(self, text: str) -> tuple[list[str], list[int], list[int]]:
        """The normalised words and their source spans as three lists ``(words, starts, ends)``: what
        ``normalize_with_spans`` returns, without an object per word (the scorer's form)."""
        return self._fast.normalize(text)

    def normalize_with_spans(self, text: str) -> list[NormWord]:
        return list(map(NormWord, *self._fast.normalize(text)))

    def _normalize_full_with_spans(self, text: str) -> list[NormWord]:
        """The reference implementation: the whole pipeline over every token (the fast path must equal it)."""
        out: list[NormWord] = []
        for t in self.tokens(text):
            if t.kind == "n":
                out.extend(NormWord(w, t.start, t.end) for w in numbers.render_number(t))
            elif t.text:
                out.append(NormWord(t.text, t.start, t.end))
        return out

    def normalize(self, text: str) -> str:
        return " ".join(self._fast.normalize(text)[0])

    __call__ = normalize


def _pipeline(toks: list[Tok]) -> list[Tok]:
    """The rule passes, in order, over a token list."""
    toks = spoken.spoken_numbers(toks)
    toks = spoken.paired_readings(toks)
    toks = spoken.written_years(toks)
    toks = spoken.decimal_words(toks)
    toks = spoken.fractions(toks)
    toks = numbers.scales(toks)
    toks = rules.letters(toks)  # before units: a spelled code can be a currency ("C H F eighty five")
    toks = rules.periods(toks)
    toks = rules.dates_and_numerals(toks)
    toks = rules.units(toks)
    return rules.signs_and_ranges(toks)
