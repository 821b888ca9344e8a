"""A plain normaliser (case and edge punctuation only), with the ``normalize_with_spans`` API.

For tests that need word-exact expectations independent of the finance rules, and for comparing what the finance
normaliser buys over plain WER.
"""

from __future__ import annotations

import re

from finparakeet.text import NormWord

_WORD = re.compile(r"\S+")
_EDGE = re.compile(r"^[^\w$%&]+|[^\w$%&]+$")


class PlainNormalizer:
    """Lower-case whitespace-separated words, stripped of leading/trailing punctuation."""

    def normalize_arrays(self, text: str) -> tuple[list[str], list[int], list[int]]:
        """(words, starts, ends): ``normalize_with_spans`` without an object per word."""
        words: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for m in _WORD.finditer(text):
            w = _EDGE.sub("", m.group()).lower()
            if w:
                words.append(w)
                starts.append(m.start())
                ends.append(m.end())
        return words, starts, ends

    def normalize_with_spans(self, text: str) -> list[NormWord]:
        return list(map(NormWord, *self.normalize_arrays(text)))

    def normalize(self, text: str) -> str:
        return " ".join(self.normalize_arrays(text)[0])
