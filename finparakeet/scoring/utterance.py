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
from functools import partial
from operator import le
from typing import NamedTuple, Sequence

from finparakeet.entities import EntitySpan
from finparakeet.scoring.align import Alignment, align_ids, word_ids
from finparakeet.scoring.keyphrases import KeyphraseCounts, KeyphraseSet, count_keyphrases

_EDGE_PUNCT = " \t\n,.;:!?\"'()[]"


@dataclass(frozen=True)
class PreparedReference:
    """A reference normalised once, with each scorable entity's word range ``[i, j)``."""

    text: str
    words: list[str] = field(repr=False)  # the normalised words
    entities: list[EntitySpan] = field(repr=False)
    ranges: list[tuple[int, int]] = field(repr=False)
    unscorable: list[EntitySpan] = field(default_factory=list, repr=False)
    # the words' source spans in ``text``: where a ticker key phrase is checked for its case
    starts: list[int] = field(default_factory=list, repr=False, compare=False)
    ends: list[int] = field(default_factory=list, repr=False, compare=False)
    # the words numbered for alignment (``align.word_ids``), once for every hypothesis scored against it
    numbering: tuple[list[int], dict[str, int]] = field(init=False, repr=False, compare=False)
    # per entity: its normalised reference words, joined (the same for every hypothesis)
    ref_norms: list[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # derived once here (frozen: set through object.__setattr__)
        object.__setattr__(self, "numbering", word_ids(self.words))
        object.__setattr__(self, "ref_norms", [" ".join(self.words[i:j]) for i, j in self.ranges])


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


# EntityResult from a tuple of its fields, without the named tuple's Python-level __new__ (what ``_make`` does).
_new_result = partial(tuple.__new__, EntityResult)


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


def normalize_arrays(normalizer, text: str) -> tuple[list[str], list[int], list[int]]:
    """(words, starts, ends) from a normaliser: its ``normalize_arrays`` when it has one, else its NormWords."""
    fast = getattr(normalizer, "normalize_arrays", None)
    if fast is not None:
        return fast(text)
    words = normalizer.normalize_with_spans(text)
    return [w.text for w in words], [w.start for w in words], [w.end for w in words]


def word_range(starts: Sequence[int], ends: Sequence[int], start: int, end: int) -> tuple[int, int]:
    """Indices ``[i, j)`` of the words whose source span overlaps ``[start, end)`` (``i == j`` when none).

    ``starts``/``ends`` are the words' source offsets; both are non-decreasing for a left-to-right normaliser,
    which makes this two binary searches (a whole call has thousands of entities).
    """
    i = bisect_right(ends, start)  # first word ending after the span starts
    j = bisect_left(starts, end, lo=i)  # first word starting at or after the span's end
    # A zero-width source word (an inserted token) at the span's start overlaps nothing: step over such words.
    while i < j and ends[i] <= start:
        i += 1
    return i, max(i, j)


def lexicon_seen(e: EntitySpan) -> bool | None:
    """Whether an entity counts as seen in training: the one definition of "unseen" (the synthesis summary's, the
    report's). ``seen`` False marks an entity built from a lexicon entry that no training utterance used. Pattern
    entities (``source`` "pattern:...": numbers, money, percentages, periods) are never unseen, whatever an older
    manifest says: their values are drawn afresh everywhere, so "a value train never had" says nothing."""
    return None if (e.source or "").startswith("pattern:") else e.seen


def _surface(text: str, starts: Sequence[int], ends: Sequence[int]):
    """The source text of normalised words [i, j) (for case-sensitive key phrases)."""
    return lambda i, j: text[starts[i]:max(ends[i:j])]


def _monotone(xs: Sequence[int]) -> bool:
    return all(map(le, xs, xs[1:]))


def prepare_reference(text: str, entities: Sequence[EntitySpan], normalizer) -> PreparedReference:
    """Normalise ``text`` and map every entity to its normalised words."""
    words, starts, ends = normalize_arrays(normalizer, text)
    fast = _monotone(starts) and _monotone(ends)
    kept: list[EntitySpan] = []
    ranges: list[tuple[int, int]] = []
    unscorable: list[EntitySpan] = []
    for e in entities:
        if fast:
            i, j = word_range(starts, ends, e.start, e.end)
        else:  # a normaliser that reorders words: fall back to a scan (still correct, just slower)
            idx = [k for k, (s, t) in enumerate(zip(starts, ends)) if s < e.end and t > e.start]
            i, j = (idx[0], idx[-1] + 1) if idx else (0, 0)
        if i < j:
            kept.append(e)
            ranges.append((i, j))
        else:
            unscorable.append(e)
    return PreparedReference(text, words, kept, ranges, unscorable, starts, ends)


def score_prepared(ref: PreparedReference, hypothesis: str, normalizer, utt_id: str = "",
                   keyphrases: KeyphraseSet | None = None) -> UtteranceScore:
    """Align a hypothesis to a prepared reference once and score every entity and key phrase in it."""
    hyp, hyp_starts, hyp_ends = normalize_arrays(normalizer, hypothesis)
    ref_ids, vocab = ref.numbering
    al = align_ids(ref.words, hyp, ref_ids, word_ids(hyp, vocab)[0])
    ref_norms = ref.ref_norms
    hyp_from, hyp_to = al.hyp_from, al.hyp_to
    subs, dels, ins = al.subs_before, al.dels_before, al.ins_upto
    results = []
    ends_sorted = _monotone(hyp_ends)  # then the last of a run of words ends furthest
    for e, (i, j), ref_norm in zip(ref.entities, ref.ranges, ref_norms):
        # al.span(i, j), inlined: ~40,000 entities per Earnings-21 system
        a, b = hyp_from[i], hyp_to[j - 1]
        if b > a:
            # a word's source characters include its trailing comma or full stop
            end = hyp_ends[b - 1] if ends_sorted else max(hyp_ends[a:b])
            surface = hypothesis[hyp_starts[a]:end].strip(_EDGE_PUNCT)
            hyp_norm = " ".join(hyp[a:b])
        else:
            surface = hyp_norm = ""
        results.append(_new_result((e.category, e.text, surface,
                                    (subs[j] - subs[i]) + (dels[j] - dels[i]) + (ins[j - 1] - ins[i]), j - i,
                                    ref_norm, hyp_norm, lexicon_seen(e), e.start, e.end, i, j)))
    kp = None
    if keyphrases is not None:
        # A reference built without its spans cannot tell a ticker's case: then both sides match in any case.
        cased = bool(ref.starts) or not ref.words
        kp = count_keyphrases(al, keyphrases, _surface(ref.text, ref.starts, ref.ends) if cased else None,
                              _surface(hypothesis, hyp_starts, hyp_ends) if cased else None)
    return UtteranceScore(utt_id, ref.text, hypothesis, al, results, list(ref.unscorable), kp)


def score_utterance(reference: str, hypothesis: str, entities: Sequence[EntitySpan], normalizer,
                    utt_id: str = "", keyphrases: KeyphraseSet | None = None) -> UtteranceScore:
    """``prepare_reference`` + ``score_prepared`` for a single reference/hypothesis pair."""
    return score_prepared(prepare_reference(reference, entities, normalizer), hypothesis, normalizer, utt_id,
                          keyphrases)
