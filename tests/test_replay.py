"""Replay: a share of other (general) utterances mixed into the training data through NeMo's weighted input_cfg."""

from __future__ import annotations

from pathlib import Path

import pytest
from lhotse import CutSet, MonoCut, Recording, SupervisionSegment

from conftest import run_train, tiny_run_overrides
from finparakeet.training.data import with_replay


def _cuts(path: Path, prefix: str, n: int) -> Path:
    cuts = []
    for i in range(n):
        rec = Recording(id=f"{prefix}{i}", sources=[], sampling_rate=16000, num_samples=16000, duration=1.0)
        cuts.append(MonoCut(id=f"{prefix}{i}", start=0, duration=1.0, channel=0, recording=rec,
                            supervisions=[SupervisionSegment(f"{prefix}{i}", f"{prefix}{i}", 0, 1.0, text="x")]))
    CutSet.from_cuts(cuts).to_file(path)
    return path


def test_replay_share_of_utterances_comes_from_the_replay_cuts(tmp_path):
    from nemo.collections.common.data.lhotse.cutset import read_cutset_from_config

    train = _cuts(tmp_path / "train.jsonl.gz", "fin", 300)
    general = _cuts(tmp_path / "general.jsonl.gz", "gen", 300)
    ds = with_replay({"cuts_path": str(train), "shuffle": True, "seed": 0}, general, 0.25)
    assert ds["cuts_path"] is None and [s["weight"] for s in ds["input_cfg"]] == [0.75, 0.25]
    cuts, _ = read_cutset_from_config(ds)
    first = [c.id for _, c in zip(range(400), cuts)]
    share = sum(i.startswith("gen") for i in first) / len(first)
    assert 0.18 < share < 0.32  # drawn, not interleaved: about a quarter
    assert any(i.startswith("fin") for i in first)


def test_no_share_leaves_the_train_config_alone(tmp_path):
    ds = {"cuts_path": "train.jsonl.gz", "shuffle": True}
    assert with_replay(ds, tmp_path / "general.jsonl.gz", 0.0) == ds


@pytest.mark.parametrize("share, cuts, match", [(0.2, None, "needs data.replay_cuts"),
                                                 (1.0, "g.jsonl.gz", r"must be in \[0, 1\)"),
                                                 (-0.1, "g.jsonl.gz", r"must be in \[0, 1\)")])
def test_bad_replay_settings_are_named(share, cuts, match):
    with pytest.raises(ValueError, match=match):
        with_replay({"cuts_path": "train.jsonl.gz"}, cuts and Path(cuts), share)


@pytest.mark.slow
def test_training_with_replay_validates_and_mixes_the_replay_cuts(synth_dir, tmp_path):
    run_dir = tmp_path / "run"
    replay = synth_dir / "dev_cuts.jsonl.gz"  # any cuts with audio: the dev split stands in for general speech
    proc = run_train([*tiny_run_overrides(synth_dir, steps=2), f"hydra.run.dir={run_dir}",
                      f"data.replay_cuts={replay}", "data.replay_share=0.3"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (run_dir / "data" / "replay" / "clean_cuts.jsonl.gz").is_file()
    import yaml
    saved = yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text())
    assert saved["data"]["replay_share"] == 0.3
    bad = run_train([*tiny_run_overrides(synth_dir, steps=2), f"hydra.run.dir={tmp_path / 'bad'}",
                     "data.replay_share=0.3"])
    assert bad.returncode != 0 and "needs data.replay_cuts" in bad.stderr + bad.stdout
