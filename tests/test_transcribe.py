"""recipes/transcribe.py on a tiny trained TDT model: outputs, bad rows, phrase boosting (global, per utterance,
beam), entity reports with and without boosting, long recordings (windows, local attention)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fixtures_inference import ROOT, wer
from finparakeet.biasing.phrases import EmptyBiasListError

slow = pytest.mark.slow  # decodes with the (tiny) NeMo model


@pytest.fixture(scope="module")
def model(world):
    from finparakeet.inference.pipeline import load_model

    return load_model(str(world.base_nemo))


def run(model, **cfg):
    from finparakeet.inference.pipeline import transcribe

    return transcribe({"model_path": "unused.nemo", "progress": False, **cfg}, model=model)


def write_rows(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def base_rows(world, model, tmp_path_factory):
    """The eval set decoded without boosting."""
    out = tmp_path_factory.mktemp("base") / "base.json"
    return run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(out)).rows


def hits(rows, phrase) -> int:
    return sum(r["text"] == phrase and r["pred_text"] == phrase for r in rows)


def false_alarms(rows, phrase) -> int:
    return sum(r["text"] != phrase and r["pred_text"] == phrase for r in rows)


# ---- outputs and bad inputs ---------------------------------------------------------------------------------------


@slow
def test_rows_come_back_with_pred_text_and_bad_rows_are_reported(world, model, tmp_path):
    good = world.eval_rows()[:5]
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not audio" * 20)
    flac = tmp_path / "damaged.flac"  # the header reads, the samples do not
    sf.write(flac, (np.random.default_rng(0).standard_normal(32000) * 0.1).astype(np.float32), 16000)
    data = bytearray(flac.read_bytes())
    for i in range(200, len(data) - 10):
        data[i] = (data[i] * 7 + 13) % 256
    flac.write_bytes(bytes(data))
    rows = [good[0], {"audio_filepath": str(tmp_path / "missing.wav"), "duration": 1.0, "text": "Apple"}, good[1],
            {"audio_filepath": str(garbage), "duration": 1.0, "text": "Tesla"}, "{not json", good[2],
            {"duration": 1.0, "text": "no audio path"}, {"audio_filepath": str(flac), "text": "revenue"},
            good[3], good[4]]
    manifest = write_rows(tmp_path / "in.json", rows)
    result = run(model, dataset_manifest=str(manifest), output_filename=str(tmp_path / "out" / "out.json"))

    out = [json.loads(line) for line in (tmp_path / "out" / "out.json").read_text().splitlines()]
    assert [r["audio_filepath"] for r in out] == [g["audio_filepath"] for g in good]  # input order, good rows only
    assert all(isinstance(r["pred_text"], str) and r["pred_text"] for r in out)
    assert all(r["text"] == g["text"] for r, g in zip(out, good))  # the input row is kept as it was
    rejects = [json.loads(line) for line in (tmp_path / "out" / "out.rejects.jsonl").read_text().splitlines()]
    assert {(r["line"], r["kind"]) for r in rejects} == {
        (2, "audio_missing"), (4, "audio_unreadable"), (5, "malformed_json"), (7, "bad_row"), (8, "audio_unreadable")}
    assert "does not exist" in next(r["reason"] for r in rejects if r["line"] == 2)
    assert "cannot load the audio" in next(r["reason"] for r in rejects if r["line"] == 8)
    assert result.stats.rtfx and result.stats.rtfx > 1
    assert any("RTFx" in line for line in result.summary_lines())


@slow
def test_no_usable_row_is_a_clear_error(model, tmp_path):
    manifest = write_rows(tmp_path / "in.json", [{"audio_filepath": str(tmp_path / "a.wav"), "text": "x"}])
    with pytest.raises(ValueError, match="no usable input"):
        run(model, dataset_manifest=str(manifest), output_filename=str(tmp_path / "out.json"))
    assert json.loads((tmp_path / "out.rejects.jsonl").read_text())["kind"] == "audio_missing"


@slow
def test_empty_bias_lists_are_clear_errors(world, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n")
    common = {"dataset_manifest": str(world.eval_manifest), "output_filename": str(tmp_path / "o.json")}
    # The list is checked before anything loads: model=None and no model file needed.
    with pytest.raises(EmptyBiasListError, match="holds no phrase"):
        run(None, boosting={"key_phrases_file": str(empty)}, **common)
    with pytest.raises(EmptyBiasListError, match="key_phrases_list is empty"):
        run(None, boosting={"key_phrases_list": []}, **common)
    with pytest.raises(FileNotFoundError):
        run(None, boosting={"key_phrases_file": str(tmp_path / "nope.txt")}, **common)


@slow
def test_folder_and_cuts_inputs_match_the_manifest(world, model, base_rows, tmp_path):
    from finparakeet.data.manifests import save_cuts
    from finparakeet.data.nemo_manifest import read_nemo_manifest

    folder = run(model, audio_dir=str(world.root / "eval"), output_filename=str(tmp_path / "dir.json")).rows
    by_path = {r["audio_filepath"]: r["pred_text"] for r in base_rows}
    assert len(folder) == len(base_rows) and set(folder[0]) == {"audio_filepath", "pred_text"}
    assert all(by_path[r["audio_filepath"]] == r["pred_text"] for r in folder)
    save_cuts(read_nemo_manifest(world.eval_manifest), tmp_path / "cuts.jsonl.gz")
    cuts = run(model, cuts_path=str(tmp_path / "cuts.jsonl.gz"), output_filename=str(tmp_path / "c.json")).rows
    assert [r["pred_text"] for r in cuts] == [r["pred_text"] for r in base_rows]
    assert all("cut_id" in r for r in cuts)


# ---- phrase boosting ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nearly_got(world, model, base_rows, tmp_path_factory):
    """A phrase the model misses somewhere, and which boosting (alpha 1) makes it write there."""
    tmp = tmp_path_factory.mktemp("boost")
    missed = sorted({r["text"] for r in base_rows if r["pred_text"] != r["text"]})
    assert missed, "the fixture model should miss some terms in unseen voices"
    for phrase in missed:
        rows = run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(tmp / "b.json"),
                   boosting={"key_phrases_list": [phrase], "boosting_tree_alpha": 1.0}).rows
        assert hits(rows, phrase) >= hits(base_rows, phrase)  # boosting never loses a phrase it had
        if hits(rows, phrase) > hits(base_rows, phrase):
            return phrase, rows
    pytest.fail(f"boosting fixed none of the missed phrases {missed}")


@slow
def test_boosting_moves_output_toward_the_listed_phrase(base_rows, nearly_got):
    phrase, boosted = nearly_got  # chosen so that boosting wrote the phrase more often than the base did
    # every output boosting changed moved toward the listed phrase (fewer character edits away from it)
    from rapidfuzz.distance import Levenshtein

    changed = [(b["pred_text"], r["pred_text"]) for b, r in zip(base_rows, boosted) if b["pred_text"] != r["pred_text"]]
    assert changed and all(Levenshtein.distance(after, phrase) < Levenshtein.distance(before, phrase)
                           for before, after in changed)


@slow
def test_boosting_reports_keyphrase_f1_with_and_without(world, model, nearly_got, tmp_path):
    phrase, _ = nearly_got
    bias = tmp_path / "bias.txt"
    bias.write_text(f"{phrase}\n")
    out = tmp_path / "out" / "eval.json"
    result = run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(out), evaluate=True,
                 boosting={"key_phrases_file": str(bias), "boosting_tree_alpha": 1.0, "compare": True})
    boosted = json.loads((out.parent / "entity_report.json").read_text())
    plain = json.loads((out.parent / "no_boosting" / "entity_report.json").read_text())
    plain_rows = [json.loads(line) for line in (out.parent / "eval.no_boosting.json").read_text().splitlines()]
    for report, folder, rows in ((boosted, out.parent, result.rows), (plain, out.parent / "no_boosting", plain_rows)):
        kp = report["keyphrases"]
        # the figures follow from the counts (precision 1 when nothing was written where it should not be)
        p = kp["hits"] / (kp["hits"] + kp["false_alarms"]) if kp["hits"] + kp["false_alarms"] else 1.0
        r = kp["hits"] / (kp["hits"] + kp["misses"])
        assert (kp["precision"], kp["recall"]) == (pytest.approx(p), pytest.approx(r))
        assert kp["f1"] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0)
        # every utterance that is the phrase and was transcribed as it is a hit
        assert kp["hits"] >= hits(rows, phrase)
        assert "# Entity report" in (folder / "entity_report.md").read_text()
        assert "<svg" in (folder / "entity_report.html").read_text()
    # the same references: the phrase occurs as often in both, found or not
    assert boosted["keyphrases"]["hits"] + boosted["keyphrases"]["misses"] == \
        plain["keyphrases"]["hits"] + plain["keyphrases"]["misses"] >= sum(r["text"] == phrase for r in result.rows)
    assert boosted["keyphrases"]["recall"] > plain["keyphrases"]["recall"]
    assert boosted["keyphrases"]["hits"] > plain["keyphrases"]["hits"]
    assert (out.parent / "eval.no_boosting.json").is_file()
    table = json.loads((out.parent / "boosting_comparison.json").read_text())
    assert table["systems"] == ["no_boosting", "boosting"]
    assert table["rows"]["keyphrase_recall"]["boosting"] == boosted["keyphrases"]["recall"]
    assert table["rows"]["rtfx"]["boosting"] > 0
    assert "key-phrase F1" in (out.parent / "boosting_comparison.md").read_text()
    assert result.comparison == table


@slow
def test_boosting_too_hard_shows_up_as_false_alarms(world, model, nearly_got, tmp_path):
    phrase, _ = nearly_got
    result = run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(tmp_path / "o.json"),
                 evaluate=True, boosting={"key_phrases_list": [phrase], "boosting_tree_alpha": 4.0})
    kp = result.reports["boosting"]["keyphrases"]
    assert false_alarms(result.rows, phrase) > 0
    assert kp["false_alarms"] >= false_alarms(result.rows, phrase) and kp["precision"] < 1


@slow
def test_per_utterance_lists_fix_misses_without_false_alarms(world, model, base_rows, tmp_path):
    rows = world.eval_rows()
    # half the rows carry their own list (oracle, as Earnings-21 per-call lists), the others none
    with_lists = [{**r, "key_phrases": [r["text"]]} if i % 2 == 0 else r for i, r in enumerate(rows)]
    manifest = write_rows(tmp_path / "in.json", with_lists)
    result = run(model, dataset_manifest=str(manifest), output_filename=str(tmp_path / "o.json"), timestamps=True,
                 boosting={"boosting_tree_alpha": 2.0})
    out = result.rows
    listed = [i for i in range(len(rows)) if i % 2 == 0]
    unlisted = [i for i in range(len(rows)) if i % 2 == 1]
    assert sum(out[i]["pred_text"] == rows[i]["text"] for i in listed) > \
        sum(base_rows[i]["pred_text"] == rows[i]["text"] for i in listed)
    assert [out[i]["pred_text"] for i in unlisted] == [base_rows[i]["pred_text"] for i in unlisted]
    assert all(out[i]["word"] and out[i]["word"][0]["end"] > out[i]["word"][0]["start"] for i in listed)


@slow
def test_beam_search_with_boosting(world, model, nearly_got, base_rows, tmp_path):
    phrase, _ = nearly_got
    beam = {"strategy": "malsd_batch", "beam": {"beam_size": 4}}
    plain = run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(tmp_path / "n.json"),
                rnnt_decoding=beam).rows
    result = run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(tmp_path / "o.json"),
                 rnnt_decoding=beam, boosting={"key_phrases_list": [phrase], "boosting_tree_alpha": 1.0})
    # the beam search itself is boosted: it writes the phrase more often than the same beam without the list, and
    # every output the list changed moved toward the phrase
    from rapidfuzz.distance import Levenshtein

    assert hits(result.rows, phrase) > hits(plain, phrase)
    changed = [(b["pred_text"], r["pred_text"]) for b, r in zip(plain, result.rows) if b["pred_text"] != r["pred_text"]]
    assert all(Levenshtein.distance(after, phrase) < Levenshtein.distance(before, phrase) for before, after in changed)
    manifest = write_rows(tmp_path / "per.json", [{**world.eval_rows()[0], "key_phrases": ["Apple"]}])
    with pytest.raises(ValueError, match="per-utterance key phrases need rnnt_decoding.strategy=greedy_batch"):
        run(model, dataset_manifest=str(manifest), output_filename=str(tmp_path / "p.json"), rnnt_decoding=beam)


@slow
def test_beam_returns_the_best_hypothesis_whatever_the_checkpoint_says(world, model, tmp_path):
    # NeMo's TDT example configs carry beam.return_best_hypothesis: false (then malsd_batch returns the whole beam)
    from omegaconf import open_dict

    beam = {"strategy": "malsd_batch", "beam": {"beam_size": 4}}
    want = run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(tmp_path / "a.json"),
               rnnt_decoding=beam).rows
    saved = model.cfg.decoding.beam.return_best_hypothesis
    with open_dict(model.cfg):
        model.cfg.decoding.beam.return_best_hypothesis = False
    try:
        got = run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(tmp_path / "b.json"),
                  rnnt_decoding=beam).rows
    finally:
        with open_dict(model.cfg):
            model.cfg.decoding.beam.return_best_hypothesis = saved
    assert [r["pred_text"] for r in got] == [r["pred_text"] for r in want]
    assert all(isinstance(r["pred_text"], str) for r in got)


@slow
def test_timestamps_are_nemo_style_words_and_segments(world, model, tmp_path):
    result = run(model, dataset_manifest=str(world.eval_manifest), output_filename=str(tmp_path / "o.json"),
                 timestamps=True)
    row = next(r for r in result.rows if r["text"] == "free cash flow" and r["pred_text"] == "free cash flow")
    assert [w["word"] for w in row["word"]] == ["free", "cash", "flow"]
    assert all(0 <= w["start"] <= w["end"] <= row["duration"] + 0.1 for w in row["word"])
    assert row["segment"][0]["segment"] == "free cash flow"


# ---- long recordings ---------------------------------------------------------------------------------------------


def test_stitching_takes_each_word_once_from_the_window_that_owns_it():
    from lhotse import MonoCut, Recording
    from lhotse.audio import AudioSource

    from finparakeet.inference.longform import plan_windows, stitch_words

    rec = Recording("r", [AudioSource("file", [0], "r.wav")], 16000, 25 * 16000, 25.0)
    wins = plan_windows(MonoCut("c", 0, 25.0, 0, recording=rec), window=10.0, overlap=2.0)
    assert [w.start for w in wins] == [0.0, 8.0, 16.0]
    assert [(w.own_start, w.own_end) for w in wins] == [(-math.inf, 9.0), (9.0, 17.0), (17.0, math.inf)]
    truth = [("a", 1.0, 1.5), ("b", 8.2, 8.6), ("c", 8.8, 9.4), ("d", 12.0, 12.5), ("e", 16.5, 17.2),
             ("f", 23.0, 23.5)]
    seen = []  # what each window would hear: every word inside it, in window time
    for w in wins:
        seen.append([{"word": t, "start": s - w.start, "end": e - w.start} for t, s, e in truth
                     if s >= w.start and e <= w.start + w.cut.duration])
    words = stitch_words(wins, seen)
    assert [w["word"] for w in words] == ["a", "b", "c", "d", "e", "f"]  # overlap words once, none lost
    assert [w["start"] for w in words] == [t[1] for t in truth]
    # a word cut by a window's edge (9.8-10.4: not whole in window 0) comes whole from window 1
    cut_word = [[{"word": "x", "start": 9.8, "end": 10.0}], [{"word": "x", "start": 1.8, "end": 2.4}], []]
    assert [(w["word"], w["start"]) for w in stitch_words(wins, cut_word)] == [("x", 9.8)]


def test_plan_windows_drops_a_window_that_only_repeats_audio():
    from lhotse import MonoCut, Recording
    from lhotse.audio import AudioSource

    from finparakeet.inference.longform import plan_windows

    rec = Recording("r", [AudioSource("file", [0], "r.wav")], 16000, int(17.5 * 16000), 17.5)
    wins = plan_windows(MonoCut("c", 0, 17.5, 0, recording=rec), window=10.0, overlap=2.0)
    assert [w.start for w in wins] == [0.0, 8.0]  # a window at 16 s would only hold audio window 1 has


@pytest.fixture(scope="module")
def long_reference(world):
    row = json.loads(world.long_manifest.read_text())
    assert row["duration"] > 180  # "several minutes"
    return row


@slow
def test_long_recording_in_windows_is_one_transcript(world, model, long_reference, tmp_path, capfd):
    short = world.eval_rows()[:3]
    manifest = write_rows(tmp_path / "in.json", [short[0], long_reference, short[1], short[2]])
    la = {"strategy": "windows", "window": 10.0, "overlap": 2.0, "min_duration": 20.0}
    result = run(model, dataset_manifest=str(manifest), output_filename=str(tmp_path / "o.json"), long_audio=la,
                 timestamps=True, batch_size=8, progress=True)
    # the bar counts the audio once, though overlapping windows decode some of it twice: it ends at its total
    audio = round(sum(r["duration"] for r in [short[0], long_reference, short[1], short[2]]))
    err = capfd.readouterr().err
    assert f"{audio}/{audio} s audio" in err.replace("\r", "\n").splitlines()[-1] and "TqdmWarning" not in err
    rows = result.rows
    assert len(rows) == 4 and rows[1]["audio_filepath"] == long_reference["audio_filepath"]  # one row per recording
    long_row = rows[1]
    ref_words = long_reference["text"].split()
    assert wer(long_reference["text"], long_row["pred_text"]) < 0.45
    assert 0.8 * len(ref_words) < len(long_row["pred_text"].split()) < 1.1 * len(ref_words)  # no doubled seams
    starts = [w["start"] for w in long_row["word"]]
    assert starts == sorted(starts) and starts[0] < 10 and long_row["word"][-1]["end"] > long_reference["duration"] - 10
    assert long_row["segment"] and long_row["segment"][-1]["end"] == long_row["word"][-1]["end"]
    assert result.stats.long_items == 1 and result.stats.windows >= long_reference["duration"] / 8 - 1
    assert result.stats.max_pass_seconds <= 10.0  # memory: no pass over more than one window
    assert all(r["pred_text"] for r in rows)


@slow
def test_long_recording_with_local_attention(world, model, long_reference, tmp_path):
    probe = write_rows(tmp_path / "probe.json", world.eval_rows()[:8])
    before = run(model, dataset_manifest=str(probe), output_filename=str(tmp_path / "p0.json")).rows
    la = {"strategy": "local_attention", "att_context_size": [32, 32], "min_duration": 20.0}
    result = run(model, dataset_manifest=str(world.long_manifest), output_filename=str(tmp_path / "o.json"),
                 long_audio=la)
    assert len(result.rows) == 1 and result.rows[0]["pred_text"]
    assert wer(long_reference["text"], result.rows[0]["pred_text"]) < 0.45
    assert result.stats.long_items == 1 and result.stats.windows == 0
    # the encoder is switched back: full attention, and the same transcripts as before
    assert model.encoder.self_attention_model == "rel_pos" and list(model.encoder.att_context_size) == [-1, -1]
    assert model.cfg.encoder.self_attention_model == "rel_pos"
    after = run(model, dataset_manifest=str(probe), output_filename=str(tmp_path / "p1.json")).rows
    assert [r["pred_text"] for r in after] == [r["pred_text"] for r in before]


# ---- the recipe ----------------------------------------------------------------------------------------------------


@slow
def test_recipe_command_line(world, tmp_path):
    out = tmp_path / "cli" / "eval.json"
    run_ = subprocess.run([sys.executable, "recipes/transcribe.py", f"model_path={world.base_nemo}",
                           f"dataset_manifest={world.eval_manifest}", f"output_filename={out}",
                           "boosting.key_phrases_list=[EBITDA,Tesla]", "evaluate=true", "progress=false"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run_.returncode == 0, run_.stderr[-3000:]
    assert "RTFx" in run_.stdout and "boosted 2 key phrase(s)" in run_.stdout
    report = json.loads((out.parent / "entity_report.json").read_text())
    assert report["keyphrases"]["f1"] is not None and report["num_utterances"] == len(world.eval_rows())
    bad = subprocess.run([sys.executable, "recipes/transcribe.py", f"model_path={world.base_nemo}",
                          f"dataset_manifest={world.eval_manifest}", f"output_filename={out}",
                          "boosting.key_phrases_list=[]"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert bad.returncode != 0 and "key_phrases_list is empty" in bad.stderr


def test_audio_bar_stops_at_its_total_and_closes(capsys):
    """Durations rounded up add to more than the total; tqdm run past its total drops it and fails at close."""
    from finparakeet.inference.transcriber import AudioBar

    bar = AudioBar(10 * 1.04, "whisper")
    for _ in range(10):
        bar.tick(1.1)  # 11 s ticked over 10.4 s of audio
    bar.close()
    assert bar.seconds == pytest.approx(10.4)
    assert "10/10 s audio" in capsys.readouterr().err
