"""``recipes/train.py OVERRIDES`` as a library call: the same composed config, run dir and ``.hydra/`` record, in
this process (the experiment runner trains its systems this way; no source tree or subprocess needed).

    from finparakeet.training.job import train_job
    result = train_job(["+experiment=smoke", "trainer.max_steps=10", "paths.runs_dir=/tmp/runs"])
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Sequence

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from finparakeet.conf import compose
from finparakeet.training.recipe import TrainResult, train

__all__ = ["compose_train", "train_job"]


@contextlib.contextmanager
def _hydra_job(cfg: DictConfig) -> Iterator[None]:
    """Make ``cfg``'s ``hydra`` node the current HydraConfig (what Hydra does for a job), restoring the caller's:
    ``${hydra:...}`` interpolations (run dir, experiment names) then resolve as they do under ``recipes/train.py``."""
    from hydra.core.hydra_config import HydraConfig

    instance = HydraConfig.instance()
    previous = instance.cfg
    instance.set_config(cfg)
    try:
        yield
    finally:
        instance.cfg = previous


def compose_train(overrides: Sequence[str] = ()) -> DictConfig:
    """``conf/train.yaml`` with ``overrides`` (Hydra's CLI syntax) as ``recipes/train.py OVERRIDES`` composes it, the
    ``hydra`` node kept; what reads Hydra's runtime (``name``, ``paths.run_dir``) is resolved, so the config is
    usable outside a Hydra job too."""
    cfg = compose("train", overrides, return_hydra_config=True)
    with _hydra_job(cfg):
        name = str(cfg.name)
        run_dir = Path(str(cfg.hydra.run.dir)).resolve()
        choices = dict(cfg.hydra.runtime.choices)
    with read_write(cfg.hydra), open_dict(cfg.hydra):
        cfg.hydra.runtime.output_dir = str(run_dir)
        cfg.hydra.runtime.choices = choices
        cfg.hydra.overrides.task = list(overrides)
    cfg.name = name
    cfg.paths.run_dir = str(run_dir)
    return cfg


def train_job(overrides: Sequence[str] = ()) -> TrainResult:
    """Compose, write ``<run_dir>/.hydra/{config,overrides}.yaml`` as Hydra does, and train (resuming the run dir)."""
    cfg = compose_train(overrides)
    with _hydra_job(cfg):
        job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
        run_dir = Path(cfg.hydra.runtime.output_dir)
        record = run_dir / ".hydra"
        record.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(job, record / "config.yaml")
        OmegaConf.save(OmegaConf.create(list(overrides)), record / "overrides.yaml")
        return train(job)
