"""Augmentation on a share of utterances: speed perturbation and telephone band (sox effects), additive noise at an SNR.

The choice for an utterance is drawn once, from its own seeded RNG, and kept as an :class:`AugmentSpec`, so the same
seed gives the same audio whatever the number of workers. Noise is mixed in numpy rather than by a second sox pass: the
SNR needs the speech power, and a seeded generator keeps the noise byte-for-byte reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["NoiseConfig", "TelephoneConfig", "SpeedConfig", "AugmentConfig", "AugmentSpec", "choose_augmentation",
           "sox_effects", "add_noise"]


@dataclass(frozen=True)
class NoiseConfig:
    prob: float = 0.6
    snr_db: tuple[float, float] = (5.0, 25.0)
    types: tuple[str, ...] = ("white", "pink", "brown")


@dataclass(frozen=True)
class TelephoneConfig:
    prob: float = 0.3
    band_hz: tuple[int, int] = (300, 3400)
    rate: int = 8000  # narrow-band round trip: down to this rate and back up


@dataclass(frozen=True)
class SpeedConfig:
    prob: float = 0.4
    factors: tuple[float, ...] = (0.9, 1.1)


@dataclass(frozen=True)
class AugmentConfig:
    share: float = 0.5  # share of utterances augmented at all; each then gets at least one effect below
    noise: NoiseConfig = NoiseConfig()
    telephone: TelephoneConfig = TelephoneConfig()
    speed: SpeedConfig = SpeedConfig()


@dataclass(frozen=True)
class AugmentSpec:
    """What is applied to one utterance (nothing by default)."""

    speed: float | None = None
    telephone: tuple[int, int, int] | None = None  # (low Hz, high Hz, rate)
    noise: str | None = None
    snr_db: float | None = None
    noise_seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.speed is not None:
            d["speed"] = self.speed
        if self.telephone is not None:
            d["telephone"] = {"band_hz": [self.telephone[0], self.telephone[1]], "rate": self.telephone[2]}
        if self.noise is not None:
            d["noise"] = {"type": self.noise, "snr_db": self.snr_db}
        return d


def choose_augmentation(cfg: AugmentConfig, rng: random.Random) -> AugmentSpec:
    noise_seed = rng.getrandbits(32)
    if rng.random() >= cfg.share:
        return AugmentSpec(noise_seed=noise_seed)
    picks = {k: rng.random() < p for k, p in
             (("noise", cfg.noise.prob), ("telephone", cfg.telephone.prob), ("speed", cfg.speed.prob))}
    if not any(picks.values()):
        picks[rng.choice(sorted(picks))] = True
    speed = rng.choice(cfg.speed.factors) if picks["speed"] and cfg.speed.factors else None
    tel = (*cfg.telephone.band_hz, cfg.telephone.rate) if picks["telephone"] else None
    noise = rng.choice(cfg.noise.types) if picks["noise"] and cfg.noise.types else None
    snr = round(rng.uniform(*cfg.noise.snr_db), 1) if noise else None
    return AugmentSpec(speed, tel, noise, snr, noise_seed)


def sox_effects(spec: AugmentSpec) -> list[str]:
    """sox effect arguments for the speed and telephone parts (the caller resamples to the target rate after)."""
    fx: list[str] = []
    if spec.speed is not None and spec.speed != 1.0:
        fx += ["speed", f"{spec.speed:g}"]  # tempo and pitch together, as Kaldi-style speed perturbation
    if spec.telephone is not None:
        lo, hi, rate = spec.telephone
        fx += ["sinc", f"{lo}-{hi}", "rate", str(rate)]
    return fx


def _colored_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "white" or n < 2:
        return rng.standard_normal(n)
    exponent = {"pink": 0.5, "brown": 1.0}.get(kind)
    if exponent is None:
        raise ValueError(f"unknown noise type {kind!r} (white, pink, brown)")
    # Shape the spectrum: power 1/f (pink) or 1/f^2 (brown). A power-of-two length keeps the FFT fast.
    m = 1 << (n - 1).bit_length()
    spec = np.fft.rfft(rng.standard_normal(m))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spec / f ** exponent, m)[:n]


def add_noise(samples: np.ndarray, spec: AugmentSpec) -> np.ndarray:
    """``samples`` with the spec's noise at its SNR (speech power over the whole clip); unchanged without noise."""
    if spec.noise is None or spec.snr_db is None or not len(samples):
        return samples
    noise = _colored_noise(spec.noise, len(samples), np.random.default_rng(spec.noise_seed))
    p_speech = float(np.mean(samples.astype(np.float64) ** 2))
    p_noise = float(np.mean(noise ** 2)) or 1.0
    mixed = samples + noise * np.sqrt(p_speech / (p_noise * 10 ** (spec.snr_db / 10)))
    peak = float(np.max(np.abs(mixed)))
    if peak > 0.99:
        mixed *= 0.99 / peak  # scale rather than clip: clipping would change the SNR and add distortion
    return mixed.astype(np.float32)
