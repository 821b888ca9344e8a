"""Finance-aware text normalisation (no NeMo import)."""

from finparakeet.text.normalizer import FinanceNormalizer, NormWord

__all__ = ["FinanceNormalizer", "NormWord"]
