"""Key-phrase (bias list) precision, recall and F1, counted on the word alignment.

Each bias-list phrase is normalised with the scorer's normaliser into a word sequence. Per utterance and phrase:

- reference occurrences and hypothesis occurrences are found left to right, non-overlapping;
- a reference occurrence is a **hit** (true positive) when its aligned hypothesis words are the phrase with no
  error inside it (the same test as an entity's "correct");
- **misses** (false negatives) = reference occurrences - hits;
- **false alarms** (false positives) = hypothesis occurrences - hits: every time the recogniser wrote the phrase
  where the reference does not have it at that place (boosting hallucinations, or the phrase put at the wrong place).

Precision = hits / (hits + false alarms), recall = hits / (hits + misses). With nothing to divide, precision is 1
when there are no false alarms and recall is 1 when there is nothing to recall; F1 is their harmonic mean (0 if both 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from finparakeet.scoring.align import Alignment


@dataclass(frozen=True)
class KeyphraseSet:
    """Normalised bias-list phrases, indexed by their first word."""

    phrases: tuple[tuple[str, ...], ...]
    surfaces: tuple[str, ...]  # as written in the bias list
    by_first: dict[str, tuple[int, ...]] = field(repr=False)


@dataclass
class KeyphraseCounts:
    hits: int = 0
    false_alarms: int = 0
    misses: int = 0
    per_phrase: dict[str, list[int]] = field(default_factory=dict)  # surface -> [hits, false alarms, misses]


def compile_keyphrases(phrases: Iterable[str], normalizer) -> KeyphraseSet:
    """Normalise phrases once; duplicates (after normalisation) and phrases that normalise to nothing are dropped."""
    norm: list[tuple[str, ...]] = []
    surfaces: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for p in phrases:
        words = tuple(w.text for w in normalizer.normalize_with_spans(p))
        if words and words not in seen:
            seen.add(words)
            norm.append(words)
            surfaces.append(p)
    by_first: dict[str, list[int]] = {}
    for i, words in enumerate(norm):
        by_first.setdefault(words[0], []).append(i)
    return KeyphraseSet(tuple(norm), tuple(surfaces), {k: tuple(v) for k, v in by_first.items()})


def find_occurrences(words: Sequence[str], kp: KeyphraseSet) -> dict[int, list[int]]:
    """Start positions of each phrase's non-overlapping occurrences in ``words`` (phrase index -> starts)."""
    found: dict[int, list[int]] = {}
    next_free: dict[int, int] = {}
    n = len(words)
    for i, w in enumerate(words):
        cands = kp.by_first.get(w)
        if not cands:
            continue
        for p in cands:
            phrase = kp.phrases[p]
            m = len(phrase)
            if i >= next_free.get(p, 0) and i + m <= n and (m == 1 or tuple(words[i:i + m]) == phrase):
                found.setdefault(p, []).append(i)
                next_free[p] = i + m
    return found


def count_keyphrases(alignment: Alignment, kp: KeyphraseSet) -> KeyphraseCounts:
    """Hits, false alarms and misses of every phrase in one aligned utterance."""
    ref_occ = find_occurrences(alignment.ref, kp)
    hyp_occ = find_occurrences(alignment.hyp, kp)
    out = KeyphraseCounts()
    for p in ref_occ.keys() | hyp_occ.keys():
        m = len(kp.phrases[p])
        hits = sum(1 for i in ref_occ.get(p, ()) if alignment.span(i, i + m).errors == 0)
        refs, hyps = len(ref_occ.get(p, ())), len(hyp_occ.get(p, ()))
        # An error-free span aligns to exactly the phrase's words, so each hit is one of the hypothesis occurrences.
        fa, miss = max(hyps - hits, 0), refs - hits
        out.hits += hits
        out.false_alarms += fa
        out.misses += miss
        out.per_phrase[kp.surfaces[p]] = [hits, fa, miss]
    return out


def prf(hits: int, false_alarms: int, misses: int) -> dict[str, float]:
    """Precision, recall and F1 with the conventions in the module docstring."""
    p = hits / (hits + false_alarms) if hits + false_alarms else 1.0
    r = hits / (hits + misses) if hits + misses else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1}
