"""Shipped models: sha256-checked loading, clear errors for missing or altered files, provenance and rebuild commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finparakeet.pretrained import (MANIFEST, ShippedModelError, read_manifest, rebuild_command,
                                    resolve_shipped_name, sha256_of, ship_file, ship_run, shipped_path)
from finparakeet.rundir import write_run_json


@pytest.fixture()
def shipped(tmp_path: Path) -> Path:
    src = tmp_path / "src.nemo"
    src.write_bytes(b"not really a model" * 100)
    d = tmp_path / "shipped"
    d.mkdir()
    ship_file("base", src, kind="nemo", rebuild=["python recipes/train.py +experiment=x"], run={"global_step": 7},
              directory=d)
    return d


def test_shipped_file_is_verified_and_recorded(shipped: Path):
    path = shipped_path("base", shipped)
    assert path == shipped / "base.nemo" and path.read_bytes() == b"not really a model" * 100
    entry = read_manifest(shipped)["base"]
    assert entry.sha256 == sha256_of(path) and entry.bytes == 1800 and entry.run == {"global_step": 7}
    assert json.loads((shipped / MANIFEST).read_text())["base"]["rebuild"] == ["python recipes/train.py +experiment=x"]


def test_altered_file_is_refused_by_name(shipped: Path):
    path = shipped / "base.nemo"
    data = bytearray(path.read_bytes())
    data[5] ^= 1  # same size, one bit flipped
    path.write_bytes(bytes(data))
    with pytest.raises(ShippedModelError, match=r"base\.nemo is not the file that was shipped.*rebuild it: python "):
        shipped_path("base", shipped)


def test_missing_and_unknown_files_say_what_to_do(shipped: Path):
    with pytest.raises(ShippedModelError, match="no shipped model 'other'.*shipped: base"):
        shipped_path("other", shipped)
    (shipped / "base.nemo").unlink()
    with pytest.raises(ShippedModelError, match=r"base\.nemo is missing: restore it from git"):
        shipped_path("base", shipped)


def test_namespace_names_shipped_models_only(shipped: Path):
    assert resolve_shipped_name("nvidia/parakeet-tdt-0.6b-v2") is None
    assert resolve_shipped_name(None) is None
    with pytest.raises(ShippedModelError, match="no shipped model 'nothing'"):
        resolve_shipped_name("finparakeet/nothing")


def test_ship_run_records_provenance_and_the_commands(tmp_path: Path):
    run = tmp_path / "runs" / "base"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- +experiment=general_base\n- paths.data_dir=/x/data\n"
                                                   "- trainer.max_steps=10\n")
    (run / "artifacts").mkdir()
    (run / "artifacts" / "model.nemo").write_bytes(b"weights")
    write_run_json(run, nemo=run / "artifacts" / "model.nemo", adapters=None, best_checkpoint=None, base={},
                   adapter={}, global_step=10, best_val_wer=0.1)
    assert rebuild_command(run) == "python recipes/train.py +experiment=general_base trainer.max_steps=10"
    d = tmp_path / "shipped"
    d.mkdir()
    entry = ship_run(run, "general_base", "nemo", directory=d)
    assert entry.run["global_step"] == 10 and entry.run["best_val_wer"] == 0.1 and "nemo" not in entry.run
    assert entry.rebuild[1].startswith("python recipes/ship_model.py run_dir=") and entry.rebuild[1].endswith(
        "name=general_base kind=nemo")
    assert shipped_path("general_base", d).read_bytes() == b"weights"
    with pytest.raises(ShippedModelError, match="no adapters artefact"):
        ship_run(run, "adapters", "adapters", directory=d)


def test_ship_run_records_given_train_commands_for_a_run_of_several_sittings(tmp_path: Path):
    run = tmp_path / "runs" / "base"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- trainer.max_steps=10\n")  # the finishing sitting only
    (run / "artifacts").mkdir()
    (run / "artifacts" / "model.nemo").write_bytes(b"weights")
    write_run_json(run, nemo=run / "artifacts" / "model.nemo", adapters=None, best_checkpoint=None, base={},
                   adapter={}, global_step=10, best_val_wer=0.1)
    whole = ["python recipes/train.py trainer.max_steps=100  # stopped after step 10",
             "python recipes/train.py trainer.max_steps=10"]
    entry = ship_run(run, "general_base", "nemo", directory=tmp_path, train_commands=whole)
    assert list(entry.rebuild[:2]) == whole and entry.rebuild[2].startswith("python recipes/ship_model.py")
    assert read_manifest(tmp_path)["general_base"].rebuild == entry.rebuild
