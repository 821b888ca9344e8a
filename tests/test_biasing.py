"""Bias lists: key-phrase files, Earnings-21's lists as they are, re-casing, building from the lexicon and transcripts,
per-utterance lists, empty lists. No NeMo here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finparakeet.biasing import (BiasListConfig, CaseIndex, EmptyBiasListError, build_bias_list, clean_phrases,
                                 lexicon_phrases, phrases_from_field, read_key_phrases, recase_phrase, row_phrases,
                                 write_bias_list, write_key_phrases)
from finparakeet.biasing.build import count_transcript_phrases, write_per_utterance_lists
from finparakeet.lexicon import load_lexicon

from conftest import EARNINGS21, REPO as ROOT

E21 = EARNINGS21 / "bias_lists"
needs_e21 = pytest.mark.skipif(not (E21 / "oracle_list.txt").is_file(), reason="Earnings-21 bias lists not present")


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


# ---- key-phrase files -------------------------------------------------------------------------------------------


def test_written_file_is_what_nemo_reads_line_by_line(tmp_path):
    path = write_key_phrases(["  free   cash flow ", "EBITDA", "", "EBITDA", "S&P 500"], tmp_path / "b" / "k.txt")
    # NeMo's key_phrases_file reader takes every line as a phrase: no blank line, no comment, no repeat
    assert path.read_text(encoding="utf-8") == "free cash flow\nEBITDA\nS&P 500\n"
    assert read_key_phrases(path) == ["free cash flow", "EBITDA", "S&P 500"]


def test_reading_skips_comments_blank_lines_and_a_bom(tmp_path):
    path = tmp_path / "k.txt"
    path.write_bytes("\ufeff# finance terms\n\nEBITDA\n  # indented comment\nAT&T\n\n".encode("utf-8"))
    assert read_key_phrases(path) == ["EBITDA", "AT&T"]


def test_case_is_kept_and_only_exact_repeats_drop():
    assert clean_phrases(["Apple", "APPLE", "Apple", "apple"]) == ["Apple", "APPLE", "apple"]
    with pytest.raises(TypeError, match="must be a string"):
        clean_phrases(["EBITDA", 3])


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n  \n"])
def test_empty_key_phrase_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EmptyBiasListError, match="holds no phrase") as e:
        read_key_phrases(path)
    assert str(path) in str(e.value)
    assert read_key_phrases(path, allow_empty=True) == []


def test_missing_file_and_empty_write_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_key_phrases(tmp_path / "nope.txt")
    with pytest.raises(EmptyBiasListError, match="empty key-phrase file"):
        write_key_phrases(["", "  "], tmp_path / "k.txt")
    assert not (tmp_path / "k.txt").exists()


# ---- Earnings-21 ------------------------------------------------------------------------------------------------


@needs_e21
@pytest.mark.parametrize("name,count", [("oracle_list.txt", 1013), ("distractor_list.txt", 1782)])
def test_earnings21_lists_read_as_they_are(name, count):
    raw = [line.rstrip("\n") for line in (E21 / name).read_text(encoding="utf-8").splitlines()]
    phrases = read_key_phrases(E21 / name)
    assert len(phrases) == count
    assert phrases == [r.strip() for r in raw if r.strip()]  # nothing changed, nothing lost
    assert {"GOLDMAN SACHS & CO", "AT&T", "M&A", "JOC O'ROURKE"} <= set(phrases)


@needs_e21
def test_earnings21_distractor_list_holds_the_oracle_list():
    oracle, distractor = (set(read_key_phrases(E21 / n)) for n in ("oracle_list.txt", "distractor_list.txt"))
    assert oracle < distractor


@needs_e21
def test_earnings21_recased_for_a_cased_model():
    phrases = read_key_phrases(E21 / "oracle_list.txt", recase="auto")
    assert len(phrases) == 1013  # one re-cased phrase per line: none merged, none lost
    by_upper = {p.upper(): p for p in phrases}
    assert by_upper["GOLDMAN SACHS & CO"] == "Goldman Sachs & Co"
    assert by_upper["DERIK DE BRUIN"] == "Derik de Bruin"
    assert by_upper["AT&T"] == "AT&T" and by_upper["EV"] == "EV" and by_upper["M&A"] == "M&A"
    assert by_upper["JOC O'ROURKE"] == "Joc O'Rourke"
    assert sum(p.isupper() for p in phrases) < 0.15 * len(phrases)  # short acronyms only


@pytest.mark.parametrize("phrase,title,auto", [
    ("GOLDMAN SACHS & CO", "Goldman Sachs & Co", "Goldman Sachs & Co"),
    ("ABBVIE", "Abbvie", "AbbVie"),  # the lexicon knows the written form
    ("FREEPORT-MCMORAN", "Freeport-Mcmoran", "Freeport-McMoRan"),
    ("BRIAN D'AMBROSIA", "Brian D'Ambrosia", "Brian D'Ambrosia"),
    ("HERSHEY'S", "Hershey's", "Hershey's"),
    ("LANDS' END", "Lands' End", "Lands' End"),
    ("ACADEMY SPORTS AND OUTDOORS", "Academy Sports and Outdoors", "Academy Sports and Outdoors"),
    ("COCA-COLA COMPANY", "Coca-Cola Company", "Coca-Cola Company"),
    ("M&A", "M&A", "M&A"),
    ("DS", "DS", "DS"),
    ("J.J", "J.J", "J.J"),
    ("MATT B.", "Matt B.", "Matt B."),
    ("Adobe Analytics", "Adobe Analytics", "Adobe Analytics"),  # already cased: kept
])
def test_recase_rules(lexicon, phrase, title, auto):
    assert recase_phrase(phrase, "title") == title
    assert recase_phrase(phrase, "auto", CaseIndex.from_lexicon(lexicon)) == auto
    assert recase_phrase(phrase, "none") == phrase


def test_recase_learns_casing_from_texts():
    index = CaseIndex.from_texts(["Shares of AcelRx rose.", "AcelRx guided higher.", "acelrx"])
    assert recase_phrase("ACELRX PHARMACEUTICALS", "auto", index) == "AcelRx Pharmaceuticals"
    with pytest.raises(ValueError, match="recase must be one of"):
        recase_phrase("X", "upper")


# ---- building ---------------------------------------------------------------------------------------------------


def test_lexicon_selection_by_kind_category_and_aliases(lexicon):
    terms = lexicon_phrases(lexicon, kinds=["term"])
    assert "EBITDA" in terms and "free cash flow" in terms
    assert set(terms) <= {e.written for e in lexicon.by_kind("term")}
    tickers = lexicon_phrases(lexicon, categories=["TICKER"])
    assert "NVDA" in tickers and all(t == t.upper() for t in tickers)
    assert "Apple Inc." not in lexicon_phrases(lexicon, kinds=["company"])
    assert "Apple Inc." in lexicon_phrases(lexicon, kinds=["company"], aliases=True)
    with pytest.raises(ValueError, match="unknown lexicon kinds"):
        lexicon_phrases(lexicon, kinds=["bond"])


def _manifest(path: Path) -> Path:
    rows = [
        {"audio_filepath": "a.wav", "duration": 1.0, "text": "Apple beat estimates and Apple raised guidance.",
         "entities": [{"start": 0, "end": 5, "category": "ORG", "text": "Apple"},
                      {"start": 25, "end": 30, "category": "ORG", "text": "Apple"}]},
        {"audio_filepath": "b.wav", "duration": 1.0, "text": "EBITDA rose 12% at NVIDIA.",
         "key_phrases": ["Jensen Huang"]},  # no entities: the tagger finds EBITDA and NVIDIA
        {"audio_filepath": "c.wav", "duration": 1.0, "text": "Apple and Zorblax Holdings.",
         "entities": [{"start": 0, "end": 5, "category": "ORG", "text": "Apple"},
                      {"start": 10, "end": 26, "category": "ORG", "text": "Zorblax Holdings"}]},
        {"audio_filepath": "d.wav", "duration": 1.0, "text": "Nothing to see.", "entities": []},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n", encoding="utf-8")
    return path


def test_transcript_counts_use_entities_the_tagger_and_per_utterance_fields(tmp_path):
    counts, rejects = count_transcript_phrases([_manifest(tmp_path / "m.json")])
    # the line that is no JSON is not lost: it comes back with its file, line and why
    assert [(r.source, r.line, r.kind) for r in rejects] == [(str(tmp_path / "m.json"), 5, "malformed_json")]
    assert counts["Apple"] == 3
    assert counts["EBITDA"] == 1 and counts["NVIDIA"] == 1  # tagged (no entities in that row)
    assert counts["Jensen Huang"] == 1  # the row's own list
    assert counts["Zorblax Holdings"] == 1
    assert "12%" not in counts  # PERCENT is not among the default entity categories
    assert count_transcript_phrases([tmp_path / "m.json"], BiasListConfig(entity_categories=None))[0]["12%"] == 1


def test_min_count_max_size_and_ranking(tmp_path, lexicon):
    m = str(_manifest(tmp_path / "m.json"))
    only = build_bias_list(BiasListConfig(lexicon=False, transcripts=[m]), lexicon)
    assert [r.line for r in only.rejects] == [5] and only.summary()["rejected_rows"] == 1
    assert only.phrases[0] == "Apple" and only.counts["Apple"] == 3  # most frequent first
    assert set(only.phrases) == {"Apple", "EBITDA", "NVIDIA", "Jensen Huang", "Zorblax Holdings"}
    assert build_bias_list(BiasListConfig(lexicon=False, transcripts=[m], min_count=2), lexicon).phrases == ["Apple"]
    top = build_bias_list(BiasListConfig(lexicon=False, transcripts=[m], max_size=2), lexicon)
    assert len(top.phrases) == 2 and top.phrases[0] == "Apple"
    mixed = build_bias_list(BiasListConfig(kinds=["term"], transcripts=[m], min_count=2), lexicon)
    assert mixed.phrases[0] == "Apple" and "free cash flow" in mixed.phrases  # lexicon kept without counts
    assert "Zorblax Holdings" not in mixed.phrases
    focused = build_bias_list(BiasListConfig(kinds=["term"], transcripts=[m], require_in_transcripts=True), lexicon)
    assert "EBITDA" in focused.phrases and "Apple" in focused.phrases
    assert "free cash flow" not in focused.phrases  # lexicon phrases only where the transcripts use them
    assert set(mixed.sources["Apple"]) == {"transcripts"} and "lexicon" in mixed.sources["free cash flow"]


def test_nothing_qualifies_is_a_clear_error(tmp_path, lexicon):
    m = str(_manifest(tmp_path / "m.json"))
    with pytest.raises(EmptyBiasListError, match="bias list is empty"):
        build_bias_list(BiasListConfig(lexicon=False, transcripts=[m], min_count=10), lexicon)
    with pytest.raises(EmptyBiasListError):
        build_bias_list(BiasListConfig(lexicon=False), lexicon)
    empty = tmp_path / "e.txt"
    empty.write_text("\n")
    with pytest.raises(EmptyBiasListError, match="holds no phrase"):
        build_bias_list(BiasListConfig(lexicon=False, lists=[str(empty)]), lexicon)


@needs_e21
def test_lists_merge_with_recasing(tmp_path, lexicon):
    bias = build_bias_list(BiasListConfig(kinds=["index"], lists=[str(E21 / "oracle_list.txt")], recase="auto"),
                           lexicon)
    assert "S&P 500" in bias.phrases and "Goldman Sachs & Co" in bias.phrases
    assert "GOLDMAN SACHS & CO" not in bias.phrases
    out = write_bias_list(bias, tmp_path / "e21.txt")
    assert read_key_phrases(out) == bias.phrases


def test_per_utterance_lists_written_into_the_manifest(tmp_path):
    m = _manifest(tmp_path / "m.json")
    n = write_per_utterance_lists(m, tmp_path / "with_lists.json", restrict_to={"Apple", "EBITDA", "Jensen Huang"})
    rows = [json.loads(line) for line in (tmp_path / "with_lists.json").read_text().splitlines()]
    assert n == 3 and len(rows) == 4  # the malformed line is dropped, every row kept
    assert rows[0]["key_phrases"] == ["Apple"]
    assert rows[1]["key_phrases"] == ["EBITDA", "Jensen Huang"]
    assert rows[2]["key_phrases"] == ["Apple"]  # Zorblax Holdings is not in the list
    assert "key_phrases" not in rows[3]


def test_per_utterance_lists_in_cuts(tmp_path):
    from lhotse import MonoCut, Recording, SupervisionSegment
    from lhotse.audio import AudioSource

    from finparakeet.data.manifests import load_cuts, save_cuts

    rec = Recording("r", [AudioSource("file", [0], "r.wav")], 16000, 16000, 1.0)
    cut = MonoCut("c1", 0, 1.0, 0, recording=rec, supervisions=[SupervisionSegment(
        "c1", "r", 0, 1.0, text="NVIDIA and Apple.", custom={"bias_list": ["Jensen Huang"]})])
    save_cuts([cut], tmp_path / "cuts.jsonl.gz")
    assert count_transcript_phrases([tmp_path / "cuts.jsonl.gz"]) == ({"NVIDIA": 1, "Apple": 1, "Jensen Huang": 1}, [])
    write_per_utterance_lists(tmp_path / "cuts.jsonl.gz", tmp_path / "out.jsonl.gz")
    out = load_cuts(tmp_path / "out.jsonl.gz")[0]
    assert out.supervisions[0].custom["key_phrases"] == ["NVIDIA", "Apple", "Jensen Huang"]


def test_per_utterance_field_forms(tmp_path):
    (tmp_path / "call1.txt").write_text("Jensen Huang\nBlackwell\n")
    assert phrases_from_field(["EBITDA", " EBITDA "]) == ["EBITDA"]
    assert phrases_from_field("call1.txt", base_dir=tmp_path) == ["Jensen Huang", "Blackwell"]
    assert phrases_from_field("free cash flow") == ["free cash flow"]
    assert row_phrases({"text": "x"}) is None
    assert row_phrases({"bias_list": []}) == []
    assert row_phrases({"key_phrases": ["A1"], "bias_list": ["B1"]}) == ["A1"]  # the first field present wins
    with pytest.raises(TypeError):
        phrases_from_field({"phrase": "x"})


@pytest.mark.slow  # two recipe runs in fresh Pythons
def test_recipe_writes_the_file_and_fails_clearly_when_empty(tmp_path):
    out = tmp_path / "terms.txt"
    run = subprocess.run([sys.executable, "recipes/build_bias_list.py", f"output={out}", "lexicon.kinds=[term]",
                          "max_size=25"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert len(read_key_phrases(out)) == 25 and "(25 phrases)" in run.stdout
    run = subprocess.run([sys.executable, "recipes/build_bias_list.py", f"output={tmp_path / 'e.txt'}",
                          "lexicon.enabled=false"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode != 0 and "bias list is empty" in run.stderr
    assert not (tmp_path / "e.txt").exists()
