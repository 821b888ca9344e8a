"""Score one utterance: normalise both sides, map entity spans to normalised words, align once, read each entity.

An entity's reference words are the normalised words whose source characters overlap the entity's span. An entity
whose characters normalise to no word at all (e.g. only punctuation) cannot be scored; it is kept aside as
``unscorable`` rather than counted as correct or wrong.

The reference side is prepared separately (``prepare_reference``) so one reference scored against several systems is
normalised and mapped only once.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

from finparakeet.entities import EntitySpan
from finparakeet.scoring.align import Alignment, align_words
from finparakeet.scoring.keyphrases import KeyphraseCounts, KeyphraseSet, count_keyphrases
from finparakeet.text import NormWord

_EDGE_PUNCT = " \t\n,.;:!?\"'()[]"


@dataclass(frozen=True)
class PreparedReference:
    """A reference normalised once, with each scorable entity's word range ``[i, j)``."""

    text: str
    words: list[str] = field(repr=False)  # the normalised words (their source spans are no longer needed)
    entities: list[EntitySpan] = field(repr=False)
    ranges: list[tuple[int, int]] = field(repr=False)
    unscorable: list[EntitySpan] = field(default_factory=list, repr=False)


class EntityResult(NamedTuple):
    """One entity's outcome. ``ref`` is the reference text exactly as written, ``hyp`` the aligned hypothesis
    words as written in the hypothesis (empty when all were deleted). A named tuple of atoms, so the garbage
    collector stops tracking it: scoring every Earnings-21 system keeps ~250,000 of them."""

    category: str
    ref: str
    hyp: str
    errors: int
    ref_words: int
    ref_norm: str
    hyp_norm: str
    seen: bool | None
    start: int
    end: int
    word_start: int  # reference word range [word_start, word_end)
    word_end: int

    @property
    def correct(self) -> bool:
        return self.errors == 0


@dataclass(frozen=True)
class UtteranceScore:
    id: str
    reference: str
    hypothesis: str
    alignment: Alignment = field(repr=False)
    entities: list[EntityResult] = field(repr=False)
    unscorable: list[EntitySpan] = field(default_factory=list, repr=False)
    keyphrases: KeyphraseCounts | None = None

    @property
    def wer(self) -> float:
        return self.alignment.wer


def word_range(words: Sequence[NormWord], starts: Sequence[int], ends: Sequence[int],
               start: int, end: int) -> tuple[int, int]:
    """Indices ``[i, j)`` of the words whose source span overlaps ``[start, end)`` (``i == j`` when none).

    ``starts``/``ends`` are the words' source offsets; both are non-decreasing for a left-to-right normaliser,
    which makes this two binary searches (a whole call has thousands of entities).
    """
    i = bisect_right(ends, start)  # first word ending after the span starts
    j = bisect_left(starts, end, lo=i)  # first word starting at or after the span's end
    # A zero-width source word (an inserted token) at the span's start overlaps nothing: step over such words.
    while i < j and words[i].end <= start:
        i += 1
    return i, max(i, j)


def _monotone(xs: Sequence[int]) -> bool:
    return all(a <= b for a, b in zip(xs, xs[1:]))


def prepare_reference(text: str, entities: Sequence[EntitySpan], normalizer) -> PreparedReference:
    """Normalise ``text`` and map every entity to its normalised words."""
    words = normalizer.normalize_with_spans(text)
    starts = [w.start for w in words]
    ends = [w.end for w in words]
    fast = _monotone(starts) and _monotone(ends)
    kept: list[EntitySpan] = []
    ranges: list[tuple[int, int]] = []
    unscorable: list[EntitySpan] = []
    for e in entities:
        if fast:
            i, j = word_range(words, starts, ends, e.start, e.end)
        else:  # a normaliser that reorders words: fall back to a scan (still correct, just slower)
            idx = [k for k, w in enumerate(words) if w.start < e.end and w.end > e.start]
            i, j = (idx[0], idx[-1] + 1) if idx else (0, 0)
        if i < j:
            kept.append(e)
            ranges.append((i, j))
        else:
            unscorable.append(e)
    return PreparedReference(text, [w.text for w in words], kept, ranges, unscorable)


def score_prepared(ref: PreparedReference, hypothesis: str, normalizer, utt_id: str = "",
                   keyphrases: KeyphraseSet | None = None) -> UtteranceScore:
    """Align a hypothesis to a prepared reference once and score every entity and key phrase in it."""
    hyp_words = normalizer.normalize_with_spans(hypothesis)
    al = align_words(ref.words, [w.text for w in hyp_words])
    results = []
    for e, (i, j) in zip(ref.entities, ref.ranges):
        s = al.span(i, j)
        if s.hyp_end > s.hyp_start:
            hyp = hypothesis[hyp_words[s.hyp_start].start:max(w.end for w in hyp_words[s.hyp_start:s.hyp_end])]
            hyp = hyp.strip(_EDGE_PUNCT)  # a word's source characters include its trailing comma or full stop
        else:
            hyp = ""
        results.append(EntityResult(
            e.category, e.text, hyp, s.errors, s.ref_words,
            " ".join(al.ref[i:j]), " ".join(al.hyp[s.hyp_start:s.hyp_end]), e.seen, e.start, e.end, i, j))
    kp = count_keyphrases(al, keyphrases) if keyphrases is not None else None
    return UtteranceScore(utt_id, ref.text, hypothesis, al, results, list(ref.unscorable), kp)


def score_utterance(reference: str, hypothesis: str, entities: Sequence[EntitySpan], normalizer,
                    utt_id: str = "", keyphrases: KeyphraseSet | None = None) -> UtteranceScore:
    """``prepare_reference`` + ``score_prepared`` for a single reference/hypothesis pair."""
    return score_prepared(prepare_reference(reference, entities, normalizer), hypothesis, normalizer, utt_id,
                          keyphrases)
