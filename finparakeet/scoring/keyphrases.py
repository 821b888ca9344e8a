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

Tickers match only as written. In a cased list, a phrase written like a ticker symbol (one to five capitals, maybe a
share class: "ON", "NVDA", "BRK.B") is found only where the text writes its letters in the same case ("ON", "O N"),
so the word "on" is neither an occurrence nor a false alarm of the ticker ON. In a list written all in capitals
(Earnings-21's), case says nothing and every phrase matches in any case; re-case such a list first
(``finparakeet.biasing.recase``), which keeps short symbols in capitals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from finparakeet.scoring.align import Alignment
from finparakeet.text.tickers import is_ticker_symbol

# The source text of normalised words [i, j) (what a case-sensitive phrase is checked against).
Surface = Callable[[int, int], str]


def letters(text: str) -> str:
    return "".join(c for c in text if c.isalpha())


def is_shouted(phrase: str) -> bool:
    """Written in capitals (at least one letter, none lower-case)."""
    return any(c.isalpha() for c in phrase) and not any(c.islower() for c in phrase)


def case_sensitive(phrase: str, cased_list: bool) -> bool:
    """Whether ``phrase`` matches only as written: a ticker symbol in a list whose case means something."""
    return cased_list and is_ticker_symbol(phrase)


@dataclass(frozen=True)
class KeyphraseSet:
    """Normalised bias-list phrases, indexed by their first word."""

    phrases: tuple[tuple[str, ...], ...]
    surfaces: tuple[str, ...]  # as written in the bias list
    by_first: dict[str, tuple[int, ...]] = field(repr=False)
    # per phrase: the letters a case-sensitive phrase (a ticker) must be written with, else None
    exact: tuple[str | None, ...] = ()


@dataclass
class KeyphraseCounts:
    hits: int = 0
    false_alarms: int = 0
    misses: int = 0
    per_phrase: dict[str, list[int]] = field(default_factory=dict)  # surface -> [hits, false alarms, misses]


def compile_keyphrases(phrases: Iterable[str], normalizer) -> KeyphraseSet:
    """Normalise phrases once; duplicates (after normalisation) and phrases that normalise to nothing are dropped.
    Ticker symbols in a cased list are marked case-sensitive (module docstring)."""
    phrases = list(phrases)
    cased_list = not all(map(is_shouted, phrases))
    norm: list[tuple[str, ...]] = []
    surfaces: list[str] = []
    exact: list[str | None] = []
    seen: set[tuple[tuple[str, ...], str | None]] = set()
    for p in phrases:
        words = tuple(w.text for w in normalizer.normalize_with_spans(p))
        key = (words, letters(p) if case_sensitive(p, cased_list) else None)
        if words and key not in seen:  # "ON" and "On" in one list: the ticker and the word, both kept
            seen.add(key)
            norm.append(words)
            surfaces.append(p)
            exact.append(key[1])
    by_first: dict[str, list[int]] = {}
    for i, words in enumerate(norm):
        by_first.setdefault(words[0], []).append(i)
    return KeyphraseSet(tuple(norm), tuple(surfaces), {k: tuple(v) for k, v in by_first.items()}, tuple(exact))


def find_occurrences(words: Sequence[str], kp: KeyphraseSet, surface: Surface | None = None) -> dict[int, list[int]]:
    """Start positions of each phrase's non-overlapping occurrences in ``words`` (phrase index -> starts).
    ``surface``: the source text of words [i, j); with it a case-sensitive phrase counts only where its letters are
    written as in the list."""
    found: dict[int, list[int]] = {}
    next_free: dict[int, int] = {}
    exact = kp.exact if surface is not None else ()
    n = len(words)
    for i, w in enumerate(words):
        cands = kp.by_first.get(w)
        if not cands:
            continue
        for p in cands:
            phrase = kp.phrases[p]
            m = len(phrase)
            if i >= next_free.get(p, 0) and i + m <= n and (m == 1 or tuple(words[i:i + m]) == phrase) \
                    and (not exact or exact[p] is None or letters(surface(i, i + m)) == exact[p]):
                found.setdefault(p, []).append(i)
                next_free[p] = i + m
    return found


def count_keyphrases(alignment: Alignment, kp: KeyphraseSet, ref_surface: Surface | None = None,
                     hyp_surface: Surface | None = None) -> KeyphraseCounts:
    """Hits, false alarms and misses of every phrase in one aligned utterance (``*_surface``: see
    ``find_occurrences``)."""
    ref_occ = find_occurrences(alignment.ref, kp, ref_surface)
    hyp_occ = find_occurrences(alignment.hyp, kp, hyp_surface)
    out = KeyphraseCounts()
    for p in ref_occ.keys() | hyp_occ.keys():
        m = len(kp.phrases[p])
        hits = sum(1 for i in ref_occ.get(p, ()) if _hit(alignment, i, m, kp.exact[p] if kp.exact else None,
                                                         hyp_surface))
        refs, hyps = len(ref_occ.get(p, ())), len(hyp_occ.get(p, ()))
        # An error-free span aligns to exactly the phrase's words, so each hit is one of the hypothesis occurrences.
        fa, miss = max(hyps - hits, 0), refs - hits
        out.hits += hits
        out.false_alarms += fa
        out.misses += miss
        out.per_phrase[kp.surfaces[p]] = [hits, fa, miss]
    return out


def _hit(alignment: Alignment, i: int, m: int, exact: str | None, hyp_surface: Surface | None) -> bool:
    """A reference occurrence at word ``i`` recognised: no error inside it, and a ticker written as the list
    writes it ("on" for the ticker ON is the word, not the ticker)."""
    span = alignment.span(i, i + m)
    if span.errors:
        return False
    return exact is None or hyp_surface is None or letters(hyp_surface(span.hyp_start, span.hyp_end)) == exact


def prf(hits: int, false_alarms: int, misses: int) -> dict[str, float]:
    """Precision, recall and F1 with the conventions in the module docstring."""
    p = hits / (hits + false_alarms) if hits + false_alarms else 1.0
    r = hits / (hits + misses) if hits + misses else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1}
