"""The one reader of JSON-lines manifests (NeMo rows, or Lhotse cuts written one per line; ``.gz`` too) and the
checks of a NeMo row's fields that every reader of rows shares (validation, transcription, scoring, bias lists).

``read_rows`` yields each non-blank line as a ``Row``, or as a ``Reject`` naming the file, the line and why (not
UTF-8, malformed JSON, not an object). The field checks raise ``InvalidCut`` with the kind and a reason that names the
field; each caller turns it into a ``Reject`` (``Row.reject``) and goes on, or stops. No Lhotse import here: scoring a
manifest needs none.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping

from finparakeet.data.rejects import BAD_ROW, ENTITY_MISMATCH, MALFORMED_JSON, NOT_UTF8, InvalidCut, Reject
from finparakeet.entities import EntitySpan, checked_entities

ManifestFormat = Literal["nemo", "cuts"]


@dataclass(frozen=True)
class Row:
    """One JSON object of a manifest and where it was: ``source`` (the file) and its 1-based ``line``."""

    source: str
    line: int
    fields: dict[str, Any]

    def reject(self, e: InvalidCut, id: str | None = None) -> Reject:
        """The ``Reject`` for this row failing a check (its id and audio path kept when they are strings)."""
        audio = self.fields.get("audio_filepath")
        return Reject(self.line, e.kind, e.reason, id, audio if isinstance(audio, str) else None, self.source)


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_rows(path: str | Path) -> Iterator[Row | Reject]:
    """Each non-blank line of a JSON-lines file: a ``Row``, or a ``Reject`` saying why the line is not one."""
    path = Path(path)
    source = str(path)
    with _open_binary(path) as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield Reject(n, NOT_UTF8, f"line is not UTF-8 ({e.reason} at byte {e.start}): save the file as "
                                          "UTF-8", source=source)
                continue
            try:
                fields = json.loads(line)
            except json.JSONDecodeError as e:
                yield Reject(n, MALFORMED_JSON, f"malformed JSON: {e.msg} (column {e.colno})", source=source)
                continue
            if not isinstance(fields, dict):
                yield Reject(n, MALFORMED_JSON, f"a manifest line must be a JSON object, got {type(fields).__name__}",
                             source=source)
                continue
            yield Row(source, n, fields)


def detect_format(path: str | Path, default: ManifestFormat | None = None) -> ManifestFormat:
    """``"cuts"`` for a Lhotse cuts file, ``"nemo"`` for a NeMo manifest, judged by the first well-formed line.

    A Lhotse cut line has a ``type`` (MonoCut, MultiCut, MixedCut) and no ``audio_filepath``. When no line says
    either: ``default``, or ``ValueError`` without one.
    """
    for item in read_rows(path):
        if isinstance(item, Reject):
            continue
        row = item.fields
        if "audio_filepath" in row:
            return "nemo"
        if "type" in row and ("recording" in row or "tracks" in row or "supervisions" in row):
            return "cuts"
    if default is not None:
        return default
    raise ValueError(f"{path}: no line looks like a NeMo row (audio_filepath) or a Lhotse cut (type, recording)")


def string_field(fields: Mapping[str, Any], key: str) -> str:
    """``fields[key]``, which must be a string; ``InvalidCut(BAD_ROW)`` naming the field otherwise."""
    if fields.get(key) is None:
        raise InvalidCut(BAD_ROW, f"the row has no '{key}'")
    if not isinstance(fields[key], str):
        raise InvalidCut(BAD_ROW, f"'{key}' must be a string, got {type(fields[key]).__name__}")
    return fields[key]


def number_field(fields: Mapping[str, Any], key: str, required: bool = False) -> float | None:
    """``fields[key]`` as a float (None when absent or null and not ``required``); it must be a finite,
    non-negative number, else ``InvalidCut(BAD_ROW)`` naming the field."""
    value = fields.get(key)
    if value is None:
        if required:
            raise InvalidCut(BAD_ROW, f"the row has no '{key}'")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidCut(BAD_ROW, f"'{key}' must be a number, got {value!r}")
    if value < 0:
        raise InvalidCut(BAD_ROW, f"'{key}' must not be negative, got {value!r}")
    return float(value)


def row_entities(fields: Mapping[str, Any], text_key: str = "text") -> list[EntitySpan] | None:
    """The row's ``entities``, each span checked against its text; None when the row has no ``entities`` field (an
    empty list means "none"). ``InvalidCut(ENTITY_MISMATCH)`` saying which span does not fit."""
    if "entities" not in fields:
        return None
    try:
        return checked_entities(fields.get(text_key) or "", fields["entities"])
    except ValueError as e:
        raise InvalidCut(ENTITY_MISMATCH, str(e)) from None


def default_cut_id(row: Mapping[str, Any]) -> str:
    """A stable cut id for a row that has none: audio stem, plus the offset when the row is a segment."""
    stem = Path(row["audio_filepath"]).stem
    offset = float(row.get("offset") or 0.0)
    return f"{stem}-{round(offset * 1000):08d}" if offset else stem


def row_id(fields: Mapping[str, Any], line: int) -> str:
    """What identifies a row in a report: its ``id``/``cut_id``/``utt_id``, else the id derived from its audio path
    and offset (``default_cut_id``), else ``line<N>``."""
    for key in ("id", "cut_id", "utt_id"):
        if isinstance(fields.get(key), str) and fields[key]:
            return fields[key]
    if isinstance(fields.get("audio_filepath"), str):
        try:
            return default_cut_id(fields)
        except (TypeError, ValueError):
            pass
    return f"line{line}"


def resolve_audio_path(audio_filepath: str, manifest_dir: str | Path | None) -> str:
    """NeMo's rule: a relative path names a file next to the manifest when such a file exists, else is kept."""
    p = Path(audio_filepath)
    if manifest_dir is not None and not p.is_absolute():
        candidate = Path(manifest_dir) / p
        if candidate.is_file():
            return str(candidate)
    return audio_filepath
