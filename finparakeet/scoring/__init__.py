"""Finance entity scoring: alignment, metrics, reports (DESIGN.md, "Entity scoring"). Never imports NeMo;
imports torch only for ``EntityMetric`` (loaded on first access).

    from finparakeet.scoring import score_manifest, write_reports
    report = score_manifest("transcribed.json", bias_list="bias.txt")
    write_reports(report, "out/")

    metric = EntityMetric()                       # Lightning validation: torch states, sum-reduced
    metric.update(refs, hyps, entities=spans)     # spans per utterance, or None to tag the reference
    report = metric.compute(); metric.reset()
"""

from finparakeet.scoring.align import Alignment, SpanAlignment, align_words
from finparakeet.scoring.api import (load_earnings21, score_cuts, score_earnings21, score_earnings21_systems,
                                     score_items, score_manifest, score_systems)
from finparakeet.scoring.html import to_html
from finparakeet.scoring.inputs import ScoringItem, read_cuts, read_earnings21, read_manifest
from finparakeet.scoring.keyphrases import KeyphraseSet, compile_keyphrases
from finparakeet.scoring.counts import DEFAULT_CATEGORIES, EARNINGS21_TYPES, Counts
from finparakeet.scoring.metrics import EntityScorer, EntityTally, count_scores
from finparakeet.scoring.plain import PlainNormalizer
from finparakeet.scoring.report import build_report, flat_scalars, summary_lines, to_markdown, write_reports
from finparakeet.scoring.utterance import (EntityResult, PreparedReference, UtteranceScore, prepare_reference,
                                           score_prepared, score_utterance)

__all__ = [
    "Alignment", "SpanAlignment", "align_words",
    "load_earnings21", "score_cuts", "score_earnings21", "score_earnings21_systems", "score_items", "score_manifest",
    "score_systems",
    "to_html", "ScoringItem", "read_cuts", "read_earnings21", "read_manifest",
    "KeyphraseSet", "compile_keyphrases",
    "DEFAULT_CATEGORIES", "EARNINGS21_TYPES", "Counts", "EntityScorer", "EntityTally", "count_scores", "EntityMetric",
    "PlainNormalizer", "build_report", "flat_scalars", "summary_lines", "to_markdown", "write_reports",
    "EntityResult", "PreparedReference", "UtteranceScore", "prepare_reference", "score_prepared",
    "score_utterance",
]


def __getattr__(name: str):
    # EntityMetric pulls in torch + torchmetrics (~3 s): the evaluate recipe and the benchmark never need it.
    if name == "EntityMetric":
        from finparakeet.scoring.torchmetric import EntityMetric
        return EntityMetric
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
