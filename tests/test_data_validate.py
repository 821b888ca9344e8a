"""Validation: each kind of bad input gives a clear reason with its line; every good row comes out 16 kHz mono."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from lhotse import CutSet, MonoCut
from lhotse.cut import MixedCut
from lhotse.utils import fastcopy

from finparakeet.data.folder import import_folder
from finparakeet.data.manifests import load_cuts, save_cuts
from finparakeet.data.nemo_manifest import read_nemo_manifest, write_nemo_manifest
from finparakeet.data.rows import read_rows
from finparakeet.data.validate import (
    ValidationConfig, filter_valid, validate_cuts, validate_manifest, validate_to_dir,
)

REPO = Path(__file__).resolve().parents[1]


def _wav(path: Path, seconds: float, sr: int = 16000, channels: int = 1, level: float | list[float] = 0.1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    levels = level if isinstance(level, list) else [level] * channels
    n = round(seconds * sr)
    data = np.stack([np.full(n, lv, dtype="float32") for lv in levels], axis=1)
    sf.write(path, data if channels > 1 else data[:, 0], sr)
    return path


@pytest.fixture
def audio(tmp_path):
    return {"a": _wav(tmp_path / "a.wav", 2.0), "b": _wav(tmp_path / "b.wav", 1.0),
            "hi": _wav(tmp_path / "hi.wav", 1.0, sr=44100),
            "st": _wav(tmp_path / "st.wav", 1.0, channels=2, level=[0.5, -0.1]),
            "call": _wav(tmp_path / "call.wav", 5.0, sr=8000)}


def _manifest(tmp_path: Path, audio: dict[str, Path]) -> tuple[Path, dict[int, tuple[str, str]], set[str]]:
    """Good and bad rows mixed; returns the path, {line: (kind, reason fragment)} and the good ids."""
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF....WAVEfmt not really")
    a, b = str(audio["a"]), str(audio["b"])
    lines = [
        json.dumps({"audio_filepath": a, "duration": 2.0, "text": "Revenue was $4.2 billion",
                    "entities": [{"start": 12, "end": 24, "category": "MONEY", "text": "$4.2 billion"}]}),  # 1 ok
        json.dumps({"audio_filepath": str(tmp_path / "gone.wav"), "duration": 1.0, "text": "x"}),  # 2
        json.dumps({"audio_filepath": str(garbage), "duration": 1.0, "text": "x"}),  # 3
        json.dumps({"audio_filepath": b, "duration": 0.0, "text": "x"}),  # 4
        json.dumps({"audio_filepath": b, "duration": 1.6, "text": "x"}),  # 5
        json.dumps({"audio_filepath": b, "duration": 1.0, "text": "   "}),  # 6
        json.dumps({"audio_filepath": b, "duration": 1.0, "text": "bad \ud800 surrogate"}),  # 7
        '{"audio_filepath": "' + b + '", "duration": 1.0, "text": "caf\xe9"}',  # 8: latin-1 bytes, below
        '{"audio_filepath": "' + b + '", "duration": 1.0,',  # 9
        json.dumps({"audio_filepath": b, "duration": 1.0, "text": "Q3",
                    "entities": [{"start": 0, "end": 2, "category": "PERIOD", "text": "Q4"}]}),  # 10
        json.dumps({"audio_filepath": a, "duration": 2.0, "text": "the same segment again"}),  # 11
        json.dumps({"audio_filepath": b, "duration": "1.0", "text": "x"}),  # 12
        json.dumps({"audio_filepath": b, "text": "x"}),  # 13
        json.dumps({"audio_filepath": str(audio["call"]), "duration": 2.0, "offset": 4.0, "text": "past the end"}),
        json.dumps({"audio_filepath": str(audio["hi"]), "duration": 1.0, "text": "forty four k", "spk": 3}),  # 15
        json.dumps({"audio_filepath": str(audio["st"]), "duration": 1.0, "text": "stereo"}),  # 16
        json.dumps({"audio_filepath": str(audio["call"]), "duration": 1.5, "offset": 3.5, "text": "seg"}),  # 17
        "[1, 2]",  # 18
        json.dumps({"audio_filepath": b, "duration": 1.04, "text": "within tolerance"}),  # 19
        json.dumps({"audio_filepath": str(audio["call"]), "duration": 1.0, "offset": 0.5, "text": "x",
                    "entities": "nope"}),  # 20
    ]
    path = tmp_path / "m.json"
    with open(path, "wb") as f:
        for i, line in enumerate(lines, 1):
            f.write(line.encode("latin-1" if i == 8 else "utf-8") + b"\n")
            if i == 4:
                f.write(b"\n")  # a blank line: skipped, not counted, line numbers still true
    expected = {1: None, 2: ("audio_missing", "does not exist"), 3: ("audio_unreadable", "garbage.wav"),
                4: ("zero_duration", "duration is 0"), 5: ("duration_mismatch", "says 1.600 s but the audio lasts 1.000"),
                6: ("empty_text", "empty"), 7: ("not_utf8", "surrogate"), 8: ("not_utf8", "not UTF-8"),
                9: ("malformed_json", "malformed JSON"), 10: ("entity_mismatch", "'Q3', not 'Q4'"),
                11: ("duplicate_id", "already used on line 1"), 12: ("bad_row", "'duration' must be a number"),
                13: ("bad_row", "no 'duration'"), 14: ("duration_mismatch", "ends at 6.000 s but the audio lasts 5.000"),
                18: ("malformed_json", "must be a JSON object"), 20: ("entity_mismatch", "must be a list")}
    expected = {(k + 1 if k > 4 else k): v for k, v in expected.items() if v}  # the blank line shifts the rest
    good = {"a", "hi", "st", "call-00003500", "b"}
    return path, expected, good


def test_each_bad_row_has_its_line_and_reason_and_good_rows_all_come_out(tmp_path, audio):
    path, expected, good = _manifest(tmp_path, audio)
    result = validate_manifest(path, ValidationConfig(downmix_dir=tmp_path / "mix"))
    got = {r.line: r for r in result.rejects}
    assert set(got) == set(expected)
    for line, (kind, fragment) in expected.items():
        assert got[line].kind == kind, (line, got[line])
        assert fragment in got[line].reason, (line, got[line].reason)
    assert set(result.cuts.ids) == good
    assert result.num_input == 20 == result.num_clean + len(result.rejects)
    assert got[3].audio_filepath.endswith("garbage.wav") and got[3].id == "garbage"
    assert result.summary()["reasons"]["malformed_json"] == 2
    for cut in result.cuts:  # all 16 kHz mono, loadable, the declared length
        samples = cut.load_audio()
        assert cut.sampling_rate == 16000 and samples.shape == (1, round(cut.duration * 16000)), cut.id
    assert result.cuts["a"].supervisions[0].custom["entities"][0]["text"] == "$4.2 billion"
    assert result.cuts["hi"].supervisions[0].custom["spk"] == 3
    assert result.cuts["b"].duration == 1.0  # 1.04 declared, within tolerance: trimmed to the audio


def test_resample_and_downmix(tmp_path, audio):
    rows = [{"audio_filepath": str(audio["hi"]), "duration": 1.0, "text": "hi"},
            {"audio_filepath": str(audio["st"]), "duration": 1.0, "offset": 0.0, "text": "st"}]
    path = write_nemo_manifest(rows, tmp_path / "m.json")
    eager = validate_manifest(path, ValidationConfig(downmix_dir=tmp_path / "mix")).cuts
    lazy = validate_manifest(path).cuts
    hi = eager["hi"]
    assert hi.recording.transforms and hi.sampling_rate == 16000 and hi.load_audio().shape == (1, 16000)
    st = eager["st"]
    assert isinstance(st, MonoCut) and st.recording.num_channels == 1 and st.sampling_rate == 16000
    assert Path(st.recording.sources[0].source).parent == tmp_path / "mix"
    assert st.supervisions[0].custom["source_audio_filepath"] == str(audio["st"])
    np.testing.assert_allclose(st.load_audio(), 0.2, atol=1e-3)  # (0.5 + -0.1) / 2
    mixed = lazy["st"]  # without a folder: a lazy average, nothing written
    assert isinstance(mixed, MixedCut) and len(mixed.supervisions) == 1
    np.testing.assert_allclose(mixed.load_audio(), 0.2, atol=1e-3)
    assert mixed.load_audio().shape == (1, 16000)


def test_cuts_file_input(tmp_path, audio):
    cuts = read_nemo_manifest(write_nemo_manifest(
        [{"audio_filepath": str(audio["a"]), "duration": 2.0, "text": "good one"},
         {"audio_filepath": str(audio["b"]), "duration": 1.0, "text": "Q3",
          "entities": [{"start": 0, "end": 2, "category": "PERIOD", "text": "Q3"}]}], tmp_path / "m.json"))
    good_a, good_b = cuts["a"], cuts["b"]
    # declares 8 kHz for a 16 kHz file
    lying = fastcopy(good_b, id="lying", recording=fastcopy(good_b.recording, sampling_rate=8000, num_samples=8000))
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for item in [good_a.to_dict(), good_a.to_dict(), {"type": "MonoCut", "id": "x"}, lying.to_dict(),
                     good_b.perturb_volume(0.5).to_dict()]:
            f.write(json.dumps(item) + "\n")
    result = validate_manifest(path)
    assert list(result.cuts.ids) == ["a", "b_vp0.5"]
    assert [(r.line, r.kind) for r in result.rejects] == [(2, "duplicate_id"), (3, "bad_row"), (4, "audio_mismatch")]
    assert "8000 Hz" in result.rejects[2].reason and "16000 Hz" in result.rejects[2].reason


def test_filter_valid_is_lazy_reiterable_and_reports(tmp_path, audio):
    (tmp_path / "a.txt").write_text("Revenue rose.")
    (tmp_path / "b.txt").write_text("")  # empty transcript: rejected when iterated, not when imported
    (tmp_path / "hi.txt").write_text("forty four")
    cuts, _ = import_folder(tmp_path)
    audio["a"].unlink()  # vanishes after import: the epoch must not crash
    path = save_cuts(cuts, tmp_path / "c.jsonl.gz")
    seen = []
    view = filter_valid(load_cuts(path, lazy=True), on_reject=seen.append)
    assert view.is_lazy and seen == []  # nothing checked yet
    assert [c.id for c in view] == ["hi"]
    assert [c.id for c in view] == ["hi"]  # a second epoch checks afresh
    assert [(r.id, r.kind) for r in seen] == [("a", "audio_missing"), ("b", "empty_text")] * 2
    eager = validate_cuts(cuts)
    assert [(r.line, r.kind) for r in eager.rejects] == [(1, "audio_missing"), (2, "empty_text")]
    assert eager.cuts["hi"].sampling_rate == 16000


def test_read_audio_catches_damage_past_the_header(tmp_path, audio):
    bad = tmp_path / "cut.flac"
    sf.write(bad, np.zeros(16000 * 3, dtype="float32"), 16000)
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2] + b"\x00" * 64)  # header intact, stream broken
    rows = [{"audio_filepath": str(audio["b"]), "duration": 1.0, "text": "fine"},
            {"audio_filepath": str(bad), "duration": 3.0, "text": "broken"}]
    path = write_nemo_manifest(rows, tmp_path / "m.json")
    checked = validate_manifest(path, ValidationConfig(read_audio=True))
    assert list(checked.cuts.ids) == ["b"]
    assert checked.rejects[0].line == 2 and checked.rejects[0].kind == "audio_unreadable"


def _run_recipe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "recipes/validate_manifest.py", *args, "progress=false"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # a recipe in a fresh Python (Hydra, Lhotse): ~6 s
def test_validate_recipe_end_to_end(tmp_path, audio):
    path, expected, good = _manifest(tmp_path, audio)
    out = tmp_path / "out"
    proc = _run_recipe(f"manifest={path}", f"output_dir={out}")
    assert proc.returncode == 0, proc.stderr
    assert "20 rows, 5 clean" in proc.stdout and "duplicate_id: 1" in proc.stdout
    assert set(load_cuts(out / "clean_cuts.jsonl.gz").ids) == good
    rows = [r.fields for r in read_rows(out / "clean_manifest.json")]
    assert len(rows) == 5 and all(Path(r["audio_filepath"]).is_file() for r in rows)
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert {r["line"]: r["kind"] for r in rejects} == {k: v[0] for k, v in expected.items()}
    assert all(r["reason"] for r in rejects)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["input"] == 20 and summary["clean"] == 5

    # nothing usable: a non-zero exit, the rejects still written
    bad = write_nemo_manifest([{"audio_filepath": str(tmp_path / "gone.wav"), "duration": 1.0, "text": "x"}],
                              tmp_path / "bad.json")
    proc = _run_recipe(f"manifest={bad}", f"output_dir={tmp_path / 'out2'}")
    assert proc.returncode == 1 and "no usable row" in proc.stderr
    assert json.loads((tmp_path / "out2" / "rejects.jsonl").read_text())["kind"] == "audio_missing"


def test_validate_to_dir_on_clean_cuts_is_a_fixed_point(tmp_path, audio):
    path, _, good = _manifest(tmp_path, audio)
    first = validate_to_dir(path, tmp_path / "one", ValidationConfig(downmix_dir=tmp_path / "one" / "audio"))
    again = validate_to_dir(tmp_path / "one" / "clean_cuts.jsonl.gz", tmp_path / "two")
    nemo_again = validate_to_dir(tmp_path / "one" / "clean_manifest.json", tmp_path / "three")
    assert first["clean"] == again["clean"] == nemo_again["clean"] == len(good)
    assert again["rejected"] == nemo_again["rejected"] == 0
    assert set(CutSet.from_file(tmp_path / "two" / "clean_cuts.jsonl.gz").ids) == good
