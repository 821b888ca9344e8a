"""``recipes/transcribe.py`` as a library call: model, inputs, bias lists, decode(s), outputs, reports.

``transcribe(cfg)`` takes the recipe's config (``conf/transcribe.yaml``; any mapping with those keys) and returns a
``TranscribeResult``; a test calls it without Hydra.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from finparakeet.biasing.phrases import EmptyBiasListError, clean_phrases, read_key_phrases
from finparakeet.conf import CONF_DIR
from finparakeet.data.nemo_manifest import write_nemo_manifest
from finparakeet.data.rejects import Reject, count_kinds, write_rejects
from finparakeet.inference.decoding import (BoostingParams, LMFusion, apply_decoding, check_confidence_strategy,
                                            check_lm_tokenizer, confidence_settings, decoding_config, lm_fusion,
                                            usable_phrases)
from finparakeet.inference.evaluation import compare_reports, evaluate_manifest, write_comparison
from finparakeet.inference.inputs import Inputs, collect_inputs
from finparakeet.inference.longform import LongAudioConfig
from finparakeet.inference.transcriber import DecodeStats, Transcriber, Transcript
from finparakeet.pretrained import resolve_shipped_name
from finparakeet.scoring.confidence import AGGREGATIONS, DEFAULT_AGGREGATION, Calibration, load_calibration
from finparakeet.scoring.review import ReviewItem, report_sections, review_items, review_queue, write_review

logger = logging.getLogger(__name__)

NO_BOOSTING = "no_boosting"
BOOSTED = "boosting"


@dataclass
class TranscribeResult:
    output: Path
    rows: list[dict[str, Any]]
    rejects: list[Reject]
    stats: DecodeStats
    phrases: list[str]  # the global bias list used (after checks)
    rejects_file: Path | None = None
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # decode name -> entity report
    report_paths: dict[str, dict[str, Path]] = field(default_factory=dict)
    comparison: dict[str, Any] | None = None
    outputs: dict[str, Path] = field(default_factory=dict)  # decode name -> manifest
    lm: LMFusion | None = None  # the n-gram LM fused into decoding
    review: list[ReviewItem] = field(default_factory=list)  # confidence=true: the queue, least confident first
    review_paths: dict[str, Path] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        s = self.stats
        lines = [f"transcribed {len(self.rows)} row(s), {s.audio_seconds:.1f} s of audio in {s.wall_seconds:.1f} s: "
                 f"RTFx {s.rtfx:.1f}" if s.rtfx else f"transcribed {len(self.rows)} row(s)"]
        if s.long_items:
            lines.append(f"  long recordings: {s.long_items} ({s.windows} windows); longest single pass "
                         f"{s.max_pass_seconds:.1f} s")
        if self.phrases:
            lines.append(f"  boosted {len(self.phrases)} key phrase(s)")
        if self.lm:
            lines.append(f"  n-gram LM {self.lm.model} (ngram_lm_alpha {self.lm.alpha})")
        if self.review:
            lines.append(f"  review queue: {len(self.review)} entit(y/ies), least confident first -> "
                         f"{self.review_paths.get('jsonl')}")
        if self.rejects:
            lines.append(f"  skipped {len(self.rejects)} row(s): {count_kinds(self.rejects)} -> {self.rejects_file}")
        lines.append(f"-> {self.output}")
        return lines


def _cfg(cfg: Mapping[str, Any] | DictConfig) -> DictConfig:
    base = OmegaConf.load(CONF_DIR / "transcribe.yaml")
    base.pop("hydra", None)
    base.pop("defaults", None)
    base.lm = OmegaConf.load(CONF_DIR / "lm" / "none.yaml")  # the lm group's default (Hydra composes it in the recipe)
    given = cfg if OmegaConf.is_config(cfg) else OmegaConf.create(dict(cfg))
    if "lm" in given and OmegaConf.is_config(given.lm) and OmegaConf.is_missing(given.lm, "ngram_lm_model"):
        # checked before merging: a merge keeps the default's null under a missing value, decoding with no LM
        raise ValueError("lm=finance needs lm.ngram_lm_model=<an ARPA file from recipes/build_lm.py>")
    merged = OmegaConf.merge(base, given)
    for group in ("boosting", "lm"):
        unknown = sorted(set(merged[group]) - set(base[group]))
        if unknown:  # e.g. boosting's old `alpha`: ignoring it would decode with another weight than asked for
            raise ValueError(f"unknown {group} key(s) {unknown}; the keys are {sorted(base[group])}")
    return merged


def resolve_device(cuda: int | None):
    import torch  # torch (seconds to import) only when a model is decoded

    if cuda is None:
        return torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")
    return torch.device("cpu") if cuda < 0 else torch.device(f"cuda:{cuda}")


def load_model(model_path: str | None = None, pretrained_name: str | None = None, adapter_path: str | None = None,
               adapters_enabled: bool = True, map_location: Any = "cpu"):
    """A NeMo ASR model (adapter-capable encoder), with ``adapter_path`` loaded and adapters switched as asked.

    ``pretrained_name`` and ``adapter_path`` may name files shipped in the package (``finparakeet/general_base``,
    ``finparakeet/finance_adapters``)."""
    # torch and NeMo load with the model, not with the package
    from finparakeet.models.adapters import adapter_names, load_adapters, set_adapters_enabled
    from finparakeet.models.loading import load_pretrained

    if not model_path and not pretrained_name:
        raise ValueError("give model_path=/path/to/model.nemo or pretrained_name=nvidia/parakeet-tdt-0.6b-v2")
    model = load_pretrained(pretrained_name=pretrained_name, nemo_path=model_path, map_location=map_location)
    if adapter_path:
        # finparakeet/<name>: adapters shipped in the package, sha256-checked like a shipped base
        path = resolve_shipped_name(adapter_path) or Path(adapter_path)
        if not path.is_file():
            raise FileNotFoundError(f"adapter_path={adapter_path} does not exist")
        load_adapters(model, path, map_location=map_location)
    if adapter_names(model):
        set_adapters_enabled(model, adapters_enabled)
    model.eval()
    return model


def _model_name(cfg: DictConfig) -> str:
    if cfg.model_path:
        return Path(cfg.model_path).stem
    return str(cfg.pretrained_name).rsplit("/", 1)[-1]


def default_output(cfg: DictConfig) -> Path:
    """NeMo's ``compute_output_filename`` rule."""
    if cfg.output_filename:
        return Path(cfg.output_filename)
    if cfg.audio_dir:
        return Path(str(Path(cfg.audio_dir)) + ".json")
    src = Path(cfg.dataset_manifest or cfg.cuts_path)
    stem = src.name.split(".")[0]
    return src.with_name(f"{stem}_{_model_name(cfg)}.json")


def _sibling(output: Path, suffix: str) -> Path:
    return output.with_name(f"{output.stem}{suffix}")


def global_phrases(boosting: DictConfig) -> list[str] | None:
    """The bias list of ``boosting.key_phrases_file`` / ``key_phrases_list``; None when neither is given.
    ``EmptyBiasListError`` for a file or list with no phrase."""
    phrases: list[str] = []
    given = False
    if boosting.get("key_phrases_file"):
        given = True
        phrases += read_key_phrases(boosting.key_phrases_file, recase=boosting.get("recase", "none"))
    if boosting.get("key_phrases_list") is not None:
        given = True
        listed = boosting.key_phrases_list
        listed = [listed] if isinstance(listed, str) else list(listed)
        if not clean_phrases(listed):
            raise EmptyBiasListError("boosting.key_phrases_list is empty: give phrases or leave it null")
        phrases += listed
    return clean_phrases(phrases) if given else None


def _rows(inputs: Inputs, transcripts: list[Transcript | None], timestamps: bool, confidence: bool = False
          ) -> list[dict[str, Any]]:
    rows = []
    for item, t in zip(inputs.items, transcripts):
        if t is None:
            continue
        row = {**item.row, "pred_text": t.text}
        if timestamps or confidence:  # confidence rides on the words: {"word", "start", "end", "confidence"}
            row["word"] = t.words or []
        if timestamps:
            row["segment"] = t.segments or []
        rows.append(row)
    return rows


def transcribe(cfg: Mapping[str, Any] | DictConfig, model=None) -> TranscribeResult:
    """Run the recipe (see ``conf/transcribe.yaml``); ``model``: an already loaded model to use instead."""
    cfg = _cfg(cfg)
    output = default_output(cfg)
    boosting = cfg.boosting
    enabled = boosting.get("enabled", True)
    # Cheap checks first: a bad bias list or input fails before the model loads.
    phrases = global_phrases(boosting) if enabled else None
    fields = list(boosting.per_utterance_fields or []) if enabled else []
    lm = lm_fusion(cfg.lm, cfg.rnnt_decoding.get("strategy") or "greedy_batch")
    confidence = bool(cfg.confidence)
    how = cfg.entity_confidence.aggregation
    calibration = None
    if confidence:
        check_confidence_strategy(cfg.rnnt_decoding.get("strategy") or "greedy_batch")
        if how not in AGGREGATIONS:
            raise ValueError(f"entity_confidence.aggregation must be one of {AGGREGATIONS}, got {how!r}")
        calibration = load_calibration(cfg.confidence_calibration) if cfg.confidence_calibration else None
        if calibration is not None and calibration.aggregation not in (None, how):
            raise ValueError(f"confidence_calibration={cfg.confidence_calibration} was fitted on "
                             f"{calibration.aggregation!r} entity confidence, entity_confidence.aggregation is {how!r}")
    elif cfg.confidence_calibration:
        raise ValueError("confidence_calibration needs confidence=true")
    inputs = collect_inputs(cfg.dataset_manifest, cfg.audio_dir, cfg.cuts_path, cfg.audio_type, fields)
    long_audio = LongAudioConfig(**{**OmegaConf.to_container(cfg.long_audio, resolve=True),
                                    "att_context_size": tuple(cfg.long_audio.att_context_size)})
    rejects = list(inputs.rejects)
    rejects_file = _sibling(output, ".rejects.jsonl")
    if not inputs.items:
        write_rejects(rejects, rejects_file)
        raise ValueError(f"no usable input in {inputs.source}: {len(rejects)} row(s) rejected "
                         f"({count_kinds(rejects)}), see {rejects_file}")

    device = resolve_device(cfg.cuda)
    if model is None:
        model = load_model(cfg.model_path, cfg.pretrained_name, cfg.adapter_path, cfg.adapters_enabled, device)
    model = model.to(device)
    if lm is not None:
        check_lm_tokenizer(model, lm)
    if phrases is not None:
        phrases = usable_phrases(model.tokenizer, phrases)
        if not phrases:
            raise EmptyBiasListError("no key phrase is left after dropping those the model's tokenizer cannot spell")
    for item in inputs.items:
        if item.phrases:
            item.phrases = usable_phrases(model.tokenizer, item.phrases) or None
    per_utterance = any(item.phrases for item in inputs.items)
    boosted = bool(phrases) or per_utterance
    params = BoostingParams(boosting.boosting_tree_alpha, boosting.context_score, boosting.depth_scaling,
                            boosting.use_triton)
    conf_cfg = confidence_settings(cfg.confidence_cfg) if confidence else None
    needs_times = cfg.timestamps or confidence or (long_audio.strategy == "windows" and
                                     any(long_audio.is_long(it.cut) for it in inputs.items))

    def decode(boost: bool) -> tuple[list[Transcript | None], list[Reject], DecodeStats]:
        dcfg = decoding_config(model.cfg.decoding, cfg.rnnt_decoding, phrases, params,
                               per_utterance=per_utterance, timestamps=needs_times, device_type=device.type,
                               boost=boost, lm=lm, confidence=conf_cfg)
        apply_decoding(model, dcfg)
        runner = Transcriber(model, cfg.batch_size, bool(cfg.timestamps), long_audio, params,
                             per_utterance=per_utterance and boost, progress=cfg.progress,
                             num_workers=cfg.num_workers, confidence=confidence)
        return runner.run(inputs.items)

    transcripts, decode_rejects, stats = decode(boost=True)
    rejects += decode_rejects
    rows = _rows(inputs, transcripts, bool(cfg.timestamps), confidence)
    write_nemo_manifest(rows, output)
    if rejects:
        write_rejects(rejects, rejects_file)
    elif rejects_file.exists():
        rejects_file.unlink()  # a stale file from an earlier run would mislead
    name = BOOSTED if boosted else "output"
    result = TranscribeResult(output, rows, rejects, stats, phrases or [], rejects_file if rejects else None,
                              outputs={name: output}, lm=lm)

    if confidence:
        manifest_dir = Path(cfg.dataset_manifest).parent if cfg.dataset_manifest else None  # NeMo's relative paths
        result.review = review_queue(review_items(rows, how, calibration, manifest_dir=manifest_dir))
        result.review_paths = write_review(result.review, output.parent)
    all_stats = {name: stats.to_dict()}
    if boosting.compare:
        if not boosted:
            raise ValueError("boosting.compare=true needs key phrases (boosting.key_phrases_file, "
                             "boosting.key_phrases_list or per-utterance lists)")
        plain, _, plain_stats = decode(boost=False)
        plain_out = _sibling(output, f".{NO_BOOSTING}.json")
        write_nemo_manifest(_rows(inputs, plain, bool(cfg.timestamps), confidence), plain_out)
        result.outputs[NO_BOOSTING] = plain_out
        all_stats[NO_BOOSTING] = plain_stats.to_dict()
    if cfg.evaluate:
        _evaluate(cfg, result, inputs, all_stats, how, calibration)
    with open(_sibling(output, ".summary.json"), "w", encoding="utf-8") as f:
        json.dump({"output": str(output), "rows": len(rows), "rejected": len(rejects),
                   "reasons": count_kinds(rejects), "phrases": len(result.phrases),
                   "lm": dataclasses.asdict(lm) if lm else None, "decodes": all_stats}, f, indent=1)
    return result


def _evaluate(cfg: DictConfig, result: TranscribeResult, inputs: Inputs, stats: dict[str, Any],
              how: str = DEFAULT_AGGREGATION, calibration: Calibration | None = None) -> None:
    report_dir = Path(cfg.report_dir) if cfg.report_dir else result.output.parent
    # Key phrases are scored against everything that was boosted: the global list and the per-utterance lists.
    bias = clean_phrases(result.phrases + [p for it in inputs.items for p in (it.phrases or [])])
    for name, manifest in result.outputs.items():
        where = report_dir / NO_BOOSTING if name == NO_BOOSTING else report_dir
        extra = None
        if name != NO_BOOSTING and result.review:  # how well confidence finds errors; the queue's head for the page
            extra = report_sections(result.review, how, calibration)
        report, paths = evaluate_manifest(manifest, where, bias or None, extra)
        result.reports[name] = report
        result.report_paths[name] = paths
    if NO_BOOSTING in result.reports:
        table = compare_reports({NO_BOOSTING: result.reports[NO_BOOSTING], BOOSTED: result.reports[BOOSTED]},
                                stats)
        write_comparison(table, report_dir)
        result.comparison = table
