"""Ticker symbols as written, and the ones that are everyday English words.

A ticker written in capitals is a name only in capitals: ON (ON Semiconductor), IT (Gartner), ALL (Allstate), NOW
(ServiceNow) are also the words "on", "it", "all", "now". Key-phrase scoring therefore matches a ticker only as
written (``finparakeet.scoring.keyphrases``), and bias-list building warns about tickers that are common words: a
boosted model may write them for the word, and a case-blind count would call every "on" a hit or a false alarm.
"""

from __future__ import annotations

import re
from typing import Iterable

# One to five capitals, maybe a share class: "ON", "NVDA", "BRK.B", "BF-B".
TICKER_SHAPE = re.compile(r"[A-Z]{1,5}(?:[.-][A-Z])?")
# wordfreq's Zipf scale (log10 of occurrences per billion words): 4 is ten per million words, so "net" (4.8) and
# "ally" (4.1) count as common words, "ibm" (3.9) and "nvda" (2.1) do not.
COMMON_WORD_ZIPF = 4.0
_LETTER_WORDS = frozenset("AI")  # the single letters that are words ("a", "I"); "t", "f" are letters


def is_ticker_symbol(phrase: str) -> bool:
    """Written like a ticker symbol: one token of capitals ("ON", "NVDA", "BRK.B")."""
    return TICKER_SHAPE.fullmatch(phrase.strip()) is not None


def word_tickers(phrases: Iterable[str], min_zipf: float = COMMON_WORD_ZIPF) -> list[str]:
    """The phrases written like ticker symbols whose lower-case form is a common English word ("ON", "IT", "ARE",
    "ALL", "NOW", "NET", "SO", "HAS"), in order, each once."""
    from wordfreq import zipf_frequency  # loads its word lists on first use

    out = []
    for p in dict.fromkeys(p.strip() for p in phrases):
        if is_ticker_symbol(p) and (len(p) > 1 or p in _LETTER_WORDS) \
                and zipf_frequency(p.lower(), "en") >= min_zipf:
            out.append(p)
    return out
