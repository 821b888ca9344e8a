"""Per-call bias lists: built from a call's metadata (company, ticker, people, peers), never from its transcript."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finparakeet.biasing import BiasListConfig, build_bias_list
from finparakeet.biasing.calls import call_phrases, read_calls, write_call_lists

REPO = Path(__file__).resolve().parent.parent
CALL = {"id": "c1", "split": "test", "company": "Apple", "ticker": "AAPL", "sector": "Information Technology",
        "executives": [{"name": "Jane Doe", "role": "Chief Financial Officer"}], "analysts": ["John Roe"],
        "peers": [{"company": "Microsoft", "ticker": "MSFT"}, {"company": "Apple", "ticker": "AAPL"}]}


def _calls(tmp_path: Path, *calls) -> Path:
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in calls))
    return path


def _manifest(tmp_path: Path) -> Path:
    rows = [{"audio_filepath": "a.wav", "duration": 1.0, "text": "Thanks, Jane Doe.", "call_id": "c1"},
            {"audio_filepath": "b.wav", "duration": 1.0, "text": "Hello."}]
    path = tmp_path / "test_manifest.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_call_phrases_are_the_prep_sheet_in_order_without_repeats():
    assert call_phrases(CALL) == ["Apple", "AAPL", "Jane Doe", "John Roe", "Microsoft", "MSFT"]


def test_bad_calls_files_are_named_by_line(tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(CALL) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"calls\.jsonl:2: not JSON"):
        read_calls(path)
    path.write_text(json.dumps(CALL) + "\n" + json.dumps(CALL) + "\n")
    with pytest.raises(ValueError, match=r"calls\.jsonl:2: call id 'c1' repeated"):
        read_calls(path)
    path.write_text(json.dumps({"id": "x"}) + "\n")
    with pytest.raises(ValueError, match=r"calls\.jsonl:1: a call needs a string `id` and `company`"):
        read_calls(path)
    with pytest.raises(FileNotFoundError, match="calls.enabled=true"):
        read_calls(tmp_path / "none.jsonl")


def test_each_row_gets_its_call_list_and_unknown_calls_are_named(tmp_path):
    calls = read_calls(_calls(tmp_path, CALL))
    out = tmp_path / "out.json"
    assert write_call_lists(_manifest(tmp_path), calls, out) == 1
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows[0]["bias_list"] == call_phrases(CALL) and "bias_list" not in rows[1]
    assert rows[0]["text"] == "Thanks, Jane Doe."  # the transcript is copied, not used
    with pytest.raises(ValueError, match=r"test_manifest\.json:1: call_id 'c1' is not in the calls file"):
        write_call_lists(_manifest(tmp_path), {}, out)


def test_cuts_get_their_call_list_too(tmp_path):
    from lhotse import CutSet, MonoCut, Recording, SupervisionSegment

    from finparakeet.data.manifests import load_cuts

    rec = Recording(id="r", sources=[], sampling_rate=16000, num_samples=16000, duration=1.0)
    sup = SupervisionSegment("s", "r", 0, 1.0, text="Hi", custom={"call_id": "c1"})
    CutSet.from_cuts([MonoCut("r", 0, 1.0, 0, recording=rec, supervisions=[sup])]).to_file(tmp_path / "c.jsonl.gz")
    assert write_call_lists(tmp_path / "c.jsonl.gz", read_calls(_calls(tmp_path, CALL)), tmp_path / "o.jsonl.gz") == 1
    (cut,) = load_cuts(tmp_path / "o.jsonl.gz")
    assert cut.supervisions[0].custom["bias_list"] == call_phrases(CALL)


def test_calls_are_a_source_of_the_global_list(tmp_path):
    other = {**CALL, "id": "c2", "company": "Tesla", "ticker": "TSLA", "executives": [], "analysts": [], "peers": []}
    bias = build_bias_list(BiasListConfig(lexicon=False, calls=[str(_calls(tmp_path, CALL, other))]))
    assert bias.phrases == ["Apple", "AAPL", "Jane Doe", "John Roe", "Microsoft", "MSFT", "Tesla", "TSLA"]
    assert bias.sources["Tesla"] == ["calls"]


def test_recipe_writes_the_list_and_the_per_call_manifest(tmp_path):
    calls, manifest = _calls(tmp_path, CALL), _manifest(tmp_path)
    out = tmp_path / "per_call.json"
    proc = subprocess.run([sys.executable, str(REPO / "recipes" / "build_bias_list.py"), f"output={tmp_path / 'b.txt'}",
                           "lexicon.enabled=false", f"calls=[{calls}]", f"per_call_transcripts={manifest}",
                           f"per_call_output={out}"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "b.txt").read_text().splitlines() == call_phrases(CALL)
    assert json.loads(out.read_text().splitlines()[0])["bias_list"] == call_phrases(CALL)
    bad = subprocess.run([sys.executable, str(REPO / "recipes" / "build_bias_list.py"), f"output={tmp_path / 'c.txt'}",
                          "lexicon.enabled=false", f"calls=[{calls}]", f"per_call_output={out}"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode != 0 and "per_call_output needs per_call_transcripts" in bad.stderr
