"""The training recipe behind ``recipes/train.py``: config in, run dir out.

1. Weights named (``model.nemo_path`` / ``model.pretrained_name``): loaded first, so an offline hub name fails at once.
2. Data: synthesised if configured and absent, each split validated into ``<run_dir>/data/<split>/``, the tokenizer
   trained on the train text when the model is built from config.
3. Model: built or loaded with an adapter-capable encoder (``finparakeet.models.loading``), the CPU TDT loss where
   needed, adapters added, base frozen; trainable/total parameters printed.
4. Lhotse loaders through NeMo (``setup_training_data``; validation batches carry their cuts for the entity hook).
5. Lightning ``fit`` with the ``callbacks:`` and ``logger:`` groups (entity hook, training clock, a best checkpoint by
   ``checkpoint.monitor``, ``last.ckpt`` every ``checkpoint.every_n_train_steps`` steps), checkpoints written
   atomically; resumes from the newest intact checkpoint (:mod:`.checkpoints`).
6. Artefacts from the best checkpoint: ``artifacts/{model.nemo,adapters.pt,run.json}`` (see :mod:`.artifacts`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from omegaconf import DictConfig, OmegaConf

from finparakeet.lightning.history import METRICS_FILE, before_after_table, read_metrics
from finparakeet.pretrained import ShippedModelError
from finparakeet.rundir import ADAPTERS, ARTIFACTS, MODEL_NEMO, write_run_json
from finparakeet.training.checkpoints import (LAST_CKPT, CheckpointError, ResumePoint, checkpoint_step,
                                              find_resume_checkpoint, remove_stale_temporaries)
from finparakeet.training.data import PreparedData, prepare_data, with_replay

__all__ = ["SetupError", "TrainResult", "train", "make_trainer", "best_entry", "CHECKPOINTS", "LAST_CKPT"]

CHECKPOINTS = "checkpoints"


class SetupError(RuntimeError):
    """The run cannot start (missing weights, data or config): a message for the user, not a stack trace."""


@dataclass
class TrainResult:
    run_dir: Path
    global_step: int
    monitor: str
    best_score: Optional[float]  # best value of `monitor` over the run's validations
    best_val_entity_wer: Optional[float]
    best_val_wer: Optional[float]
    best_checkpoint: Optional[Path]
    run_json: Path
    data: PreparedData
    model: Any = field(default=None, repr=False)

    @property
    def objective(self) -> float:
        """What a sweeper minimises/maximises: the best monitored value (inf when nothing was validated)."""
        return self.best_score if self.best_score is not None else math.inf


def _container(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


def best_entry(history: Sequence[dict[str, Any]], monitor: str, mode: str = "min") -> Optional[dict[str, Any]]:
    """The validation entry with the best ``monitor`` value (entries without it are skipped)."""
    scored = [e for e in history if isinstance(e.get(monitor), (int, float)) and not math.isnan(e[monitor])]
    if not scored:
        return None
    pick = min if mode == "min" else max
    return pick(scored, key=lambda e: (e[monitor], e.get("step", 0)))


def _model_config_name() -> Optional[str]:
    try:
        from hydra.core.hydra_config import HydraConfig

        return HydraConfig.get().runtime.choices.get("model")
    except Exception:  # noqa: BLE001 - outside a Hydra app there is no choice to report
        return None


def instantiate_callbacks(cfg: Optional[DictConfig]) -> dict[str, Any]:
    """The ``callbacks:`` group, each entry built with ``hydra.utils.instantiate`` (entries without a ``_target_``
    are skipped), by name."""
    from hydra.utils import instantiate

    return {name: instantiate(node) for name, node in (cfg or {}).items()
            if isinstance(node, DictConfig) and "_target_" in node}


def instantiate_loggers(cfg: Optional[DictConfig]) -> list[Any]:
    """The ``logger:`` group, each entry built with ``hydra.utils.instantiate`` (none: an empty list)."""
    return list(instantiate_callbacks(cfg).values())


def make_trainer(cfg: DictConfig, extra_callbacks: Sequence[Any] = ()) -> tuple[Any, dict[str, Any]]:
    """The Lightning Trainer of ``cfg.trainer`` with the ``callbacks:`` and ``logger:`` groups and atomic checkpoint
    writes; returns it with the callbacks by name (``best_checkpoint``, ``last_checkpoint``, ...)."""
    from hydra.utils import instantiate

    from finparakeet.training.checkpoints import AtomicCheckpointIO

    callbacks = instantiate_callbacks(cfg.get("callbacks"))
    loggers = instantiate_loggers(cfg.get("logger"))
    trainer = instantiate(cfg.trainer, callbacks=[*callbacks.values(), *extra_callbacks], logger=loggers or False,
                          plugins=[AtomicCheckpointIO()], default_root_dir=str(cfg.paths.run_dir),
                          enable_checkpointing=True, _convert_="all")
    return trainer, callbacks


def _missing_message(keys: Sequence[str]) -> str:
    example = " ".join(f"{k}=..." for k in keys)
    return f"required setting(s) not given: {', '.join(keys)}\nSet them on the command line: {example}"


def _load_weights(mcfg: DictConfig):
    from finparakeet.models.loading import load_pretrained

    try:
        return load_pretrained(mcfg.get("pretrained_name"), mcfg.get("nemo_path"), map_location="cpu")
    except (FileNotFoundError, ShippedModelError) as e:
        raise SetupError(str(e)) from None


def _set_optim(model, optim: DictConfig) -> None:
    """A loaded model trains with our ``model.optim`` (its .nemo carries the original training's)."""
    cfg = model.cfg
    OmegaConf.set_struct(cfg, False)
    cfg.optim = OmegaConf.create(_container(optim))
    OmegaConf.set_struct(cfg, True)
    model.cfg = cfg  # the setter updates the saved hyper-parameters too


def _training_mode(model) -> None:
    """Train mode for the base too (spec augment, dropout), BatchNorm kept on its running statistics.

    NeMo's ``freeze()`` leaves the whole model in eval mode and Lightning >= 2.2 no longer calls ``train()`` at fit
    start, so without this the base would train without spec augment. ``unfreeze_enabled_adapters`` then puts every
    BatchNorm back in eval mode with frozen statistics, so disabling the adapters still gives the base model exactly.
    """
    from finparakeet.models.adapters import adapter_names

    model.train()
    if adapter_names(model):
        model.unfreeze_enabled_adapters()


def _dataset_cfg(cfg: DictConfig, split: str, cuts: Optional[Path]) -> Optional[DictConfig]:
    node = cfg.data.get(f"{split}_ds")
    if node is None or cuts is None:
        return None
    node.cuts_path = str(cuts)  # the model config reads data.<split>_ds by interpolation: set it in place
    return OmegaConf.create(_container(node))


def _one_lightning_console() -> None:
    """Print Lightning's messages once: importing NeMo gives the ``lightning`` logger its own stderr handler, and
    under Hydra the root logger (console + the run's log file) gets them too, so the model table printed twice."""
    lightning_log = logging.getLogger("lightning")
    if logging.getLogger().handlers and lightning_log.propagate:
        for handler in list(lightning_log.handlers):
            if type(handler) is logging.StreamHandler:
                lightning_log.removeHandler(handler)


def train(cfg: DictConfig, callbacks: Sequence[Any] = (), keep_model: bool = False) -> TrainResult:
    """Run the recipe for a composed ``conf/train.yaml`` config (``paths.run_dir`` must be set)."""
    started = time.monotonic()
    run_dir = Path(cfg.paths.run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    mcfg = cfg.model
    pretrained = bool(mcfg.get("nemo_path") or mcfg.get("pretrained_name"))
    missing = sorted(OmegaConf.missing_keys(cfg))
    hub_only = pretrained and not mcfg.get("nemo_path")
    if missing and not hub_only:  # a hub name is checked first: offline, that is the message that helps
        raise SetupError(_missing_message(missing))
    model = _load_weights(mcfg) if pretrained else None  # before any data work: offline fails at once
    if missing:
        raise SetupError(_missing_message(missing))

    import torch

    if cfg.get("num_threads"):
        torch.set_num_threads(int(cfg.num_threads))
    import lightning.pytorch as pl

    _one_lightning_console()
    pl.seed_everything(cfg.seed, workers=True)

    try:
        data = prepare_data(cfg.data, run_dir, None if pretrained else _container(mcfg.get("tokenizer_train") or {}))
    except (FileNotFoundError, ValueError) as e:
        raise SetupError(str(e)) from None
    train_ds = _dataset_cfg(cfg, "train", data.cuts["train"])
    try:  # data.replay_share: general utterances mixed into the train split (NeMo's weighted input_cfg)
        share = float(cfg.data.get("replay_share") or 0.0)
        if train_ds is not None and share:
            train_ds = OmegaConf.create(with_replay(_container(train_ds), data.cuts.get("replay"), share))
    except ValueError as e:
        raise SetupError(str(e)) from None
    val_ds = _dataset_cfg(cfg, "validation", data.cuts["validation"])
    test_ds = _dataset_cfg(cfg, "test", data.cuts.get("test"))

    trainer, named = make_trainer(cfg, callbacks)
    if model is None:
        from finparakeet.models.loading import build_model

        model = build_model(mcfg, trainer=trainer)
    else:
        model.set_trainer(trainer)
        _set_optim(model, mcfg.optim)

    from finparakeet.lightning.data import setup_validation_with_cuts
    from finparakeet.models.adapters import add_adapters
    from finparakeet.models.tdt_loss import use_cpu_tdt_loss_if_needed

    use_cpu_tdt_loss_if_needed(model)
    summary = add_adapters(model, cfg.adapter, verbose=False)
    _training_mode(model)
    print(f"[finparakeet] {summary}", flush=True)

    try:  # the lm group: validation decodes with the n-gram LM (NeMo's validation step uses the model's decoding)
        lm = _use_lm(model, cfg.get("lm"))
    except (FileNotFoundError, ValueError) as e:
        raise SetupError(str(e)) from None
    if lm is not None:
        print(f"[finparakeet] validation decodes with the n-gram LM {lm.model} (ngram_lm_alpha {lm.alpha})", flush=True)

    model.setup_training_data(train_ds)
    setup_validation_with_cuts(model, val_ds)
    if test_ds is not None:
        model._update_dataset_config(dataset_name="test", config=test_ds)  # kept in the .nemo config only

    ckpt_dir = run_dir / CHECKPOINTS
    resume = _resume_point(ckpt_dir, trainer.is_global_zero) if cfg.resume else None
    _one_lightning_console()  # again: loading NeMo may have added one
    fresh = not (resume and resume.path)
    if fresh and cfg.validation.get("before_training"):
        trainer.validate(model, verbose=False)  # validation 0 at step 0: what the loaded model knows before training
        _training_mode(model)  # validate() leaves the model in eval mode
    trainer.fit(model, ckpt_path=None if fresh else str(resume.path))
    # The last step need not fall on every_n_train_steps: save it, so a rerun of a finished run trains nothing. Not
    # when last.ckpt already holds this step (saved at a validation end): a copy taken after the validation loop
    # ended would make Lightning repeat that validation on resume.
    last_ckpt = ckpt_dir / LAST_CKPT
    # Decided on rank 0 for every rank: saving is collective, and the file changes under the others' eyes.
    if trainer.strategy.broadcast(_saved_step(last_ckpt) != trainer.global_step, src=0):
        trainer.save_checkpoint(str(last_ckpt))

    return _finish(cfg, run_dir, trainer, model, named.get("best_checkpoint"), summary, data, keep_model, started)


def _use_lm(model, node: Optional[DictConfig]):
    """Fuse the ``lm`` group's n-gram LM into the model's decoding; the LMFusion, or None without one."""
    from finparakeet.inference.decoding import apply_decoding, check_lm_tokenizer, decoding_config, lm_fusion

    lm = lm_fusion(node, model.cfg.decoding.get("strategy", "greedy_batch"))
    if lm is not None:
        check_lm_tokenizer(model, lm)
        apply_decoding(model, decoding_config(model.cfg.decoding, lm=lm))
    return lm


def _without_lm(model) -> None:
    """The model's decoding without an n-gram LM: a saved .nemo must not name a file of this machine."""
    from finparakeet.inference.decoding import apply_decoding, decoding_config

    decoding = model.cfg.decoding
    # NeMo's schema keeps ngram_lm_model: null in both sections; only a set one names a file
    if any((decoding.get(section) or {}).get("ngram_lm_model") for section in ("greedy", "beam")):
        apply_decoding(model, decoding_config(decoding))


def _resume_point(ckpt_dir: Path, is_global_zero: bool) -> Optional[ResumePoint]:
    """The newest intact checkpoint, with every broken one named on the console; a folder of broken checkpoints
    stops the run (SetupError) rather than training again from step 0."""
    if is_global_zero:  # the other ranks start while rank 0 may be saving: only it tidies up
        for tmp in remove_stale_temporaries(ckpt_dir):
            print(f"[finparakeet] removed {tmp.name}, an unfinished save", flush=True)
    try:
        resume = find_resume_checkpoint(ckpt_dir)
    except CheckpointError as e:
        raise SetupError(str(e)) from None
    for b in resume.broken:
        print(f"[finparakeet] skipping checkpoint {b.path}: {b.reason}", flush=True)
    if resume.path is not None:
        print(f"[finparakeet] resuming from {resume.path} (step {resume.step})", flush=True)
    return resume


def _saved_step(path: Path) -> Optional[int]:
    try:
        return checkpoint_step(path, verify=False) if path.is_file() else None
    except CheckpointError:
        return None


def _finish(cfg, run_dir: Path, trainer, model, best, summary, data: PreparedData, keep_model: bool,
            started: float) -> TrainResult:
    import torch

    from finparakeet.models.adapters import adapter_names, save_adapters

    monitor, mode = cfg.checkpoint.monitor, cfg.checkpoint.mode
    history = read_metrics(run_dir / METRICS_FILE)
    trained = [e for e in history if e.get("step", 0) > 0]  # step 0 (validation.before_training) has no checkpoint
    entry = best_entry(trained or history, monitor, mode)
    if history and trained and history[0].get("step") == 0 and trainer.is_global_zero:
        print(f"[finparakeet] before and after training:\n{before_after_table(history[0], entry)}", flush=True)
    best_path = Path(best.best_model_path) if best is not None and best.best_model_path else None
    if best_path is not None and best_path.is_file():
        state = torch.load(best_path, map_location="cpu", weights_only=False)["state_dict"]  # our own checkpoint
        model.load_state_dict(state)
    else:
        best_path = run_dir / CHECKPOINTS / LAST_CKPT  # nothing validated: the last weights stand in

    nemo_path = adapters_path = None
    if trainer.is_global_zero:
        art = run_dir / ARTIFACTS
        art.mkdir(parents=True, exist_ok=True)
        _without_lm(model)
        if cfg.artifacts.nemo:
            nemo_path = art / MODEL_NEMO
            model.save_to(str(nemo_path))
        if cfg.artifacts.adapters and adapter_names(model):
            adapters_path = save_adapters(model, art / ADAPTERS)
        run_json = write_run_json(
            run_dir, nemo=nemo_path, adapters=adapters_path, best_checkpoint=best_path,
            base={"pretrained_name": cfg.model.get("pretrained_name"), "nemo_path": cfg.model.get("nemo_path"),
                  # the model group only built the model when no weights were loaded
                  "model_config": None if cfg.model.get("nemo_path") or cfg.model.get("pretrained_name")
                  else _model_config_name()},
            adapter=_container(cfg.adapter),
            best_val_entity_wer=entry.get("val_entity_wer") if entry else None,
            best_val_wer=entry.get("val_wer") if entry else None,
            monitor=monitor, best_score=entry.get(monitor) if entry else None,
            global_step=int(trainer.global_step), trainable_params=summary.trainable,
            total_params=summary.total, rejected=data.rejected,
            # this sitting's wall time in the recipe (data, validations, training, export); not Python's start-up
            sitting_wall_seconds=round(time.monotonic() - started, 1))
    else:
        run_json = run_dir / ARTIFACTS / "run.json"
    print(f"[finparakeet] done at step {trainer.global_step}: best {monitor} "
          f"{entry.get(monitor) if entry else None} -> {run_json}", flush=True)
    return TrainResult(run_dir, int(trainer.global_step), monitor, entry.get(monitor) if entry else None,
                       entry.get("val_entity_wer") if entry else None, entry.get("val_wer") if entry else None,
                       best_path, run_json, data, model if keep_model else None)
