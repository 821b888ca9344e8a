"""Finance entity scoring: tagger, alignment, metrics, reports (DESIGN.md, "Entity scoring"). Never imports NeMo.

    from finparakeet.scoring import EntityMetric, score_manifest, write_reports
    report = score_manifest("transcribed.json", bias_list="bias.txt")
    write_reports(report, "out/")
"""

from finparakeet.scoring.align import Alignment, SpanAlignment, align_words
from finparakeet.scoring.api import (score_cuts, score_earnings21, score_earnings21_systems, score_items,
                                     score_manifest)
from finparakeet.scoring.inputs import ScoringItem, Skipped, read_cuts, read_earnings21, read_manifest
from finparakeet.scoring.keyphrases import KeyphraseSet, compile_keyphrases, read_bias_list
from finparakeet.scoring.metrics import DEFAULT_CATEGORIES, EARNINGS21_TYPES, Counts, EntityMetric
from finparakeet.scoring.report import build_report, flat_scalars, to_markdown, write_reports
from finparakeet.scoring.html import to_html
from finparakeet.scoring.tagger import FinanceTagger
from finparakeet.scoring.utterance import (EntityResult, PreparedReference, UtteranceScore, prepare_reference,
                                           score_prepared, score_utterance)

__all__ = [
    "Alignment", "SpanAlignment", "align_words", "score_cuts", "score_earnings21", "score_earnings21_systems",
    "score_items", "score_manifest", "ScoringItem", "Skipped", "read_cuts", "read_earnings21", "read_manifest",
    "KeyphraseSet", "compile_keyphrases", "read_bias_list", "DEFAULT_CATEGORIES", "EARNINGS21_TYPES", "Counts",
    "EntityMetric", "build_report", "flat_scalars", "to_markdown", "write_reports", "to_html", "FinanceTagger",
    "EntityResult", "PreparedReference", "UtteranceScore", "prepare_reference", "score_prepared", "score_utterance",
]
