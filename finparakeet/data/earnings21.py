"""Rev's Earnings-21 benchmark (text only): ``.nlp`` token files, the NER sidecar and system outputs.

Layout under ``root`` (github.com/revdotcom/speech-datasets, folder ``earnings21``)::

    transcripts/nlp_references/<id>.nlp       token|speaker|ts|endTs|punctuation|case|tags|wer_tags
    transcripts/wer_tags/<id>.wer_tag.json    {entity_id: {"entity_type": "ORG" | "MONEY" | ...}}
    output/<system>/<id>.nlp                  hypotheses, the same format without ``wer_tags``
    earnings21-file-metadata.csv  eval10-file-metadata.csv  speaker-metadata.csv
    media/<id>.mp3                            audio (not shipped with the text)

Quirks of the data handled here: CRLF line ends, tokens with stray surrounding spaces (stripped),
non-numeric times (read as None), and a few empty
tokens that carry only punctuation (their punctuation is glued to the previous word, as it would be written).
"""

from __future__ import annotations

import ast
import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lhotse import CutSet, MonoCut, Recording, SupervisionSegment
from lhotse.audio import AudioSource

from finparakeet.entities import EntitySpan

NLP_COLUMNS = ("token", "speaker", "ts", "endTs", "punctuation", "case", "tags", "wer_tags")
REFERENCES_DIR = "transcripts/nlp_references"
WER_TAGS_DIR = "transcripts/wer_tags"
OUTPUT_DIR = "output"
MEDIA_SUFFIXES = (".mp3", ".wav", ".flac")
UNKNOWN_CATEGORY = "UNKNOWN"


@dataclass(slots=True)
class NlpToken:
    """One line of an ``.nlp`` file. ``ts``/``end_ts`` are seconds or None when the file leaves them empty."""

    token: str
    speaker: str
    ts: float | None
    end_ts: float | None
    punctuation: str
    case: str
    tags: list[str] = field(default_factory=list)  # normalisation classes, "id:CLASS"
    wer_tags: list[str] = field(default_factory=list)  # ids of the named entities the token belongs to


@dataclass
class Earnings21Call:
    """A reference transcript as written, its entity spans (exact on ``text``) and the call's metadata."""

    id: str
    text: str
    entities: list[EntitySpan]
    metadata: dict[str, Any]


# The common shape of the list columns, "['0:YEAR', '1:CARDINAL']", read without Python's parser (a call has ~8,000
# lines and ast.literal_eval was most of the reading time); anything else goes through literal_eval.
_QUOTED_LIST = re.compile(r"\[\s*'[^'\\]*'(?:\s*,\s*'[^'\\]*')*\s*\]")
_QUOTED = re.compile(r"'([^'\\]*)'")


def _parse_list(raw: str) -> list[str]:
    raw = raw.strip()
    if raw in ("", "[]"):
        return []
    if _QUOTED_LIST.fullmatch(raw):
        return _QUOTED.findall(raw)
    value = ast.literal_eval(raw)  # the files write Python list literals: "['0:YEAR', '1:CARDINAL']"
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ValueError(f"expected a list of ids, got {raw!r}")
    return [str(v) for v in value]


def _parse_time(raw: str) -> float | None:
    # Lenient on purpose: the reference 4346923 has a stray "." in its endTs column, and references carry no times.
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, line_start = data.count(b"\n", 0, e.start) + 1, data.rfind(b"\n", 0, e.start) + 1
        raise ValueError(f"{path}:{line}: not UTF-8 ({e.reason} at byte {e.start - line_start})") from None


def read_nlp(path: str | Path) -> list[NlpToken]:
    """Tokens of an ``.nlp`` file (8 columns for references, 7 for system outputs); ``ValueError`` with file:line."""
    path = Path(path)
    tokens = []
    append = tokens.append
    for n, line in enumerate(_decode(path).split("\n"), 1):
        line = line.rstrip("\r")
        if n == 1 and line.startswith("token|"):
            continue
        if not line.strip():
            continue
        cols = line.split("|")
        if len(cols) not in (7, 8):
            raise ValueError(f"{path}:{n}: expected 7 or 8 '|'-separated columns "
                             f"({'|'.join(NLP_COLUMNS)}), got {len(cols)}: {line!r}")
        try:
            append(NlpToken(cols[0].strip(), cols[1], _parse_time(cols[2]), _parse_time(cols[3]), cols[4], cols[5],
                            _parse_list(cols[6]), _parse_list(cols[7]) if len(cols) == 8 else []))
        except (ValueError, SyntaxError) as e:
            raise ValueError(f"{path}:{n}: {e}: {line!r}") from None
    return tokens


def nlp_text(tokens: list[NlpToken]) -> tuple[str, list[tuple[int, int]]]:
    """The text as written (each token followed by its punctuation, space-joined) and each token's char span.

    The span covers the token only, not its punctuation. An empty token gets an empty span at the place it would
    start, and its punctuation (if any) is glued to the previous word.
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for t in tokens:
        if t.token:
            if pos:
                parts.append(" ")
                pos += 1
            spans.append((pos, pos + len(t.token)))
            pos += len(t.token)
            parts.append(t.token)
        else:
            spans.append((pos, pos))
        parts.append(t.punctuation)
        pos += len(t.punctuation)
    return "".join(parts), spans


def list_calls(root: str | Path) -> list[str]:
    """Ids of the calls with a reference transcript, sorted."""
    ref_dir = Path(root) / REFERENCES_DIR
    if not ref_dir.is_dir():
        raise FileNotFoundError(f"{ref_dir} does not exist: is {root} the Earnings-21 folder?")
    return sorted(p.stem for p in ref_dir.glob("*.nlp"))


def list_systems(root: str | Path) -> list[str]:
    """The recognisers under ``output/``, as relative paths (``"google"``, ``"rev/espnet/nlp"``), sorted."""
    out = Path(root) / OUTPUT_DIR
    dirs = {p.parent.relative_to(out).as_posix() for p in out.rglob("*.nlp")}
    return sorted(dirs)


def load_hypothesis(root: str | Path, system: str, call_id: str) -> str:
    """A system's output for a call as plain text (its tokens and punctuation, as the system wrote them)."""
    path = Path(root) / OUTPUT_DIR / system / f"{call_id}.nlp"
    if not path.is_file():
        raise FileNotFoundError(f"no output of system {system!r} for call {call_id}: {path} does not exist "
                                f"(systems: {', '.join(list_systems(root))})")
    return nlp_text(read_nlp(path))[0]


def _read_csv(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8", newline="") as f:
        return {row["file_id"]: row for row in csv.DictReader(f)}


def _call_metadata(root: Path, call_id: str) -> dict[str, Any]:
    meta: dict[str, Any] = dict(_read_csv(root / "earnings21-file-metadata.csv").get(call_id, {}))
    for key, cast in (("audio_length", float), ("sample_rate", int), ("financial_quarter", int),
                      ("speaker_switches", int), ("unique_speakers", int)):
        if meta.get(key, "").strip():
            meta[key] = cast(meta[key])
    meta["eval10"] = call_id in _read_csv(root / "eval10-file-metadata.csv")
    speakers_csv = root / "speaker-metadata.csv"
    if speakers_csv.is_file():
        with open(speakers_csv, encoding="utf-8", newline="") as f:
            meta["speakers"] = {r["speaker_id"]: r["speaker_name"] for r in csv.DictReader(f) if r["file_id"] == call_id}
    return meta


def load_call(root: str | Path, call_id: str) -> Earnings21Call:
    """A call's reference text and its entity spans from the ``wer_tags`` column and the NER sidecar.

    All tokens carrying an entity id form one span, from the first token's start to the last token's end (entities
    are contiguous in the data). The category is the sidecar's ``entity_type``, as is; an id missing from the sidecar
    falls back to its class in the ``tags`` column. Entities that sit only on empty tokens cannot be spans: they are
    listed in ``metadata["dropped_entities"]``.
    """
    root = Path(root)
    tokens = read_nlp(root / REFERENCES_DIR / f"{call_id}.nlp")
    sidecar_path = root / WER_TAGS_DIR / f"{call_id}.wer_tag.json"
    sidecar = json.loads(sidecar_path.read_text(encoding="utf-8")) if sidecar_path.is_file() else {}
    text, spans = nlp_text(tokens)

    extent: dict[str, list[int]] = {}  # entity id -> [first, last] index of its non-empty tokens
    tag_class: dict[str, str] = {}
    empty_only: set[str] = set()
    for i, t in enumerate(tokens):
        for tag in t.tags:
            tag_id, _, cls = tag.partition(":")
            tag_class.setdefault(tag_id, cls)
        for eid in t.wer_tags:
            if not t.token:
                empty_only.add(eid)
                continue
            extent.setdefault(eid, [i, i])[1] = i

    entities, warnings = [], []
    for eid, (first, last) in extent.items():
        if eid in sidecar:
            category = sidecar[eid].get("entity_type", UNKNOWN_CATEGORY)
        else:
            category = tag_class.get(eid) or UNKNOWN_CATEGORY
            warnings.append(f"entity {eid} is not in {sidecar_path.name}; category {category} from the tags column")
        start, end = spans[first][0], spans[last][1]
        entities.append(EntitySpan(start, end, category, text[start:end], source=f"earnings21:{eid}"))
    entities.sort(key=lambda e: (e.start, e.end, e.source))

    metadata = _call_metadata(root, call_id)
    metadata["num_tokens"] = len(tokens)
    metadata["dropped_entities"] = sorted(empty_only - set(extent), key=int)
    if warnings:
        metadata["warnings"] = warnings
    return Earnings21Call(call_id, text, entities, metadata)


def _recording(root: Path, call_id: str, metadata: dict[str, Any], media_dir: Path | None) -> Recording:
    if media_dir is not None:
        for suffix in MEDIA_SUFFIXES:
            path = media_dir / f"{call_id}{suffix}"
            if path.is_file():
                return Recording.from_file(path, recording_id=call_id)
    # No audio here: describe the file Rev's layout would hold, with the duration and rate from the metadata CSV,
    # so the text-only cut is complete and loading its audio fails with a clear "file not found".
    path = (media_dir or root / "media") / f"{call_id}.mp3"
    if "audio_length" not in metadata or "sample_rate" not in metadata:
        raise ValueError(f"call {call_id}: no audio in {media_dir} and no audio_length/sample_rate in "
                         f"earnings21-file-metadata.csv to describe it")
    sr = metadata["sample_rate"]
    num_samples = round(metadata["audio_length"] * sr)
    return Recording(id=call_id, sources=[AudioSource(type="file", channels=[0], source=str(path))],
                     sampling_rate=sr, num_samples=num_samples, duration=num_samples / sr)


def call_to_cut(call: Earnings21Call, recording: Recording) -> MonoCut:
    """One cut per call with one long supervision: the text as written, entities and metadata in ``custom``."""
    sup = SupervisionSegment(id=call.id, recording_id=recording.id, start=0.0, duration=recording.duration,
                             channel=0, text=call.text, language="en",
                             custom={"entities": [e.to_dict() for e in call.entities], "earnings21": call.metadata})
    return MonoCut(id=call.id, start=0.0, duration=recording.duration, channel=0, recording=recording,
                   supervisions=[sup])


def import_earnings21(root: str | Path, media_dir: str | Path | None = None) -> CutSet:
    """All calls as cuts. Audio is attached from ``media_dir/<id>.{mp3,wav,flac}`` when present; otherwise the
    recording points at the absent ``<media_dir or root/media>/<id>.mp3`` with the duration and sample rate of
    ``earnings21-file-metadata.csv`` (text-only use works; loading audio raises, validation rejects it as missing).
    """
    root = Path(root)
    media = Path(media_dir) if media_dir is not None else None
    cuts = []
    for call_id in list_calls(root):
        call = load_call(root, call_id)
        cuts.append(call_to_cut(call, _recording(root, call_id, call.metadata, media)))
    return CutSet.from_cuts(cuts)
