"""The reliability diagram of entity confidence, as a PNG.

Drawn from the report's ``confidence.reliability`` section (``confidence.reliability_bins``: per equal-width
confidence bin, the entities' count, mean confidence and accuracy), so the figure needs nothing but the JSON. One panel
per confidence: raw, and calibrated beside it when the report used a calibration. In each, a bar per non-empty bin
whose height is the bin's accuracy, a dot at (mean confidence, accuracy), the diagonal of perfect calibration, and the
bin's entity count above the bar. matplotlib is imported only here, only when a diagram is drawn, through its
object-oriented API on the Agg canvas (no pyplot, no global backend switch).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from finparakeet.scoring.confidence import bins_ece

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RELIABILITY_PNG = "entity_report.reliability.png"  # beside entity_report.{json,md,html}


def _panels(reliability: Mapping[str, Any]) -> list[tuple[str, Sequence[Mapping[str, Any]]]]:
    panels = [("raw confidence", reliability["bins"])]
    if reliability.get("bins_calibrated"):
        panels.append(("calibrated confidence", reliability["bins_calibrated"]))
    return panels


def reliability_figure(reliability: Mapping[str, Any]) -> Figure:
    """The diagram of ``{"bins": [...], "bins_calibrated": [...]?}`` (each bin ``lo``, ``hi``, ``count``,
    ``confidence``, ``accuracy``): one axes per panel, the bars' heights the bins' accuracies."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = _panels(reliability)
    fig = Figure(figsize=(4.6 * len(panels), 4.4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for ax, (title, bins) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels):
        ax.plot([0, 1], [0, 1], ls="--", color="#888", lw=1, label="perfect calibration")
        ax.bar([b["lo"] for b in bins], [b["accuracy"] for b in bins], width=[b["hi"] - b["lo"] for b in bins],
               align="edge", color="#3a9d5d", edgecolor="white", alpha=0.8, label="accuracy (share correct)")
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o", color="#1f4e9c", ms=4,
                label="mean confidence")
        for b in bins:
            ax.annotate(f"n={b['count']}", ((b["lo"] + b["hi"]) / 2, b["accuracy"]), xytext=(0, 3),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7)
        ece = bins_ece(bins)
        ax.set_title(f"{title}: ECE {ece:.3f}" if ece is not None else title, fontsize=10)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.1)
        ax.set_xlabel("entity confidence")
        ax.set_ylabel("accuracy")
        ax.legend(fontsize=7, loc="upper left")
    return fig


def write_reliability_diagram(reliability: Mapping[str, Any], path: str | Path) -> Path:
    """``reliability_figure`` saved as a PNG at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    reliability_figure(reliability).savefig(path, format="png")
    return path
