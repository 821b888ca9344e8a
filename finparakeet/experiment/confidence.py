"""Issue 15 in the experiment: which entities to double-check, measured on the best adapted system.

The system decodes the finance dev split with its per-call lists (at its weight chosen on dev) and NeMo's word
confidence, once per confidence method; the method and the word -> entity aggregation with the highest dev AUROC are
chosen, a calibration is fitted on that dev transcript, and the finance test is decoded once with the choice and the
calibration. The record keeps the dev table, the choice, the test's confidence metrics and the command of each decode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from finparakeet.experiment.decodes import decode_nemo, recipe_cfg
from finparakeet.experiment.systems import BOOSTED, DecodeSettings, boosting_keys
from finparakeet.scoring.review import compare_aggregations, fit_from_transcript, read_transcript

__all__ = ["ConfidenceSettings", "CRITERION", "choose_confidence", "catch_ceiling", "confidence_rows"]

CRITERION = "the highest AUROC on the finance dev split (method x aggregation; ties to the first listed)"


@dataclass(frozen=True)
class ConfidenceSettings:
    """``run_experiment.yaml``'s ``confidence`` block."""

    enabled: bool = True
    methods: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # name -> NeMo confidence method_cfg
    aggregations: Sequence[str] = ("min", "mean", "prod")  # word -> entity candidates
    calibration: str = "isotonic"  # fitted on dev: isotonic | temperature


def choose_confidence(dev: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> tuple[str, str]:
    """(method, aggregation) with the highest dev AUROC in ``dev`` (method -> aggregation -> metrics); a pair
    without an AUROC (no error, or nothing right) never wins over one with it; ties go to the first listed."""
    pairs = [(m, a) for m, row in dev.items() for a in row]
    if not pairs:
        raise ValueError("no confidence method to choose from (confidence.methods is empty)")

    def score(pair: tuple[str, str]) -> float:
        auroc = dev[pair[0]][pair[1]].get("auroc")
        return -1.0 if auroc is None else float(auroc)

    return max(pairs, key=score)  # max keeps the first of equal scores


def catch_ceiling(num_entities: int, num_errors: int, share: float) -> float | None:
    """The most a queue of the least confident ``share`` of entities can catch: its length over the errors."""
    if not num_errors:
        return None
    return min(1.0, math.ceil(share * num_entities - 1e-9) / num_errors)


def confidence_rows(model, model_path: Path, out: Path, d: DecodeSettings, per_call_alpha: float,
                    s: ConfidenceSettings) -> dict[str, Any]:
    """Choose the confidence method and aggregation on dev, fit the calibration there, measure on the test."""
    boosting = boosting_keys(d, per_call_alpha)
    dev: dict[str, dict[str, Any]] = {}
    transcripts: dict[str, Path] = {}
    commands: dict[str, str] = {}
    for name, method in s.methods.items():
        cfg = recipe_cfg(d.inputs.per_call_dev, out / "dev" / f"confidence.{name}", d.recipe, boosting=boosting,
                         confidence=True, confidence_cfg={"method_cfg": dict(method)})
        commands[name] = decode_nemo(model, model_path, cfg, d.heldout)[BOOSTED]["command"]
        transcripts[name] = Path(cfg["output_filename"])
        table = compare_aggregations(read_transcript(transcripts[name]))
        dev[name] = {how: {k: table[how].get(k) for k in ("auroc", "catch_rate", "ece")} for how in s.aggregations}
    method, how = choose_confidence(dev)
    cal_path: Path | None = out / "confidence_calibration.json"
    try:
        fit_from_transcript(transcripts[method], s.calibration, how).save(cal_path)
        why_uncalibrated = None
    except ValueError as e:  # dev entities all right or all wrong: nothing to calibrate against
        cal_path, why_uncalibrated = None, str(e)
        print(f"[experiment] confidence: no calibration — {e}", flush=True)
    test = decode_nemo(model, model_path, recipe_cfg(
        d.inputs.per_call_test, out / "finance_test.confidence", d.recipe, boosting=boosting, confidence=True,
        confidence_cfg={"method_cfg": dict(s.methods[method])}, entity_confidence={"aggregation": how},
        **({"confidence_calibration": cal_path} if cal_path else {})), d.heldout)[BOOSTED]
    conf = test.get("confidence") or {}
    n, errors = conf.get("num_entities") or 0, conf.get("num_errors") or 0
    return {"criterion": CRITERION, "method": method, "method_cfg": dict(s.methods[method]), "aggregation": how,
            "calibration": s.calibration, "calibration_file": cal_path and str(cal_path),
            "uncalibrated_because": why_uncalibrated, "alpha": per_call_alpha,
            "dev": dev, "dev_commands": commands,
            "test": {**test, "catch_ceiling": {"10%": catch_ceiling(n, errors, 0.1),
                                               "20%": catch_ceiling(n, errors, 0.2)}}}
