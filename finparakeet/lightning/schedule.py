"""Training longer than planned: a resumed run's learning-rate schedule spans the ``trainer.max_steps`` it is given.

NeMo's schedulers (``CosineAnnealing`` & co.) keep ``max_steps`` in their state, so a checkpoint restores the schedule
of the budget the run *started* with: resuming with a larger ``trainer.max_steps`` would anneal to ``min_lr`` at the
old budget and spend every later step there. This callback rewrites the restored state to the new budget; the warm-up
and the steps already taken are kept, and the rate moves to where the longer schedule puts the current step.
"""

from __future__ import annotations

import logging
from typing import Any

import lightning.pytorch as pl

__all__ = ["ScheduleToMaxSteps", "respan_scheduler_state"]

log = logging.getLogger(__name__)


def respan_scheduler_state(state: dict[str, Any], max_steps: int) -> bool:
    """Point one NeMo scheduler state at ``max_steps``; True when it changed (states without ``max_steps``: no)."""
    old = state.get("max_steps")
    if old is None or max_steps is None or max_steps <= 0 or old == max_steps:
        return False
    state["max_steps"] = max_steps
    if "decay_steps" in state:  # WarmupAnnealHoldPolicy: the part of the budget after warm-up and constant steps
        state["decay_steps"] = max_steps - (state.get("constant_steps") or 0) - (state.get("warmup_steps") or 0)
    return True


class ScheduleToMaxSteps(pl.Callback):
    """On resume, re-span the checkpoint's LR schedules to this run's ``trainer.max_steps`` (see the module doc)."""

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        # Callbacks are restored before the optimizers and schedulers, so the edited states are the ones loaded.
        for state in checkpoint.get("lr_schedulers") or ():
            old = state.get("max_steps")
            if respan_scheduler_state(state, trainer.max_steps):
                log.warning("learning-rate schedule re-spanned from max_steps %s to %s (trainer.max_steps of this "
                            "sitting) at step %s", old, trainer.max_steps, checkpoint.get("global_step"))
