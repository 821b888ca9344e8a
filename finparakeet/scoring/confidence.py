"""Entity confidence: words' confidence aggregated per entity, how well it finds entity errors, and its calibration.

Word confidence is NeMo's (``Hypothesis.word_confidence``, kept in a transcript's ``word`` list); an entity's
confidence aggregates the confidence of its hypothesis words (``min``, ``mean`` or ``prod``). The metrics treat an
entity error as the thing to find: AUROC of (1 - confidence) for "has an error", the share of errors caught when the
least confident ``share`` of entities is reviewed, and the expected calibration error of confidence as P(correct).

Calibration maps raw entity confidence to P(correct), fitted on a dev set: isotonic regression (pool adjacent
violators) or temperature scaling of the confidence's logit. It is stored as JSON (``Calibration.to_dict``): method,
parameters, and what it was fitted on. numpy and scipy only, no torch, no NeMo.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

AGGREGATIONS = ("min", "mean", "prod")
# mean: the highest dev AUROC in the experiment (414 finance dev entities: 0.84, min 0.76; results/experiment.json)
DEFAULT_AGGREGATION = "mean"
METHODS = ("isotonic", "temperature")
REVIEW_SHARES = (0.1, 0.2)  # the queue sizes whose catch rate is reported
_EPS = 1e-6  # confidence is clipped to [eps, 1 - eps] before a logit


def aggregate(values: Sequence[float], how: str = DEFAULT_AGGREGATION) -> float:
    """One confidence for several words: ``min`` (the weakest word decides), ``mean`` or ``prod``."""
    if how not in AGGREGATIONS:
        raise ValueError(f"entity confidence aggregation must be one of {AGGREGATIONS}, got {how!r}")
    if not values:
        raise ValueError("no word confidence to aggregate")
    if how == "min":
        return float(min(values))
    if how == "mean":
        return float(sum(values) / len(values))
    return float(math.prod(values))


# ---- how well confidence finds errors ----------------------------------------------------------------------------


def auroc(confidence: Sequence[float], correct: Sequence[bool]) -> float | None:
    """The probability that a random entity with an error is less confident than a random correct one (ties count
    half): 1.0 when every error is below every correct entity, 0.0 reversed, 0.5 for no information. None without
    both kinds. Computed from average ranks (Mann-Whitney U), so ties are exact."""
    from scipy.stats import rankdata  # scipy (~0.3 s) only when metrics are computed

    c = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    n_err, n_ok = int((~ok).sum()), int(ok.sum())
    if n_err == 0 or n_ok == 0:
        return None
    ranks = rankdata(c)  # ascending confidence, ties averaged
    u = ranks[ok].sum() - n_ok * (n_ok + 1) / 2  # pairs where the correct entity is the more confident one
    return float(u / (n_err * n_ok))


def catch_rate(confidence: Sequence[float], correct: Sequence[bool], share: float) -> float | None:
    """Share of all entity errors among the least confident ``share`` of entities (ceil(share x n) of them; ties
    broken by input order). None when there is no error."""
    c = np.asarray(confidence, dtype=float)
    err = ~np.asarray(correct, dtype=bool)
    if not err.any():
        return None
    k = math.ceil(share * len(c) - 1e-9)
    queue = np.argsort(c, kind="stable")[:k]
    return float(err[queue].sum() / err.sum())


def reliability_bins(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> list[dict[str, Any]]:
    """The non-empty ones of ``bins`` equal-width confidence bins (1.0 falls in the last): ``lo``, ``hi``,
    ``count``, mean ``confidence`` and ``accuracy`` (share correct) of the entities in each. The reliability
    diagram's bars and the ECE's terms."""
    c = np.clip(np.asarray(confidence, dtype=float), 0.0, 1.0)
    ok = np.asarray(correct, dtype=float)
    which = np.minimum((c * bins).astype(int), bins - 1)
    out = []
    for b in np.unique(which):
        m = which == b
        out.append({"lo": round(b / bins, 6), "hi": round((b + 1) / bins, 6), "count": int(m.sum()),
                    "confidence": float(c[m].mean()), "accuracy": float(ok[m].mean())})
    return out


def bins_ece(bins: Sequence[dict[str, Any]]) -> float | None:
    """The ECE of ``reliability_bins``: the entity-weighted mean of |accuracy - mean confidence|."""
    n = sum(b["count"] for b in bins)
    return float(sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins) / n) if n else None


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float | None:
    """ECE: over ``bins`` equal-width confidence bins, the entity-weighted mean of |accuracy - mean confidence|
    (confidence read as P(correct)). None for no entity."""
    return bins_ece(reliability_bins(confidence, correct, bins))


def confidence_metrics(confidence: Sequence[float], correct: Sequence[bool],
                       calibrated: Sequence[float] | None = None,
                       shares: Sequence[float] = REVIEW_SHARES) -> dict[str, Any]:
    """AUROC, catch rate per queue share and ECE (raw, and calibrated when given) for entities' confidence."""
    ok = list(map(bool, correct))
    out: dict[str, Any] = {
        "num_entities": len(ok), "num_errors": ok.count(False),
        "auroc": auroc(confidence, ok),
        "catch_rate": {f"{round(s * 100)}%": catch_rate(confidence, ok, s) for s in shares},
        "ece": expected_calibration_error(confidence, ok),
    }
    if calibrated is not None:
        out["ece_calibrated"] = expected_calibration_error(calibrated, ok)
    return out


# ---- calibration -------------------------------------------------------------------------------------------------


def pav(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Isotonic (non-decreasing) least-squares fit of ``y`` on ``x`` by pool adjacent violators: the fitted step
    function as knots ``(xs, ys)`` (each block's lowest and highest x at the block's mean), for ``np.interp``."""
    order = np.lexsort((np.asarray(y, float), np.asarray(x, float)))
    xs, ys = np.asarray(x, float)[order], np.asarray(y, float)[order]
    # equal x first pooled into one point (their mean), as the fit cannot tell them apart
    ux, start = np.unique(xs, return_index=True)
    weights = np.diff(np.append(start, len(xs))).astype(float)
    means = np.add.reduceat(ys, start) / weights
    blocks: list[list[float]] = []  # [mean, weight, x_lo, x_hi]
    for m, w, xv in zip(means, weights, ux):
        blocks.append([m, w, xv, xv])
        while len(blocks) > 1 and blocks[-2][0] >= blocks[-1][0]:
            m2, w2, lo2, hi2 = blocks.pop()
            m1, w1, lo1, _ = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, lo1, hi2])
    knots_x, knots_y = [], []
    for m, _, lo, hi in blocks:
        knots_x += [lo, hi] if hi > lo else [lo]
        knots_y += [m, m] if hi > lo else [m]
    return np.array(knots_x), np.array(knots_y)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def fit_temperature(confidence: Sequence[float], correct: Sequence[bool]) -> float:
    """The temperature T minimising the log loss of sigmoid(logit(confidence) / T) against correctness."""
    from scipy.optimize import minimize_scalar  # scipy only when a calibration is fitted

    z = _logit(np.asarray(confidence, float))
    y = np.asarray(correct, float)

    def nll(log_t: float) -> float:
        q = np.clip(1 / (1 + np.exp(-z / math.exp(log_t))), 1e-12, 1 - 1e-12)
        return float(-(y * np.log(q) + (1 - y) * np.log(1 - q)).mean())

    return float(math.exp(minimize_scalar(nll, bounds=(-5.0, 5.0), method="bounded").x))


@dataclass(frozen=True)
class Calibration:
    """Raw entity confidence -> P(correct). ``parameters``: ``{"x": [...], "y": [...]}`` knots (isotonic) or
    ``{"temperature": T}``. ``fitted_on``: counts (entities, correct, errors), the aggregation and the source."""

    method: str
    parameters: dict[str, Any]
    fitted_on: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"calibration method must be one of {METHODS}, got {self.method!r}")

    @property
    def aggregation(self) -> str | None:
        return self.fitted_on.get("aggregation")

    def apply(self, confidence: Sequence[float] | float) -> np.ndarray:
        c = np.asarray(confidence, dtype=float)
        if self.method == "isotonic":  # flat beyond the fitted range, as sklearn's out_of_bounds="clip"
            return np.interp(c, self.parameters["x"], self.parameters["y"])
        return 1 / (1 + np.exp(-_logit(c) / float(self.parameters["temperature"])))

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "parameters": self.parameters, "fitted_on": self.fitted_on}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path


def fit_calibration(confidence: Sequence[float], correct: Sequence[bool], method: str = "isotonic",
                    **fitted_on: Any) -> Calibration:
    """Fit ``method`` on entities' raw confidence and correctness; ``fitted_on`` adds to the record (aggregation,
    source). The record keeps the counts and the ECE before and after on the fitting data."""
    c = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if len(c) < 2 or ok.all() or not ok.any():
        raise ValueError(f"a calibration needs correct and wrong entities: got {int(ok.sum())} correct and "
                         f"{int((~ok).sum())} wrong")
    if method == "isotonic":
        xs, ys = pav(c, ok.astype(float))
        params: dict[str, Any] = {"x": [round(float(v), 6) for v in xs], "y": [round(float(v), 6) for v in ys]}
    elif method == "temperature":
        params = {"temperature": fit_temperature(c, ok)}
    else:
        raise ValueError(f"calibration method must be one of {METHODS}, got {method!r}")
    cal = Calibration(method, params)
    record = {"entities": int(len(c)), "correct": int(ok.sum()), "errors": int((~ok).sum()), **fitted_on,
              "ece_before": expected_calibration_error(c, ok), "ece_after": expected_calibration_error(cal.apply(c), ok)}
    return Calibration(method, params, record)


def load_calibration(path: str | Path) -> Calibration:
    """A calibration JSON written by ``Calibration.save`` (``FileNotFoundError`` naming the path)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"confidence_calibration={path} does not exist (fit one with "
                                "recipes/fit_confidence_calibration.py)")
    d = json.loads(path.read_text(encoding="utf-8"))
    return Calibration(d["method"], d["parameters"], d.get("fitted_on", {}))
