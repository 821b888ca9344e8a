"""The review queue: every entity of a transcript with its confidence, least confident first, and where to listen.

Input: transcript rows (``pred_text`` and a ``word`` list of ``{"word", "start", "end", "confidence"}``, one per word
of ``pred_text.split()``, as ``recipes/transcribe.py confidence=true`` writes them), optionally with a reference
``text`` (and ``entities``).

- Without a reference, the entities are the tagger's on the hypothesis (``source: "hypothesis"``).
- With one, every reference entity is scored by the scorer's one alignment (``scoring.utterance``) and takes the
  confidence of the hypothesis words aligned to it (``source: "reference"``, with ``reference`` and ``correct``);
  hypothesis entities whose words no reference entity took are kept too, ``correct`` unknown (None): the reference
  has no entity there (a hallucinated one, or a span the reference's entity list lacks).

An entity's confidence aggregates its words' (``confidence.aggregate``); its ``start``/``end`` are its words' times in
the audio file (the row's ``offset`` added), so a reviewer can jump there.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from finparakeet.data.rejects import InvalidCut, Reject
from finparakeet.data.rows import read_rows, resolve_audio_path, row_entities, row_id
from finparakeet.scoring.confidence import (AGGREGATIONS, DEFAULT_AGGREGATION, Calibration, aggregate,
                                           confidence_metrics, fit_calibration, reliability_bins)
from finparakeet.scoring.metrics import EntityScorer
from finparakeet.scoring.utterance import normalize_arrays

REVIEW_JSONL, REVIEW_CSV = "review.jsonl", "review.csv"
REVIEW_ROWS = 200  # the head of the queue the entity report (JSON and HTML page) lists; review.jsonl has it all
# A reference entity whose words were all deleted: the recogniser wrote nothing for it, so no word carries any
# evidence that it was heard. Confidence 0 says exactly that and puts it at the head of the queue (it is certainly
# wrong). It can only exist with a reference, so the metrics also report AUROC without such entities
# (``auroc_heard``): the figure a deployment without references can hope for.
DELETED_CONFIDENCE = 0.0
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ReviewItem:
    """One entity to review. ``text``: as the transcript writes it ("" when all its words were deleted)."""

    id: str  # the row's utterance or recording id
    audio_filepath: str | None
    text: str
    category: str
    confidence: float  # raw: aggregated NeMo word confidence
    start: float | None  # seconds in the audio file
    end: float | None
    source: str  # hypothesis | reference
    reference: str | None = None  # the reference entity as written (with a reference)
    correct: bool | None = None  # the scorer's verdict (None: no reference entity there)
    calibrated_confidence: float | None = None
    line: int = 0  # the row's line in the transcript manifest


def _word_confidence(row: Mapping[str, Any], line: int) -> list[dict[str, Any]]:
    words = row.get("word")
    if not isinstance(words, list) or any("confidence" not in w for w in words):
        raise ValueError(f"line {line}: the row has no word confidence (transcribe with confidence=true)")
    if len(words) != len(_WORD.findall(row.get("pred_text") or "")):
        raise ValueError(f"line {line}: {len(words)} words with confidence for the "
                         f"{len(_WORD.findall(row.get('pred_text') or ''))} words of pred_text")
    return words


def _overlapping(spans: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    return [k for k, (s, e) in enumerate(spans) if s < end and e > start]


def _timed(words: Sequence[Mapping[str, Any]], idx: Sequence[int], offset: float) -> tuple[float | None, float | None]:
    if not idx:
        return None, None
    return (round(offset + float(words[idx[0]]["start"]), 3), round(offset + float(words[idx[-1]]["end"]), 3))


def utterance_items(row: Mapping[str, Any], line: int, scorer: EntityScorer, how: str = DEFAULT_AGGREGATION,
                    references: bool = True, manifest_dir: str | Path | None = None) -> list[ReviewItem]:
    """The review items of one transcript row (see the module docstring); ``references=False`` ignores ``text``;
    ``manifest_dir``: the input manifest's folder, against which a relative ``audio_filepath`` is resolved as NeMo
    does (``data.rows.resolve_audio_path``), so the item names a file a reviewer (or the HTML page) can open."""
    words = _word_confidence(row, line)
    hyp = row.get("pred_text") or ""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(hyp)]
    conf = [float(w["confidence"]) for w in words]
    offset = float(row.get("offset") or 0.0)
    audio = row.get("audio_filepath")
    if isinstance(audio, str) and manifest_dir is not None:
        audio = resolve_audio_path(audio, manifest_dir)
    base = {"id": row_id(row, line), "audio_filepath": audio, "line": line}
    items: list[ReviewItem] = []
    taken: set[int] = set()
    ref = row.get("text") if references else None
    if isinstance(ref, str):
        try:
            ents = row_entities(row)
        except InvalidCut as e:
            raise ValueError(f"line {line}: {e}") from e
        score = scorer.score([ref], [hyp], [ents] if ents is not None else None, [base["id"]])[0]
        _, h_starts, h_ends = normalize_arrays(scorer.normalizer, hyp)
        al = score.alignment
        for e in score.entities:
            a, b = al.hyp_from[e.word_start], al.hyp_to[e.word_end - 1]
            if b > a:  # the raw words under the aligned normalised words' characters
                idx = _overlapping(spans, h_starts[a], max(h_ends[a:b]))
                c = aggregate([conf[k] for k in idx], how)
                start, end = _timed(words, idx, offset)
            else:  # all deleted: DELETED_CONFIDENCE, and the gap between the neighbouring words as its place
                idx, c = [], DELETED_CONFIDENCE
                before = [k for k, (s, _) in enumerate(spans) if a > 0 and s < h_ends[a - 1]]
                after = [k for k, (s, _) in enumerate(spans) if a < len(h_starts) and s >= h_starts[a]]
                start = round(offset + float(words[before[-1]]["end"]), 3) if before else round(offset, 3)
                end = round(offset + float(words[after[0]]["start"]), 3) if after else start
            taken.update(idx)
            items.append(ReviewItem(text=e.hyp, category=e.category, confidence=c, start=start, end=end,
                                    source="reference", reference=e.ref, correct=e.correct, **base))
    for span in scorer.tagger.tag(hyp):
        idx = _overlapping(spans, span.start, span.end)
        if not idx or taken.intersection(idx):
            continue
        start, end = _timed(words, idx, offset)
        items.append(ReviewItem(text=span.text, category=span.category, confidence=aggregate([conf[k] for k in idx], how),
                                start=start, end=end, source="hypothesis", **base))
    return items


def review_items(rows: Iterable[Mapping[str, Any]], how: str = DEFAULT_AGGREGATION,
                 calibration: Calibration | None = None, scorer: EntityScorer | None = None, references: bool = True,
                 manifest_dir: str | Path | None = None) -> list[ReviewItem]:
    """Every row's review items, in row order, calibrated when ``calibration`` is given (``manifest_dir``: see
    ``utterance_items``)."""
    if calibration is not None and calibration.aggregation not in (None, how):
        raise ValueError(f"the calibration was fitted on {calibration.aggregation!r} entity confidence, not {how!r}: "
                         "fit one for this aggregation")
    scorer = scorer or EntityScorer()
    items = [it for line, row in enumerate(rows, 1)
             for it in utterance_items(row, line, scorer, how, references, manifest_dir)]
    if calibration is not None and items:
        cal = calibration.apply([it.confidence for it in items])
        items = [ReviewItem(**{**asdict(it), "calibrated_confidence": round(float(p), 6)}) for it, p in zip(items, cal)]
    return items


def review_queue(items: Iterable[ReviewItem]) -> list[ReviewItem]:
    """Least confident first (calibrated confidence when there is one: it is monotone in the raw one for isotonic and
    temperature maps, up to isotonic ties); then by id and time, so equal confidence keeps transcript order."""
    def key(it: ReviewItem):
        c = it.calibrated_confidence if it.calibrated_confidence is not None else it.confidence
        return (c, it.confidence, it.line, it.start if it.start is not None else 0.0)
    return sorted(items, key=key)


def write_review(queue: Sequence[ReviewItem], directory: str | Path, prefix: str = "") -> dict[str, Path]:
    """``review.jsonl`` and ``review.csv`` (the same records and columns) in ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"jsonl": out / f"{prefix}{REVIEW_JSONL}", "csv": out / f"{prefix}{REVIEW_CSV}"}
    with open(paths["jsonl"], "w", encoding="utf-8") as f:
        f.writelines(json.dumps(asdict(it), ensure_ascii=False) + "\n" for it in queue)
    with open(paths["csv"], "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[fl.name for fl in fields(ReviewItem)])
        w.writeheader()
        w.writerows(asdict(it) for it in queue)
    return paths


def read_review(path: str | Path) -> list[ReviewItem]:
    """The records of a ``review.jsonl``."""
    return [ReviewItem(**json.loads(line)) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]


def confidence_section(items: Sequence[ReviewItem], how: str, calibration: Calibration | None = None
                       ) -> dict[str, Any] | None:
    """The report's ``confidence`` section: how well confidence finds the reference entities' errors (None without
    scored reference entities)."""
    scored = [it for it in items if it.source == "reference"]
    if not scored:
        return None
    conf = [it.confidence for it in scored]
    ok = [bool(it.correct) for it in scored]
    cal = [it.calibrated_confidence for it in scored] if calibration is not None else None
    section = {"aggregation": how, **confidence_metrics(conf, ok, cal)}
    heard = [it for it in scored if it.text]
    section["num_deleted"] = len(scored) - len(heard)
    section["auroc_heard"] = confidence_metrics([it.confidence for it in heard],
                                                [bool(it.correct) for it in heard])["auroc"] if heard else None
    section["num_unmatched_hypothesis_entities"] = sum(it.source == "hypothesis" for it in items)
    if calibration is not None:
        section["calibration"] = {"method": calibration.method, "fitted_on": calibration.fitted_on}
    section["categories"] = _category_confidence(scored)
    section["reliability"] = {"bins": reliability_bins(conf, ok)}
    if cal is not None:
        section["reliability"]["bins_calibrated"] = reliability_bins(cal, ok)
    return section


def _category_confidence(scored: Sequence[ReviewItem]) -> dict[str, dict[str, Any]]:
    """Per category: the number of reference entities and their mean (and mean calibrated) confidence."""
    groups: dict[str, list[ReviewItem]] = {}
    for it in scored:
        groups.setdefault(it.category, []).append(it)
    out = {}
    for cat, its in groups.items():
        g: dict[str, Any] = {"num_entities": len(its), "mean_confidence": sum(it.confidence for it in its) / len(its)}
        if its[0].calibrated_confidence is not None:
            g["mean_calibrated_confidence"] = sum(it.calibrated_confidence or 0.0 for it in its) / len(its)
        out[cat] = g
    return out


def review_section(queue: Sequence[ReviewItem], limit: int = REVIEW_ROWS) -> dict[str, Any]:
    """The report's ``review`` section: the head of the queue (its ``limit`` least confident items, as in
    ``review.jsonl``) that the HTML page lists with an audio player at each entity, and the queue's length."""
    return {"num_items": len(queue), "items": [asdict(it) for it in queue[:limit]]}


def report_sections(queue: Sequence[ReviewItem], how: str, calibration: Calibration | None = None,
                    limit: int = REVIEW_ROWS) -> dict[str, Any]:
    """What a queue adds to the entity report: ``confidence`` (``confidence_section``: metrics, per-category mean
    confidence, reliability bins) and ``review`` (``review_section``: the page's table)."""
    return {"confidence": confidence_section(queue, how, calibration), "review": review_section(queue, limit)}


def read_transcript(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a transcript manifest (``ValueError`` naming the first unreadable line)."""
    rows = []
    for row in read_rows(path):
        if isinstance(row, Reject):
            raise ValueError(f"{path}:{row.line}: {row.reason}")
        rows.append(row.fields)
    return rows


def compare_aggregations(rows: Sequence[Mapping[str, Any]], scorer: EntityScorer | None = None
                         ) -> dict[str, dict[str, Any]]:
    """The confidence metrics of each entity aggregation on the same rows: how the default is chosen on dev data."""
    scorer = scorer or EntityScorer()
    return {how: confidence_section(review_items(rows, how, scorer=scorer), how) or {} for how in AGGREGATIONS}


def fit_from_transcript(path: str | Path, method: str = "isotonic", how: str = DEFAULT_AGGREGATION) -> Calibration:
    """A calibration fitted on the reference entities of a dev transcript (``confidence=true``, with references)."""
    items = [it for it in review_items(read_transcript(path), how) if it.source == "reference"]
    if not items:
        raise ValueError(f"{path}: no reference entity to fit on (rows need a reference `text`, transcribed "
                         "with confidence=true)")
    return fit_calibration([it.confidence for it in items], [bool(it.correct) for it in items], method,
                           aggregation=how, source=str(path))
