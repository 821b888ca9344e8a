"""The training recipe's logic (``recipes/train.py`` is a thin Hydra wrapper around :func:`train`).

    data       -- prepare_data: synthesise on first use, validate splits into the run dir, train the tokenizer
    recipe     -- train(cfg) -> TrainResult: model, adapters, Lhotse loaders, Lightning fit, resume, artefacts
    (the run-dir contract, artifacts/run.json, model.nemo, adapters.pt, is finparakeet.rundir: read_run, resolve_run)
    sweep      -- summarise_sweep (sweep_summary.{csv,md}), SweepSummaryCallback (Hydra on_multirun_end)

NeMo and Lightning are imported only when a run starts.
"""

from finparakeet.rundir import read_run, resolve_run
from finparakeet.training.data import PreparedData, prepare_data
from finparakeet.training.recipe import SetupError, TrainResult, train
from finparakeet.training.sweep import summarise_sweep

__all__ = ["PreparedData", "SetupError", "TrainResult", "prepare_data", "read_run", "resolve_run",
           "summarise_sweep", "train"]
