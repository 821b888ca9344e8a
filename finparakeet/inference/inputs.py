"""What to transcribe: a NeMo manifest, a folder of audio files or Lhotse cuts, checked row by row.

Transcription needs audio, not text, so only the data layer's audio checks run (``finparakeet.data.validate``:
the file exists, its header reads, sample rate and channels, 16 kHz mono out); rows are read by
``finparakeet.data.rows``. A row that fails becomes a ``Reject`` with its file, line and reason and is skipped; the good rows still come out. A file damaged past its header is caught when
its samples are loaded (``Transcriber``), with the same kind of reject.

As NeMo's ``transcribe_speech.py`` does, a manifest row without ``offset`` is the whole file (its ``duration`` is
not trusted over the file's header); a row with ``offset`` is that segment. Each item keeps its input row, so the
output row is the input row plus ``pred_text``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from lhotse import MonoCut
from lhotse.cut import Cut

from finparakeet.biasing.phrases import PER_UTTERANCE_FIELDS, row_phrases
from finparakeet.data.manifests import load_cuts
from finparakeet.data.nemo_manifest import cut_to_row, row_to_cut
from finparakeet.data.rejects import BAD_ROW, InvalidCut, Reject
from finparakeet.data.rows import default_cut_id, number_field, read_rows, resolve_audio_path
from finparakeet.data.validate import ValidationConfig, check_audio, header_reader

__all__ = ["InputItem", "Inputs", "collect_inputs"]


@dataclass
class InputItem:
    cut: Cut  # 16 kHz mono, what is decoded
    row: dict[str, Any]  # the output row starts as this
    line: int | None = None  # 1-based line of the input (None for a folder)
    phrases: list[str] | None = None  # this utterance's own key phrases (per-utterance biasing)


@dataclass
class Inputs:
    items: list[InputItem]
    rejects: list[Reject] = field(default_factory=list)
    source: str = ""


def _unique_id(cid: str, seen: set[str]) -> str:
    out, k = cid, 2
    while out in seen:
        out, k = f"{cid}-{k}", k + 1
    seen.add(out)
    return out


def _manifest_items(path: Path, config: ValidationConfig, fields: Sequence[str]) -> Inputs:
    headers = header_reader()
    items, rejects, seen = [], [], set()
    for item in read_rows(path):
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        row = item.fields
        audio = row.get("audio_filepath")
        try:
            if not isinstance(audio, str) or not audio.strip():
                raise InvalidCut(BAD_ROW, f"'audio_filepath' must be a path, got {audio!r}")
            audio = resolve_audio_path(audio, path.parent)
            offset, duration = number_field(row, "offset"), number_field(row, "duration")
            header = headers(audio)
            if offset is None:  # the whole file, as NeMo transcribes it
                offset, duration = 0.0, header.duration
            elif duration is None or duration == 0:
                raise InvalidCut(BAD_ROW, "a segment row (with 'offset') needs a positive 'duration'")
            text = row.get("text") if isinstance(row.get("text"), str) else ""
            cid = row.get("cut_id") if isinstance(row.get("cut_id"), str) else default_cut_id(
                {"audio_filepath": audio, "offset": offset})
            cut = row_to_cut({"audio_filepath": audio, "offset": offset, "duration": duration, "text": text},
                             recording=header, cut_id=_unique_id(cid, seen))
            cut = check_audio(cut, config, headers)
            phrases = row_phrases(row, fields, path.parent) if fields else None
        except InvalidCut as e:
            rejects.append(item.reject(e, row.get("cut_id")))
            continue
        except (TypeError, ValueError) as e:  # a malformed per-utterance list
            rejects.append(item.reject(InvalidCut(BAD_ROW, str(e)), row.get("cut_id")))
            continue
        items.append(InputItem(cut, dict(row), item.line, phrases))
    return Inputs(items, rejects, str(path))


def _folder_items(folder: Path, audio_type: str, config: ValidationConfig) -> Inputs:
    headers = header_reader()
    paths = sorted(folder.glob(f"*.{audio_type.lstrip('.')}"))
    if not paths:
        raise FileNotFoundError(f"audio_dir={folder} holds no *.{audio_type} file (set audio_type=flac, mp3, ...)")
    items, rejects, seen = [], [], set()
    for p in paths:
        try:
            rec = headers(str(p))
            cut = MonoCut(id=_unique_id(p.stem, seen), start=0.0, duration=rec.duration, channel=0, recording=rec)
            cut = check_audio(cut, config, headers)
        except InvalidCut as e:
            rejects.append(Reject(None, e.kind, e.reason, p.stem, str(p), str(folder)))
            continue
        items.append(InputItem(cut, {"audio_filepath": str(p)}))
    return Inputs(items, rejects, str(folder))


def _cut_row(cut: Cut) -> dict[str, Any]:
    try:
        row = cut_to_row(cut)
    except ValueError:  # a mix or non-file audio: no NeMo row, keep what identifies it
        row = {"duration": cut.duration, "text": " ".join(s.text or "" for s in cut.supervisions)}
    return {"cut_id": cut.id, **{k: v for k, v in row.items() if k != "cut_id"}}


def _cuts_items(path: Path, config: ValidationConfig, fields: Sequence[str]) -> Inputs:
    headers = header_reader()
    items, rejects, seen = [], [], set()
    for n, cut in enumerate(load_cuts(path, lazy=True), 1):
        try:
            if cut.id in seen:
                raise InvalidCut(BAD_ROW, f"cut id {cut.id!r} is used twice")
            seen.add(cut.id)
            clean = check_audio(cut, config, headers)
            custom = (cut.supervisions[0].custom or {}) if cut.supervisions else {}
            phrases = row_phrases(custom, fields, path.parent) if fields else None
        except InvalidCut as e:
            rejects.append(Reject(n, e.kind, e.reason, cut.id, source=str(path)))
            continue
        except (TypeError, ValueError) as e:
            rejects.append(Reject(n, BAD_ROW, str(e), cut.id, source=str(path)))
            continue
        items.append(InputItem(clean, _cut_row(cut), n, phrases))
    return Inputs(items, rejects, str(path))


def collect_inputs(dataset_manifest: str | Path | None = None, audio_dir: str | Path | None = None,
                   cuts_path: str | Path | None = None, audio_type: str = "wav",
                   phrase_fields: Sequence[str] | None = PER_UTTERANCE_FIELDS,
                   config: ValidationConfig = ValidationConfig()) -> Inputs:
    """The usable items and the rejects of exactly one input (NeMo's keys: ``dataset_manifest``, ``audio_dir``;
    Lhotse: ``cuts_path``). ``phrase_fields``: row fields holding per-utterance key phrases (None: ignore them)."""
    given = [(k, v) for k, v in (("dataset_manifest", dataset_manifest), ("audio_dir", audio_dir),
                                 ("cuts_path", cuts_path)) if v]
    if len(given) != 1:
        raise ValueError(f"give exactly one of dataset_manifest, audio_dir, cuts_path (got {[k for k, _ in given]})")
    key, value = given[0]
    path = Path(value)
    if key == "audio_dir":
        if not path.is_dir():
            raise FileNotFoundError(f"audio_dir={path} is not a folder")
        return _folder_items(path, audio_type, config)
    if not path.is_file():
        raise FileNotFoundError(f"{key}={path} does not exist")
    fields = list(phrase_fields or ())
    return _manifest_items(path, config, fields) if key == "dataset_manifest" else _cuts_items(path, config, fields)
