"""Align normalised reference and hypothesis words once (jiwer) and read each entity's share of the alignment.

An entity covers the reference words ``[i, j)``. Its aligned hypothesis words are those from where reference word
``i`` starts in the hypothesis to where word ``j - 1`` ends, and its errors are the substitutions and deletions of
its reference words plus the insertions that sit *between* two of its words.

Edge insertions: a hypothesis word inserted before an entity's first word or after its last word is outside the
entity (it counts for WER, not for the entity). Alignment cannot tell whether such a word belongs to the entity or to
its neighbour, and counting it would make one entity's score depend on the words around it. So "fifty basis points"
recognised as "fifty basis points uh" is a correct entity, while "fifty uh basis points" has one error.

Format differences: a missing currency is not an error. Words that differ only in their currency, one side having
none ("$329.3" against "329.3": the speaker did not say "dollars", or the recogniser did not write "$"), align as
equal and are counted apart as ``format_only``: the number and its scale carry the value, the currency sign is the
transcriber's. This holds for WER and for entities alike, so one word is never an error in one and not the other.
Two different currencies ("$5" against "€5") are a substitution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein  # jiwer's own Levenshtein backend (a dependency of jiwer)

from finparakeet.text.numbers import split_currency

# Edit codes of alignment chunks (the JSON report keeps them as they are).
EQUAL, SUBSTITUTE, DELETE, INSERT = "e", "s", "d", "i"
_JIWER_CODE = {"equal": EQUAL, "substitute": SUBSTITUTE, "replace": SUBSTITUTE, "delete": DELETE, "insert": INSERT}
_KIND = {EQUAL: 0, SUBSTITUTE: 1, DELETE: 2, INSERT: 3}

# One run of the same edit: (code, ref_start, ref_end, hyp_start, hyp_end) — reference words [ref_start, ref_end)
# against hypothesis words [hyp_start, hyp_end). Plain tuples: a call has thousands, and tuples of atoms are cheap
# to build and dropped from the garbage collector's tracking.
Chunk = tuple[str, int, int, int, int]


class SpanAlignment(NamedTuple):
    """The alignment inside one reference word range."""

    hyp_start: int  # aligned hypothesis words are hyp[hyp_start:hyp_end]
    hyp_end: int
    substitutions: int
    deletions: int
    insertions: int  # between the span's words only (see module docstring)
    ref_words: int
    format_only: int = 0  # words equal but for a missing currency (not errors)

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
    fmt_before: list[int]  # words aligned as equal that differ by a missing currency (module docstring)

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
    def format_only(self) -> int:
        return self.fmt_before[-1]

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
            format_only=self.fmt_before[end] - self.fmt_before[start],
        )


class _Numbering(dict):
    """Word -> id, the ids in order of first appearance as jiwer numbers words, except that words differing only in
    their currency ("$4.2", "4.2", "€4.2") share one id: they align as equal, and ``align_ids`` then tells a
    missing currency (format only) from a different one (a substitution)."""

    __slots__ = ("by_value", "next_id")

    def __init__(self, base: dict[str, int] | None = None) -> None:
        super().__init__(base or {})
        self.by_value: dict[str, int] = (dict(base.by_value) if isinstance(base, _Numbering)
                                         else {split_currency(w)[1]: i for w, i in self.items()})
        self.next_id = max(self.by_value.values(), default=-1) + 1

    def __missing__(self, word: str) -> int:
        value = split_currency(word)[1]
        i = self.by_value.get(value)
        if i is None:
            i = self.by_value[value] = self.next_id
            self.next_id += 1
        self[word] = i
        return i


def word_ids(words: Sequence[str], vocab: dict[str, int] | None = None) -> tuple[list[int], dict[str, int]]:
    """Words -> integer ids, continuing a copy of ``vocab`` (the reference's numbering, so that a reference numbered
    once serves every hypothesis); words that differ only in their currency share an id (``_Numbering``). Returns
    (ids, numbering)."""
    ids = _Numbering(vocab)
    return [ids[w] for w in words], ids


def align_words(ref: Sequence[str], hyp: Sequence[str]) -> Alignment:
    """Align two word sequences (jiwer's word alignment: one Levenshtein pass) and index the result."""
    ref_ids, vocab = word_ids(ref)
    return align_ids(list(ref), list(hyp), ref_ids, word_ids(hyp, vocab)[0])


def align_ids(ref: list[str], hyp: list[str], ref_ids: list[int], hyp_ids: list[int]) -> Alignment:
    """``align_words`` for words already numbered (``word_ids``): the same Levenshtein opcodes over the same
    integers as ``jiwer.process_words``, without its per-chunk objects; then equal runs whose words differ by their
    currency are split: a missing currency stays equal (counted in ``fmt_before``), a different one is a
    substitution."""
    n = len(ref)
    fmt: list[int] = []  # reference words aligned to the same value without a currency on one side
    if n and hyp:
        ops = Levenshtein.opcodes(ref_ids, hyp_ids).as_list()
        tags, r1, r2, h1, h2 = zip(*ops)
        chunks = list(zip(map(_JIWER_CODE.__getitem__, tags), r1, r2, h1, h2))
        if any(c[0] == EQUAL and ref[c[1]:c[2]] != hyp[c[3]:c[4]] for c in chunks):
            chunks = _currency_chunks(ref, hyp, chunks, fmt)
    elif n:  # jiwer needs words on both sides to align; an empty side is all deletions or all insertions
        chunks = [(DELETE, 0, n, 0, 0)]
    elif hyp:
        chunks = [(INSERT, 0, 0, 0, len(hyp))]
    else:
        chunks = []
    if not chunks:
        return Alignment(ref, hyp, chunks, [], [], [0], [0], [0], [0])

    # Per-word arrays from the chunks, vectorised: a whole call has ~8,000 words and ~2,000 chunks.
    m = len(chunks)
    codes, r1, r2, h1, h2 = zip(*chunks)
    kind = np.fromiter(map(_KIND.__getitem__, codes), np.int8, m)
    r1, r2, h1, h2 = (np.array(x, dtype=np.int64) for x in (r1, r2, h1, h2))
    of_word = np.repeat(np.arange(m), r2 - r1)  # the chunk of each reference word
    deleted = kind[of_word] == _KIND[DELETE]
    hyp_from = h1[of_word] + np.where(deleted, 0, np.arange(n) - r1[of_word])
    hyp_to = hyp_from + ~deleted
    ins_at = np.zeros(n + 1, dtype=np.int64)
    inserted = kind == _KIND[INSERT]
    np.add.at(ins_at, r1[inserted], (h2 - h1)[inserted])
    zero = np.zeros(1, dtype=np.int64)
    fmt_at = np.zeros(n, dtype=np.int64)
    fmt_at[fmt] = 1
    return Alignment(ref, hyp, chunks, hyp_from.tolist(), hyp_to.tolist(),
                     np.concatenate((zero, np.cumsum(kind[of_word] == _KIND[SUBSTITUTE]))).tolist(),
                     np.concatenate((zero, np.cumsum(deleted))).tolist(), np.cumsum(ins_at).tolist(),
                     np.concatenate((zero, np.cumsum(fmt_at))).tolist())


def _currency_chunks(ref: list[str], hyp: list[str], chunks: list[Chunk], fmt: list[int]) -> list[Chunk]:
    """Equal chunks split where a word pair differs in currency: a pair with a currency on one side only stays
    equal and its reference index goes to ``fmt``; a pair with two different currencies becomes a substitution."""
    out: list[Chunk] = []
    for chunk in chunks:
        code, r1, r2, h1, h2 = chunk
        if code != EQUAL or ref[r1:r2] == hyp[h1:h2]:
            out.append(chunk)
            continue
        start = 0
        for k in range(r2 - r1):
            a, b = ref[r1 + k], hyp[h1 + k]
            if a == b:
                continue
            if split_currency(a)[0] and split_currency(b)[0]:  # "$5" vs "€5": a different currency
                if k > start:
                    out.append((EQUAL, r1 + start, r1 + k, h1 + start, h1 + k))
                out.append((SUBSTITUTE, r1 + k, r1 + k + 1, h1 + k, h1 + k + 1))
                start = k + 1
            else:
                fmt.append(r1 + k)
        if r2 - r1 > start:
            out.append((EQUAL, r1 + start, r2, h1 + start, h2))
    return out
