"""Align normalised reference and hypothesis words once (jiwer) and read each entity's share of the alignment.

An entity covers the reference words ``[i, j)``. Its aligned hypothesis words are those from where reference word
``i`` starts in the hypothesis to where word ``j - 1`` ends, and its errors are the substitutions and deletions of
its reference words plus the insertions that sit *between* two of its words.

Edge insertions: a hypothesis word inserted before an entity's first word or after its last word is outside the
entity (it counts for WER, not for the entity). Alignment cannot tell whether such a word belongs to the entity or to
its neighbour, and counting it would make one entity's score depend on the words around it. So "fifty basis points"
recognised as "fifty basis points uh" is a correct entity, while "fifty uh basis points" has one error.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple, Sequence

import jiwer

# Edit codes of alignment chunks (the JSON report keeps them as they are).
EQUAL, SUBSTITUTE, DELETE, INSERT = "e", "s", "d", "i"
_JIWER_CODE = {"equal": EQUAL, "substitute": SUBSTITUTE, "replace": SUBSTITUTE, "delete": DELETE, "insert": INSERT}

# One run of the same edit: (code, ref_start, ref_end, hyp_start, hyp_end) — reference words [ref_start, ref_end)
# against hypothesis words [hyp_start, hyp_end). Plain tuples: a call has thousands, and tuples of atoms are cheap
# to build and dropped from the garbage collector's tracking.
Chunk = tuple[str, int, int, int, int]


def _as_one_sentence(words: list[str]) -> list[list[str]]:
    # jiwer transform: our words are already normalised and split, so hand them over as one sentence as they are.
    return [words]


class SpanAlignment(NamedTuple):
    """The alignment inside one reference word range."""

    hyp_start: int  # aligned hypothesis words are hyp[hyp_start:hyp_end]
    hyp_end: int
    substitutions: int
    deletions: int
    insertions: int  # between the span's words only (see module docstring)
    ref_words: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions


@dataclass(frozen=True)
class Alignment:
    """A word alignment with per-word prefix sums, so any reference span is scored in O(1)."""

    ref: list[str]
    hyp: list[str]
    chunks: list[Chunk]
    # Per reference word k: hypothesis words hyp[hyp_from[k]:hyp_to[k]] are aligned to it (empty when deleted).
    hyp_from: list[int]
    hyp_to: list[int]
    # Prefix sums over reference words: *_before[k] = count among words [0, k); ins_upto[k] = insertions in front of
    # reference words 0..k (ins_upto[n] adds those after the last word, so it is the total).
    subs_before: list[int]
    dels_before: list[int]
    ins_upto: list[int]

    @property
    def substitutions(self) -> int:
        return self.subs_before[-1]

    @property
    def deletions(self) -> int:
        return self.dels_before[-1]

    @property
    def insertions(self) -> int:
        return self.ins_upto[-1]

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        """Errors over reference words; with an empty reference, the number of insertions (as jiwer does)."""
        return self.errors / len(self.ref) if self.ref else float(self.insertions)

    def span(self, start: int, end: int) -> SpanAlignment:
        """Score reference words ``[start, end)`` (``start < end``)."""
        if not 0 <= start < end <= len(self.ref):
            raise ValueError(f"word range [{start}, {end}) is not inside the {len(self.ref)} reference words")
        return SpanAlignment(
            hyp_start=self.hyp_from[start],
            hyp_end=self.hyp_to[end - 1],
            substitutions=self.subs_before[end] - self.subs_before[start],
            deletions=self.dels_before[end] - self.dels_before[start],
            # insertions in front of words start+1 .. end-1, i.e. strictly between the span's first and last word
            insertions=self.ins_upto[end - 1] - self.ins_upto[start],
            ref_words=end - start,
        )


def align_words(ref: Sequence[str], hyp: Sequence[str]) -> Alignment:
    """Align two word sequences with jiwer (one Levenshtein pass) and index the result."""
    ref, hyp = list(ref), list(hyp)
    n = len(ref)
    if n and hyp:
        out = jiwer.process_words(ref, hyp, reference_transform=_as_one_sentence,
                                  hypothesis_transform=_as_one_sentence)
        chunks = [(_JIWER_CODE[c.type], c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx)
                  for c in out.alignments[0]]
    elif n:  # jiwer needs words on both sides to align; an empty side is all deletions or all insertions
        chunks = [(DELETE, 0, n, 0, 0)]
    elif hyp:
        chunks = [(INSERT, 0, 0, 0, len(hyp))]
    else:
        chunks = []

    # Built chunk by chunk with list ops rather than word by word: a whole call has ~8,000 words.
    hyp_from: list[int] = []
    hyp_to: list[int] = []
    is_sub: list[int] = []
    is_del: list[int] = []
    ins_at = [0] * (n + 1)
    for op, r1, r2, h1, h2 in chunks:
        k = r2 - r1
        if op == INSERT:
            ins_at[r1] += h2 - h1
        elif op == DELETE:
            hyp_from += [h1] * k
            hyp_to += [h1] * k
            is_sub += [0] * k
            is_del += [1] * k
        else:
            hyp_from += range(h1, h2)
            hyp_to += range(h1 + 1, h2 + 1)
            is_sub += [int(op == SUBSTITUTE)] * k
            is_del += [0] * k
    return Alignment(ref, hyp, chunks, hyp_from, hyp_to,
                     list(accumulate(is_sub, initial=0)), list(accumulate(is_del, initial=0)),
                     list(accumulate(ins_at)))
