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

    def normalize_with_spans(self, text: str) -> list[NormWord]:
        out = []
        for m in _WORD.finditer(text):
            w = _EDGE.sub("", m.group()).lower()
            if w:
                out.append(NormWord(w, m.start(), m.end()))
        return out

    def normalize(self, text: str) -> str:
        return " ".join(w.text for w in self.normalize_with_spans(text))
