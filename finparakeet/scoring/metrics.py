"""Entity metrics: WER, entity WER, entity accuracy, per category, unseen entities, key phrases.

Definitions (DESIGN.md, "Entity scoring"), all on normalised words:

- WER = (S + D + I) / reference words, summed over utterances.
- entity WER = errors inside entity spans / entity reference words (fstalign's definition); an entity's errors are
  its substitutions and deletions plus insertions between its words (``finparakeet.scoring.align``).
- entity accuracy = share of entities with zero errors.
- per category, and over entities marked ``seen: false`` ("unseen");
- key phrases: see ``finparakeet.scoring.keyphrases``.

``EntityMetric`` keeps every count in a torch tensor state with sum reduction (torchmetrics ``Metric``), so a
Lightning validation loop can sync it across processes; per-utterance details stay in the process that scored them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import torch
from torchmetrics import Metric

from finparakeet.entities import FINANCE_CATEGORIES, EntitySpan, parse_entities
from finparakeet.scoring.keyphrases import KeyphraseSet, compile_keyphrases
from finparakeet.scoring.tagger import FinanceTagger
from finparakeet.scoring.utterance import PreparedReference, UtteranceScore, prepare_reference, score_prepared

# Earnings-21's NER sidecar types (kept as they are when entities come from it).
EARNINGS21_TYPES: tuple[str, ...] = (
    "ABBREVIATION", "ALPHANUMERIC", "CARDINAL", "CONTRACTION", "DATE", "EVENT", "FAC", "FALLBACK", "GPE", "LANGUAGE",
    "LAW", "LOC", "MONEY", "NORP", "ORDINAL", "ORG", "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "RANGE", "TIME",
    "TWITTER", "WEBSITE", "WORK_OF_ART", "YEAR",
)
OTHER = "OTHER"  # the count bucket for a category outside the metric's vocabulary
DEFAULT_CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(FINANCE_CATEGORIES + EARNINGS21_TYPES))

# Columns of the per-category count tensors.
N_ENTITIES, N_CORRECT, N_ERRORS, N_REF_WORDS = range(4)
# Entries of the word count tensor.
W_SUB, W_DEL, W_INS, W_REF, W_UTTS, W_UNSCORABLE = range(6)


@dataclass(frozen=True)
class Counts:
    """Plain-integer snapshot of an ``EntityMetric``'s states (what the report is built from)."""

    categories: tuple[str, ...]  # row names of ``by_category`` / ``unseen``, OTHER last
    words: tuple[int, ...]  # W_* entries
    by_category: tuple[tuple[int, ...], ...]  # per category: N_* columns
    unseen: tuple[tuple[int, ...], ...]
    keyphrases: tuple[int, int, int] | None  # hits, false alarms, misses; None without a bias list


def rates(num_entities: int, correct: int, errors: int, ref_words: int) -> dict[str, Any]:
    """The report's per-group numbers (rates are None where there is nothing to divide)."""
    return {
        "entity_wer": errors / ref_words if ref_words else None,
        "entity_accuracy": correct / num_entities if num_entities else None,
        "num_entities": num_entities,
        "errors": errors,
        "ref_words": ref_words,
    }


class EntityMetric(Metric):
    """Accumulates entity scores over batches; ``compute()`` returns the report dict (``report.build_report``).

    ``update(references, hypotheses, entities=None, ids=None)``: ``entities[k]`` is a list of ``EntitySpan`` (or
    manifest dicts) over ``references[k]``, or None to tag that reference with the finance tagger. A reference may
    also be a ``PreparedReference`` (normalised once, scored against several hypotheses).

    States (all summed across processes): ``words`` (S, D, I, reference words, utterances, unscorable entities),
    ``by_category`` and ``unseen`` (category x [entities, correct, errors, reference words]) and ``keyphrases``
    (hits, false alarms, misses). ``details`` (per-utterance ``UtteranceScore``) is a plain list kept by each process;
    after a distributed sync the counts are global while ``details`` hold this process's utterances only.
    """

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(self, *, normalizer=None, tagger: FinanceTagger | None = None,
                 bias_list: Iterable[str] | None = None, categories: Sequence[str] = DEFAULT_CATEGORIES,
                 keep_details: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if normalizer is None:
            from finparakeet.text import FinanceNormalizer
            normalizer = FinanceNormalizer()
        self.normalizer = normalizer
        self._tagger = tagger  # built on first need: most inputs carry their entities
        self.keyphrase_set: KeyphraseSet | None = (
            compile_keyphrases(bias_list, normalizer) if bias_list is not None else None)
        self.categories: tuple[str, ...] = tuple(c for c in dict.fromkeys(categories) if c != OTHER) + (OTHER,)
        self._cat_index = {c: i for i, c in enumerate(self.categories)}
        self.keep_details = keep_details
        self.details: list[UtteranceScore] = []
        c = len(self.categories)
        self.add_state("words", default=torch.zeros(6, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("by_category", default=torch.zeros(c, 4, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("unseen", default=torch.zeros(c, 4, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("keyphrases", default=torch.zeros(3, dtype=torch.long), dist_reduce_fx="sum")

    @property
    def tagger(self) -> FinanceTagger:
        if self._tagger is None:
            self._tagger = FinanceTagger()
        return self._tagger

    def prepare(self, reference: str, entities: Sequence[EntitySpan | Mapping[str, Any]] | None) -> PreparedReference:
        """Normalise a reference and map its entities (tagging it when ``entities`` is None)."""
        if entities is None:
            spans = self.tagger.tag(reference)
        else:
            spans = [e if isinstance(e, EntitySpan) else parse_entities([e])[0] for e in entities]
        return prepare_reference(reference, spans, self.normalizer)

    def update(self, references: Sequence[str | PreparedReference], hypotheses: Sequence[str],
               entities: Sequence[Sequence[EntitySpan | Mapping[str, Any]] | None] | None = None,
               ids: Sequence[str] | None = None) -> None:
        if len(references) != len(hypotheses):
            raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
        if entities is not None and len(entities) != len(references):
            raise ValueError(f"{len(references)} references but {len(entities)} entity lists")
        # Sum in Python first: one tensor add per state per batch, not per entity.
        words = [0] * 6
        cats = [[0] * 4 for _ in self.categories]
        unseen = [[0] * 4 for _ in self.categories]
        kp = [0, 0, 0]
        for k, (ref, hyp) in enumerate(zip(references, hypotheses)):
            if not isinstance(ref, PreparedReference):
                ref = self.prepare(ref, entities[k] if entities is not None else None)
            utt_id = str(ids[k]) if ids is not None else str(len(self.details) + k)
            u = score_prepared(ref, hyp, self.normalizer, utt_id, self.keyphrase_set)
            al = u.alignment
            words[W_SUB] += al.substitutions
            words[W_DEL] += al.deletions
            words[W_INS] += al.insertions
            words[W_REF] += len(al.ref)
            words[W_UTTS] += 1
            words[W_UNSCORABLE] += len(u.unscorable)
            for e in u.entities:
                row = self._cat_index.get(e.category, len(self.categories) - 1)
                for table in (cats, unseen) if e.seen is False else (cats,):
                    r = table[row]
                    r[N_ENTITIES] += 1
                    r[N_CORRECT] += e.errors == 0
                    r[N_ERRORS] += e.errors
                    r[N_REF_WORDS] += e.ref_words
            if u.keyphrases is not None:
                kp[0] += u.keyphrases.hits
                kp[1] += u.keyphrases.false_alarms
                kp[2] += u.keyphrases.misses
            if self.keep_details:
                self.details.append(u)
        dev = self.words.device
        self.words += torch.tensor(words, dtype=torch.long, device=dev)
        self.by_category += torch.tensor(cats, dtype=torch.long, device=dev)
        self.unseen += torch.tensor(unseen, dtype=torch.long, device=dev)
        self.keyphrases += torch.tensor(kp, dtype=torch.long, device=dev)

    def counts(self) -> Counts:
        """The current (this process's, or synced when called inside ``compute``) counts as plain integers."""
        return Counts(self.categories, tuple(self.words.tolist()),
                      tuple(tuple(r) for r in self.by_category.tolist()),
                      tuple(tuple(r) for r in self.unseen.tolist()),
                      tuple(self.keyphrases.tolist()) if self.keyphrase_set is not None else None)

    def compute(self) -> dict[str, Any]:
        from finparakeet.scoring.report import build_report  # report imports this module's helpers
        return build_report(self.counts(), self.details)

    def forward(self, *args: Any, **kwargs: Any) -> None:
        # torchmetrics' forward resets and re-merges tensor states per batch, which would drop ``details``;
        # entity scores are only meaningful per epoch, so forward just accumulates.
        self.update(*args, **kwargs)

    def reset(self) -> None:
        super().reset()
        self.details = []

    def merge_state(self, incoming_state: dict[str, Any] | Metric) -> None:
        """Add another metric's (or a state dict's) counts; a metric's details are appended too."""
        super().merge_state(incoming_state)
        if isinstance(incoming_state, EntityMetric) and self.keep_details:
            self.details.extend(incoming_state.details)
