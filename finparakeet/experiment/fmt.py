"""How the results tables write numbers: percentages, durations, parameter counts ("–" for a missing value)."""

from __future__ import annotations

from typing import Any

__all__ = ["pct", "dur", "params"]


def pct(x: Any) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def dur(seconds: Any) -> str:
    if seconds is None:
        return "–"
    m = round(seconds / 60)
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def params(n: Any) -> str:
    if n is None:
        return "–"
    return f"{n / 1e6:.2f}M" if n >= 1e5 else f"{n / 1e3:.1f}k"
