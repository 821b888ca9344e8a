"""Finance-aware text normaliser: one canonical word sequence for reference and hypothesis alike.

BASELINE: lower-cases and strips punctuation only. The full finance rules (numbers, money, percent, bps, tickers,
years, quarters, indices) replace ``_words`` while keeping the API: every output word carries the character span of
the source text it came from, so entity spans map through normalisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NormWord:
    """A normalised word and the ``[start, end)`` characters of the source text that produced it."""

    text: str
    start: int
    end: int


_TOKEN = re.compile(r"[^\s]+")
_STRIP = re.compile(r"^[^\w$%&]+|[^\w$%&]+$")


class FinanceNormalizer:
    """``normalize("$4.2 billion") == normalize("four point two billion dollars")``."""

    def normalize_with_spans(self, text: str) -> list[NormWord]:
        out = []
        for m in _TOKEN.finditer(text):
            w = _STRIP.sub("", m.group()).lower()
            if w:
                out.append(NormWord(w, m.start(), m.end()))
        return out

    def normalize(self, text: str) -> str:
        return " ".join(w.text for w in self.normalize_with_spans(text))

    __call__ = normalize
