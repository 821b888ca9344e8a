"""Decode checked inputs with a NeMo ASR model: batches, per-utterance biasing, long recordings, RTFx.

Every batch goes through the model's own ``transcribe`` (NeMo's eval mode, dither and padding settings, biasing
requests, timestamp processing), fed with audio loaded by Lhotse. Audio shorter than a second is not padded (NeMo pads
tensors but not files, and ``transcribe_speech.py`` reads files): our transcripts match NeMo's own script.
Utterances are decoded longest first, as ``transcribe_speech.py``'s ``presort_manifest`` does, and come back in
input order.
"""

from __future__ import annotations

import difflib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from tqdm import tqdm

from finparakeet.data.rejects import AUDIO_UNREADABLE, Reject
from finparakeet.inference.decoding import BoostingParams, biasing_requests, release_requests
from finparakeet.inference.inputs import InputItem
from finparakeet.inference.longform import (LongAudioConfig, Window, local_attention, plan_windows,
                                            segments_from_words, stitch_words)

logger = logging.getLogger(__name__)


@dataclass
class Transcript:
    text: str
    # [{"word", "start", "end"}] in seconds from the item's start, plus "confidence" (NeMo's word confidence, [0, 1])
    # when decoded with confidence: then one entry per word of ``text.split()``, in order
    words: list[dict[str, Any]] | None = None
    segments: list[dict[str, Any]] | None = None


class AudioBar:
    """A progress bar in seconds of audio that stops at its total, never past it: overlapping windows decode some
    seconds twice, and a tqdm bar run past its total drops the total and then fails to format it, at ``close()``,
    after the whole decode."""

    def __init__(self, total_seconds: float, desc: str, enabled: bool = True):
        self._bar = tqdm(total=total_seconds, unit="s", desc=desc, disable=not enabled,
                         bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}]")

    @property
    def seconds(self) -> float:
        return self._bar.n

    def tick(self, seconds: float) -> None:
        self._bar.update(max(0.0, min(seconds, self._bar.total - self._bar.n)))

    def close(self) -> None:
        self._bar.close()


@dataclass
class DecodeStats:
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    items: int = 0
    long_items: int = 0
    windows: int = 0
    max_pass_seconds: float = 0.0  # the longest audio given to the encoder in one pass

    @property
    def rtfx(self) -> float | None:
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {"audio_seconds": round(self.audio_seconds, 3), "wall_seconds": round(self.wall_seconds, 3),
                "rtfx": round(self.rtfx, 2) if self.rtfx else None, "items": self.items,
                "long_items": self.long_items, "windows": self.windows,
                "max_pass_seconds": round(self.max_pass_seconds, 3)}


@dataclass
class _Job:
    """One decoding pass: an item, or a window of one."""

    key: int  # index of the item
    audio: Any  # a Lhotse cut to load
    duration: float
    phrases: list[str] | None
    window: Window | None = None


def load_samples(cut: Any) -> np.ndarray:
    """A checked cut's samples as float32 mono (16 kHz after ``inputs``); ``ValueError`` when empty or not finite."""
    samples = cut.load_audio()
    samples = samples[0] if samples.ndim == 2 else samples
    if samples.size == 0 or not np.isfinite(samples).all():
        raise ValueError("the decoded audio is empty or holds NaN/inf samples")
    return samples.astype(np.float32, copy=False)


def _timed(hyp, kind: str) -> list[dict[str, Any]]:
    """A hypothesis' ``word`` or ``segment`` timestamps: ``[{kind, "start", "end"}]`` in seconds."""
    ts = hyp.timestamp if isinstance(getattr(hyp, "timestamp", None), dict) else {}
    return [{kind: t[kind], "start": round(float(t["start"]), 3), "end": round(float(t["end"]), 3)}
            for t in ts.get(kind, []) if "start" in t]


def confident_words(hyp) -> list[dict[str, Any]]:
    """One ``{"word", "start", "end", "confidence"}`` per word of ``hyp.text.split()`` (what NeMo's
    ``word_confidence`` is aligned to). Times come from the word timestamps, matched by position when both lists
    agree, else by their words (NeMo's timestamp words can split or merge punctuation); a word with no timestamp
    match takes its neighbours' bounds."""
    texts = hyp.text.split() if hyp.text else []
    conf = [float(c) for c in (hyp.word_confidence or [])]
    if len(conf) != len(texts):
        raise RuntimeError(f"NeMo returned {len(conf)} word confidence value(s) for {len(texts)} word(s) "
                           f"({hyp.text!r}): was the model decoded with confidence_cfg?")
    timed = _timed(hyp, "word")
    times: list[tuple[float, float] | None] = [None] * len(texts)
    if [t["word"] for t in timed] == texts or len(timed) == len(texts):
        times = [(t["start"], t["end"]) for t in timed]
    else:
        matcher = difflib.SequenceMatcher(a=texts, b=[t["word"] for t in timed], autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                t = timed[block.b + k]
                times[block.a + k] = (t["start"], t["end"])
    out = []
    for k, (word, c) in enumerate(zip(texts, conf)):
        span = times[k]
        if span is None:  # between the nearest timed words around it
            before = next((times[j][1] for j in range(k - 1, -1, -1) if times[j]), 0.0)
            after = next((times[j][0] for j in range(k + 1, len(times)) if times[j]), before)
            span = (before, max(before, after))
        out.append({"word": word, "start": span[0], "end": span[1], "confidence": round(c, 6)})
    return out


def _transcript(hyp, timestamps: bool, confidence: bool = False) -> Transcript:
    if confidence:  # words with confidence (and times) whether or not timestamps were asked for
        words = confident_words(hyp)
        return Transcript(hyp.text, words, _timed(hyp, "segment") if timestamps else None)
    if not timestamps:
        return Transcript(hyp.text)
    return Transcript(hyp.text, _timed(hyp, "word"), _timed(hyp, "segment"))


@dataclass
class Transcriber:
    """Decodes ``InputItem``s with ``model`` as it is configured (see ``decoding.decoding_config``)."""

    model: Any
    batch_size: int = 16
    timestamps: bool = False  # the decoding config must have compute_timestamps (long windows need it too)
    long_audio: LongAudioConfig = field(default_factory=LongAudioConfig)
    params: BoostingParams = field(default_factory=BoostingParams)  # for per-utterance requests
    per_utterance: bool = False  # the decoding config has enable_per_stream_biasing
    progress: bool = True
    num_workers: int = 0
    confidence: bool = False  # the decoding config has confidence_cfg: keep NeMo's word confidence on every word

    @property
    def device_type(self) -> str:
        return next(self.model.parameters()).device.type

    def _transcribe(self, audios: list[np.ndarray], requests: list[Any] | None, timestamps: bool) -> list[Any]:
        """One NeMo ``transcribe`` call over a batch; returns the hypotheses."""
        trcfg = self.model.get_transcribe_config()
        trcfg.batch_size = len(audios)
        trcfg.return_hypotheses = True
        trcfg.num_workers = self.num_workers
        trcfg.verbose = False
        trcfg.timestamps = True if timestamps else None  # None: keep the decoding config as set up
        if requests is not None and any(r is not None for r in requests):
            trcfg.partial_hypothesis = requests
        # NeMo pads tensor inputs to 1 s but reads files as they are; read as NeMo's file path does.
        trcfg.pad_min_duration = 0.0
        out = self.model.transcribe(audio=audios, override_config=trcfg)
        return out[0] if isinstance(out, tuple) else out

    def _run_jobs(self, jobs: list[_Job], stats: DecodeStats, bad: dict[int, str], tick: Callable[[float], None],
                  timestamps: bool, batch_size: int) -> dict[int, Any]:
        """Hypotheses of ``jobs`` by position, longest first in batches; unreadable items go to ``bad``."""
        order = sorted(range(len(jobs)), key=lambda i: -jobs[i].duration)
        hyps: dict[int, Any] = {}
        for b in range(0, len(order), batch_size):
            idx = [i for i in order[b:b + batch_size] if jobs[i].key not in bad]
            audios, keep = [], []
            for i in idx:
                try:
                    audios.append(load_samples(jobs[i].audio))
                    keep.append(i)
                except Exception as e:  # noqa: BLE001 - any decoding failure of one file rejects that item only
                    bad[jobs[i].key] = f"cannot load the audio: {type(e).__name__}: {str(e)[:200]}"
            if not keep:
                continue
            # keyed by model too: NeMo's tree cache is process-wide and a tree is built for one tokenizer
            requests = biasing_requests([jobs[i].phrases for i in keep], self.params, self.device_type,
                                        run_key=str(id(self.model))) if self.per_utterance else None
            try:
                out = self._transcribe(audios, requests, timestamps)
            finally:
                if requests:
                    release_requests(requests)
            for i, h in zip(keep, out):
                hyps[i] = h
            seconds = sum(jobs[i].duration for i in keep)
            stats.max_pass_seconds = max(stats.max_pass_seconds, max(jobs[i].duration for i in keep))
            tick(seconds)
        return hyps

    def run(self, items: Sequence[InputItem]) -> tuple[list[Transcript | None], list[Reject], DecodeStats]:
        """Transcripts in input order (None where the item was rejected), the rejects, and timing."""
        la = self.long_audio
        stats = DecodeStats(items=len(items))
        bar = AudioBar(sum(it.cut.duration for it in items), "transcribing", self.progress)
        tick = bar.tick

        bad: dict[int, str] = {}
        out: list[Transcript | None] = [None] * len(items)
        start = time.perf_counter()
        short, windowed, local = [], [], []
        for k, it in enumerate(items):
            if not la.is_long(it.cut):
                short.append(_Job(k, it.cut, it.cut.duration, it.phrases))
            elif la.strategy == "windows":
                windowed += [_Job(k, w.cut, w.cut.duration, it.phrases, w)
                             for w in plan_windows(it.cut, la.window, la.overlap)]
            else:
                local.append(_Job(k, it.cut, it.cut.duration, it.phrases))
        stats.long_items = len({j.key for j in windowed}) + len(local)
        stats.windows = len(windowed)

        conf = self.confidence
        for i, h in self._run_jobs(short, stats, bad, tick, self.timestamps or conf, self.batch_size).items():
            out[short[i].key] = _transcript(h, self.timestamps, conf)
        if windowed:
            hyps = self._run_jobs(windowed, stats, bad, tick, True, self.batch_size)
            by_item: dict[int, list[tuple[Window, list[dict]]]] = {}
            for i, job in enumerate(windowed):
                if job.key not in bad and i in hyps:
                    words = confident_words(hyps[i]) if conf else _timed(hyps[i], "word")
                    by_item.setdefault(job.key, []).append((job.window, words))
            for k, parts in by_item.items():
                parts.sort(key=lambda p: p[0].start)
                words = stitch_words([p[0] for p in parts], [p[1] for p in parts])
                out[k] = Transcript(" ".join(w["word"] for w in words), words if self.timestamps or conf else None,
                                    segments_from_words(words) if self.timestamps else None)
        if local:
            with local_attention(self.model, la.att_context_size, la.conv_chunking_factor):
                hyps = self._run_jobs(local, stats, bad, tick, self.timestamps or conf, 1)  # one recording a pass
            for i, h in hyps.items():
                out[local[i].key] = _transcript(h, self.timestamps, conf)
        bar.close()
        stats.wall_seconds = time.perf_counter() - start
        stats.audio_seconds = sum(items[k].cut.duration for k, t in enumerate(out) if t is not None)
        rejects = [Reject(items[k].line, AUDIO_UNREADABLE, why, items[k].cut.id,
                          items[k].row.get("audio_filepath")) for k, why in sorted(bad.items())]
        for k in bad:
            out[k] = None
        return out, rejects, stats
