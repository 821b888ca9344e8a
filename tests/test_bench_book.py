"""The benchmarks' records (bench/benchutil.py) and their rendering into RESULTS.md (experiment.bench_book)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from finparakeet.experiment.bench_book import BENCHMARKS, machine_note, read_bench_records, render_bench
from finparakeet.experiment.book import render_results

REPO = Path(__file__).resolve().parents[1]
MACHINE = {"cpu": "Test CPU", "cpu_count": 2, "threads": 1, "device": "cpu", "nice": 5, "torch": "2.13.0+cpu",
           "python": "3.11.7", "mem_total_bytes": 24 * 2**30, "git_commit": "abc1234", "nemo_toolkit": "3.0.0",
           "load_average_before": [1.25, 1.5, 2.0], "load_average_after": [1.75, 1.5, 2.0]}


@pytest.fixture(scope="module")
def benchutil():
    spec = importlib.util.spec_from_file_location("benchutil", REPO / "bench" / "benchutil.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _category(ewer, acc):
    return {"entity_wer": ewer, "entity_accuracy": acc, "num_entities": 10, "errors": 1, "ref_words": 20,
            "format_only": 0}


def scoring_figures(ratio=1.84):
    return {"systems": ["amazon"], "calls": 44, "pairs": 44, "words": 1_000_000, "repeat": 1,
            "jiwer_wer_s": 4.0, "entity_report_s": 4.0 * ratio, "ratio": ratio,
            "jiwer_wer_cpu_s": 4.0, "entity_report_cpu_s": 7.5, "ratio_cpu": 1.875, "goal_met": ratio <= 2.0,
            "entity_report_plain_normalizer_s": 6.0, "ratio_plain_normalizer": 1.5, "write_reports_s": 3.5,
            "breakdown_s": {"normalise_references_once": 0.7, "normalise_hypotheses": 2.7, "align": 2.8,
                            "entities_counts_report": 1.2},
            "per_system": {"amazon": {"wer": 0.163, "entity_wer": 0.187, "entity_accuracy": 0.742,
                                      "categories": {"MONEY": _category(0.068, 0.894), "ORG": None}}}}


def test_a_record_carries_its_command_machine_and_goal(benchutil):
    assert benchutil.record_path("scoring") == REPO / "results" / "bench_scoring.json"
    assert benchutil.command_line("scoring", ["--repeat", "1"]) == "python bench/bench_scoring.py --repeat 1"
    assert benchutil.command_line("synth", ["--keep", "my dir"]) == "python bench/bench_synth.py --keep 'my dir'"
    doc = benchutil.record("scoring", ["--repeat", "1"], MACHINE, {"ratio_max": 2.0}, scoring_figures())
    assert doc["command"] == "python bench/bench_scoring.py --repeat 1" and doc["goal"] == {"ratio_max": 2.0}
    assert doc["machine"] is MACHINE and doc["ratio"] == 1.84
    assert "goal" not in benchutil.record("synth", [], MACHINE, None, {"utterances": 1})


def test_scoring_record_renders_the_readme_tables(benchutil):
    doc = benchutil.record("scoring", ["--repeat", "1"], MACHINE, {"ratio_max": 2.0}, scoring_figures())
    md = render_bench("scoring", doc)
    assert md.startswith("### Entity scoring vs plain WER\n\n`python bench/bench_scoring.py --repeat 1`")
    assert "| `jiwer.wer` per pair | 4.00 s | 4.00 s |" in md
    assert "| ratio (goal ≤ 2×) | **1.84×** (met) | 1.88× |" in md
    assert "| system | WER | entity WER | MONEY eWER / acc | ORG eWER / acc |" in md
    assert "| amazon | 16.3 | 18.7 | 6.8 / 89.4 | – |" in md  # a category with no entity: a dash
    failed = render_bench("scoring", benchutil.record("scoring", [], MACHINE, {"ratio_max": 2.0},
                                                      scoring_figures(2.5)))
    assert "| ratio (goal ≤ 2×) | **2.50×** (**not met**) |" in failed


def test_machine_note_names_the_load():
    note = machine_note(MACHINE)
    assert "commit `abc1234`" in note and "Test CPU (2 CPUs, 24 GiB, 1 thread, nice 5)" in note
    assert "load average 1.25/1.50/2.00 before, 1.75/1.50/2.00 after" in note
    assert "thread" not in machine_note({**MACHINE, "threads": None})


def test_adapters_rows_show_ratios_to_full_finetuning(benchutil):
    def result(file, overrides, trainable, step, cpu, mem):
        return {"adapter": {"file": f"conf/adapter/{file}.yaml", "overrides": overrides}, "trainable_params": trainable,
                "trainable_fraction": trainable / 618_000_000, "seconds_per_step": step, "cpu_seconds_per_step": cpu,
                "peak_memory_bytes": mem}
    figures = {"model": "parakeet_tdt_0.6b_v2",
               "batch": {"batch_size": 2, "seconds_per_utterance": 5.0},
               "protocol": {"warmup_steps": 1, "timed_steps": 3},
               "results": {"linear32": result("linear", ["adapter.dim=32"], 1_622_016, 4.77, 4.87, 4 * 2**30),
                           "none": result("none", [], 618_000_000, 8.0, 9.0, 10 * 2**30),
                           "linear64": {"config": "linear64", "error": "exit status -9 (killed: out of memory?)\n..."}},
               "verdicts": {"linear32": {"trainable_fraction": 0.0026, "step_time_ratio": 0.6625,
                                         "cpu_time_ratio": 0.54, "peak_memory_ratio": 0.4,
                                         "met": {"trainable": True, "step_time": False, "peak_memory": True}}}}
    goal = {"trainable_fraction_max": 0.01, "step_time_ratio_max": 0.6, "peak_memory_ratio_max": 0.6}
    md = render_bench("adapters", benchutil.record("adapters", [], MACHINE, goal, figures))
    assert ("| `adapter=linear adapter.dim=32` | 1,622,016 | 0.26% | 4.77 (**0.66×**) | 4.87 (0.54×) | "
            "4.00 GiB (**0.40×**) |") in md
    assert "| `adapter=none` (full fine-tuning) | 618,000,000 | 100.00% | 8.00 | 9.00 | 10.00 GiB |" in md
    assert "| `linear64` | failed: exit status -9 (killed: out of memory?) |" in md
    assert ("`linear32` meets ≤ 1% trainable, ≤ 0.6× peak memory, **misses** ≤ 0.6× step time (wall)." in md)
    figures["verdicts"]["linear32"]["met"]["step_time"] = True
    md = render_bench("adapters", benchutil.record("adapters", [], MACHINE, goal, figures))
    assert "`linear32` meets every goal." in md


def test_longform_rows_name_each_strategy():
    run = {"peak_rss_bytes": 1.5 * 2**30, "decode_seconds": 3.9, "rtfx": 154.8, "windows": 24}
    doc = {"benchmark": "longform", "command": "python bench/bench_longform.py --minutes 10", "machine": MACHINE,
           "minutes": 10.0, "sentences": 150, "model": "tiny_tdt",
           "long_audio": {"window": 30.0, "overlap": 5.0, "att_context_size": [128, 128]},
           "results": {"windows": run, "local_attention": {**run, "windows": 0},
                       "none": {"strategy": "none", "error": "exit status -9 (killed: out of memory): ..."}}}
    md = render_bench("longform", doc)
    assert "| `windows` (30 s, 5 s overlap; 24 windows) | 1.50 GiB | 3.9 s | 155 |" in md
    assert "| `local_attention` (±128 frames) | 1.50 GiB |" in md
    assert "| `none` | failed: exit status -9 (killed: out of memory): ... | | |" in md


def test_results_md_has_only_the_records_present(tmp_path, benchutil):
    assert "## Benchmarks" not in render_results(tmp_path)  # no record: no section
    benchutil.write_result(tmp_path / "bench_scoring.json",
                           benchutil.record("scoring", ["--repeat", "1"], MACHINE, {"ratio_max": 2.0},
                                            scoring_figures()))
    md = render_results(tmp_path)
    assert "## Benchmarks" in md and "### Entity scoring vs plain WER" in md
    assert "`python bench/bench_scoring.py --repeat 1` → `results/bench_scoring.json`" in md
    assert not any(f"### {heading}" in md for name, (heading, _) in BENCHMARKS.items() if name != "scoring")
    assert list(read_bench_records(tmp_path)) == ["scoring"]


def test_every_committed_record_is_rendered_with_its_command():
    records = sorted(p.name for p in (REPO / "results").glob("bench_*.json"))
    assert records == sorted(f"bench_{name}.json" for name in read_bench_records(REPO / "results"))
    for name, doc in read_bench_records(REPO / "results").items():
        assert doc["benchmark"] == name and doc["command"].startswith(f"python bench/bench_{name}.py")
        assert doc["machine"]["load_average_before"] and doc["machine"]["load_average_after"]
        assert "table_markdown" not in json.dumps(doc)  # figures only: the tables are drawn by bench_book


def _decode_result(modes, seconds, cpu, **extra):
    out = {"model": "tiny_tdt", "parameters": 1_088_134, "tokenizer_vocab_size": 128, "audio_seconds": 184.09}
    for mode, s, c in zip(modes, seconds, cpu):
        out.update({f"decode_{mode}_s": s, f"decode_{mode}_cpu_s": c, f"rtfx_{mode}": 184.09 / s})
    return {**out, **extra}


def test_lm_record_renders_the_build_and_the_fusion_ratio(benchutil):
    build = {"recipe_s": 6.04, "lmplz_s": 2.8, "tokenise_s": 0.41, "lines": 18943, "tokens": 1_491_731,
             "unknown_lines": 0, "ngram_counts": {"2": 4599, "1": 124, "3": 38447, "5": 322041, "4": 143868},
             "arpa_bytes": 13_424_812, "goal_met": True}
    tiny = _decode_result(("no_lm", "lm"), (1.36, 1.38), (0.90, 0.94), build=build, lm_load_s=10.55, ratio=1.013,
                          ratio_cpu=1.042, goal_met=True, tokens_emitted={"no_lm": 808, "lm": 775},
                          encoder_split={"rest_ratio_cpu": 2.5})
    figures = {"corpus": {"source": "earnings21", "root": "../shared/earnings21", "calls": 44, "sentences": 18943,
                          "words": 362349, "read_s": 2.93},
               "lm": {"order": 5, "alpha": 0.3, "build_command": "python recipes/build_lm.py ... order=5"},
               "protocol": {"strategy": "greedy_batch"},
               "results": {"tiny": tiny, "0.6b": {"error": "MemoryError: out of memory\nmore"}}}
    goal = {"ratio_max": 1.3, "build_seconds_max": 60.0}
    md = render_bench("lm", benchutil.record("lm", [], MACHINE, goal, figures))
    assert md.startswith("### Finance n-gram LM: build and fusion overhead\n\n`python bench/bench_lm.py`")
    assert "Earnings-21's reference text (44 calls, 18,943 sentences, 362,349 words)" in md
    assert "`ngram_lm_alpha` 0.3" in md and "reading and splitting the references (2.9 s)" in md
    # n-gram counts by order, whatever the JSON's order
    assert ("| tiny (128 pieces) | 1,491,731 | 124 / 4,599 / 38,447 / 143,868 / 322,041 | 13.4 MB | 2.8 s | 0.4 s | "
            "**6.0 s** (met) |") in md
    assert "Loading the LM into the decoder is set-up, timed apart: 10.6 s (tiny)." in md
    assert ("| `tiny_tdt` (1.1M) | 184 s | 1.36 s / 0.90 s | 1.38 s / 0.94 s | 135.4 / 133.4 | 808 / 775 | "
            "**1.01×** / 1.04× (met) |") in md
    assert "| 0.6b | failed: MemoryError: out of memory | | | | | |" in md
    assert "takes 2.50× (tiny) the CPU time with the LM" in md
    tiny.update(ratio=1.42, goal_met=False, encoder_split=None)
    build.update(recipe_s=75.0, goal_met=False)
    md = render_bench("lm", benchutil.record("lm", [], MACHINE, goal, figures))
    assert "**75.0 s** (**not met**)" in md and "**1.42×** / 1.04× (**not met**)" in md
    assert "CPU time with the LM" not in md  # no encoder split: no sentence about it


def test_confidence_record_renders_three_modes_and_the_ratio(benchutil):
    tiny = _decode_result(("plain", "timestamps", "confidence"), (1.30, 1.35, 1.43), (0.90, 0.93, 0.99),
                          ratio=1.1, ratio_cpu=1.1, ratio_confidence_to_timestamps=1.059, goal_met=True,
                          tokens_emitted={"plain": 808, "timestamps": 808, "confidence": 808}, words_with_confidence=62)
    figures = {"confidence_cfg": {"aggregation": "min", "exclude_blank": True,
                                  "method_cfg": {"name": "entropy", "entropy_type": "tsallis"}},
               "protocol": {"strategy": "greedy_batch"}, "results": {"tiny": tiny}}
    md = render_bench("confidence", benchutil.record("confidence", [], MACHINE, {"ratio_max": 1.2}, figures))
    assert md.startswith("### Word confidence overhead\n\n`python bench/bench_confidence.py`")
    assert "name entropy, entropy_type tsallis, token → word `min`" in md
    assert ("| `tiny_tdt` (1.1M) | 184 s | 1.30 s / 0.90 s | 1.35 s / 0.93 s | 1.43 s / 0.99 s | 1.06× | "
            "**1.10×** / 1.10× (met) |") in md
    assert ("(tokens emitted: 808 (tiny)); the words' confidence is aggregated from them afterwards "
            "(62 words (tiny))") in md
    tiny.update(ratio=1.25, goal_met=False)
    md = render_bench("confidence", benchutil.record("confidence", [], MACHINE, {"ratio_max": 1.2}, figures))
    assert "**1.25×** / 1.10× (**not met**)" in md
