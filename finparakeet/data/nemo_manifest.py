"""Two-way conversion between NeMo JSON manifests and Lhotse cuts, losing nothing.

A NeMo row is ``{"audio_filepath", "duration", "offset"?, "text", "entities"?, ...}``. In the cut, the row's text and
``entities`` go to the supervision (string ``speaker``/``language``/``gender`` as its attributes); every other field
goes to ``supervision.custom`` under its own name, so ``cut_to_row(row_to_cut(row)) == row``, and a cut's own
``custom`` travels as ``cut_custom``, so ``row_to_cut(cut_to_row(cut)) == cut`` for a one-supervision cut whose
supervision spans it (the recording comes back from the audio header). ``cut_id`` is written only when the id
differs from the one derived from the path and offset.
Relative audio paths are resolved against the manifest's folder when the file is there (as NeMo does) by
``read_nemo_manifest``; ``row_to_cut`` keeps the path as written. Lines are read by ``finparakeet.data.rows``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from lhotse import CutSet, MonoCut, Recording, SupervisionSegment
from lhotse.audio import AudioSource
from lhotse.serialization import deserialize_custom_field

from finparakeet.data.rejects import Reject
from finparakeet.data.rows import default_cut_id, read_rows, resolve_audio_path
from finparakeet.entities import parse_entities

NEMO_CORE_FIELDS = ("audio_filepath", "duration", "offset", "text")
_ROW_HAD_OFFSET = "_nemo_has_offset"  # set to False when a row had no "offset", for an exact round trip
_SUPERVISION_ATTRS = ("speaker", "language", "gender")  # row fields that are supervision attributes when strings
_CUT_CUSTOM = "cut_custom"  # row field holding the cut's own custom dict
_MAPPED = ("entities", *_SUPERVISION_ATTRS, _CUT_CUSTOM)
_ABSENT = object()


def described_recording(audio_filepath: str, recording_id: str, end: float, sampling_rate: int = 16000) -> Recording:
    """A recording described from a row alone (mono, ``sampling_rate`` assumed) when the header cannot be read."""
    return Recording(id=recording_id, sources=[AudioSource(type="file", channels=[0], source=str(audio_filepath))],
                     sampling_rate=sampling_rate, num_samples=round(end * sampling_rate), duration=end)


def row_to_cut(row: dict[str, Any], recording: Recording | None = None, cut_id: str | None = None,
               read_header: bool | None = None) -> MonoCut:
    """A cut spanning ``[offset, offset + duration)`` of the row's audio with one supervision.

    The recording (id: the audio file's stem, as Lhotse names it) is ``recording`` when given; else read from the audio header (``read_header=True``: must succeed,
    raises otherwise; ``None``: when the file is readable); else described from the row (16 kHz mono assumed).
    Raises ``ValueError`` on a missing field or malformed entities.
    """
    for key in ("audio_filepath", "duration", "text"):
        if key not in row:
            raise ValueError(f"row has no '{key}' field")
    entities = parse_entities(row.get("entities"))
    cid = cut_id or row.get("cut_id") or default_cut_id(row)
    offset = float(row.get("offset") or 0.0)
    duration = float(row["duration"])
    if recording is None and read_header is not False:
        try:
            recording = Recording.from_file(row["audio_filepath"])
        except Exception:
            if read_header:
                raise
    if recording is None:
        recording = described_recording(row["audio_filepath"], Path(row["audio_filepath"]).stem, offset + duration)
    custom = {k: v for k, v in row.items() if k not in NEMO_CORE_FIELDS and k not in _MAPPED}
    if custom.get("cut_id") == cid and cid != default_cut_id(row):
        del custom["cut_id"]  # the cut's id says it; cut_to_row writes it back (kept only when it is redundant)
    if "offset" not in row:  # only the exception is recorded, so cuts from elsewhere come back unchanged
        custom[_ROW_HAD_OFFSET] = False
    if entities or row.get("entities") is not None:
        custom["entities"] = row["entities"]  # as written (validated above): a round trip keeps every key
    attrs = {k: row[k] for k in _SUPERVISION_ATTRS if isinstance(row.get(k), str)}
    custom.update({k: row[k] for k in _SUPERVISION_ATTRS if k in row and k not in attrs})
    cut_custom = row.get(_CUT_CUSTOM)
    if cut_custom is not None:
        if not isinstance(cut_custom, dict):
            raise ValueError(f"'{_CUT_CUSTOM}' must be an object, got {cut_custom!r}")
        cut_custom = dict(cut_custom)
        deserialize_custom_field(cut_custom)
    sup = SupervisionSegment(id=cid, recording_id=recording.id, start=0.0, duration=duration, channel=0,
                             text=row["text"], custom=custom or None, **attrs)
    return MonoCut(id=cid, start=offset, duration=duration, channel=0, recording=recording, supervisions=[sup],
                   custom=cut_custom)


def cut_to_row(cut: MonoCut) -> dict[str, Any]:
    """The NeMo row for a cut of one audio file.

    Text comes from the supervisions (joined when there are several: NeMo has one text per row); the first
    supervision's ``custom``, speaker, language and gender become row fields, the cut's own ``custom`` goes to
    ``cut_custom``. Supervision timings inside the cut are not kept (a row is one segment).
    """
    if not isinstance(cut, MonoCut) or not cut.has_recording:
        raise ValueError(f"cut {cut.id}: a NeMo row needs a MonoCut with a recording, got {type(cut).__name__}"
                         f"{'' if cut.has_recording else ' without one'}")
    src = cut.recording.sources[0]
    if src.type != "file":
        raise ValueError(f"cut {cut.id}: NeMo manifests need audio files, but its audio is {src.type!r}")
    sups = sorted(cut.supervisions, key=lambda s: s.start)
    custom = dict(sups[0].custom or {}) if sups else {}
    had_offset = custom.pop(_ROW_HAD_OFFSET, True)
    row: dict[str, Any] = {"audio_filepath": src.source, "duration": cut.duration}
    if had_offset or cut.start:
        row["offset"] = cut.start
    row["text"] = " ".join(s.text or "" for s in sups)
    entities = custom.pop("entities", _ABSENT)
    row.update(custom)
    for key in _SUPERVISION_ATTRS:
        if sups and getattr(sups[0], key) is not None:
            row[key] = getattr(sups[0], key)
    if entities is not _ABSENT:
        row["entities"] = entities
    if cut.custom:
        row[_CUT_CUSTOM] = cut.to_dict()["custom"]  # Lhotse's own serialisation of custom values
    if "cut_id" not in row and cut.id != default_cut_id(row):
        row["cut_id"] = cut.id
    return row


def iter_nemo_cuts(path: str | Path, read_header: bool | None = None) -> Iterator[MonoCut]:
    """Cuts of a NeMo manifest, in order; ``ValueError`` naming the line on the first bad row.

    Strict on purpose: use ``finparakeet.data.validate`` to keep the good rows of a damaged manifest.
    """
    manifest_dir = Path(path).parent
    headers: dict[str, Recording | None] = {}  # segments of one long file share its header
    hint = "(recipes/validate_manifest.py keeps the good rows)"
    for item in read_rows(path):
        if isinstance(item, Reject):
            raise ValueError(f"{path}:{item.line}: {item.reason} {hint}")
        row = item.fields
        try:
            row = dict(row, audio_filepath=resolve_audio_path(str(row["audio_filepath"]), manifest_dir)) \
                if "audio_filepath" in row else row
            rec = None
            if read_header is not False and "audio_filepath" in row:
                audio = row["audio_filepath"]
                if audio not in headers:
                    try:
                        headers[audio] = Recording.from_file(audio)
                    except Exception:
                        if read_header:
                            raise
                        headers[audio] = None
                rec = headers[audio]
            yield row_to_cut(row, recording=rec, read_header=False)
        except Exception as e:
            raise ValueError(f"{path}:{item.line}: {e} {hint}") from e


def read_nemo_manifest(path: str | Path, read_header: bool | None = None) -> CutSet:
    """A NeMo manifest as an eager CutSet (see ``iter_nemo_cuts``)."""
    return CutSet.from_cuts(list(iter_nemo_cuts(path, read_header)))


def write_nemo_manifest(rows: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write rows as a NeMo manifest (one JSON object per line, UTF-8, non-ASCII kept)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def cuts_to_nemo_manifest(cuts: CutSet | Iterable[MonoCut], path: str | Path) -> Path:
    return write_nemo_manifest((cut_to_row(c) for c in cuts), path)
