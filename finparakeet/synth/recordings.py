"""Call-length recordings: a call's utterances joined into one WAV, its transcript and entity spans joined with it.

Long-form decoding (``long_audio`` in ``recipes/transcribe.py``) is measured on these: one recording per call, the
utterances in order with a pause between them, the reference the utterances' labels joined by spaces, each entity
span moved to its place in the joined text (so the entity report scores the same entities as per utterance).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np
import soundfile as sf
from lhotse import MonoCut

from finparakeet.entities import parse_entities

__all__ = ["cuts_by_call", "write_call_recordings"]


def cuts_by_call(cuts: Iterable[MonoCut]) -> dict[str, list[MonoCut]]:
    """The cuts of each call, in their order (cuts without a ``call_id`` are left out)."""
    calls: dict[str, list[MonoCut]] = {}
    for cut in cuts:
        call_id = (cut.supervisions[0].custom or {}).get("call_id") if cut.supervisions else None
        if call_id:
            calls.setdefault(call_id, []).append(cut)
    return calls


def write_call_recordings(cuts: Iterable[MonoCut], out_dir: str | Path, pause_s: float = 0.4,
                          sample_rate: int = 16000) -> list[dict[str, Any]]:
    """Write ``<out_dir>/<call_id>.wav`` per call; returns their NeMo manifest rows (``audio_filepath``,
    ``duration``, ``text``, ``entities`` re-anchored in the joined text, ``call_id``, ``utterances``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pause = np.zeros(int(round(pause_s * sample_rate)), dtype=np.float32)
    rows = []
    for call_id, call_cuts in cuts_by_call(cuts).items():
        pieces: list[np.ndarray] = []
        texts: list[str] = []
        entities: list[dict[str, Any]] = []
        pos = 0
        for cut in call_cuts:
            audio = cut.resample(sample_rate).load_audio()[0].astype(np.float32)
            pieces += [audio, pause]
            sup = cut.supervisions[0]
            for e in parse_entities((sup.custom or {}).get("entities") or []):
                d = e.to_dict()
                d.update(start=e.start + pos, end=e.end + pos)
                entities.append(d)
            texts.append(sup.text or "")
            pos += len(sup.text or "") + 1  # the joining space
        path = out_dir / f"{call_id}.wav"
        samples = np.concatenate(pieces[:-1])  # no pause after the last utterance
        sf.write(path, samples, sample_rate, subtype="PCM_16")
        rows.append({"audio_filepath": str(path.resolve()), "duration": round(len(samples) / sample_rate, 6),
                     "text": " ".join(texts), "entities": entities, "call_id": call_id,
                     "utterances": [c.id for c in call_cuts]})
    return rows
