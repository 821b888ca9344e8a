"""espeak-ng voices to 16 kHz mono audio, resampled (and optionally perturbed) by sox in the same pass."""

from __future__ import annotations

import random
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = ["TTSConfig", "Voice", "voice_names", "choose_voice", "synthesize", "check_tools"]


@dataclass(frozen=True)
class TTSConfig:
    # espeak-ng English voices (``espeak-ng --voices=en``) x variants (``--voices=variant``): 8 x 16 = 128 combinations.
    languages: tuple[str, ...] = ("en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan",
                                  "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
    variants: tuple[str, ...] = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
                                 "klatt", "klatt2", "klatt3")
    rate: tuple[int, int] = (140, 200)  # words per minute (espeak-ng -s), drawn uniformly
    pitch: tuple[int, int] = (30, 70)  # 0-99 (espeak-ng -p)
    sample_rate: int = 16000
    espeak: str = "espeak-ng"
    sox: str = "sox"


@dataclass(frozen=True)
class Voice:
    language: str
    variant: str
    rate: int
    pitch: int

    @property
    def name(self) -> str:
        return f"{self.language}+{self.variant}" if self.variant else self.language

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rate": self.rate, "pitch": self.pitch}


def voice_names(cfg: TTSConfig) -> list[str]:
    return [Voice(lang, var, 0, 0).name for lang in cfg.languages for var in cfg.variants]


def choose_voice(cfg: TTSConfig, rng: random.Random) -> Voice:
    return Voice(rng.choice(cfg.languages), rng.choice(cfg.variants), rng.randint(*cfg.rate), rng.randint(*cfg.pitch))


def check_tools(cfg: TTSConfig) -> None:
    """Fail early, naming the Debian packages, when espeak-ng or sox is missing."""
    missing = [tool for tool in (cfg.espeak, cfg.sox) if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not found on PATH: install the Debian packages "
                           f"espeak-ng sox libsox-fmt-all (apt-get install espeak-ng sox libsox-fmt-all)")


def synthesize(text: str, voice: Voice, effects: Sequence[str] = (), cfg: TTSConfig = TTSConfig()) -> np.ndarray:
    """``text`` read by ``voice``, through the sox ``effects``, as float32 samples at ``cfg.sample_rate``, mono."""
    if text.startswith("-"):
        text = " " + text  # never an espeak-ng option
    speech = subprocess.run([cfg.espeak, "-v", voice.name, "-s", str(voice.rate), "-p", str(voice.pitch), "--stdout",
                             text], check=True, capture_output=True).stdout
    # -D: no dither, so the same input gives the same bytes; raw float out, so noise is added before quantising once.
    out = subprocess.run([cfg.sox, "-D", "-t", "wav", "-", "-t", "f32", "-c", "1", "-", *effects,
                          "rate", "-h", str(cfg.sample_rate)], input=speech, check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype=np.float32).copy()
