"""Library entry points: score a manifest, cuts + hypotheses, or Earnings-21, and get the report dict.

All of them score with the same ``EntityScorer``/``count_scores`` as the validation loop's ``EntityMetric`` (through
the torch-free ``EntityTally``), then add the input bookkeeping:
``num_rows_scored``, ``num_skipped`` and ``skipped`` (``[{"source", "line", "id", "kind", "reason"}]``: the rows'
``finparakeet.data.rejects.Reject``).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from finparakeet.biasing.phrases import read_key_phrases
from finparakeet.data import earnings21 as e21
from finparakeet.data.rejects import UNREADABLE, Reject
from finparakeet.entities import EntitySpan
from finparakeet.scoring.counts import DEFAULT_CATEGORIES
from finparakeet.scoring.inputs import ScoringItem, iter_earnings21, normalise_system, read_cuts, read_manifest
from finparakeet.scoring.metrics import EntityScorer, EntityTally
from finparakeet.text.tagger import FinanceTagger

BiasList = str | Path | Sequence[str] | None


def _bias(bias_list: BiasList) -> list[str] | None:
    if bias_list is None:
        return None
    if isinstance(bias_list, (str, Path)):
        return read_key_phrases(bias_list, allow_empty=True)
    return list(bias_list)


def _categories(items: Iterable[ScoringItem]) -> tuple[str, ...]:
    # The metric's category vocabulary: the defaults plus whatever the input uses, so nothing lands in OTHER.
    extra = (e.category for it in items for e in (it.entities or ()))
    return tuple(dict.fromkeys((*DEFAULT_CATEGORIES, *extra)))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a scoring batch, restoring its state after (a nested pause
    leaves it to the outer one). Scoring a corpus allocates millions of small objects (words, alignment chunks,
    report rows) with no reference cycles among them; the collector would scan the growing heap over and over (~15%
    of the time), and frees nothing. Reference counting still frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _finish(report: dict[str, Any], skipped: Sequence[Reject], inputs: dict[str, Any]) -> dict[str, Any]:
    report["num_rows_scored"] = report["num_utterances"]
    report["num_skipped"] = len(skipped)
    report["skipped"] = [s.to_dict() for s in skipped]
    report["inputs"] = inputs
    return report


def score_items(items: Sequence[ScoringItem], *, bias_list: BiasList = None, normalizer=None,
                tagger: FinanceTagger | None = None, skipped: Sequence[Reject] = (),
                inputs: dict[str, Any] | None = None, alignments: bool = True) -> dict[str, Any]:
    """Score reference/hypothesis pairs (entities given, or tagged when None) into the report dict."""
    tally = EntityTally(normalizer=normalizer, tagger=tagger, bias_list=_bias(bias_list),
                        categories=_categories(items))
    with paused_gc():
        tally.update([it.reference for it in items], [it.hypothesis for it in items],
                     entities=[it.entities for it in items], ids=[it.id for it in items])
        return _finish(tally.compute(alignments=alignments), skipped, inputs or {})


def score_manifest(path: str | Path, **kwargs: Any) -> dict[str, Any]:
    """A NeMo manifest with ``text``, ``pred_text`` and optional ``entities`` (see ``score_items`` for options)."""
    with paused_gc():  # one pause for reading and scoring (see paused_gc)
        items, skipped = read_manifest(path)
        return score_items(items, skipped=skipped, inputs={"manifest": str(path)}, **kwargs)


def score_cuts(cuts_path: str | Path, hypotheses_path: str | Path, **kwargs: Any) -> dict[str, Any]:
    """Lhotse cuts plus a hypotheses file of ``{"cut_id", "pred_text"}`` lines."""
    with paused_gc():  # one pause for reading and scoring (see paused_gc)
        items, skipped = read_cuts(cuts_path, hypotheses_path)
        return score_items(items, skipped=skipped,
                           inputs={"cuts": str(cuts_path), "hypotheses": str(hypotheses_path)}, **kwargs)


def score_systems(references: Mapping[str, tuple[str, Sequence[EntitySpan] | None]],
                  hypotheses: Mapping[str, Mapping[str, str]], *, bias_list: BiasList = None, normalizer=None,
                  alignments: bool = True, skipped: Mapping[str, Sequence[Reject]] | None = None,
                  inputs: Mapping[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Score several systems against one set of references: ``references`` id -> (text, entities or None),
    ``hypotheses`` system -> id -> text. Each reference is normalised and mapped to its entities once."""
    scorer = EntityScorer(normalizer, bias_list=_bias(bias_list))
    categories = _categories(ScoringItem(k, "", "", ents) for k, (_, ents) in references.items())
    prepared: dict[str, Any] = {}
    reports = {}
    with paused_gc():
        for system, hyps in hypotheses.items():
            tally = EntityTally(scorer=scorer, categories=categories)
            for utt_id, (text, ents) in references.items():
                if utt_id not in hyps:
                    continue
                if utt_id not in prepared:
                    prepared[utt_id] = scorer.prepare(text, ents)
                tally.update([prepared[utt_id]], [hyps[utt_id]], ids=[utt_id])
            reports[system] = _finish(tally.compute(alignments=alignments), (skipped or {}).get(system, ()),
                                      dict((inputs or {}).get(system, {})))
    return reports


def load_earnings21(root: str | Path, systems: Sequence[str], calls: Sequence[str] | None = None
                    ) -> tuple[dict[str, tuple[str, list[EntitySpan]]], dict[str, dict[str, str]],
                               dict[str, list[Reject]]]:
    """References (call id -> (text, NER sidecar entities)), hypotheses (system -> call id -> text) and, per system,
    what could not be read."""
    call_ids = list(calls) if calls is not None else e21.list_calls(root)
    loaded, failed = {}, []
    for cid in call_ids:
        try:
            loaded[cid] = e21.load_call(root, cid)
        except (OSError, ValueError, KeyError) as e:
            failed.append(Reject(None, UNREADABLE, f"{type(e).__name__}: {e}", cid,
                                 source=f"{root}/transcripts/nlp_references/{cid}.nlp"))
    refs: dict[str, tuple[str, list[EntitySpan]]] = {}
    hyps: dict[str, dict[str, str]] = {}
    skipped: dict[str, list[Reject]] = {}
    for system in systems:
        hyps[system] = {}
        skipped[system] = list(failed)
        for item, skip in iter_earnings21(root, system, list(loaded), loaded):
            if skip:
                skipped[system].append(skip)
                continue
            refs[item.id] = (item.reference, item.entities or [])
            hyps[system][item.id] = item.hypothesis
    # calls order, whichever system first had them
    refs = {cid: refs[cid] for cid in loaded if cid in refs}
    return refs, hyps, skipped


def score_earnings21_systems(root: str | Path, systems: Sequence[str], *, calls: Sequence[str] | None = None,
                             bias_list: BiasList = None, normalizer=None,
                             alignments: bool = True) -> dict[str, dict[str, Any]]:
    """One report per system, each call one utterance (id = call id, entities from the NER sidecar, types as
    they are). Each reference is loaded, normalised and mapped once and scored against every system."""
    # One pause for reading (~1M short-lived objects per system) and scoring: the collector would rescan what
    # survives at the end of each pause.
    with paused_gc():
        refs, hyps, skipped = load_earnings21(root, systems, calls)
        inputs = {s: {"earnings21": str(root), "system": normalise_system(s)} for s in systems}
        return score_systems(refs, hyps, bias_list=bias_list, normalizer=normalizer, alignments=alignments,
                             skipped=skipped, inputs=inputs)


def score_earnings21(root: str | Path, system: str, **kwargs: Any) -> dict[str, Any]:
    """Score one recogniser's output folder (``google``, ``rev/espnet/nlp`` or ``output/google``)."""
    return score_earnings21_systems(root, [system], **kwargs)[system]
