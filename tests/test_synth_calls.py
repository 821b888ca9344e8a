"""Calls: finance utterances grouped into earnings calls that name one company's people, ticker and peers."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
import soundfile as sf

from finparakeet.synth import SynthConfig, from_dict
from finparakeet.synth.calls import CallConfig, group_into_calls
from finparakeet.synth.pipeline import CALL_RECORDINGS_MANIFEST, CALLS_FILE, plan_utterances

LEXICON_KINDS = ("company", "ticker", "person")


@pytest.fixture(scope="module")
def plan():
    return plan_utterances(from_dict(SynthConfig, {"num_utterances": 400, "seed": 5, "calls": {"enabled": True}}))


def test_groups_are_consecutive_runs_within_the_size_range():
    idx = list(range(100))
    groups = group_into_calls(idx, CallConfig(utterances=(10, 15)), random.Random(0))
    assert [i for g in groups for i in g] == idx
    assert all(10 <= len(g) <= 15 + 9 for g in groups) and all(10 <= len(g) for g in groups)
    with pytest.raises(ValueError, match="calls.utterances"):
        group_into_calls(idx, CallConfig(utterances=(5, 2)), random.Random(0))


def test_every_finance_utterance_is_in_one_call_of_its_split(plan):
    calls = {c.id: c for c in plan.calls}
    assert all(s.call_id in calls and calls[s.call_id].split == s.split for s in plan.specs)
    assert set(Counter(c.split for c in plan.calls)) == {"train", "dev", "test"}
    sizes = Counter(s.call_id for s in plan.specs)
    assert min(sizes.values()) >= 10


def test_a_call_names_only_its_own_company_peers_and_people(plan):
    calls = {c.id: c for c in plan.calls}
    named = 0
    for s in plan.specs:
        c = calls[s.call_id]
        own = {e.id for e in (c.company, *c.peers, *c.people, *c.peer_tickers) if e is not None}
        own |= {c.ticker.id} if c.ticker else set()
        for e in s.utterance.entities:
            if e.source and e.source.split(":")[0] in LEXICON_KINDS:
                named += 1
                assert e.source in own, (s.call_id, e.text)
    assert named > 50
    people = [e for s in plan.specs for e in s.utterance.entities if e.category == "PERSON"]
    assert people and all(e.source.startswith("person:") for e in people)


def test_calls_keep_held_out_entities_out_of_train(plan):
    train = [c for c in plan.calls if c.split == "train"]
    for c in train:
        assert not {e.id for e in (c.company, *c.peers, *c.people)} & plan.heldout_ids
    test_entities = [e for s in plan.specs if s.split == "test" for e in s.utterance.entities]
    assert any(e.seen is False for e in test_entities)  # test calls still hold unseen entities


def test_metadata_is_what_a_call_prep_sheet_knows(plan):
    d = plan.calls[0].to_dict()
    assert set(d) == {"id", "split", "company", "ticker", "sector", "executives", "analysts", "peers"}
    assert d["executives"] and all({"name", "role"} == set(x) for x in d["executives"])
    assert all(p["ticker"] for p in d["peers"]) and d["ticker"]


def test_calls_are_off_by_default():
    cfg = from_dict(SynthConfig, {"num_utterances": 60, "seed": 5})
    assert cfg.calls.enabled is False and not plan_utterances(cfg).calls


@pytest.mark.slow
def test_synthesised_calls_write_metadata_and_call_ids(tmp_path):
    from finparakeet.data.manifests import load_cuts
    from finparakeet.synth import synthesize_corpus

    cfg = from_dict(SynthConfig, {"output_dir": str(tmp_path), "num_utterances": 30, "seed": 2, "num_workers": 2,
                                  "progress": False,
                                  "calls": {"enabled": True, "utterances": [5, 8], "recordings": True},
                                  "splits": {"train": 0.6, "dev": 0.2, "test": 0.2}})
    summary = synthesize_corpus(cfg)
    calls = [json.loads(x) for x in (tmp_path / CALLS_FILE).read_text().splitlines()]
    assert sum(summary["calls"].values()) == len(calls) >= 3
    cuts = list(load_cuts(tmp_path / "test_cuts.jsonl.gz"))
    ids = {c["id"] for c in calls if c["split"] == "test"}
    assert cuts and all(c.supervisions[0].custom["call_id"] in ids for c in cuts)
    rows = [json.loads(x) for x in (tmp_path / "test_manifest.json").read_text().splitlines()]
    assert all(r["call_id"] in ids for r in rows)  # the NeMo manifest keeps it too
    # each test call as one recording: audio, text and entity spans joined in order
    long = [json.loads(x) for x in (tmp_path / CALL_RECORDINGS_MANIFEST).read_text().splitlines()]
    assert {r["call_id"] for r in long} == ids and summary["call_recordings"]["count"] == len(long)
    by_id = {r["audio_filepath"].rsplit("/", 1)[1][:-4]: r for r in rows}
    for r in long:
        parts = [by_id[u] for u in r["utterances"]]
        assert r["text"] == " ".join(p["text"] for p in parts)
        assert r["duration"] == pytest.approx(sum(p["duration"] for p in parts) + 0.4 * (len(parts) - 1), abs=0.01)
        assert sf.info(r["audio_filepath"]).duration == pytest.approx(r["duration"], abs=0.001)
        assert len(r["entities"]) == sum(len(p["entities"]) for p in parts)
        assert all(r["text"][e["start"]:e["end"]] == e["text"] for e in r["entities"])


def test_consecutive_calls_join_until_a_recording_is_long_enough():
    from finparakeet.synth.recordings import group_calls

    assert group_calls({"a": 100, "b": 100}, 0, 0.4) == [["a"], ["b"]]  # 0: one recording per call
    groups = group_calls({"a": 300, "b": 300, "c": 700, "d": 50}, 600, 0.4)
    assert groups == [["a", "b"], ["c", "d"]]  # 300 + 0.4 + 300 >= 600; d, too short alone, joins c
    assert group_calls({"a": 100, "b": 100}, 600, 0.4) == [["a", "b"]]  # never a call left out


def test_joined_recordings_name_their_calls_and_get_the_union_of_their_lists(tmp_path):
    import numpy as np
    from lhotse import MonoCut, Recording, SupervisionSegment

    from finparakeet.biasing.calls import call_phrases, write_call_lists
    from finparakeet.data.nemo_manifest import write_nemo_manifest
    from finparakeet.synth.recordings import write_call_recordings

    cuts = []
    for i, call in enumerate(["c1", "c1", "c2", "c3"]):
        path = tmp_path / f"u{i}.wav"
        sf.write(path, np.full(16000, 0.1 * (i + 1), dtype=np.float32), 16000)
        sup = SupervisionSegment(f"u{i}", f"u{i}", 0, 1.0, text=f"Line {i} of Apple.",
                                 custom={"call_id": call, "entities": [
                                     {"start": 10, "end": 15, "category": "ORG", "text": "Apple"}]})
        cuts.append(MonoCut(f"u{i}", 0, 1.0, 0, recording=Recording.from_file(path, f"u{i}"), supervisions=[sup]))
    rows = write_call_recordings(cuts, tmp_path / "calls", pause_s=0.5, min_seconds=2.0)
    # c1 (2 s + a pause) is long enough alone; c2 then c3 reach 2 s together
    assert [r["call_ids"] for r in rows] == [["c1"], ["c2", "c3"]]
    assert rows[0]["call_id"] == "c1" and "call_id" not in rows[1]
    assert rows[1]["audio_filepath"].endswith("c2+2.wav") and rows[1]["duration"] == pytest.approx(2.5)
    assert rows[1]["utterances"] == ["u2", "u3"]
    assert all(r["text"][e["start"]:e["end"]] == "Apple" for r in rows for e in r["entities"])
    manifest = write_nemo_manifest(rows, tmp_path / "long.json")
    metas = {c: {"id": c, "company": f"Co {c}", "ticker": c.upper()} for c in ("c1", "c2", "c3")}
    assert write_call_lists(manifest, metas, tmp_path / "long_lists.json") == 2
    lists = [json.loads(x)["bias_list"] for x in (tmp_path / "long_lists.json").read_text().splitlines()]
    assert lists[1] == call_phrases(metas["c2"]) + call_phrases(metas["c3"])


def test_a_corpus_made_without_calls_is_not_reused_for_a_run_that_asks_for_them(tmp_path):
    from omegaconf import OmegaConf

    from finparakeet.training.data import check_corpus_calls, synthesize_if_absent

    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}_cuts.jsonl.gz").write_bytes(b"")
    old = {"config": {"num_utterances": 10}}  # a summary from before calls existed: no calls
    (tmp_path / "summary.json").write_text(json.dumps(old))
    data = {"dir": str(tmp_path), "synth": {"num_utterances": 10, "calls": {"enabled": True, "recordings": True}},
            **{f"{s}_cuts": str(tmp_path / f"{s if s != 'validation' else 'dev'}_cuts.jsonl.gz")
               for s in ("train", "validation", "test")}}
    with pytest.raises(ValueError, match=r"calls\.enabled=False there, True asked.*delete that folder"):
        synthesize_if_absent(OmegaConf.create(data))
    check_corpus_calls(tmp_path, {})  # the same settings (the defaults): reused as it is
    assert synthesize_if_absent(OmegaConf.create({**data, "synth": {"num_utterances": 10}})) is None
    (tmp_path / "summary.json").write_text(json.dumps({"config": {"calls": {"enabled": True, "recordings": True}}}))
    check_corpus_calls(tmp_path, {"enabled": True, "recordings": True})
    with pytest.raises(ValueError, match=r"calls\.recording_min_s=0\.0 there, 600\.0 asked"):
        check_corpus_calls(tmp_path, {"enabled": True, "recordings": True, "recording_min_s": 600})
