"""Rev's Earnings-21 benchmark (text only): ``.nlp`` token files, the NER sidecar and system outputs.

Layout under ``root`` (github.com/revdotcom/speech-datasets, folder ``earnings21``)::

    transcripts/nlp_references/<id>.nlp       token|speaker|ts|endTs|punctuation|case|tags|wer_tags
    transcripts/wer_tags/<id>.wer_tag.json    {entity_id: {"entity_type": "ORG" | "MONEY" | ...}}
    output/<system>/<id>.nlp                  hypotheses, the same format without ``wer_tags``
    earnings21-file-metadata.csv  eval10-file-metadata.csv  speaker-metadata.csv
    media/<id>.mp3                            audio (not shipped with the text)

Quirks of the data handled here: CRLF line ends, tokens with stray surrounding spaces (stripped), and a few empty
tokens that carry only punctuation (their punctuation is glued to the previous word, as it would be written).
"""

from __future__ import annotations

import ast
import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Sequence

from finparakeet.entities import EntitySpan

if TYPE_CHECKING:
    from lhotse import CutSet, MonoCut, Recording

NLP_COLUMNS = ("token", "speaker", "ts", "endTs", "punctuation", "case", "tags", "wer_tags")
REFERENCES_DIR = "transcripts/nlp_references"
WER_TAGS_DIR = "transcripts/wer_tags"
OUTPUT_DIR = "output"
MEDIA_SUFFIXES = (".mp3", ".wav", ".flac")
UNKNOWN_CATEGORY = "UNKNOWN"


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


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, line_start = data.count(b"\n", 0, e.start) + 1, data.rfind(b"\n", 0, e.start) + 1
        raise ValueError(f"{path}:{line}: not UTF-8 ({e.reason} at byte {e.start - line_start})") from None


_NO_IDS = ("", "[]")


def _nlp_rows(path: Path) -> tuple[list[list[str]], Sequence[int]]:
    """The columns of each token line of an ``.nlp`` file, the column count checked, and each row's line number.
    Comprehensions over whole files rather than a loop per line: a call has ~8,000 lines, a system 360,000."""
    text = _decode(path)
    lines = text.split("\n")
    first = 1 if lines and lines[0].startswith("token|") else 0
    if "\r" in text:  # CRLF line ends (some of the data)
        lines = [line.rstrip("\r") for line in lines]
    rows = [line.split("|") for line in lines[first:]]
    numbers: Sequence[int] = range(first + 1, first + 1 + len(rows))
    odd = [] if set(map(len, rows)) <= {7, 8} else [k for k, cols in enumerate(rows) if len(cols) not in (7, 8)]
    for k in odd:
        line = "|".join(rows[k])
        if line.strip():
            raise ValueError(f"{path}:{numbers[k]}: expected 7 or 8 '|'-separated columns "
                             f"({'|'.join(NLP_COLUMNS)}), got {len(rows[k])}: {line!r}")
    if odd:  # blank lines
        keep = [k for k in range(len(rows)) if len(rows[k]) in (7, 8)]
        rows, numbers = [rows[k] for k in keep], [numbers[k] for k in keep]
    return rows, numbers


def _ids(path: Path, n: int, cols: list[str], k: int) -> list[str]:
    """The list in column ``k`` (``tags`` 6, ``wer_tags`` 7; absent = empty); ``ValueError`` with file:line."""
    raw = cols[k] if k < len(cols) else ""
    if raw in _NO_IDS:
        return []
    try:
        return _parse_list(raw)
    except (ValueError, SyntaxError) as e:
        raise ValueError(f"{path}:{n}: {e}: {'|'.join(cols)!r}") from None


def _tagged(rows: list[list[str]]) -> list[int]:
    """Indices of the rows with anything in their ``tags`` or ``wer_tags`` column (a few percent of them)."""
    return [k for k, c in enumerate(rows) if c[6] not in _NO_IDS or (len(c) == 8 and c[7] not in _NO_IDS)]


class _Written:
    """Tokens joined into text: a space before each word unless nothing has been written yet, then the word, then
    its punctuation. Built with comprehensions (a system's outputs are 360,000 tokens); spans on demand."""

    def __init__(self, words: list[str], punctuation: list[str]) -> None:
        pieces = [" " + w + p if w else p for w, p in zip(words, punctuation)]
        # the first token that writes anything gets no space
        self.first = next((k for k, piece in enumerate(pieces) if piece), len(pieces))
        if self.first < len(pieces) and words[self.first]:
            pieces[self.first] = pieces[self.first][1:]
        self.words = words
        self.text = "".join(pieces)
        self.starts = [0, *accumulate(map(len, pieces))]

    def span(self, k: int) -> tuple[int, int]:
        """Token ``k``'s characters, without its punctuation (empty, where it would start, for an empty token)."""
        start, word = self.starts[k], self.words[k]
        if word and k != self.first:
            start += 1
        return start, start + len(word)


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
    # Straight from the columns, no object per line: a call's output has ~8,000 lines.
    rows, numbers = _nlp_rows(path)
    for k in _tagged(rows):
        _ids(path, numbers[k], rows[k], 6)
    return _Written([c[0].strip() for c in rows], [c[4] for c in rows]).text


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
    path = root / REFERENCES_DIR / f"{call_id}.nlp"
    rows, numbers = _nlp_rows(path)  # read from the columns, as load_hypothesis does
    words = [c[0].strip() for c in rows]
    sidecar_path = root / WER_TAGS_DIR / f"{call_id}.wer_tag.json"
    sidecar = json.loads(sidecar_path.read_text(encoding="utf-8")) if sidecar_path.is_file() else {}
    written = _Written(words, [c[4] for c in rows])
    text = written.text

    extent: dict[str, list[int]] = {}  # entity id -> [first, last] index of its non-empty tokens
    tag_class: dict[str, str] = {}
    empty_only: set[str] = set()
    for i in _tagged(rows):
        for tag in _ids(path, numbers[i], rows[i], 6):
            tag_id, _, cls = tag.partition(":")
            tag_class.setdefault(tag_id, cls)
        for eid in _ids(path, numbers[i], rows[i], 7):
            if not words[i]:
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
        start, end = written.span(first)[0], written.span(last)[1]
        entities.append(EntitySpan(start, end, category, text[start:end], source=f"earnings21:{eid}"))
    entities.sort(key=lambda e: (e.start, e.end, e.source))

    metadata = _call_metadata(root, call_id)
    metadata["num_tokens"] = len(rows)
    metadata["dropped_entities"] = sorted(empty_only - set(extent), key=int)
    if warnings:
        metadata["warnings"] = warnings
    return Earnings21Call(call_id, text, entities, metadata)


def _recording(root: Path, call_id: str, metadata: dict[str, Any], media_dir: Path | None) -> Recording:
    # Lhotse (~1 s to import) only where cuts are made: the scorer reads calls without it.
    from lhotse import Recording
    from lhotse.audio import AudioSource

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
    from lhotse import MonoCut, SupervisionSegment  # only where cuts are made (see _recording)

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
    from lhotse import CutSet  # only where cuts are made (see _recording)

    root = Path(root)
    media = Path(media_dir) if media_dir is not None else None
    cuts = []
    for call_id in list_calls(root):
        call = load_call(root, call_id)
        cuts.append(call_to_cut(call, _recording(root, call_id, call.metadata, media)))
    return CutSet.from_cuts(cuts)
