"""A non-editable install finds its configs as package data, from any working directory.

``pip install --no-deps --no-build-isolation --target <tmp>`` of a copy of the checkout (so no build output lands in
the working tree), then, in another directory with only ``PYTHONPATH=<tmp>``: compose the training config through
the library, build the Trainer's callbacks and logger from it, load the transcribe defaults, score a manifest, and
run ``recipes/train.py --cfg job`` from outside the checkout (its ``pkg://finparakeet.conf`` config path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

CHECK = r'''
import json, sys
from pathlib import Path
import finparakeet
from finparakeet.conf import CONF_DIR
from finparakeet.training.job import compose_train
from finparakeet.training.recipe import instantiate_callbacks, instantiate_loggers
from finparakeet.models.loading import load_model_config
from finparakeet.inference.pipeline import _cfg as transcribe_defaults
from finparakeet.scoring import score_manifest

cfg = compose_train(["+experiment=general_base", "trainer.strategy=ddp", "trainer.devices=2",
                     "paths.runs_dir=" + sys.argv[1]])
callbacks = instantiate_callbacks(cfg.callbacks)
loggers = instantiate_loggers(cfg.logger)
report = score_manifest(sys.argv[2])
print(json.dumps({
    "package": finparakeet.__file__, "conf": str(CONF_DIR), "run_dir": cfg.paths.run_dir,
    "d_model": cfg.model.encoder.d_model, "strategy": cfg.trainer.strategy, "devices": cfg.trainer.devices,
    "callbacks": {k: type(v).__name__ for k, v in callbacks.items()}, "loggers": [type(x).__name__ for x in loggers],
    "every_n": callbacks["last_checkpoint"]._every_n_train_steps,
    "parakeet_use_bias": load_model_config("parakeet_tdt_0.6b_v2").encoder.use_bias,
    "alpha": transcribe_defaults({}).boosting.boosting_tree_alpha,
    "num_utterances": report["num_utterances"]}))
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("install")
    src, target = tmp / "src", tmp / "site"
    keep = {"finparakeet", "pyproject.toml", "README.md"}
    src.mkdir()
    for name in keep:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(path, src / name)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--target", str(target), str(src)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp, target


def _env(target):
    return {**os.environ, "PYTHONPATH": str(target), "OMP_NUM_THREADS": "1"}


def test_installed_package_ships_every_config(installed):
    _, target = installed
    shipped = {p.relative_to(target / "finparakeet" / "conf") for p in (target / "finparakeet" / "conf").rglob("*.yaml")}
    source = {p.relative_to(REPO / "finparakeet" / "conf") for p in (REPO / "finparakeet" / "conf").rglob("*.yaml")}
    assert shipped == source and len(source) > 30


def test_library_composes_and_scores_from_another_directory(installed):
    tmp, target = installed
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    manifest = elsewhere / "m.json"
    shutil.copy(REPO / "manifests" / "sample_eval.json", manifest)
    proc = subprocess.run([sys.executable, "-c", CHECK, str(elsewhere / "runs"), str(manifest)], cwd=elsewhere,
                          env=_env(target), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["package"].startswith(str(target)) and out["conf"].startswith(str(target))
    assert out["run_dir"] == str(elsewhere / "runs" / "general_base")
    assert out["d_model"] == 176 and out["strategy"] == "ddp" and out["devices"] == 2
    assert out["callbacks"] == {"entity_validation": "EntityValidationCallback", "training_clock": "TrainingClock",
                                "lr_schedule": "ScheduleToMaxSteps",
                                "best_checkpoint": "ModelCheckpoint", "last_checkpoint": "ModelCheckpoint"}
    assert out["loggers"] == ["TensorBoardLogger"] and out["every_n"] == 250
    assert out["parakeet_use_bias"] is False and out["alpha"] == 0.5
    assert out["num_utterances"] > 0


def test_train_recipe_outside_the_checkout(installed):
    tmp, target = installed
    recipe = tmp / "train.py"
    shutil.copy(REPO / "recipes" / "train.py", recipe)
    proc = subprocess.run([sys.executable, str(recipe), "+experiment=smoke", "trainer.strategy=ddp", "logger=csv",
                           "--cfg", "job"], cwd=tmp, env=_env(target), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "strategy: ddp" in proc.stdout and "lightning.pytorch.loggers.CSVLogger" in proc.stdout
    assert "name: smoke" in proc.stdout
