"""Call-length recordings: a call's utterances joined into one WAV, its transcript and entity spans joined with it.

Long-form decoding (``long_audio`` in ``recipes/transcribe.py``) is measured on these: one recording per call, the
utterances in order with a pause between them, the reference the utterances' labels joined by spaces, each entity
span moved to its place in the joined text (so the entity report scores the same entities as per utterance).
Synthetic calls last minutes; with ``min_seconds`` consecutive calls are joined into one recording until it lasts
that long (an hour-long earnings call is what long-form decoding is for), and the row names all of them in
``call_ids`` (its bias list is then the union of their lists: ``finparakeet.biasing.calls``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np
import soundfile as sf
from lhotse import MonoCut

from finparakeet.entities import parse_entities

__all__ = ["cuts_by_call", "group_calls", "write_call_recordings"]


def cuts_by_call(cuts: Iterable[MonoCut]) -> dict[str, list[MonoCut]]:
    """The cuts of each call, in their order (cuts without a ``call_id`` are left out)."""
    calls: dict[str, list[MonoCut]] = {}
    for cut in cuts:
        call_id = (cut.supervisions[0].custom or {}).get("call_id") if cut.supervisions else None
        if call_id:
            calls.setdefault(call_id, []).append(cut)
    return calls


def group_calls(durations: dict[str, float], min_seconds: float, pause_s: float) -> list[list[str]]:
    """Consecutive calls (in ``durations``' order) joined until a group lasts ``min_seconds`` (pauses included); a
    shorter remainder joins the last group rather than make a short recording. ``min_seconds`` 0: one per call."""
    groups: list[list[str]] = []
    length = 0.0
    for call_id, seconds in durations.items():
        if not groups or length >= min_seconds:
            groups.append([])
            length = -pause_s
        groups[-1].append(call_id)
        length += pause_s + seconds
    if len(groups) > 1 and length < min_seconds:
        groups[-2].extend(groups.pop())
    return groups


def write_call_recordings(cuts: Iterable[MonoCut], out_dir: str | Path, pause_s: float = 0.4,
                          sample_rate: int = 16000, min_seconds: float = 0.0) -> list[dict[str, Any]]:
    """Write one WAV per call (``<call_id>.wav``), or per group of consecutive calls lasting ``min_seconds``
    (``<first call_id>+<n>.wav``); returns their NeMo manifest rows (``audio_filepath``, ``duration``, ``text``,
    ``entities`` re-anchored in the joined text, ``call_ids``, ``call_id`` when one call, ``utterances``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pause = np.zeros(int(round(pause_s * sample_rate)), dtype=np.float32)
    calls = cuts_by_call(cuts)
    rows = []
    for group in group_calls({k: sum(c.duration for c in v) + pause_s * (len(v) - 1) for k, v in calls.items()},
                             min_seconds, pause_s):
        group_cuts = [c for call_id in group for c in calls[call_id]]
        pieces: list[np.ndarray] = []
        texts: list[str] = []
        entities: list[dict[str, Any]] = []
        pos = 0
        for cut in group_cuts:
            audio = cut.resample(sample_rate).load_audio()[0].astype(np.float32)
            pieces += [audio, pause]
            sup = cut.supervisions[0]
            for e in parse_entities((sup.custom or {}).get("entities") or []):
                d = e.to_dict()
                d.update(start=e.start + pos, end=e.end + pos)
                entities.append(d)
            texts.append(sup.text or "")
            pos += len(sup.text or "") + 1  # the joining space
        path = out_dir / (f"{group[0]}.wav" if len(group) == 1 else f"{group[0]}+{len(group)}.wav")
        samples = np.concatenate(pieces[:-1])  # no pause after the last utterance
        sf.write(path, samples, sample_rate, subtype="PCM_16")
        row = {"audio_filepath": str(path.resolve()), "duration": round(len(samples) / sample_rate, 6),
               "text": " ".join(texts), "entities": entities, "call_ids": group}
        if len(group) == 1:
            row["call_id"] = group[0]
        rows.append({**row, "utterances": [c.id for c in group_cuts]})
    return rows
