"""Long recordings (an hour-long earnings call) without exhausting memory, one transcript per recording.

Two strategies (``long_audio.strategy``), for recordings longer than ``long_audio.min_duration`` seconds:

- ``windows`` (default): Lhotse cuts the recording into windows (``cut.cut_into_windows``) of ``window`` seconds
  overlapping by ``overlap``; windows are decoded in batches with word timestamps and stitched: each word belongs to
  the window whose *owned* span — its extent up to the middle of each overlap — holds the word's midpoint, so a word
  cut by one window's edge is taken whole from the neighbour, and no word is taken twice. Memory is bounded by the
  window length whatever the recording's length; any model works (also one trained on short utterances only).
- ``local_attention``: NeMo's long-form mode for FastConformer (Parakeet's model card): the encoder is switched to
  ``rel_pos_local_attn`` with ``att_context_size`` frames each side and the subsampling convolutions are chunked
  (``change_subsampling_conv_chunking_factor``); the recording is decoded in one pass (memory linear in its
  length) and the encoder is switched back afterwards. Needs a model trained or fine-tuned to cope with long
  context (Parakeet is); no seams at all.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from lhotse.cut import Cut

STRATEGIES = ("windows", "local_attention", "none")
_SENTENCE_END = re.compile(r"[.?!]['\")\]]*$")


@dataclass(frozen=True)
class LongAudioConfig:
    strategy: str = "windows"  # windows | local_attention | none
    min_duration: float = 40.0  # recordings longer than this (seconds) take the long-audio path
    window: float = 30.0  # windows: seconds per window
    overlap: float = 5.0  # windows: seconds shared by neighbouring windows (> the longest word, twice over)
    att_context_size: tuple[int, int] = (128, 128)  # local_attention: encoder frames each side (80 ms at 8x)
    conv_chunking_factor: int = 1  # local_attention: 1 = auto-chunk the subsampling convolutions, -1 = off

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"long_audio.strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.strategy == "windows" and not 0 <= self.overlap < self.window:
            raise ValueError(f"long_audio.overlap must be in [0, window), got overlap={self.overlap} "
                             f"window={self.window}")
        if self.strategy == "windows" and self.min_duration < self.window:
            raise ValueError(f"long_audio.min_duration ({self.min_duration}) must be >= long_audio.window "
                             f"({self.window}): shorter recordings are decoded whole")

    def is_long(self, cut: Cut) -> bool:
        return self.strategy != "none" and cut.duration > self.min_duration


@dataclass(frozen=True)
class Window:
    cut: Cut  # the window's audio
    start: float  # offset in the recording (s)
    own_start: float  # the span whose words this window keeps (recording time, s)
    own_end: float


def plan_windows(cut: Cut, window: float, overlap: float) -> list[Window]:
    """Lhotse windows over ``cut`` with the span each one owns; a trailing window that only repeats the previous
    one's audio is dropped."""
    hop = window - overlap
    pieces = [w for i, w in enumerate(cut.cut_into_windows(duration=window, hop=hop))
              if i == 0 or i * hop + overlap < cut.duration - 1e-6]
    starts = [i * hop for i in range(len(pieces))]
    bounds = [(starts[i + 1] + starts[i] + pieces[i].duration) / 2 for i in range(len(pieces) - 1)]
    own = [(-float("inf") if i == 0 else bounds[i - 1], float("inf") if i == len(pieces) - 1 else bounds[i])
           for i in range(len(pieces))]
    return [Window(p, s, a, b) for p, s, (a, b) in zip(pieces, starts, own)]


def stitch_words(windows: Sequence[Window], words_per_window: Sequence[Sequence[dict[str, Any]]]) -> list[dict]:
    """Words of all windows in recording time (``start``/``end`` shifted by the window's offset), each kept by the
    one window owning its midpoint; other keys of a word (its ``confidence``) come along."""
    out: list[dict[str, Any]] = []
    for win, words in zip(windows, words_per_window):
        for w in words:
            start, end = float(w["start"]) + win.start, float(w["end"]) + win.start
            mid = (start + end) / 2
            if win.own_start <= mid < win.own_end:
                out.append({**w, "start": round(start, 3), "end": round(end, 3)})  # confidence kept
    out.sort(key=lambda w: (w["start"], w["end"]))
    return out


def segments_from_words(words: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sentences (``segment``, ``start``, ``end``) from timed words, split after ``.``, ``?`` and ``!`` as NeMo's
    segment timestamps are."""
    segs, cur = [], []
    for w in words:
        cur.append(w)
        if _SENTENCE_END.search(w["word"]):
            segs.append(cur)
            cur = []
    if cur:
        segs.append(cur)
    return [{"segment": " ".join(w["word"] for w in s), "start": s[0]["start"], "end": s[-1]["end"]} for s in segs]


@contextlib.contextmanager
def local_attention(model, att_context_size: Sequence[int] = (128, 128), conv_chunking_factor: int = 1
                    ) -> Iterator[None]:
    """Switch a FastConformer encoder to local attention (and chunked subsampling) inside the block; the model's
    attention, context and config are restored on exit. ``update_config=False``: nothing leaks into a later save."""
    enc = model.encoder
    if not hasattr(enc, "change_attention_model"):
        raise ValueError(f"{type(enc).__name__} cannot switch to local attention: use long_audio.strategy=windows")
    old_model, old_ctx = enc.self_attention_model, list(enc.att_context_size)
    pre = getattr(enc, "pre_encode", None)
    old_chunking = getattr(pre, "subsampling_conv_chunking_factor", None)
    model.change_attention_model("rel_pos_local_attn", list(att_context_size), update_config=False)
    if old_chunking is not None:
        model.change_subsampling_conv_chunking_factor(conv_chunking_factor, update_config=False)
    try:
        yield
    finally:
        model.change_attention_model(old_model, old_ctx, update_config=False)
        if old_chunking is not None:
            model.change_subsampling_conv_chunking_factor(old_chunking, update_config=False)
        model.eval()  # the rebuilt attention layers start in training mode
