"""Bias lists (key phrases) for NeMo's phrase boosting, written the way the model writes them.

- ``phrases``: read and write key-phrase files (one phrase per line), per-utterance lists from a manifest field,
  ``EmptyBiasListError``
- ``recase``: re-case UPPERCASE lists (Earnings-21's ``oracle_list.txt``) for a cased model such as Parakeet
- ``build``: a list from the lexicon and/or the entities of transcripts (counts, minimum count, maximum size), and
  per-utterance lists written into a manifest

No NeMo import here: building a list needs neither a model nor a GPU.
"""

from finparakeet.biasing.build import (BiasList, BiasListConfig, build_bias_list, lexicon_phrases, write_bias_list,
                                       write_per_utterance_lists)
from finparakeet.biasing.phrases import (PER_UTTERANCE_FIELDS, EmptyBiasListError, clean_phrases, phrases_from_field,
                                         read_key_phrases, row_phrases, write_key_phrases)
from finparakeet.biasing.recase import RECASE_MODES, CaseIndex, recase_phrase, recase_phrases

__all__ = [
    "BiasList", "BiasListConfig", "build_bias_list", "lexicon_phrases", "write_bias_list", "write_per_utterance_lists",
    "PER_UTTERANCE_FIELDS", "EmptyBiasListError", "clean_phrases", "phrases_from_field", "read_key_phrases",
    "row_phrases", "write_key_phrases",
    "RECASE_MODES", "CaseIndex", "recase_phrase", "recase_phrases",
]
