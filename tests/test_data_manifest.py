"""NeMo manifest <-> Lhotse cuts round trips, the importers and the import recipe."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from lhotse import CutSet, MonoCut, SupervisionSegment

from finparakeet.data.folder import import_folder
from finparakeet.data.importers import import_source
from finparakeet.data.manifests import detect_format, load_cuts, load_manifest, save_cuts
from finparakeet.data.nemo_manifest import (
    cut_to_row, cuts_to_nemo_manifest, iter_nemo_cuts, read_nemo_manifest, row_to_cut, write_nemo_manifest,
)
from finparakeet.data.rows import read_rows
from finparakeet.entities import parse_entities, span_errors

REPO = Path(__file__).resolve().parents[1]


def _wav(path: Path, seconds: float, sr: int = 16000, channels: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = round(seconds * sr)
    data = (0.1 * np.sin(np.arange(n) / 8.0)).astype("float32")
    sf.write(path, np.stack([data] * channels, axis=1) if channels > 1 else data, sr)
    return path


def _rows(tmp_path: Path) -> list[dict]:
    a = _wav(tmp_path / "a.wav", 2.0)
    long = _wav(tmp_path / "call.wav", 6.0, sr=8000)
    return [
        {"audio_filepath": str(a), "duration": 2.0, "text": "Revenue was $4.2 billion, up 12.5%.",
         "entities": [{"start": 12, "end": 24, "category": "MONEY", "text": "$4.2 billion", "seen": False,
                       "source": "lex:1", "norm": "4200000000"},
                      {"start": 29, "end": 34, "category": "PERCENT", "text": "12.5%"}],
         "speaker": "cfo", "lang": "en", "meta": {"nested": [1, 2.5, None]}},
        {"audio_filepath": str(long), "duration": 1.5, "offset": 2.25, "text": "Q3 margins: 50 bps",
         "pred_text": "q three margins fifty bps"},
        {"audio_filepath": str(long), "duration": 1.0, "offset": 0.0, "text": "Naïve café — ünïcode ✓"},
        {"audio_filepath": str(long), "duration": 1.0, "offset": 4.0, "text": "named", "cut_id": "my-own-id"},
    ]


def _written(path: Path) -> list[dict]:
    return [r.fields for r in read_rows(path)]


@pytest.mark.parametrize("read_header", [False, True])
def test_nemo_to_cuts_to_nemo_is_exact(tmp_path, read_header):
    rows = _rows(tmp_path)
    src = write_nemo_manifest(rows, tmp_path / "in.json")
    cuts = read_nemo_manifest(src, read_header=read_header)
    assert [c.id for c in cuts] == ["a", "call-00002250", "call", "my-own-id"]
    if read_header:  # the real header, not an assumption
        assert cuts["call-00002250"].recording.sampling_rate == 8000
        assert cuts["call-00002250"].load_audio().shape == (1, 12000)
    # ... through a cuts file on disk and back
    again = load_cuts(save_cuts(cuts, tmp_path / "c.jsonl.gz"))
    out = cuts_to_nemo_manifest(again, tmp_path / "out.json")
    assert _written(out) == rows
    sup = again["a"].supervisions[0]
    assert not span_errors(sup.text, parse_entities(sup.custom["entities"]))
    assert sup.custom["entities"][0]["norm"] == "4200000000"


def test_cuts_to_nemo_to_cuts_is_exact(tmp_path):
    rec_path = _wav(tmp_path / "x.wav", 3.0, sr=22050)
    cuts, rejects = import_folder(tmp_path)  # no .txt: the file is a reject, not an error
    assert not cuts and rejects[0].kind == "no_transcript"
    (tmp_path / "x.txt").write_text("EBITDA rose to $1.1 billion\n")
    (cut,), _ = import_folder(tmp_path)
    text = cut.supervisions[0].text
    custom = {"entities": [{"start": 0, "end": 6, "category": "TERM", "text": "EBITDA"}], "snr": 12.5}
    segment = cut.truncate(offset=0.5, duration=2.0, preserve_id=True)
    segment = MonoCut(id="seg-1", start=segment.start, duration=segment.duration, channel=0,
                      recording=segment.recording,
                      supervisions=[SupervisionSegment("seg-1", cut.recording.id, 0.0, 2.0, channel=0, text=text,
                                                       language="en", custom=custom)])
    for original in (cut, segment):
        back = row_to_cut(cut_to_row(original), read_header=True)
        assert back.to_dict() == original.to_dict()
    # through files as well
    nemo = cuts_to_nemo_manifest(CutSet.from_cuts([cut, segment]), tmp_path / "m.json")
    back = load_manifest(nemo, read_header=True)
    assert [c.to_dict() for c in back] == [cut.to_dict(), segment.to_dict()]
    assert str(rec_path) == back["x"].recording.sources[0].source


def test_relative_paths_resolve_against_the_manifest(tmp_path):
    _wav(tmp_path / "sub" / "audio" / "r.wav", 1.0)
    manifest = write_nemo_manifest([{"audio_filepath": "audio/r.wav", "duration": 1.0, "text": "hi"}],
                                   tmp_path / "sub" / "m.json")
    (cut,) = read_nemo_manifest(manifest)
    assert cut.recording.sources[0].source == str(tmp_path / "sub" / "audio" / "r.wav")
    assert cut.load_audio().shape == (1, 16000)


def test_strict_reader_names_the_bad_line(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"audio_filepath": "/x.wav", "duration": 1, "text": "ok"}\n\n'
                    '{"audio_filepath": "/y.wav", "text": "no duration"}\n')
    with pytest.raises(ValueError, match=r"m\.json:3: row has no 'duration'"):
        list(iter_nemo_cuts(path, read_header=False))
    path.write_text('{"audio_filepath": "/x.wav", "duration": 1, "text": "ok"}\n{"broken\n')
    with pytest.raises(ValueError, match=r"m\.json:2: malformed JSON"):
        list(iter_nemo_cuts(path))


def test_detect_format(tmp_path):
    rows = _rows(tmp_path)
    nemo = write_nemo_manifest(rows, tmp_path / "m.json")
    cuts = save_cuts(read_nemo_manifest(nemo), tmp_path / "c.jsonl.gz")
    assert detect_format(nemo) == "nemo" and detect_format(cuts) == "cuts"
    assert len(load_manifest(cuts, lazy=True)) == len(load_manifest(nemo)) == 4
    (tmp_path / "junk.json").write_text('{"foo": 1}\n')
    with pytest.raises(ValueError, match="no line looks like"):
        detect_format(tmp_path / "junk.json")


def test_folder_importer(tmp_path):
    root = tmp_path / "calls"
    espeak = shutil.which("espeak-ng")
    if espeak:  # real speech from the system voice
        (root / "q3").mkdir(parents=True)
        subprocess.run([espeak, "-w", str(root / "q3" / "ceo.wav"), "Revenue was four point two billion dollars"],
                       check=True)
    else:
        _wav(root / "q3" / "ceo.wav", 1.5, sr=22050)
    (root / "q3" / "ceo.txt").write_text("  Revenue was $4.2 billion.\n")
    _wav(root / "q4" / "ceo.wav", 1.0)  # same stem, other folder: a distinct id
    (root / "q4" / "ceo.txt").write_text("Guidance unchanged.")
    _wav(root / "orphan.flac", 1.0)
    (root / "latin1.wav").write_bytes((root / "q4" / "ceo.wav").read_bytes())
    (root / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (root / "broken.wav").write_bytes(b"RIFF\x00\x00not audio")
    (root / "broken.txt").write_text("x")
    cuts, rejects = import_folder(root)
    assert sorted(cuts.ids) == ["q3/ceo", "q4/ceo"]
    ceo = cuts["q3/ceo"]
    assert ceo.supervisions[0].text == "Revenue was $4.2 billion."
    assert ceo.recording.sampling_rate == 22050 and ceo.duration > 1.0
    assert {(r.id, r.kind) for r in rejects} == {("orphan", "no_transcript"), ("latin1", "not_utf8"),
                                                 ("broken", "audio_unreadable")}
    assert list(import_source("folder", root)[0].ids) == list(cuts.ids)
    with pytest.raises(ValueError, match="unknown source"):
        import_source("kaggle", root)


@pytest.mark.slow  # a recipe in a fresh Python (Hydra, Lhotse)
def test_import_recipe(tmp_path):
    root = tmp_path / "in"
    _wav(root / "a.wav", 1.0)
    (root / "a.txt").write_text("Net income rose 8%.")
    _wav(root / "b.wav", 1.0)  # no transcript
    out = tmp_path / "out" / "x_cuts.jsonl.gz"
    proc = subprocess.run([sys.executable, "recipes/import_data.py", "source=folder", f"input={root}",
                           f"output={out}", f"nemo_manifest={tmp_path / 'out' / 'x.json'}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "1 cuts" in proc.stdout
    assert load_cuts(out)["a"].supervisions[0].text == "Net income rose 8%."
    assert _written(tmp_path / "out" / "x.json")[0]["text"] == "Net income rose 8%."
    rejects = [json.loads(line) for line in Path(f"{out}.rejects.jsonl").read_text().splitlines()]
    assert rejects == [{"line": None, "id": "b", "audio_filepath": str(root / "b.wav"), "kind": "no_transcript",
                        "reason": "no transcript b.txt next to it"}]
