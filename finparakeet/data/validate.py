"""Check every row of a manifest or cut set; keep what is usable, say why the rest is not.

Per cut: audio present and readable, a positive duration that fits the audio (within a tolerance), the declared
sample rate and channels matching the file, non-empty valid text, entity spans exact on the text, unique ids.
Usable cuts come out 16 kHz mono: resampled lazily (``cut.resample``) and downmixed (channels averaged: written to
``downmix_dir`` when given, else a lazy Lhotse ``MixedCut``). Nothing is lost: each input is a clean cut or a
``Reject`` with its line and reason.

``validate_manifest`` (a file, NeMo or Lhotse) and ``validate_cuts`` (eager) return a ``ValidationResult``;
``filter_valid`` wraps a CutSet lazily so a training or transcription loop skips bad cuts instead of crashing.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import soundfile as sf
from lhotse import CutSet, MonoCut, MultiCut, Recording
from lhotse.cut import Cut, MixedCut, MixTrack, PaddingCut
from lhotse.serialization import deserialize_item
from lhotse.utils import fastcopy
from tqdm import tqdm

from finparakeet.data.nemo_manifest import cut_to_row, row_to_cut
from finparakeet.data.rejects import (
    AUDIO_MISMATCH, AUDIO_MISSING, AUDIO_UNREADABLE, BAD_ROW, DUPLICATE_ID, DURATION_MISMATCH, EMPTY_TEXT,
    ENTITY_MISMATCH, NOT_UTF8, ZERO_DURATION, InvalidCut, Reject, count_kinds,
)
from finparakeet.data.rows import (Row, default_cut_id, detect_format, number_field, read_rows, resolve_audio_path,
                                   row_entities, string_field)
from finparakeet.entities import parse_entities, span_errors

logger = logging.getLogger(__name__)

HeaderReader = Callable[[str], Recording]


@dataclass(frozen=True)
class ValidationConfig:
    sampling_rate: int = 16000  # clean cuts are resampled to this rate
    duration_tolerance: float = 0.1  # seconds a declared duration may differ from the audio header
    read_audio: bool = False  # also decode each cut's audio (slow; catches files damaged past their header)
    downmix_dir: str | Path | None = None  # where multi-channel audio is written downmixed; None: a lazy mix


@dataclass
class ValidationResult:
    cuts: CutSet
    rejects: list[Reject]
    num_input: int

    @property
    def num_clean(self) -> int:
        return self.num_input - len(self.rejects)

    def summary(self) -> dict[str, Any]:
        return {"input": self.num_input, "clean": self.num_clean, "rejected": len(self.rejects),
                "clean_hours": round(sum(c.duration for c in self.cuts) / 3600, 4),
                "reasons": count_kinds(self.rejects)}


def header_reader(maxsize: int = 4096) -> HeaderReader:
    """Reads audio headers, remembering recent files (segments of one long file share a header).

    Raises ``InvalidCut`` (missing or unreadable); a fresh reader per run keeps no state between runs.
    """
    @lru_cache(maxsize=maxsize)
    def read(path: str) -> Recording | InvalidCut:
        if not Path(path).is_file():
            return InvalidCut(AUDIO_MISSING, f"audio file {path} does not exist")
        try:
            rec = Recording.from_file(path)
        except Exception as e:
            return InvalidCut(AUDIO_UNREADABLE, f"cannot read the audio header of {path}: {_read_error(path, e)}")
        if rec.num_samples <= 0:
            return InvalidCut(ZERO_DURATION, f"audio file {path} has no samples")
        return rec

    def reader(path: str) -> Recording:
        got = read(str(path))
        if isinstance(got, InvalidCut):
            raise got
        return got

    return reader


def _read_error(path: str, e: BaseException) -> str:
    """libsndfile's own message when it has one: Lhotse's error lists every backend it tried."""
    try:
        sf.info(path)
    except Exception as sf_error:
        return _one_line(sf_error)
    return _one_line(e)


def _one_line(e: BaseException) -> str:
    text = re.sub(r"\s+", " ", str(e)).strip()
    # Lhotse reports every backend it tried; libsndfile's is the one that explains
    m = re.search(r"LibsndfileError'>: (.*?)(?: Exception #\d|$)", text)
    return (m.group(1) if m else text)[:300] or type(e).__name__


# ---- text --------------------------------------------------------------------------------------------------------

def check_text(cut: Cut) -> None:
    """Every supervision has non-empty, encodable text and entity spans exact on it."""
    if not cut.supervisions:
        raise InvalidCut(EMPTY_TEXT, "the cut has no supervision (no transcript)")
    for sup in cut.supervisions:
        text = sup.text
        if not isinstance(text, str):
            raise InvalidCut(BAD_ROW if text is not None else EMPTY_TEXT,
                             f"text must be a string, got {type(text).__name__}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidCut(NOT_UTF8, f"text is not valid UTF-8 ({e.reason} at character {e.start})") from None
        if not text.strip():
            raise InvalidCut(EMPTY_TEXT, "text is empty")
        try:
            spans = parse_entities((sup.custom or {}).get("entities"))
        except ValueError as e:
            raise InvalidCut(ENTITY_MISMATCH, f"malformed entities: {e}") from None
        errors = span_errors(text, spans)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise InvalidCut(ENTITY_MISMATCH, errors[0] + more)


# ---- audio -------------------------------------------------------------------------------------------------------

def _source_sampling_rate(rec: Recording) -> int:
    """The file's own rate: a recording resampled by Lhotse keeps it in its first Resample transform."""
    for t in rec.transforms or []:
        src = getattr(t, "source_sampling_rate", None) if not isinstance(t, dict) else t.get("kwargs", {}).get(
            "source_sampling_rate")
        if src:
            return int(src)
    return rec.sampling_rate


def _check_recording(cut: Cut, rec: Recording, config: ValidationConfig, headers: HeaderReader) -> Recording:
    """Compare the recording's description with its file(s); returns the real header of its (first) file."""
    file_sources = [s for s in rec.sources if s.type == "file"]
    header = None
    for src in file_sources:
        h = headers(src.source)
        header = header or h
        if abs(h.duration - rec.duration) > config.duration_tolerance:
            raise InvalidCut(DURATION_MISMATCH, f"recording {rec.id} says {rec.duration:.3f} s but {src.source} "
                                                f"lasts {h.duration:.3f} s")
        if h.sampling_rate != _source_sampling_rate(rec):
            raise InvalidCut(AUDIO_MISMATCH, f"recording {rec.id} says {_source_sampling_rate(rec)} Hz but "
                                             f"{src.source} is {h.sampling_rate} Hz")
        if h.num_channels != len(src.channels):
            raise InvalidCut(AUDIO_MISMATCH, f"recording {rec.id} says {len(src.channels)} channel(s) but "
                                             f"{src.source} has {h.num_channels}")
    if cut.start < 0:
        raise InvalidCut(BAD_ROW, f"the cut starts at a negative offset ({cut.start})")
    audio_end = header.duration if header is not None else rec.duration
    if cut.end > audio_end + config.duration_tolerance:
        raise InvalidCut(DURATION_MISMATCH, f"the cut ends at {cut.end:.3f} s but the audio lasts {audio_end:.3f} s")
    return header or rec


def _fit(cut: Cut, end: float) -> Cut:
    """Trim a cut that overshoots its audio by less than the tolerance, so loading never reads past the end."""
    if cut.end <= end or not isinstance(cut, (MonoCut, MultiCut)):
        return cut
    duration = max(end - cut.start, 0.0)
    sups = [fastcopy(s, duration=min(s.duration, duration - s.start)) for s in cut.supervisions]
    return fastcopy(cut, duration=duration, supervisions=sups)


def _safe_name(cut_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", cut_id)


def downmix(cut: MonoCut | MultiCut, sampling_rate: int, out_dir: str | Path | None) -> Cut:
    """Average all channels of the cut's recording into one.

    With ``out_dir``: written there as a ``sampling_rate`` mono WAV holding just the cut (a plain MonoCut that NeMo
    manifests can point at; the supervision keeps the original path as ``source_audio_filepath``). Without: a lazy
    ``MixedCut`` of one track per channel, each at 1/n volume (nothing is read until the audio is loaded).
    """
    rec = cut.recording
    channels = rec.channel_ids
    mono = fastcopy(cut, channel=channels[0]) if isinstance(cut, MonoCut) else MonoCut(
        id=cut.id, start=cut.start, duration=cut.duration, channel=channels[0], recording=rec,
        supervisions=[fastcopy(s, channel=channels[0]) for s in cut.supervisions], custom=cut.custom)
    if out_dir is None:
        tracks = [MixTrack(cut=fastcopy(mono, channel=c, supervisions=mono.supervisions if i == 0 else [])
                           .perturb_volume(1.0 / len(channels), affix_id=False))
                  for i, c in enumerate(channels)]
        return MixedCut(id=cut.id, tracks=tracks)
    audio = rec.resample(sampling_rate).load_audio(offset=cut.start, duration=cut.duration).mean(axis=0)
    path = Path(out_dir) / f"{_safe_name(cut.id)}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio.astype(np.float32), sampling_rate, subtype="PCM_16")
    new_rec = Recording.from_file(path)
    original = rec.sources[0].source
    sups = [fastcopy(s, channel=0, recording_id=new_rec.id, duration=min(s.duration, new_rec.duration - s.start),
                     custom={**(s.custom or {}), "source_audio_filepath": original}) for s in mono.supervisions]
    return MonoCut(id=cut.id, start=0.0, duration=new_rec.duration, channel=0, recording=new_rec,
                   supervisions=sups, custom=cut.custom)


def check_audio(cut: Cut, config: ValidationConfig, headers: HeaderReader) -> Cut:
    """Audio checks; returns the cut at ``config.sampling_rate`` and mono."""
    if cut.duration is None or cut.duration <= 0:
        raise InvalidCut(ZERO_DURATION, f"the cut's duration is {cut.duration}")
    if isinstance(cut, MixedCut):
        for track in cut.tracks:
            if not isinstance(track.cut, PaddingCut):
                _check_recording(track.cut, _require_recording(track.cut), config, headers)
    else:
        header = _check_recording(cut, _require_recording(cut), config, headers)
        cut = _fit(cut, header.duration)
        if cut.recording.num_channels > 1:
            cut = downmix(cut, config.sampling_rate, config.downmix_dir)
    if cut.sampling_rate != config.sampling_rate:
        cut = cut.resample(config.sampling_rate)
    if config.read_audio:
        try:
            samples = cut.load_audio()
        except Exception as e:
            raise InvalidCut(AUDIO_UNREADABLE, f"decoding the audio failed: {_one_line(e)}") from None
        if samples.size == 0 or not np.isfinite(samples).all():
            raise InvalidCut(AUDIO_UNREADABLE, "the decoded audio is empty or holds NaN/inf samples")
    return cut


def _require_recording(cut: Cut) -> Recording:
    if not cut.has_recording:
        raise InvalidCut(AUDIO_MISSING, "the cut has no recording")
    return cut.recording


def clean_cut(cut: Cut, config: ValidationConfig = ValidationConfig(), headers: HeaderReader | None = None) -> Cut:
    """All per-cut checks; the usable cut (16 kHz mono) or ``InvalidCut`` saying why not."""
    check_text(cut)
    return check_audio(cut, config, headers or header_reader())


# ---- NeMo rows ---------------------------------------------------------------------------------------------------

def row_cut(row: dict[str, Any], config: ValidationConfig, headers: HeaderReader,
            manifest_dir: str | Path | None = None, cut_id: str | None = None) -> MonoCut:
    """A NeMo row's checks up to the cut (fields, types, entity spans, duration against the header); the cut's
    recording is the real header of its file. Text and audio checks follow in ``clean_cut``."""
    audio = string_field(row, "audio_filepath")
    if not audio.strip():
        raise InvalidCut(BAD_ROW, "'audio_filepath' is empty: give the audio file's path")
    duration = number_field(row, "duration", required=True)
    number_field(row, "offset")  # checked here (a non-negative number when given); row_to_cut reads it
    string_field(row, "text")
    if duration == 0:
        raise InvalidCut(ZERO_DURATION, "duration is 0")
    row_entities(row)
    row = dict(row, audio_filepath=resolve_audio_path(audio, manifest_dir))
    header = headers(row["audio_filepath"])
    if "offset" not in row and abs(duration - header.duration) > config.duration_tolerance:
        raise InvalidCut(DURATION_MISMATCH, f"the manifest says {duration:.3f} s but the audio lasts "
                                            f"{header.duration:.3f} s")
    try:
        return row_to_cut(row, recording=header, cut_id=cut_id or row.get("cut_id") or default_cut_id(row))
    except ValueError as e:  # e.g. a cut_custom that is not an object
        raise InvalidCut(BAD_ROW, str(e)) from None


# ---- whole inputs ------------------------------------------------------------------------------------------------

def _audio_path(obj: Any) -> str | None:
    if isinstance(obj, dict):
        value = obj.get("audio_filepath")
        return value if isinstance(value, str) else None
    if isinstance(obj, MixedCut):
        obj = obj.tracks[0].cut
    if getattr(obj, "has_recording", False):
        return obj.recording.sources[0].source
    return None


def _count_lines(path: Path) -> int | None:
    if path.suffix == ".gz":
        return None
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def iter_validate(path: str | Path, config: ValidationConfig = ValidationConfig(),
                  progress: bool = False) -> Iterator[tuple[Cut | None, Reject | None]]:
    """Validate a NeMo manifest or a Lhotse cuts file row by row: yields ``(clean cut, None)`` or
    ``(None, reject)`` for each non-blank input line, in order."""
    path = Path(path)
    fmt = detect_format(path, default="nemo")  # nothing recognisable: every line is rejected as a NeMo row
    headers = header_reader()
    seen: dict[str, tuple[int, Any]] = {}  # id -> (line, what it pointed at)
    rows: Iterable[Row | Reject] = read_rows(path)
    if progress:
        rows = tqdm(rows, total=_count_lines(path), desc=f"validating {path.name}", unit="row")
    for item in rows:
        if isinstance(item, Reject):
            yield None, item
            continue
        n, row = item.line, item.fields
        cid = None
        try:
            if fmt == "nemo":
                if isinstance(row.get("audio_filepath"), str):  # resolved once, so duplicates are judged by file
                    row = dict(row, audio_filepath=resolve_audio_path(row["audio_filepath"], path.parent))
                cid = row.get("cut_id") if isinstance(row.get("cut_id"), str) else None
                if cid is None and isinstance(row.get("audio_filepath"), str):
                    cid = default_cut_id(row) if _is_number_or_none(row.get("offset")) else None
                    # a derived id may clash between different files with one stem: number it, keep it as cut_id
                    if cid in seen and seen[cid][1] != _row_key(row):
                        cid = _unique(cid, seen)
                        row = dict(row, cut_id=cid)
                cut = row_cut(row, config, headers, path.parent, cut_id=cid)
            else:
                cid = row.get("id") if isinstance(row.get("id"), str) else None
                try:
                    cut = deserialize_item(dict(row))
                except Exception as e:
                    raise InvalidCut(BAD_ROW, f"not a Lhotse cut: {_one_line(e)}") from None
                if not isinstance(cut, Cut):
                    raise InvalidCut(BAD_ROW, f"not a Lhotse cut but a {type(cut).__name__}")
            if cut.id in seen:
                raise InvalidCut(DUPLICATE_ID, f"id {cut.id!r} was already used on line {seen[cut.id][0]}")
            clean = clean_cut(cut, config, headers)
        except InvalidCut as e:
            yield None, Reject(n, e.kind, e.reason, cid, _audio_path(row), item.source)
            continue
        seen[cut.id] = (n, _row_key(row) if fmt == "nemo" else None)
        yield clean, None


def _is_number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _row_key(row: dict[str, Any]) -> tuple:
    return row.get("audio_filepath"), row.get("offset"), row.get("duration")


def _unique(cid: str, seen: dict[str, Any]) -> str:
    k = 2
    while f"{cid}-{k}" in seen:
        k += 1
    return f"{cid}-{k}"


def validate_manifest(path: str | Path, config: ValidationConfig = ValidationConfig(),
                      progress: bool = False) -> ValidationResult:
    """``iter_validate`` collected: clean cuts (eager) and rejects."""
    cuts, rejects, n = [], [], 0
    for cut, reject in iter_validate(path, config, progress):
        n += 1
        if reject is None:
            cuts.append(cut)
        else:
            rejects.append(reject)
    return ValidationResult(CutSet.from_cuts(cuts), rejects, n)


def validate_cuts(cuts: Iterable[Cut], config: ValidationConfig = ValidationConfig()) -> ValidationResult:
    """Validate cuts in memory; a reject's ``line`` is the cut's 1-based position."""
    headers = header_reader()
    clean, rejects, seen, n = [], [], {}, 0
    for n, cut in enumerate(cuts, 1):
        try:
            if cut.id in seen:
                raise InvalidCut(DUPLICATE_ID, f"id {cut.id!r} was already used at position {seen[cut.id]}")
            clean.append(clean_cut(cut, config, headers))
            seen[cut.id] = n
        except InvalidCut as e:
            rejects.append(Reject(n, e.kind, e.reason, cut.id, _audio_path(cut)))
    return ValidationResult(CutSet.from_cuts(clean), rejects, n)


def _log_reject(reject: Reject) -> None:
    logger.warning("skipping cut %s: %s", reject.id, reject.reason)


@dataclass
class _ValidCuts:
    """A re-iterable lazy view: each pass checks the cuts afresh (its own header cache and id set)."""

    cuts: Iterable[Cut]
    config: ValidationConfig
    on_reject: Callable[[Reject], None] | None = field(default=None)

    def __iter__(self) -> Iterator[Cut]:
        headers = header_reader()
        seen: set[str] = set()
        report = self.on_reject or _log_reject
        for n, cut in enumerate(self.cuts, 1):
            try:
                if cut.id in seen:
                    raise InvalidCut(DUPLICATE_ID, f"id {cut.id!r} was already used")
                clean = clean_cut(cut, self.config, headers)
            except InvalidCut as e:
                report(Reject(n, e.kind, e.reason, cut.id, _audio_path(cut)))
                continue
            seen.add(cut.id)
            yield clean


def filter_valid(cuts: CutSet | Iterable[Cut], config: ValidationConfig = ValidationConfig(),
                 on_reject: Callable[[Reject], None] | None = None, lazy: bool = True) -> CutSet:
    """The usable cuts, 16 kHz mono; each bad one is passed to ``on_reject`` (default: a logged warning).

    Lazy by default: checks run as the set is iterated, so a training epoch skips a bad cut instead of crashing.
    """
    view = _ValidCuts(cuts, config, on_reject)
    return CutSet(view) if lazy else CutSet.from_cuts(list(view))


# ---- a manifest to a folder of clean outputs ---------------------------------------------------------------------

CLEAN_CUTS = "clean_cuts.jsonl.gz"
CLEAN_MANIFEST = "clean_manifest.json"
REJECTS = "rejects.jsonl"
SUMMARY = "summary.json"


def validate_to_dir(manifest: str | Path, output_dir: str | Path, config: ValidationConfig = ValidationConfig(),
                    progress: bool = False) -> dict[str, Any]:
    """Stream ``manifest`` through validation into ``output_dir``: clean cuts, the same as a NeMo manifest, rejects
    (one JSON row each) and ``summary.json``; returns the summary.

    A clean cut that a NeMo row cannot express (a lazy mix, non-file audio) stays in the cuts and is counted under
    ``not_in_nemo_manifest``.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_in, n_clean, seconds, not_nemo, rejects = 0, 0, 0.0, 0, []
    with CutSet.open_writer(out / CLEAN_CUTS) as cut_writer, \
            open(out / CLEAN_MANIFEST, "w", encoding="utf-8") as nemo, \
            open(out / REJECTS, "w", encoding="utf-8") as rej:
        for cut, reject in iter_validate(manifest, config, progress):
            n_in += 1
            if reject is not None:
                rejects.append(reject)
                rej.write(json.dumps(reject.to_dict(), ensure_ascii=False) + "\n")
                continue
            n_clean += 1
            seconds += cut.duration
            cut_writer.write(cut)
            try:
                nemo.write(json.dumps(cut_to_row(cut), ensure_ascii=False) + "\n")
            except ValueError:
                not_nemo += 1
    summary = {"manifest": str(manifest), "input": n_in, "clean": n_clean, "rejected": len(rejects),
               "clean_hours": round(seconds / 3600, 4), "reasons": count_kinds(rejects),
               "not_in_nemo_manifest": not_nemo,
               "outputs": {k: str(out / v) for k, v in (("cuts", CLEAN_CUTS), ("nemo_manifest", CLEAN_MANIFEST),
                                                        ("rejects", REJECTS))}}
    (out / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    lines = [f"{summary['manifest']}: {summary['input']} rows, {summary['clean']} clean "
             f"({summary['clean_hours']} h), {summary['rejected']} rejected"]
    lines += [f"  {kind}: {count}" for kind, count in summary["reasons"].items()]
    if summary.get("not_in_nemo_manifest"):
        lines.append(f"  ({summary['not_in_nemo_manifest']} clean cuts cannot be NeMo rows: only in the cuts file)")
    lines += [f"  {name}: {path}" for name, path in summary["outputs"].items()]
    return "\n".join(lines)
