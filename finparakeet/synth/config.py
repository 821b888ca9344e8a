"""The synthesis configuration as typed dataclasses (``conf/synthesize.yaml`` documents every key)."""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping

from finparakeet.synth.augment import AugmentConfig
from finparakeet.synth.calls import CallConfig
from finparakeet.synth.general import GeneralConfig
from finparakeet.synth.text import TextConfig
from finparakeet.synth.tts import TTSConfig

__all__ = ["SplitConfig", "SynthConfig", "from_dict"]

CORPORA = ("finance", "general", "mixed")


@dataclass(frozen=True)
class SplitConfig:
    train: float = 0.8
    dev: float = 0.1
    test: float = 0.1
    heldout_fraction: float = 0.2  # share of lexicon entries per kind (company+ticker together) never used in train
    unseen_share: float = 0.35  # least share of test entities from lexicon entries never used in train
    test_unseen_prob: float = 0.85  # test: chance a lexicon slot draws a held-out entry
    dev_unseen_prob: float = 0.3  # dev mixes seen and held-out entries
    max_tries: int = 40  # test: candidate sentences tried per utterance to keep the unseen share


@dataclass(frozen=True)
class SynthConfig:
    output_dir: str = "data/synth"
    num_utterances: int = 100
    seed: int = 0
    corpus: str = "finance"  # finance | general | mixed
    mixed_finance_share: float = 0.5  # corpus=mixed: share of finance utterances
    num_workers: int = 0  # 0: all cores
    progress: bool = True
    lexicon_dir: str | None = None  # None: the shipped lexicon
    templates_path: str | None = None  # None: finparakeet/synth/data/templates.txt
    text: TextConfig = field(default_factory=TextConfig)
    general: GeneralConfig = field(default_factory=GeneralConfig)
    tts: TTSConfig = field(default_factory=TTSConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    splits: SplitConfig = field(default_factory=SplitConfig)
    calls: CallConfig = field(default_factory=CallConfig)

    def __post_init__(self) -> None:
        if self.corpus not in CORPORA:
            raise ValueError(f"corpus must be one of {CORPORA}, got {self.corpus!r}")
        if self.num_utterances < 1:
            raise ValueError("num_utterances must be at least 1")
        fr = (self.splits.train, self.splits.dev, self.splits.test)
        if min(fr) < 0 or abs(sum(fr) - 1.0) > 1e-6:
            raise ValueError(f"split fractions must be >= 0 and sum to 1, got train/dev/test = {fr}")

    @property
    def workers(self) -> int:
        return self.num_workers if self.num_workers > 0 else (os.cpu_count() or 1)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


T = typing.TypeVar("T")


def _convert(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(value, Mapping):
        return from_dict(tp, value)
    if origin is tuple and isinstance(value, (list, tuple)):
        args = typing.get_args(tp)
        inner = args[0] if len(args) == 2 and args[1] is Ellipsis else None
        return tuple(_convert(inner or a, v) for a, v in zip(args if inner is None else [inner] * len(value), value))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_dict(cls: type[T], d: Mapping[str, Any]) -> T:
    """Build a (nested) config dataclass from a plain mapping (e.g. ``OmegaConf.to_container(cfg)``);
    unknown keys raise, so a typo in an override does not pass silently."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown config key(s) {unknown}; known: {sorted(names)}")
    return cls(**{k: _convert(hints[k], v) for k, v in d.items()})  # type: ignore[call-arg]
