"""Replay: an adapted system trained again with a share of the general base's own training utterances mixed in
(``data.replay_cuts``, ``data.replay_share``), so adaptation does not forget general speech; the share is chosen on
the dev splits, never on test.

The choice weighs both sides of the trade: among the shares whose general dev WER is at most ``max_general_cost``
above the base's (issue 13's goal: adaptation may cost at most 2 points of general WER), the one with the lowest
finance dev entity WER; when no share keeps the cost that low, the one with the lowest general dev WER.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from finparakeet.experiment.decodes import rel
from finparakeet.experiment.runner import SystemSpec

__all__ = ["ReplayConfig", "replay_specs", "choose_share", "CRITERION"]

CRITERION = ("lowest finance dev entity WER (no list) among the shares whose general dev WER is at most "
             "{cost:g} above the base's; when none is, the lowest general dev WER")


@dataclass(frozen=True)
class ReplayConfig:
    system: str | None = None  # the adapted system to train again with replay (None: no replay systems)
    shares: tuple[float, ...] = (0.1, 0.3)  # data.replay_share candidates, one run each
    max_general_cost: float = 0.02  # general dev WER above the base's that a share may cost
    general_dev_utterances: int | None = 400  # the first N general dev cuts decoded for the choice (None: all)


def replay_specs(cfg: ReplayConfig, template: SystemSpec, replay_cuts: Path) -> dict[float, SystemSpec]:
    """One training stage per share: ``template``'s overrides plus the replay keys, in a run dir of its own."""
    specs = {}
    for share in cfg.shares:
        if not 0 < share < 1:
            raise ValueError(f"replay.shares: each share must be in (0, 1), got {share}")
        run = f"{template.run}_replay{share:g}"
        specs[share] = replace(template, key=f"{template.key}_replay", run=run,
                               label=f"{template.label} + replay {share:g}",
                               train=(*template.train, f"name={run}", f"data.replay_cuts={rel(replay_cuts)}",
                                      f"data.replay_share={share:g}"))
    return specs


def choose_share(dev: Mapping[float, Mapping[str, Any]], base_general_dev_wer: float, max_general_cost: float
                 ) -> float:
    """The share by :data:`CRITERION` from ``dev``: share -> ``{"general_dev_wer", "finance_dev_entity_wer"}``."""
    if not dev:
        raise ValueError("no replay share to choose from (replay.shares is empty)")
    kept: Sequence[float] = [s for s, d in dev.items() if d["general_dev_wer"] - base_general_dev_wer
                             <= max_general_cost + 1e-12]
    if kept:
        return min(kept, key=lambda s: (dev[s]["finance_dev_entity_wer"], s))
    return min(dev, key=lambda s: (dev[s]["general_dev_wer"], s))
