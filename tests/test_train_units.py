"""Small pieces of the training recipe without a model: metrics history, best entry, sweep summary, config tree."""

from __future__ import annotations

import csv
import json
import math

import pytest
import yaml

from conftest import CONF_DIR


def test_metrics_history_appends_and_replaces_a_repeated_validation(tmp_path):
    from finparakeet.lightning.history import append_metrics, read_metrics

    path = tmp_path / "metrics.json"
    append_metrics(path, {"validation": 0, "step": 40, "val_entity_wer": 0.9})
    append_metrics(path, {"validation": 1, "step": 80, "val_entity_wer": 0.7})
    append_metrics(path, {"validation": 1, "step": 80, "val_entity_wer": 0.6})  # repeated after a resume
    assert [(e["validation"], e["val_entity_wer"]) for e in read_metrics(path)] == [(0, 0.9), (1, 0.6)]
    assert not (tmp_path / "metrics.json.tmp").exists()


def test_best_entry_skips_missing_and_nan():
    from finparakeet.training.recipe import best_entry

    history = [{"step": 1, "val_entity_wer": None}, {"step": 2, "val_entity_wer": math.nan},
               {"step": 3, "val_entity_wer": 0.5, "val_wer": 0.7}, {"step": 4, "val_entity_wer": 0.6}]
    assert best_entry(history, "val_entity_wer")["step"] == 3
    assert best_entry(history, "val_entity_wer", "max")["step"] == 4
    assert best_entry([{"step": 1}], "val_entity_wer") is None


def _job(sweep, n, overrides, run=None, metrics=None):
    d = sweep / str(n)
    (d / ".hydra").mkdir(parents=True)
    (d / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if run is not None:
        (d / "artifacts").mkdir()
        (d / "artifacts" / "run.json").write_text(json.dumps(run))
    if metrics is not None:
        (d / "metrics.json").write_text(json.dumps(metrics))


def test_sweep_summary_lists_swept_values_best_first(tmp_path):
    from finparakeet.training.sweep import summarise_sweep

    sweep = tmp_path / "sweep"
    common = ["+experiment=smoke", "trainer.max_steps=10"]
    _job(sweep, 0, [*common, "adapter.dim=8"], run={"best_val_entity_wer": 0.8, "best_val_wer": 0.9, "global_step": 10})
    _job(sweep, 1, [*common, "adapter.dim=16"], run={"best_val_entity_wer": 0.5, "best_val_wer": 0.95,
                                                      "global_step": 10})
    _job(sweep, 2, [*common, "adapter.dim=32"], metrics=[{"step": 5, "val_entity_wer": 0.6, "val_wer": 0.7}])
    _job(sweep, 3, [*common, "adapter.dim=64"])  # crashed before validating
    paths = summarise_sweep(sweep)
    rows = list(csv.DictReader(paths["csv"].open()))
    assert [r["adapter.dim"] for r in rows] == ["16", "32", "8", "64"]
    assert [r["status"] for r in rows] == ["done", "incomplete", "done", "no validation"]
    assert rows[0]["best_val_entity_wer"] == "0.5000" and rows[0]["best_val_wer"] == "0.9500"
    assert "trainer.max_steps" not in rows[0]  # not swept: the same in every job
    md = paths["md"].read_text()
    assert md.index("| 1 | 16 |") < md.index("| 0 | 8 |")


def test_config_tree_composes(tmp_path):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        smoke = compose("train", overrides=["+experiment=smoke", f"paths.run_dir={tmp_path}"])
        real = compose("train", overrides=["+experiment=finance_calls", f"paths.run_dir={tmp_path}"])
        plain = compose("train", overrides=[f"paths.run_dir={tmp_path}"])
    assert smoke.name == "smoke" and smoke.trainer.accelerator == "cpu" and smoke.model.pretrained_name is None
    assert smoke.model.train_ds.use_lhotse and smoke.model.train_ds.batch_duration == smoke.data.batch_duration
    assert smoke.model.tokenizer.dir == smoke.data.tokenizer_dir
    assert real.model.pretrained_name == "nvidia/parakeet-tdt-0.6b-v2" and real.trainer.precision == "bf16-mixed"
    assert real.trainer.use_distributed_sampler is False and real.adapter.type == "linear"
    assert real.boosting.enabled and real.checkpoint.monitor == "val_entity_wer"
    from omegaconf import OmegaConf
    assert OmegaConf.is_missing(real.data, "train_cuts")  # the user's cuts are mandatory
    assert plain.name == "train" and "experiment" not in plain  # no experiment by default
    # one dataset block for both data configs: only pin_memory differs (a data key)
    assert smoke.model.validation_ds.pin_memory is False and real.model.validation_ds.pin_memory is True
    for split in ("train_ds", "validation_ds", "test_ds"):
        assert OmegaConf.to_container(smoke.data[split]) == OmegaConf.to_container(real.data[split])  # unresolved
    assert real.boosting.boosting_tree_alpha == 0.5 and "alpha" not in real.boosting


def test_callbacks_and_loggers_are_instantiated_from_their_groups(tmp_path):
    """What make_trainer builds: the callbacks/ entries by name, the logger/ choice; `trainer.strategy` is a key."""
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    from finparakeet.conf import compose
    from finparakeet.lightning.clock import TrainingClock
    from finparakeet.lightning.hook import EntityValidationCallback
    from finparakeet.lightning.schedule import ScheduleToMaxSteps
    from finparakeet.training.recipe import instantiate_callbacks, instantiate_loggers

    bias = tmp_path / "bias.txt"
    bias.write_text("EBITDA\nfree cash flow\n")
    cfg = compose("train", ["+experiment=general_base", f"paths.run_dir={tmp_path}", "trainer.strategy=ddp",
                            f"validation.bias_list={bias}", "checkpoint.every_n_train_steps=7"])
    assert cfg.trainer.strategy == "ddp" and cfg.trainer._target_ == "lightning.pytorch.Trainer"
    cbs = instantiate_callbacks(cfg.callbacks)
    assert list(cbs) == ["entity_validation", "training_clock", "lr_schedule", "best_checkpoint", "last_checkpoint"]
    hook, best, last = cbs["entity_validation"], cbs["best_checkpoint"], cbs["last_checkpoint"]
    assert isinstance(hook, EntityValidationCallback) and hook.bias_list == ["EBITDA", "free cash flow"]
    assert isinstance(cbs["training_clock"], TrainingClock)
    assert isinstance(cbs["lr_schedule"], ScheduleToMaxSteps)
    assert isinstance(best, ModelCheckpoint) and best.monitor == "val_wer" and best.save_top_k == 1
    assert last.save_last is True and last.save_top_k == 0 and last._every_n_train_steps == 7
    # the state keys a run's checkpoints were saved under (unchanged from the if/else construction)
    assert last.state_key == ("ModelCheckpoint{'monitor': None, 'mode': 'min', 'every_n_train_steps': 7, "
                              "'every_n_epochs': 0, 'train_time_interval': None}")
    assert [type(x) for x in instantiate_loggers(cfg.logger)] == [TensorBoardLogger]
    csv = compose("train", ["+experiment=smoke", f"paths.run_dir={tmp_path}", "logger=csv"])
    assert [type(x) for x in instantiate_loggers(csv.logger)] == [CSVLogger]
    none = compose("train", ["+experiment=smoke", f"paths.run_dir={tmp_path}", "logger=none"])
    assert instantiate_loggers(none.get("logger")) == []
    dropped = compose("train", ["+experiment=smoke", f"paths.run_dir={tmp_path}", "~callbacks.training_clock"])
    assert "training_clock" not in instantiate_callbacks(dropped.callbacks)


def test_bucketed_training_loader_leaves_no_thread_to_hold_the_process_open(tmp_path):
    """Python waits for non-daemon threads before it collects anything at exit: a bucket-filling thread alive after
    the last batch kept finished training runs from exiting."""
    import gc
    import threading

    from lhotse import CutSet
    from lhotse.testing.dummies import dummy_cut
    from nemo.collections.common.data.lhotse import get_lhotse_dataloader_from_config
    from omegaconf import OmegaConf

    from finparakeet.conf import compose

    cuts = tmp_path / "cuts.jsonl.gz"
    CutSet.from_cuts(dummy_cut(i, duration=1.0 + i % 5) for i in range(40)).to_file(cuts)
    cfg = compose("train", ["+experiment=smoke", f"paths.run_dir={tmp_path}", "data.use_bucketing=true",
                            "data.num_buckets=2", "data.batch_duration=8"])
    # a bucket buffer smaller than the data, as NeMo's 20,000 cuts are smaller than the general base's 38,000
    train_ds = OmegaConf.to_container(cfg.data.train_ds, resolve=True) | {
        "cuts_path": str(cuts), "bucket_buffer_size": 10, "shuffle_buffer_size": None}

    class Ids:  # the cuts' ids: no audio needed to exercise the sampler
        def __getitem__(self, batch):
            return [c.id for c in batch]

    before = set(threading.enumerate())
    loader = get_lhotse_dataloader_from_config(OmegaConf.create(train_ds), global_rank=0, world_size=1,
                                               dataset=Ids())
    batches = iter(loader)
    try:
        assert next(batches)  # mid-epoch, as when training stops at max_steps
        started = [t for t in threading.enumerate() if t not in before and not t.daemon]
    finally:  # a leaked thread would hold this test process open too: collecting the sampler's generator ends it
        del batches, loader
        gc.collect()
    assert not started, f"non-daemon threads left by the training loader: {started}"


def test_each_utterance_once_in_id_order():
    from finparakeet.lightning.hook import unique_by_id

    recs = [{"id": i} for i in ("b", "a", "c_dup0", "c", "a", "x_dup1")]
    # a repeated id once; Lhotse's copy of c dropped; "x_dup1" is an id of its own (no x beside it)
    assert [r["id"] for r in unique_by_id(recs)] == ["a", "b", "c", "x_dup1"]


def test_before_after_table_gives_each_figure_and_its_relative_change():
    from finparakeet.lightning.history import before_after_table

    before = {"step": 0, "val_wer": 0.5, "val_normalized_wer": 0.4, "val_entity_wer": 0.8, "val_entity_accuracy": 0.1,
              "val_entity_wer/MONEY": 0.6, "val_entity_wer/unseen": 0.9}
    after = {"step": 120, "val_wer": 0.25, "val_entity_wer": 0.4, "val_entity_accuracy": 0.55,
             "val_entity_wer/MONEY": 0.3, "val_entity_wer/TICKER": 0.5, "val_entity_wer/unseen": 0.6}
    lines = before_after_table(before, after).splitlines()
    assert lines[0] == "| dev (%) | before (step 0) | after (step 120) | change |"
    assert "| entity WER | 80.0 | 40.0 | -50% |" in lines
    assert "| WER (normalised) | 40.0 | — | — |" in lines  # a figure the after entry lacks is shown, not guessed
    assert "| entity accuracy | 10.0 | 55.0 | +450% |" in lines
    assert "| entity WER TICKER | — | 50.0 | — |" in lines
    assert lines[-1] == "| entity WER unseen | 90.0 | 60.0 | -33% |"


# ---- training longer: the LR schedule re-spanned on resume ---------------------------------------------------------
def _cosine(max_steps: int, steps_taken: int = 0):
    import torch
    from nemo.core.optim.lr_scheduler import CosineAnnealing

    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    sched = CosineAnnealing(opt, max_steps=max_steps, warmup_steps=10, min_lr=1e-5)
    for _ in range(steps_taken):
        opt.step()
        sched.step()
    return sched


def test_resumed_schedule_follows_the_new_max_steps():
    from types import SimpleNamespace

    from finparakeet.lightning.schedule import ScheduleToMaxSteps

    checkpoint = {"global_step": 50, "lr_schedulers": [_cosine(100, 50).state_dict()]}
    ScheduleToMaxSteps().on_load_checkpoint(SimpleNamespace(max_steps=400), None, checkpoint)
    resumed = _cosine(100)  # built from the config of the first sitting, then restored, as Lightning does
    resumed.load_state_dict(checkpoint["lr_schedulers"][0])
    assert resumed.max_steps == 400 and resumed.decay_steps == 390
    fresh = _cosine(400, 50)  # what a run planned for 400 steps from the start has at step 50
    for _ in range(30):  # and both keep agreeing step after step
        resumed.optimizer.step(), resumed.step(), fresh.optimizer.step(), fresh.step()
        assert resumed.get_last_lr() == pytest.approx(fresh.get_last_lr())
    assert resumed.get_last_lr()[0] > _cosine(100, 80).get_last_lr()[0]  # not the old budget's lower rate


def test_schedule_left_alone_when_the_budget_is_unchanged_or_unknown():
    from finparakeet.lightning.schedule import respan_scheduler_state

    state = _cosine(100, 5).state_dict()
    assert not respan_scheduler_state(state, 100) and state["max_steps"] == 100
    assert not respan_scheduler_state(state, -1)  # trainer.max_steps=-1: epochs decide, nothing to span
    assert not respan_scheduler_state({"last_epoch": 3}, 200)  # a scheduler without max_steps (e.g. torch's own)


def test_training_clock_sums_the_cpu_time_of_every_process():
    """Under DDP each process counts its own CPU time; the validation folds the sum of all of them into the total."""
    from types import SimpleNamespace

    import torch

    from finparakeet.lightning.clock import TrainingClock

    class Clock(TrainingClock):
        now = (10.0, 100.0)  # (process CPU seconds, monotonic seconds), set by the test

        def _now(self):
            return self.now

    two_processes = SimpleNamespace(reduce=lambda t, reduce_op: t * 2 if reduce_op == "sum" else t)
    trainer = SimpleNamespace(sanity_checking=False, strategy=two_processes)
    logged = {}
    module = SimpleNamespace(device=torch.device("cpu"), log=lambda k, v, **kw: logged.__setitem__(k, v))
    clock = Clock()
    clock.load_state_dict({"cpu_seconds": 360.0, "wall_seconds": 0.0})  # a resumed run: mark at (10, 100)
    clock.now = (3610.0, 3700.0)
    clock.on_validation_epoch_end(trainer, module)  # 3,600 s of this process, as much on the other
    assert logged["time/cpu_hours"] == pytest.approx((360 + 7200) / 3600)
    assert logged["time/wall_hours"] == pytest.approx(1.0)
    clock.now = (7210.0, 7300.0)
    clock.on_validation_epoch_end(trainer, module)  # only the new time since the last validation is added
    assert logged["time/cpu_hours"] == pytest.approx((360 + 14400) / 3600)
    assert logged["time/wall_hours"] == pytest.approx(2.0)
