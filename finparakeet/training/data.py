"""Data for a training run: generate the synthetic corpus on first use, validate every split into the run dir,
train the tokenizer on the train text when the model is built from config.

Validation is the data layer's (``finparakeet.data.validate``): each split's clean cuts, NeMo manifest, rejects and
summary land in ``<run_dir>/data/<split>/``, so no bad row reaches an epoch and every skipped row is on record.
All three steps are skipped when their outputs exist, so a rerun (resume) redoes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from omegaconf import DictConfig, OmegaConf

from finparakeet.data.targets import TARGET_TEXTS, with_spoken_targets
from finparakeet.data.validate import CLEAN_CUTS, REJECTS, SUMMARY, ValidationConfig, format_summary, validate_to_dir

__all__ = ["SPLITS", "PreparedData", "prepare_data", "check_corpus_calls", "synthesize_if_absent", "validate_split",
           "ensure_tokenizer", "with_replay"]

logger = logging.getLogger(__name__)

# the train split's cuts with the spoken form as their text (data.target_text=spoken)
SPOKEN_CUTS = "clean_cuts_spoken.jsonl.gz"
# config key of the source cuts -> folder under <run_dir>/data ("replay": general cuts mixed into training)
SPLITS = {"train": "train_cuts", "validation": "validation_cuts", "test": "test_cuts", "replay": "replay_cuts"}


@dataclass(frozen=True)
class PreparedData:
    """Validated cuts per split (``None`` where the split is not configured) and the tokenizer folder."""

    cuts: dict[str, Optional[Path]]
    tokenizer_dir: Optional[Path]
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def rejected(self) -> dict[str, int]:
        return {s: int(v.get("rejected", 0)) for s, v in self.summaries.items()}


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


def check_corpus_calls(corpus_dir: str | Path, calls: Mapping[str, Any]) -> None:
    """``ValueError`` when the corpus in ``corpus_dir`` was synthesised with other ``calls`` settings than asked for.

    The folder's name says utterances and seed, not calls: a corpus of loose sentences must not be reused for a run
    that asks for calls (nor the reverse). The corpus' ``summary.json`` records what made it; a summary from before
    calls existed means the defaults (no calls)."""
    from finparakeet.synth import from_dict
    from finparakeet.synth.calls import CallConfig

    summary = Path(corpus_dir) / "summary.json"
    if not summary.is_file():
        return
    made = (json.loads(summary.read_text(encoding="utf-8")).get("config") or {}).get("calls") or {}
    made_cfg, asked_cfg = from_dict(CallConfig, made), from_dict(CallConfig, dict(calls))
    if made_cfg != asked_cfg:
        diff = ", ".join(f"calls.{k}={getattr(made_cfg, k)!r} there, {getattr(asked_cfg, k)!r} asked"
                         for k in CallConfig.__dataclass_fields__ if getattr(made_cfg, k) != getattr(asked_cfg, k))
        raise ValueError(f"data.dir={corpus_dir} holds a corpus synthesised with other data.synth.calls settings than "
                         f"this run asks for ({diff}; see {summary}): delete that folder to synthesise it again, or "
                         "set data.dir elsewhere")


def synthesize_if_absent(data_cfg: DictConfig) -> Optional[dict[str, Any]]:
    """Run ``finparakeet.synth`` into ``data.dir`` when ``data.synth`` is set and a configured split is missing; an
    existing corpus is checked against the ``data.synth.calls`` asked for (:func:`check_corpus_calls`)."""
    synth = data_cfg.get("synth")
    if not synth:
        return None
    paths = [data_cfg.get(key) for key in SPLITS.values() if data_cfg.get(key)]
    if paths and all(Path(p).is_file() for p in paths):
        check_corpus_calls(data_cfg.dir, _plain(synth).get("calls") or {})
        return None
    from finparakeet.synth import SynthConfig, from_dict, synthesize_corpus

    cfg = from_dict(SynthConfig, {**_plain(synth), "output_dir": str(data_cfg.dir)})
    logger.info("synthesising %d utterances (seed %d) into %s", cfg.num_utterances, cfg.seed, cfg.output_dir)
    print(f"[finparakeet] generating synthetic speech: {cfg.num_utterances} utterances -> {cfg.output_dir}",
          flush=True)
    return synthesize_corpus(cfg)


def validate_split(source: str | Path, out_dir: Path, config: ValidationConfig) -> dict[str, Any]:
    """``validate_to_dir`` unless ``out_dir`` already holds the result for this very source (then its summary)."""
    summary_path = out_dir / SUMMARY
    if (out_dir / CLEAN_CUTS).is_file() and summary_path.is_file():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if summary.get("manifest") == str(source):
            return summary
    if not Path(source).is_file():
        raise FileNotFoundError(f"cuts file {str(source)!r} does not exist")
    summary = validate_to_dir(source, out_dir, config)
    lines = format_summary(summary).splitlines()
    reasons = [ln.strip() for ln in lines[1:] if ln.startswith("  ") and ":" in ln and "/" not in ln]
    more = f" ({', '.join(reasons)}; see {out_dir / REJECTS})" if summary["rejected"] else ""
    print(f"[finparakeet] {lines[0]}{more}", flush=True)
    return summary


def ensure_tokenizer(tokenizer_dir: str | Path, train_cuts: Path, train_kwargs: Mapping[str, Any]) -> Path:
    """Train a SentencePiece tokenizer on the (clean) train text unless ``tokenizer_dir`` holds one."""
    from finparakeet.data.manifests import load_cuts
    from finparakeet.models.tokenizer import is_tokenizer_dir, train_tokenizer

    if is_tokenizer_dir(tokenizer_dir):
        return Path(tokenizer_dir)
    texts = [s.text for c in load_cuts(train_cuts, lazy=True) for s in c.supervisions if s.text]
    print(f"[finparakeet] training a tokenizer on {len(texts)} train texts -> {tokenizer_dir}", flush=True)
    return train_tokenizer(texts, tokenizer_dir, **dict(train_kwargs))


def with_replay(train_ds: Mapping[str, Any], replay_cuts: Optional[Path], share: float) -> dict[str, Any]:
    """The train dataset config with ``share`` of its utterances drawn from ``replay_cuts``: NeMo's weighted
    ``input_cfg`` of two Lhotse sources (Lhotse's ``mux``). ``share`` 0 leaves it as it is."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"data.replay_share must be in [0, 1), got {share}")
    ds = dict(train_ds)
    if share == 0.0:
        return ds
    if replay_cuts is None:
        raise ValueError(f"data.replay_share={share} needs data.replay_cuts (the cuts to replay, e.g. the general "
                         "base's train cuts)")
    if not ds.get("cuts_path"):
        raise ValueError("data.replay_share needs the train split as Lhotse cuts (train_ds.cuts_path)")
    ds["input_cfg"] = [{"type": "lhotse", "cuts_path": ds.pop("cuts_path"), "weight": 1.0 - share},
                       {"type": "lhotse", "cuts_path": str(replay_cuts), "weight": share}]
    ds["cuts_path"] = None
    return ds


def prepare_data(data_cfg: DictConfig, run_dir: str | Path, tokenizer_kwargs: Optional[Mapping[str, Any]] = None
                 ) -> PreparedData:
    """Synthesise (if configured and absent), validate each configured split into ``<run_dir>/data/<split>/``, and
    train the tokenizer at ``data.tokenizer_dir`` when ``tokenizer_kwargs`` is given (the model is built, not
    loaded) and none is there yet."""
    synthesize_if_absent(data_cfg)
    vcfg = ValidationConfig(**_plain(data_cfg.get("validate") or {}))
    cuts: dict[str, Optional[Path]] = {}
    summaries: dict[str, dict[str, Any]] = {}
    for split, key in SPLITS.items():
        source = data_cfg.get(key)
        if not source:
            cuts[split] = None
            continue
        out = Path(run_dir) / "data" / split
        summaries[split] = validate_split(source, out, vcfg)
        if summaries[split]["clean"] == 0 and split != "test":  # replay too: asked for, so it must have data
            raise ValueError(f"data.{key}={source}: no usable cut ({summaries[split]['rejected']} rejected, "
                             f"see {out / REJECTS})")
        cuts[split] = out / CLEAN_CUTS
    target_text = data_cfg.get("target_text") or "written"
    if target_text not in TARGET_TEXTS:
        raise ValueError(f"data.target_text={target_text}: expected one of {', '.join(TARGET_TEXTS)}")
    if target_text == "spoken" and cuts.get("train"):  # validation keeps the written labels: they are what is scored
        spoken = cuts["train"].with_name(SPOKEN_CUTS)
        if not spoken.is_file():
            with_spoken_targets(cuts["train"], spoken)
        cuts["train"] = spoken
    tok = data_cfg.get("tokenizer_dir")
    tok_dir = None
    if tok and tokenizer_kwargs is not None:
        tok_dir = ensure_tokenizer(tok, cuts["train"], tokenizer_kwargs)
    return PreparedData(cuts, tok_dir, summaries)
