"""recipes/export.py: a run directory to a .nemo that NeMo alone restores, with adapters that switch cleanly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import torch
from omegaconf import OmegaConf

from fixtures_inference import ROOT
from finparakeet.inference.export import RunDirError, export_run, finparakeet_references, read_run

pytestmark = pytest.mark.slow  # models are restored and decoded

NEMO_ONLY = """
import json, sys
from nemo.collections.asr.models import ASRModel
model = ASRModel.restore_from(sys.argv[1], map_location="cpu")
files = json.loads(sys.argv[2])
hyps = model.transcribe(files, batch_size=16, verbose=False)
print(json.dumps({"texts": [h.text for h in hyps], "enabled": sorted(model.get_enabled_adapters()),
                  "finparakeet_imported": "finparakeet" in sys.modules}))
"""


@pytest.fixture(scope="module")
def exported(world, tmp_path_factory) -> Path:
    """The run exported by the recipe, from the command line (its own check restores it with NeMo alone)."""
    out = tmp_path_factory.mktemp("export") / "finance.nemo"
    run = subprocess.run([sys.executable, "recipes/export.py", f"run_dir={world.run_dir}", f"output={out}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "verified with NeMo alone" in run.stdout and "'finparakeet_imported': False" in run.stdout
    assert "fin_enc (enabled)" in run.stdout
    return out


def transcribe_ours(model_path, manifest, out, **kw):
    from finparakeet.inference.pipeline import transcribe

    return transcribe({"model_path": str(model_path), "dataset_manifest": str(manifest), "output_filename": str(out),
                       "progress": False, **kw}).rows


def encoder_out(model, files):
    """Encoder output of a padded batch, in eval mode."""
    audio = [torch.from_numpy(sf.read(f, dtype="float32")[0]) for f in files]
    lens = torch.tensor([len(a) for a in audio])
    batch = torch.zeros(len(audio), int(lens.max()))
    for i, a in enumerate(audio):
        batch[i, : len(a)] = a
    model.eval()
    with torch.no_grad():
        enc, enc_len = model.forward(input_signal=batch, input_signal_length=lens)
    return enc, enc_len


def test_export_loads_without_finparakeet_and_transcribes_like_the_recipe(world, exported, tmp_path):
    files = [r["audio_filepath"] for r in world.eval_rows()]
    proc = subprocess.run([sys.executable, "-c", NEMO_ONLY, str(exported), json.dumps(files)], capture_output=True,
                          text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nemo = json.loads(proc.stdout.strip().splitlines()[-1])
    assert nemo["finparakeet_imported"] is False
    assert nemo["enabled"] == ["fin_enc"]
    ours = transcribe_ours(exported, world.eval_manifest, tmp_path / "ours.json", batch_size=16)
    assert [r["pred_text"] for r in ours] == nemo["texts"]
    # the adapters matter: the base model transcribes differently somewhere
    base = transcribe_ours(world.base_nemo, world.eval_manifest, tmp_path / "base.json", batch_size=16)
    assert [r["pred_text"] for r in base] != nemo["texts"]


def test_nemo_transcribe_speech_script_when_available(world, exported, tmp_path):
    """NeMo's stock examples/asr/transcribe_speech.py (not in the wheel): set FINPARAKEET_NEMO_EXAMPLES to a NeMo
    checkout's examples/asr to run it."""
    import os

    script = Path(os.environ.get("FINPARAKEET_NEMO_EXAMPLES", "/nonexistent")) / "transcribe_speech.py"
    if not script.is_file():
        pytest.skip("FINPARAKEET_NEMO_EXAMPLES does not point at NeMo's examples/asr")
    out = tmp_path / "nemo.json"
    proc = subprocess.run([sys.executable, str(script), f"model_path={exported}",
                           f"dataset_manifest={world.eval_manifest}", f"output_filename={out}", "batch_size=16"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nemo = [json.loads(line)["pred_text"] for line in out.read_text().splitlines()]
    ours = transcribe_ours(exported, world.eval_manifest, tmp_path / "ours.json", batch_size=16)
    assert [r["pred_text"] for r in ours] == nemo


def test_adapters_off_give_back_the_base_model_exactly(world, exported, tmp_path):
    from nemo.collections.asr.models import ASRModel

    files = [r["audio_filepath"] for r in world.eval_rows()[:12]]
    base, _ = encoder_out(ASRModel.restore_from(str(world.base_nemo), map_location="cpu"), files)
    model = ASRModel.restore_from(str(exported), map_location="cpu")
    adapted, _ = encoder_out(model, files)
    assert not torch.equal(adapted, base)
    model.set_enabled_adapters(enabled=False)
    off, _ = encoder_out(model, files)
    assert torch.equal(off, base)  # bit for bit
    model.set_enabled_adapters(enabled=True)
    assert torch.equal(encoder_out(model, files)[0], adapted)  # and back
    # the recipe's switch: the exported model with adapters_enabled=false transcribes as the base model
    off_rows = transcribe_ours(exported, world.eval_manifest, tmp_path / "off.json", adapters_enabled=False)
    base_rows = transcribe_ours(world.base_nemo, world.eval_manifest, tmp_path / "base.json")
    assert [r["pred_text"] for r in off_rows] == [r["pred_text"] for r in base_rows]


def test_export_with_adapters_switched_off(world, tmp_path):
    from nemo.collections.asr.models import ASRModel

    result = export_run(world.run_dir, tmp_path / "off.nemo", adapters_enabled=False)
    assert result.adapters == ["fin_enc"] and not result.adapters_enabled
    files = [r["audio_filepath"] for r in world.eval_rows()[:6]]
    model = ASRModel.restore_from(str(tmp_path / "off.nemo"), map_location="cpu")
    assert model.get_enabled_adapters() == []
    base, _ = encoder_out(ASRModel.restore_from(str(world.base_nemo), map_location="cpu"), files)
    assert torch.equal(encoder_out(model, files)[0], base)


def test_export_from_base_and_adapter_weights(world, exported, tmp_path):
    from nemo.collections.asr.models import ASRModel

    run_dir = tmp_path / "run"
    shutil.copytree(world.run_dir, run_dir)
    (run_dir / "artifacts" / "model.nemo").unlink()
    doc = read_run(run_dir)
    (run_dir / "artifacts" / "run.json").write_text(json.dumps({**doc, "nemo": None}))
    result = export_run(run_dir, tmp_path / "rebuilt.nemo")
    assert result.source == "base+adapters"
    files = [r["audio_filepath"] for r in world.eval_rows()[:6]]
    rebuilt = encoder_out(ASRModel.restore_from(str(tmp_path / "rebuilt.nemo"), map_location="cpu"), files)[0]
    full = encoder_out(ASRModel.restore_from(str(exported), map_location="cpu"), files)[0]
    assert torch.equal(rebuilt, full)


def test_export_config_serves_with_nemo_scripts(exported):
    from nemo.collections.asr.models import ASRModel

    cfg = ASRModel.restore_from(str(exported), map_location="cpu", return_config=True)
    assert cfg.validation_ds is not None  # NeMo's transcribe() from files reads validation_ds
    assert cfg.decoding.strategy == "greedy_batch" and "boosting_tree" not in (cfg.decoding.greedy or {})
    assert cfg.encoder._target_.startswith("nemo.")
    assert finparakeet_references(OmegaConf.to_container(cfg, resolve=True)) == []
    assert cfg.adapters.fin_enc.enabled is True
    # what the check catches: code, not a path that happens to hold the word
    assert finparakeet_references({"encoder": {"_target_": "finparakeet.models.Enc"},
                                   "tokenizer": {"dir": "/data/finparakeet_runs/tok"}}) == [
        "encoder._target_: finparakeet.models.Enc"]


def test_bad_run_directories_are_clear_errors(world, tmp_path):
    with pytest.raises(RunDirError, match="run.json is missing"):
        export_run(tmp_path, tmp_path / "x.nemo")
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "run.json").write_text(json.dumps({"nemo": "artifacts/gone.nemo", "adapters": None}))
    with pytest.raises(RunDirError, match="names neither an existing full model"):
        export_run(tmp_path, tmp_path / "x.nemo")
    shutil.copy(world.adapters, tmp_path / "artifacts" / "adapters.pt")
    (tmp_path / "artifacts" / "run.json").write_text(json.dumps({
        "nemo": None, "adapters": "artifacts/adapters.pt",
        "base": {"pretrained_name": None, "nemo_path": None, "model_config": "tiny_tdt"}}))
    with pytest.raises(RunDirError, match="cannot be rebuilt"):
        export_run(tmp_path, tmp_path / "x.nemo")
    with pytest.raises(ValueError, match="must end in .nemo"):
        export_run(world.run_dir, tmp_path / "x.pt")
    run = subprocess.run([sys.executable, "recipes/export.py", f"run_dir={tmp_path / 'nothing'}",
                          f"output={tmp_path / 'x.nemo'}"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode != 0 and "not a training run directory" in run.stderr
