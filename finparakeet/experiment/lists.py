"""The bias lists the experiment decodes with, and the inputs that carry them.

- **lexicon**: one list for every utterance, the lexicon's written forms (``finparakeet.biasing.build``), built
  without looking at any transcript.
- **per_call**: each utterance's own call's list, built from the call's metadata alone (``calls.jsonl``:
  company, ticker, people, peers; ``finparakeet.biasing.calls``), written into copies of the dev and test cuts and of
  the call-length recordings' manifest (``bias_list``: NeMo's per-stream biasing, Whisper's prompt).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from finparakeet.biasing.build import BiasListConfig, build_bias_list, write_bias_list
from finparakeet.biasing.calls import call_phrases, read_calls, write_call_lists
from finparakeet.synth.pipeline import CALL_RECORDINGS_MANIFEST, CALLS_FILE

__all__ = ["ExperimentInputs", "corpus_dir", "prepare_inputs"]


@dataclass(frozen=True)
class ExperimentInputs:
    """What every finance decode reads: plain and per-call copies of the finance dev and test cuts, the call-length
    recordings with their lists, and the lexicon list."""

    finance_dev: Path
    finance_test: Path
    per_call_dev: Path
    per_call_test: Path
    longform: Path | None  # the test calls joined into recordings, with their lists (None: the corpus has none)
    lexicon_file: Path
    summary: dict[str, Any]  # phrases, calls, where each list came from


def corpus_dir(run_dir: Path) -> Path:
    """The synthetic corpus a run's test split was validated from (its ``data/test/summary.json`` names it)."""
    summary = run_dir / "data" / "test" / "summary.json"
    if not summary.is_file():
        raise FileNotFoundError(f"{summary} does not exist: the run {run_dir} has not prepared its data")
    return Path(json.loads(summary.read_text(encoding="utf-8"))["manifest"]).resolve().parent


def prepare_inputs(finance_run: Path, out_dir: Path, lexicon: Mapping[str, Any]) -> ExperimentInputs:
    """Write the lexicon list and the per-call copies under ``out_dir``; ``FileNotFoundError`` naming the setting to
    change when the finance corpus was synthesised without calls."""
    corpus = corpus_dir(finance_run)
    calls_file = corpus / CALLS_FILE
    if not calls_file.is_file():
        raise FileNotFoundError(f"{calls_file} does not exist: the finance corpus {corpus} has no calls; synthesise "
                                "it with data.synth.calls.enabled=true (conf/experiment/finance_scratch.yaml does)")
    calls = read_calls(calls_file)
    bias = build_bias_list(BiasListConfig(**dict(lexicon)))
    lexicon_file = write_bias_list(bias, out_dir / "lexicon_list.txt")
    data = finance_run / "data"
    dev, test = data / "validation" / "clean_cuts.jsonl.gz", data / "test" / "clean_cuts.jsonl.gz"
    per_call_dev, per_call_test = out_dir / "finance_dev.per_call.jsonl.gz", out_dir / "finance_test.per_call.jsonl.gz"
    n_dev = write_call_lists(dev, calls, per_call_dev)
    n_test = write_call_lists(test, calls, per_call_test)
    longform = None
    if (corpus / CALL_RECORDINGS_MANIFEST).is_file():
        longform = out_dir / "test_calls.per_call.json"
        write_call_lists(corpus / CALL_RECORDINGS_MANIFEST, calls, longform)
    sizes = [len(call_phrases(c)) for c in calls.values()]
    summary = {"lexicon": {"phrases": len(bias.phrases), "file": str(lexicon_file),
                           "config": dict(lexicon)},
               "per_call": {"calls_file": str(calls_file), "calls": len(calls),
                            "phrases_per_call": round(sum(sizes) / len(sizes), 1) if sizes else 0,
                            "dev_utterances": n_dev, "test_utterances": n_test}}
    return ExperimentInputs(dev, test, per_call_dev, per_call_test, longform, lexicon_file, summary)
