"""The training recipe's logic (``recipes/train.py`` is a thin Hydra wrapper around :func:`train`).

    data         -- prepare_data: synthesise on first use, validate splits into the run dir, train the tokenizer
    recipe       -- train(cfg) -> TrainResult: model, adapters, Lhotse loaders, Lightning fit, resume, artefacts;
                    the Trainer, callbacks and loggers built from their config groups with hydra.utils.instantiate
    checkpoints  -- atomic checkpoint writes (AtomicCheckpointIO), the newest intact checkpoint to resume from
    job          -- compose_train / train_job: ``recipes/train.py OVERRIDES`` as a library call (no source tree needed)
    (the run-dir contract, artifacts/run.json, model.nemo, adapters.pt, is finparakeet.rundir: read_run, resolve_run)
    sweep        -- summarise_sweep (sweep_summary.{csv,md}), SweepSummaryCallback (Hydra on_multirun_end)

NeMo is imported only when a run starts.
"""

from finparakeet.rundir import read_run, resolve_run
from finparakeet.training.data import PreparedData, prepare_data
from finparakeet.training.job import compose_train, train_job
from finparakeet.training.recipe import SetupError, TrainResult, train
from finparakeet.training.sweep import summarise_sweep

__all__ = ["PreparedData", "SetupError", "TrainResult", "compose_train", "prepare_data", "read_run", "resolve_run",
           "summarise_sweep", "train", "train_job"]
