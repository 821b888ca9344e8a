"""Training time that survives resumes: process CPU seconds and wall seconds, summed over every sitting of a run.

Logged at each validation as ``time/cpu_hours`` and ``time/wall_hours`` (so ``metrics.json`` holds the learning curve
against training hours) and carried in the checkpoint. Time between the last checkpoint and a kill is not counted.
In a multi-process run (``trainer.devices=2 trainer.strategy=ddp``) every process counts its own CPU time and the
validations sum them; a checkpoint written between two validations adds only rank 0's share since the last one.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import lightning.pytorch as pl
import torch

__all__ = ["TrainingClock"]


class TrainingClock(pl.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.cpu_seconds = 0.0  # totals up to the mark
        self.wall_seconds = 0.0
        self._mark: Optional[tuple[float, float]] = None

    def _now(self) -> tuple[float, float]:
        return time.process_time(), time.monotonic()

    def totals(self) -> tuple[float, float]:
        """CPU and wall seconds so far, this sitting included."""
        if self._mark is None:
            return self.cpu_seconds, self.wall_seconds
        cpu, wall = self._now()
        return self.cpu_seconds + cpu - self._mark[0], self.wall_seconds + wall - self._mark[1]

    def state_dict(self) -> dict[str, Any]:
        cpu, wall = self.totals()
        return {"cpu_seconds": cpu, "wall_seconds": wall}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.cpu_seconds = float(state_dict.get("cpu_seconds", 0.0))
        self.wall_seconds = float(state_dict.get("wall_seconds", 0.0))
        self._mark = self._now()

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._mark is None:
            self._mark = self._now()

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self._sum_processes(trainer, pl_module)
        cpu, wall = self.totals()
        pl_module.log("time/cpu_hours", cpu / 3600, on_epoch=True, rank_zero_only=True)
        pl_module.log("time/wall_hours", wall / 3600, on_epoch=True, rank_zero_only=True)

    def _sum_processes(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Fold every process's CPU seconds since the mark into the total (one process: its own)."""
        if self._mark is None:
            return
        cpu, wall = self._now()
        mine = torch.tensor(cpu - self._mark[0], dtype=torch.float64, device=pl_module.device)
        self.cpu_seconds += float(trainer.strategy.reduce(mine, reduce_op="sum"))
        self.wall_seconds += wall - self._mark[1]
        self._mark = (cpu, wall)
