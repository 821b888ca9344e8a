"""The experiment's goals (issues 6, 13, 14 and 15), each judged on the numbers it names; ``met`` is None when a system
or a decode it needs is missing (never a guess). Every figure is from the finance *test* split or the general test;
the weights behind them were chosen on dev. The speed goals (LM fusion <= 1.3x, confidence <= 1.2x the decode without)
are the benchmarks' (``bench/bench_lm.py``, ``bench/bench_confidence.py``: both modes in one process, warmed up and
alternated), not judged here: the experiment decodes each input once, in whichever sitting, under whatever load."""

from __future__ import annotations

from typing import Any, Mapping

from finparakeet.entities import ORG, PERSON, TICKER
from finparakeet.experiment.decodes import HELDOUT, SEEN
from finparakeet.scoring.report import nested

__all__ = ["evaluate_goals", "NAME_CATEGORIES"]

NAME_CATEGORIES = (ORG, TICKER, PERSON)  # what a call's prep sheet names: issue 13's per-call boosting goal


def _judged(met: Any, **numbers: Any) -> dict[str, Any]:
    return {"met": met, **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in numbers.items()}}


def _below_all(value: float | None, others: Mapping[str, float | None]) -> bool | None:
    if value is None or not others or any(v is None for v in others.values()):
        return None
    return all(value < v for v in others.values())


def _issue6(systems: Mapping[str, Mapping[str, Any]], roles: Mapping[str, str | None]) -> dict[str, dict[str, Any]]:
    """The issue-6 goals that still apply: the base's WER, and per adapted system: beats base and scratch without a
    list, general WER cost, adapters switched off give the base back."""
    base, scratch = systems.get(roles.get("base") or ""), systems.get(roles.get("scratch") or "")
    base_wer = nested(base, "general", "none", "wer")
    goals = {"general_base_wer_le_0.20": _judged(None if base_wer is None else base_wer <= 0.20, general_wer=base_wer)}
    b_ew, s_ew = nested(base, "finance", "none", "entity_wer"), nested(scratch, "finance", "none", "entity_wer")
    for key, s in systems.items():
        if not s.get("adapted"):
            continue
        ew, gw = nested(s, "finance", "none", "entity_wer"), nested(s, "general", "none", "wer")
        goals[f"{key}_beats_base_and_scratch"] = _judged(
            None if None in (ew, b_ew, s_ew) else ew < b_ew and ew < s_ew,
            entity_wer=ew, base_entity_wer=b_ew, scratch_entity_wer=s_ew)
        goals[f"{key}_general_wer_cost_le_2_points"] = _judged(
            None if None in (gw, base_wer) else gw - base_wer <= 0.02, general_wer=gw, base_general_wer=base_wer)
        if s.get("adapters_off") is not None:
            off = s["adapters_off"]
            goals[f"{key}_adapters_off_equals_base"] = _judged(off["equal"], **off)
    return goals


def _issue13(systems: Mapping[str, Mapping[str, Any]], roles: Mapping[str, str | None]) -> dict[str, dict[str, Any]]:
    goals: dict[str, dict[str, Any]] = {}
    best = systems.get(roles.get("best") or "")
    competitors = {"base": (roles.get("base"), ("none", "per_call")),
                   "scratch": (roles.get("scratch"), ("none", "per_call")),
                   "whisper": (roles.get("whisper"), ("none", "per_call", "per_call_prompt"))}
    for voices, name in ((SEEN, "seen"), (HELDOUT, "heldout")):
        mine = nested(best, "finance", "per_call", "voices", voices, "entity_wer")
        others = {f"{who}_{mode}": nested(systems.get(key or ""), "finance", mode, "voices", voices, "entity_wer")
                  for who, (key, modes) in competitors.items() for mode in modes}
        goals[f"best_adapted_per_call_beats_base_scratch_whisper_{name}_voices"] = _judged(
            _below_all(mine, others), system=roles.get("best"), entity_wer=mine, **others)
    none, per_call = nested(best, "finance", "none"), nested(best, "finance", "per_call")
    drops = {}
    for cat in NAME_CATEGORIES:
        a, b = (nested(r, "categories", cat, "entity_wer") for r in (none, per_call))
        drops[f"{cat}_relative_drop"] = None if a is None or b is None or a == 0 else (a - b) / a
    judged = [d for d in drops.values() if d is not None]
    goals["best_adapted_per_call_cuts_org_ticker_person_25pct"] = _judged(
        all(d >= 0.25 for d in judged) if judged else None, system=roles.get("best"), **drops)
    prec, hits = nested(per_call, "keyphrases", "precision"), nested(per_call, "keyphrases", "hits")
    # No hit at all is no evidence: precision is 1 by convention when nothing was written.
    goals["best_adapted_per_call_keyphrase_precision_ge_0.9"] = _judged(
        None if per_call is None else bool(hits) and prec is not None and prec >= 0.9, precision=prec, hits=hits)
    w0, w1 = nested(none, "wer"), nested(per_call, "wer")
    goals["best_adapted_per_call_wer_not_worse"] = _judged(None if None in (w0, w1) else w1 <= w0,
                                                           wer_no_list=w0, wer_per_call=w1)
    base_wer = nested(systems.get(roles.get("base") or ""), "general", "none", "wer")
    rw = nested(systems.get(roles.get("replay") or ""), "general", "none", "wer")
    goals["replay_general_wer_cost_le_2_points"] = _judged(
        None if None in (rw, base_wer) else rw - base_wer <= 0.02, system=roles.get("replay"), general_wer=rw,
        base_general_wer=base_wer)
    return goals


def _issue14(systems: Mapping[str, Mapping[str, Any]], roles: Mapping[str, str | None],
             lm: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    base, best = systems.get(roles.get("base") or ""), systems.get(roles.get("best") or "")
    b0, b_lm = nested(base, "finance", "none", "entity_wer"), nested(base, "finance", "lm", "entity_wer")
    goals = {"text_only_lm_cuts_base_entity_wer_15pct": _judged(
        None if None in (b0, b_lm) else b_lm <= 0.85 * b0, base_entity_wer=b0, base_lm_entity_wer=b_lm)}
    mine = nested(best, "finance", "lm_per_call", "entity_wer")
    mine_key = (roles.get("best"), "lm_per_call")
    others = {f"{key}/{mode}": r.get("entity_wer") for key, s in systems.items()
              for mode, r in (s.get("finance") or {}).items() if (key, mode) != mine_key}
    runner_up = min(others, key=lambda k: others[k]) if others else None
    goals["best_adapted_lm_per_call_best_entity_wer_of_the_table"] = _judged(
        None if mine is None or not others else all(mine < v for v in others.values()), system=roles.get("best"),
        entity_wer=mine, next_best=runner_up, next_best_entity_wer=others.get(runner_up) if runner_up else None)
    build = nested(lm, "build_seconds")
    goals["lm_build_under_a_minute"] = _judged(None if build is None else build < 60, build_seconds=build)
    return goals


def _issue15(systems: Mapping[str, Mapping[str, Any]], roles: Mapping[str, str | None]) -> dict[str, dict[str, Any]]:
    best = systems.get(roles.get("best") or "") or {}
    test = nested(best, "confidence", "test") or {}
    conf = test.get("confidence") or {}
    caught, ceiling = nested(conf, "catch_rate", "20%"), nested(test, "catch_ceiling", "20%")
    auroc, ece = conf.get("auroc"), conf.get("ece_calibrated")
    return {
        "review_20pct_catches_70pct_of_entity_errors": _judged(
            None if caught is None else caught >= 0.70, caught=caught, most_a_20pct_queue_can_catch=ceiling,
            entities=conf.get("num_entities"), errors=conf.get("num_errors")),
        "confidence_auroc_ge_0.80": _judged(None if auroc is None else auroc >= 0.80, auroc=auroc),
        "calibrated_ece_le_0.05": _judged(None if ece is None else ece <= 0.05, ece_calibrated=ece,
                                          ece_raw=conf.get("ece")),
    }


def evaluate_goals(systems: Mapping[str, Mapping[str, Any]], roles: Mapping[str, str | None],
                   lm: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Every goal, in the order of the issues: 6 (what still applies), 13, 14, 15. ``roles``: which system key plays
    which part (``base``, ``scratch``, ``best``: the best adapted system, ``replay``, ``whisper``; None: absent)."""
    return {**_issue6(systems, roles), **_issue13(systems, roles), **_issue14(systems, roles, lm),
            **_issue15(systems, roles)}
