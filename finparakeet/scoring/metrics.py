"""Entity metrics: WER, entity WER, entity accuracy, per category, unseen entities, key phrases.

Definitions (DESIGN.md, "Entity scoring"), all on normalised words:

- WER = (S + D + I) / reference words, summed over utterances.
- entity WER = errors inside entity spans / entity reference words (fstalign's definition); an entity's errors are
  its substitutions and deletions plus insertions between its words (``finparakeet.scoring.align``).
- entity accuracy = share of entities with zero errors.
- format only = entities with zero errors that differ from the reference only by a missing currency ("329.3 million"
  for "$329.3 million", ``finparakeet.scoring.align``): counted as correct, and apart, per category.
- per category, and over unseen entities: built from a lexicon entry that no training utterance used
  (``seen: false``; pattern entities such as numbers and money are never unseen, ``utterance.lexicon_seen``);
- key phrases: see ``finparakeet.scoring.keyphrases``.

Two accumulators share one implementation (``EntityScorer`` scores, ``count_scores`` counts):

- ``EntityTally``: plain Python, no torch (the evaluate recipe, the benchmark);
- ``EntityMetric`` (``finparakeet.scoring.torchmetric``): the same counts as torch tensor
  states with sum reduction (a torchmetrics ``Metric``), so a Lightning validation loop can sync it across processes.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from finparakeet.entities import EntitySpan, parse_entities
from finparakeet.scoring.counts import (DEFAULT_CATEGORIES, N_COLUMNS, N_CORRECT, N_ENTITIES, N_ERRORS,
                                        N_FORMAT_ONLY, N_REF_WORDS, OTHER, W_COLUMNS, W_DEL, W_FORMAT, W_INS, W_REF,
                                        W_SUB, W_UNSCORABLE, W_UTTS, Counts, category_vocabulary)
from finparakeet.scoring.keyphrases import KeyphraseSet, compile_keyphrases
from finparakeet.scoring.report import build_report
from finparakeet.scoring.utterance import PreparedReference, UtteranceScore, prepare_reference, score_prepared
from finparakeet.text import FinanceNormalizer
from finparakeet.text.tagger import FinanceTagger

def _as_spans(entities: Sequence[EntitySpan | Mapping[str, Any]]) -> list[EntitySpan]:
    return [e if isinstance(e, EntitySpan) else parse_entities([e])[0] for e in entities]


class EntityScorer:
    """Scores utterances: one normaliser, a tagger for references without entities, an optional bias list."""

    def __init__(self, normalizer=None, tagger: FinanceTagger | None = None,
                 bias_list: Iterable[str] | None = None) -> None:
        if normalizer is None:
            normalizer = FinanceNormalizer()
        self.normalizer = normalizer
        self._tagger = tagger  # built on first need: most inputs carry their entities
        self.keyphrases: KeyphraseSet | None = (
            compile_keyphrases(bias_list, normalizer) if bias_list is not None else None)

    @property
    def tagger(self) -> FinanceTagger:
        if self._tagger is None:
            self._tagger = FinanceTagger()
        return self._tagger

    def prepare(self, reference: str,
                entities: Sequence[EntitySpan | Mapping[str, Any]] | None = None) -> PreparedReference:
        """Normalise a reference and map its entities (tagging it when ``entities`` is None)."""
        spans = self.tagger.tag(reference) if entities is None else _as_spans(entities)
        return prepare_reference(reference, spans, self.normalizer)

    def score(self, references: Sequence[str | PreparedReference], hypotheses: Sequence[str],
              entities: Sequence[Sequence[EntitySpan | Mapping[str, Any]] | None] | None = None,
              ids: Sequence[str] | None = None, first_index: int = 0) -> list[UtteranceScore]:
        """Score a batch; ``ids`` default to running numbers from ``first_index``."""
        if len(references) != len(hypotheses):
            raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
        if entities is not None and len(entities) != len(references):
            raise ValueError(f"{len(references)} references but {len(entities)} entity lists")
        if ids is not None and len(ids) != len(references):
            raise ValueError(f"{len(references)} references but {len(ids)} ids")
        out = []
        for k, (ref, hyp) in enumerate(zip(references, hypotheses)):
            if not isinstance(ref, PreparedReference):
                ref = self.prepare(ref, entities[k] if entities is not None else None)
            utt_id = str(ids[k]) if ids is not None else str(first_index + k)
            out.append(score_prepared(ref, hyp, self.normalizer, utt_id, self.keyphrases))
        return out


def count_scores(scores: Iterable[UtteranceScore], categories: tuple[str, ...]
                 ) -> tuple[list[int], list[list[int]], list[list[int]], list[int]]:
    """Sum utterance scores into (words, by_category, unseen, keyphrases) count lists; the one counting rule that
    ``EntityTally`` and ``EntityMetric`` share. A category outside ``categories`` counts under OTHER."""
    index = {c: i for i, c in enumerate(categories)}
    other = index[OTHER]
    words = [0] * W_COLUMNS
    cats = [[0] * N_COLUMNS for _ in categories]
    unseen = [[0] * N_COLUMNS for _ in categories]
    kp = [0, 0, 0]
    for u in scores:
        al = u.alignment
        words[W_SUB] += al.substitutions
        words[W_DEL] += al.deletions
        words[W_INS] += al.insertions
        words[W_REF] += len(al.ref)
        words[W_UTTS] += 1
        words[W_UNSCORABLE] += len(u.unscorable)
        words[W_FORMAT] += al.format_only
        fmt = al.fmt_before
        for e in u.entities:
            row = index.get(e.category, other)
            errors, ref_words = e.errors, e.ref_words
            format_only = errors == 0 and fmt[e.word_end] > fmt[e.word_start]
            for table in (cats, unseen) if e.seen is False else (cats,):
                r = table[row]
                r[N_ENTITIES] += 1
                r[N_CORRECT] += errors == 0
                r[N_ERRORS] += errors
                r[N_REF_WORDS] += ref_words
                r[N_FORMAT_ONLY] += format_only
        if u.keyphrases is not None:
            kp[0] += u.keyphrases.hits
            kp[1] += u.keyphrases.false_alarms
            kp[2] += u.keyphrases.misses
    return words, cats, unseen, kp


def _add(a: list, b: list) -> None:
    for i, x in enumerate(b):
        if isinstance(x, list):
            _add(a[i], x)
        else:
            a[i] += x


class EntityTally:
    """Plain-Python accumulator with the same API as ``EntityMetric``: ``update`` / ``compute`` / ``reset`` /
    ``merge``. ``compute()`` returns the report dict."""

    def __init__(self, *, normalizer=None, tagger: FinanceTagger | None = None,
                 bias_list: Iterable[str] | None = None, categories: Sequence[str] = DEFAULT_CATEGORIES,
                 keep_details: bool = True, scorer: EntityScorer | None = None) -> None:
        self.scorer = scorer or EntityScorer(normalizer, tagger, bias_list)
        self.categories = category_vocabulary(categories)
        self.keep_details = keep_details
        self.reset()

    def reset(self) -> None:
        self.words, self.by_category, self.unseen, self.keyphrases = count_scores((), self.categories)
        self.details: list[UtteranceScore] = []
        self._seen_utts = 0

    def prepare(self, reference: str, entities=None) -> PreparedReference:
        return self.scorer.prepare(reference, entities)

    def update(self, references: Sequence[str | PreparedReference], hypotheses: Sequence[str],
               entities: Sequence[Sequence[EntitySpan | Mapping[str, Any]] | None] | None = None,
               ids: Sequence[str] | None = None) -> None:
        scores = self.scorer.score(references, hypotheses, entities, ids, first_index=self._seen_utts)
        self._seen_utts += len(scores)
        for acc, delta in zip((self.words, self.by_category, self.unseen, self.keyphrases),
                              count_scores(scores, self.categories)):
            _add(acc, delta)
        if self.keep_details:
            self.details.extend(scores)

    def merge(self, other: "EntityTally") -> None:
        if other.categories != self.categories:
            raise ValueError("cannot merge tallies with different category vocabularies")
        for acc, delta in zip((self.words, self.by_category, self.unseen, self.keyphrases),
                              (other.words, other.by_category, other.unseen, other.keyphrases)):
            _add(acc, delta)
        self._seen_utts += other._seen_utts
        if self.keep_details:
            self.details.extend(other.details)

    def counts(self) -> Counts:
        return Counts(self.categories, tuple(self.words), tuple(tuple(r) for r in self.by_category),
                      tuple(tuple(r) for r in self.unseen),
                      tuple(self.keyphrases) if self.scorer.keyphrases is not None else None)

    def compute(self, **kwargs: Any) -> dict[str, Any]:
        """The report dict (``report.build_report``; ``kwargs`` go to it)."""
        return build_report(self.counts(), self.details, **kwargs)

