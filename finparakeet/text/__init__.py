"""Finance text: the finance-aware normaliser and the entity tagger (no NeMo import). Sits below scoring and biasing,
which both use it."""

from finparakeet.text.normalizer import FinanceNormalizer, NormWord
from finparakeet.text.tagger import FinanceTagger

__all__ = ["FinanceNormalizer", "FinanceTagger", "NormWord"]
