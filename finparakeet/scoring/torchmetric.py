"""``EntityMetric``: the entity counts as torchmetrics states, for the Lightning validation loop.

Same scoring and counting as ``EntityTally`` (``EntityScorer`` + ``count_scores``); only the storage differs: every
count is a ``torch.long`` tensor state with ``dist_reduce_fx="sum"``, so torchmetrics' sync (all-gather + sum) makes
them global. Per-utterance details are a plain list in each process: after a sync the counts are global while
``details`` (and the ``utterances`` of the report) hold this process's utterances only — write reports on rank 0.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import torch
from torchmetrics import Metric

from finparakeet.entities import EntitySpan
from finparakeet.scoring.counts import DEFAULT_CATEGORIES, N_COLUMNS, W_COLUMNS, Counts, category_vocabulary
from finparakeet.scoring.metrics import EntityScorer, count_scores
from finparakeet.scoring.report import build_report
from finparakeet.text.tagger import FinanceTagger
from finparakeet.scoring.utterance import PreparedReference, UtteranceScore


class EntityMetric(Metric):
    """``update(references, hypotheses, entities=None, ids=None)``; ``compute()`` -> the report dict; ``reset()``.

    ``entities[k]``: ``EntitySpan``s (or manifest dicts) over ``references[k]``, or None to tag that reference with
    the finance tagger. A reference may also be a ``PreparedReference``. ``categories`` fixes the rows of the
    per-category states (identical on every process); other categories count under OTHER.

    States: ``words`` [S, D, I, reference words, utterances, unscorable entities, format-only words],
    ``by_category`` and ``unseen`` (category x [entities, correct, errors, reference words, format only]),
    ``keyphrases`` [hits, false alarms, misses] (the ``scoring.counts`` columns).
    """

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(self, *, normalizer=None, tagger: FinanceTagger | None = None,
                 bias_list: Iterable[str] | None = None, categories: Sequence[str] = DEFAULT_CATEGORIES,
                 keep_details: bool = True, scorer: EntityScorer | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scorer = scorer or EntityScorer(normalizer, tagger, bias_list)
        self.categories = category_vocabulary(categories)
        self.keep_details = keep_details
        self.details: list[UtteranceScore] = []
        self._seen_utts = 0
        c = len(self.categories)
        self.add_state("words", default=torch.zeros(W_COLUMNS, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("by_category", default=torch.zeros(c, N_COLUMNS, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("unseen", default=torch.zeros(c, N_COLUMNS, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("keyphrases", default=torch.zeros(3, dtype=torch.long), dist_reduce_fx="sum")

    def prepare(self, reference: str,
                entities: Sequence[EntitySpan | Mapping[str, Any]] | None = None) -> PreparedReference:
        return self.scorer.prepare(reference, entities)

    def update(self, references: Sequence[str | PreparedReference], hypotheses: Sequence[str],
               entities: Sequence[Sequence[EntitySpan | Mapping[str, Any]] | None] | None = None,
               ids: Sequence[str] | None = None) -> None:
        scores = self.scorer.score(references, hypotheses, entities, ids, first_index=self._seen_utts)
        self._seen_utts += len(scores)
        # Counted in Python first: one tensor add per state per batch, not per entity.
        words, cats, unseen, kp = count_scores(scores, self.categories)
        dev = self.words.device
        self.words += torch.tensor(words, dtype=torch.long, device=dev)
        self.by_category += torch.tensor(cats, dtype=torch.long, device=dev)
        self.unseen += torch.tensor(unseen, dtype=torch.long, device=dev)
        self.keyphrases += torch.tensor(kp, dtype=torch.long, device=dev)
        if self.keep_details:
            self.details.extend(scores)

    def counts(self) -> Counts:
        """The states as plain integers (global inside ``compute``, which syncs first when distributed)."""
        return Counts(self.categories, tuple(self.words.tolist()),
                      tuple(tuple(r) for r in self.by_category.tolist()),
                      tuple(tuple(r) for r in self.unseen.tolist()),
                      tuple(self.keyphrases.tolist()) if self.scorer.keyphrases is not None else None)

    def compute(self) -> dict[str, Any]:
        return build_report(self.counts(), self.details)

    def forward(self, *args: Any, **kwargs: Any) -> None:
        # torchmetrics' forward resets and re-merges the states around a per-batch compute, which would drop
        # ``details``; entity scores are per epoch, so forward only accumulates.
        self.update(*args, **kwargs)

    def reset(self) -> None:
        super().reset()
        self.details = []
        self._seen_utts = 0

    def merge_state(self, incoming_state: dict[str, Any] | Metric) -> None:
        """Add another metric's (or a state dict's) counts; another metric's details are appended too."""
        super().merge_state(incoming_state)
        if isinstance(incoming_state, EntityMetric):
            self._seen_utts += incoming_state._seen_utts
            if self.keep_details:
                self.details.extend(incoming_state.details)
