"""Shared fixtures: a small synthetic finance corpus (made once per session) and helpers to run recipes/train.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONF_DIR = REPO / "conf"
# Earnings-21's text (../shared/earnings21 beside the checkout, or $FINPARAKEET_EARNINGS21); tests skip without it.
EARNINGS21 = Path(os.environ.get("FINPARAKEET_EARNINGS21", REPO.parent / "shared" / "earnings21"))


@pytest.fixture(scope="session")
def world(request, tmp_path_factory):
    """The trained tiny world of the inference and export tests (``tests/fixtures_inference.py``), built once."""
    from fixtures_inference import world_fixture

    return world_fixture(request, tmp_path_factory)


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """30 synthetic finance utterances (21 train / 6 dev / 3 test; ~0.05 h) with entity spans, via finparakeet.synth.

    Used as ``data.dir`` of the synthetic_finance data config; the first run trains its tokenizer there.
    """
    from finparakeet.synth import SplitConfig, SynthConfig, synthesize_corpus

    out = tmp_path_factory.mktemp("synth") / "finance30"
    synthesize_corpus(SynthConfig(output_dir=str(out), num_utterances=30, seed=11, num_workers=2, progress=False,
                                  splits=SplitConfig(train=0.7, dev=0.2, test=0.1)))
    return out


def tiny_run_overrides(data_dir: Path, steps: int = 3) -> list[str]:
    """Overrides for a seconds-long CPU run of the smoke experiment on ``data_dir``: validation (and last.ckpt) at
    ``steps``; no training-batch decoding; quiet."""
    return ["+experiment=smoke", f"data.dir={data_dir}", f"trainer.max_steps={steps}",
            f"trainer.val_check_interval={steps}", f"checkpoint.every_n_train_steps={steps}",
            "trainer.log_every_n_steps=1000", "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false",
            "num_threads=1"]


def run_train(args: list[str], env: dict[str, str] | None = None, timeout: float = 300
              ) -> subprocess.CompletedProcess:
    """``python recipes/train.py ARGS`` from the repo root on one thread; stdout and stderr captured."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "HYDRA_FULL_ERROR": "0",
                **(env or {})}
    return subprocess.run([sys.executable, str(REPO / "recipes" / "train.py"), *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def find_span(text: str, surface: str, category: str, start_at: int = 0, **kw):
    """The first occurrence of ``surface`` in ``text`` at or after ``start_at`` as an entity span (tests build
    references by hand with it); ``ValueError`` if absent."""
    from finparakeet.entities import EntitySpan

    i = text.find(surface, start_at)
    if i < 0:
        raise ValueError(f"{surface!r} does not occur in {text!r}")
    return EntitySpan(i, i + len(surface), category, surface, **kw)


def transcript_row(text: str | None, pred: str, conf, times=None, **extra) -> dict:
    """A transcript row as ``recipes/transcribe.py confidence=true`` writes it: ``pred_text`` and one ``word`` entry
    (word, start, end, NeMo confidence) per word; ``times`` default to 0.5 s per word; ``text=None``: no reference.
    ``extra`` adds or replaces fields (``id``, ``audio_filepath``, ``offset``...)."""
    words = pred.split()
    times = times or [(0.5 * k, 0.5 * k + 0.4) for k in range(len(words))]
    row = {"audio_filepath": "/audio/a.wav", "id": "utt1", "text": text, "pred_text": pred,
           "word": [{"word": w, "start": s, "end": e, "confidence": c} for w, c, (s, e) in zip(words, conf, times)]}
    if text is None:
        del row["text"]
    return {**row, **extra}
