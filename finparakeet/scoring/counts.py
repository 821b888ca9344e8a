"""The counts a scoring run sums, their names, and the rates derived from them (shared by the accumulators in
``metrics``/``torchmetric`` and by ``report``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from finparakeet.entities import FINANCE_CATEGORIES

# Earnings-21's NER sidecar types (kept as they are when entities come from it).
EARNINGS21_TYPES: tuple[str, ...] = (
    "ABBREVIATION", "ALPHANUMERIC", "CARDINAL", "CONTRACTION", "DATE", "EVENT", "FAC", "FALLBACK", "GPE", "LANGUAGE",
    "LAW", "LOC", "MONEY", "NORP", "ORDINAL", "ORG", "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "RANGE", "TIME",
    "TWITTER", "WEBSITE", "WORK_OF_ART", "YEAR",
)
OTHER = "OTHER"  # the count bucket for a category outside the metric's vocabulary
DEFAULT_CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(FINANCE_CATEGORIES + EARNINGS21_TYPES))

# Columns of the per-category count tensors. N_FORMAT_ONLY: correct entities with a format difference (a missing
# currency, ``scoring.align``), counted among the correct ones too.
N_ENTITIES, N_CORRECT, N_ERRORS, N_REF_WORDS, N_FORMAT_ONLY = range(5)
N_COLUMNS = 5
# Entries of the word count tensor (W_FORMAT: reference words equal but for a missing currency, not errors).
W_SUB, W_DEL, W_INS, W_REF, W_UTTS, W_UNSCORABLE, W_FORMAT = range(7)
W_COLUMNS = 7


@dataclass(frozen=True)
class Counts:
    """Plain-integer snapshot of an ``EntityMetric``'s states (what the report is built from)."""

    categories: tuple[str, ...]  # row names of ``by_category`` / ``unseen``, OTHER last
    words: tuple[int, ...]  # W_* entries
    by_category: tuple[tuple[int, ...], ...]  # per category: N_* columns
    unseen: tuple[tuple[int, ...], ...]
    keyphrases: tuple[int, int, int] | None  # hits, false alarms, misses; None without a bias list


def rates(num_entities: int, correct: int, errors: int, ref_words: int, format_only: int = 0) -> dict[str, Any]:
    """The report's per-group numbers (rates are None where there is nothing to divide)."""
    return {
        "entity_wer": errors / ref_words if ref_words else None,
        "entity_accuracy": correct / num_entities if num_entities else None,
        "num_entities": num_entities,
        "errors": errors,
        "ref_words": ref_words,
        "format_only": format_only,
    }


def category_vocabulary(categories: Sequence[str]) -> tuple[str, ...]:
    """The categories as count rows: deduplicated, OTHER last."""
    return tuple(c for c in dict.fromkeys(categories) if c != OTHER) + (OTHER,)


