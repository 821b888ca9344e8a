"""RESULTS.md's benchmarks: each ``results/bench_<name>.json``, written by ``bench/bench_<name>.py``, as Markdown.

A record holds figures and names only (``bench/benchutil.py``: the command, the machine and its load, the goal where
the issue set one, the measurements); the tables are drawn here, so RESULTS.md and the record cannot disagree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Mapping

from finparakeet.experiment.results import pct

__all__ = ["BENCHMARKS", "bench_json", "read_bench_records", "machine_note", "render_bench", "render_benchmarks"]

INTRO = """## Benchmarks

Each record `results/bench_<name>.json` is written by `bench/bench_<name>.py` (`make bench` runs them one after the
other). The machine is often shared with a training run, so every record carries the load average (1, 5 and 15
minutes) before and after its run: the ratios, not the absolute times, are what the goals are about."""


def bench_json(name: str) -> str:
    return f"bench_{name}.json"


def read_bench_records(results_dir: str | Path) -> dict[str, dict[str, Any]]:
    """The benchmark records present in ``results_dir``, by name, in RESULTS.md's order."""
    paths = {name: Path(results_dir) / bench_json(name) for name in BENCHMARKS}
    return {name: json.loads(p.read_text(encoding="utf-8")) for name, p in paths.items() if p.is_file()}


# ---------------------------------------------------------------------------------------------------------- formats
def _s(x: float, fmt: str = ".2f") -> str:
    return f"{x:{fmt}} s"


def _x(ratio: float) -> str:
    return f"{ratio:.2f}×"


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def _size(n: float) -> str:
    return f"{n / 1e3:.0f} kB" if n < 1e6 else f"{n / 1e6:.1f} MB"


def _met(met: bool) -> str:
    return "met" if met else "**not met**"


def _load(load: list[float] | None) -> str:
    return "/".join(f"{v:.2f}" for v in load) if load else "n/a"


def _failed(error: str) -> str:
    return "failed: " + error.splitlines()[0].replace("|", "/")


def machine_note(m: Mapping[str, Any]) -> str:
    """One line: what the figures were measured on, and how loaded it was."""
    threads = "" if m.get("threads") is None else f", {m['threads']} thread{'s' if m['threads'] != 1 else ''}"
    device = f", {m['gpu']}" if m.get("gpu") else ""
    libs = ", ".join(f"{lib} {m[key]}" for lib, key in (("torch", "torch"), ("NeMo", "nemo_toolkit"),
                                                        ("Python", "python")) if m.get(key))
    commit = f" at commit `{m['git_commit']}`" if m.get("git_commit") else ""
    return (f"Measured{commit} on {m['cpu']} ({m['cpu_count']} CPUs, {m['mem_total_bytes'] / 2**30:.0f} GiB"
            f"{threads}{device}, nice {m.get('nice', 0)}), {libs}; load average {_load(m.get('load_average_before'))} "
            f"before, {_load(m.get('load_average_after'))} after.")


# ------------------------------------------------------------------------------------------------------ benchmarks
def _synth(d: Mapping[str, Any]) -> list[str]:
    return [f"{d['utterances']} {d['corpus']} utterances synthesised into a temporary folder, the whole job timed "
            "(planning, text to speech with the voice families and sox, augmentation, writing cuts and manifests):", "",
            "| utterances | audio | augmented | workers | wall | audio-seconds per wall-second |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {d['utterances']} | {_s(d['audio_seconds'], ',.0f')} | {d['augmented_share']:.0%} | {d['num_workers']} "
            f"| {_s(d['wall_seconds'])} | **{d['audio_seconds_per_wall_second']:.0f}** |"]


def _scoring(d: Mapping[str, Any], goal: Mapping[str, Any]) -> list[str]:
    cats = next(iter(d["per_system"].values()))["categories"]
    b = d["breakdown_s"]
    out = [f"Every system × call of Earnings-21 ({len(d['systems'])} × {d['calls']} = {d['pairs']} pairs, "
           f"{d['words']:,} words), the same in-memory texts for both sides, alternating runs, the normaliser's caches "
           f"emptied before each entity run; best of {d['repeat']}.", "",
           "| | wall | CPU |", "| --- | ---: | ---: |",
           f"| `jiwer.wer` per pair | {_s(d['jiwer_wer_s'])} | {_s(d['jiwer_wer_cpu_s'])} |",
           f"| full entity report (normalise, tag spans, align, per-category report) | {_s(d['entity_report_s'])} | "
           f"{_s(d['entity_report_cpu_s'])} |",
           f"| ratio (goal ≤ {goal['ratio_max']:g}×) | **{_x(d['ratio'])}** ({_met(d['goal_met'])}) | "
           f"{_x(d['ratio_cpu'])} |", "",
           f"Not in the ratio: the same report with a plain normaliser (case and punctuation only) takes "
           f"{_s(d['entity_report_plain_normalizer_s'])} ({_x(d['ratio_plain_normalizer'])} jiwer); writing JSON + "
           f"Markdown + HTML for the {len(d['per_system'])} systems {_s(d['write_reports_s'])}. The entity report's "
           f"time, one pass each: normalising the references once {_s(b['normalise_references_once'])}, the "
           f"hypotheses {_s(b['normalise_hypotheses'])}, aligning {_s(b['align'])}, entities, counts and report "
           f"{_s(b['entities_counts_report'])}.", "",
           "Per system (entity types from the NER sidecar; eWER = entity WER %, acc = entity accuracy %):", "",
           "| system | WER | entity WER | " + " | ".join(f"{c} eWER / acc" for c in cats) + " |",
           "| --- |" + " ---: |" * (2 + len(cats))]
    for system, r in d["per_system"].items():
        cells = [f"{pct(g['entity_wer'])} / {pct(g['entity_accuracy'])}" if g else "–"
                 for g in (r["categories"].get(c) for c in cats)]
        out.append(f"| {system} | {pct(r['wer'])} | {pct(r['entity_wer'])} | " + " | ".join(cells) + " |")
    return out


def _evaluate(d: Mapping[str, Any], goal: Mapping[str, Any]) -> list[str]:
    size = d["file_bytes"]
    details = f" (+ {_size(size['details'])} `entity_report.details.jsonl.gz`)" if "details" in size else ""
    return [f"`recipes/evaluate.py`'s whole job on one Earnings-21 system ({d['system']}: {d['calls']} calls, "
            f"{d['reference_words']:,} reference words) — read the `.nlp` files and NER sidecars, score, write the "
            f"JSON, Markdown and HTML reports — against plain `jiwer.wer` over the same texts; best of {d['repeat']}.",
            "", f"| | evaluate (read + score + 3 reports) | `jiwer.wer` | ratio (goal ≤ {goal['ratio_max']:g}×) | "
            "`entity_report.json` |", "| --- | ---: | ---: | ---: | --- |",
            f"| wall | {_s(d['evaluate_s'])} | {_s(d['jiwer_wer_s'])} | **{_x(d['ratio'])}** "
            f"({_met(d['goal_ratio_met'])}) | {_size(size['json'])}{details} |",
            f"| CPU | {_s(d['evaluate_cpu_s'])} | {_s(d['jiwer_wer_cpu_s'])} | {_x(d['ratio_cpu'])} | |", "",
            f"`entity_report.json` under {goal['json_bytes_below'] / 1e6:g} MB: {_met(d['goal_json_met'])}. "
            f"The recipe as a command (Python, Hydra and imports included, not in the ratio): {_s(d['recipe_command_s'])} wall. "
            f"The system's WER {pct(d['wer'])}%, entity WER {pct(d['entity_wer'])}%, entity accuracy "
            f"{pct(d['entity_accuracy'])}%."]


def _adapter_label(r: Mapping[str, Any]) -> str:
    name = Path(r["adapter"]["file"]).stem
    label = "`" + " ".join([f"adapter={name}", *r["adapter"]["overrides"]]) + "`"
    return label + (" (full fine-tuning)" if name == "none" else "")


def _ratio_of(ratio: float | None, goal: bool = False) -> str:
    """`` (0.54×)`` after a figure, in bold where a goal is about it; nothing for the baseline."""
    if ratio is None:
        return ""
    return f" (**{_x(ratio)}**)" if goal else f" ({_x(ratio)})"


def _adapters(d: Mapping[str, Any], goal: Mapping[str, Any]) -> list[str]:
    b, p = d["batch"], d["protocol"]
    out = [f"`conf/model/{d['model']}.yaml` with random weights, a batch of {b['batch_size']} × "
           f"{b['seconds_per_utterance']:g} s, forward + TDT loss + backward + AdamW step, median of "
           f"{p['timed_steps']} steps after {p['warmup_steps']} warm-up, each configuration in its own process "
           "(memory: its peak RSS, NeMo's import included). Ratios are to full fine-tuning.", "",
           "| configuration | trainable parameters | share | wall s / step | CPU s / step | peak memory |",
           "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in d["results"].items():
        if "error" in r:
            out.append(f"| `{name}` | {_failed(r['error'])} | | | | |")
            continue
        v = d["verdicts"].get(name, {})
        out.append(f"| {_adapter_label(r)} | {r['trainable_params']:,} | {100 * r['trainable_fraction']:.2f}% | "
                   f"{r['seconds_per_step']:.2f}{_ratio_of(v.get('step_time_ratio'), True)} | "
                   f"{r['cpu_seconds_per_step']:.2f}{_ratio_of(v.get('cpu_time_ratio'))} | "
                   f"{_gib(r['peak_memory_bytes'])}{_ratio_of(v.get('peak_memory_ratio'), True)} |")
    goals = {"trainable": f"≤ {goal['trainable_fraction_max']:.0%} trainable",
             "step_time": f"≤ {goal['step_time_ratio_max']:g}× step time (wall)",
             "peak_memory": f"≤ {goal['peak_memory_ratio_max']:g}× peak memory"}
    return out + ["", f"Goals: {', '.join(goals.values())} of full fine-tuning. "
                  + "; ".join(_verdict(name, v["met"], goals) for name, v in d["verdicts"].items()) + "."]


def _verdict(name: str, met: Mapping[str, bool], goals: Mapping[str, str]) -> str:
    """`linear32` meets every goal / meets ..., **misses** ... (a goal with no verdict, e.g. no baseline, is left
    out)."""
    if len(met) == len(goals) and all(met.values()):
        return f"`{name}` meets every goal"
    yes, no = [goals[k] for k, m in met.items() if m], [goals[k] for k, m in met.items() if not m]
    return f"`{name}` " + ", ".join(([f"meets {', '.join(yes)}"] if yes else []) +
                                    ([f"**misses** {', '.join(no)}"] if no else []))


def _boosting(d: Mapping[str, Any], goal: Mapping[str, Any]) -> list[str]:
    bias = d["bias_lists"]
    ok = {k: r for k, r in d["results"].items() if "error" not in r}
    out = [f"`{d['protocol']['strategy']}` decoding with and without NeMo's boosting tree built from Earnings-21's "
           f"{' + '.join(f'`{f}`' for f in bias['files'])} ({bias['distinct_phrases']:,} distinct phrases, re-cased), "
           "random weights (the hypotheses are garbage: only the timing matters), one warm-up per mode, then "
           "alternating runs; medians. The tree is built once, apart: "
           + ", ".join(f"{_s(r['tree_build_s'])} ({k})" for k, r in ok.items()) + ".", "",
           f"| model | audio | no boosting (wall / CPU) | boosted (wall / CPU) | RTFx no boost / boost | "
           f"ratio wall / CPU (goal ≤ {goal['ratio_max']:g}×) |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    return out + _result_rows(d, 6, lambda r: (
        f"| {_model_label(r)} | {_s(r['audio_seconds'], '.0f')} | {_wall_cpu(r, 'no_boost')} | "
        f"{_wall_cpu(r, 'boost')} | {r['rtfx_no_boost']:.1f} / {r['rtfx_boost']:.1f} | "
        f"**{_x(r['ratio'])}** / {_x(r['ratio_cpu'])} ({_met(r['goal_met'])}) |"))


def _model_label(r: Mapping[str, Any]) -> str:
    return f"`{r['model']}` ({r['parameters'] / 1e6:.1f}M)"


def _wall_cpu(r: Mapping[str, Any], mode: str) -> str:
    return f"{_s(r[f'decode_{mode}_s'])} / {_s(r[f'decode_{mode}_cpu_s'])}"


def _result_rows(d: Mapping[str, Any], columns: int, row) -> list[str]:
    """A table row per model of ``d["results"]``: ``row(result)``, or for a model that failed its key and the error
    in a row of ``columns`` cells."""
    return [f"| {key} | {_failed(r['error'])} |" + " |" * (columns - 2) if "error" in r else row(r)
            for key, r in d["results"].items()]


def _lm(d: Mapping[str, Any], goal: Mapping[str, Any]) -> list[str]:
    c, lm = d["corpus"], d["lm"]
    ok = {k: r for k, r in d["results"].items() if "error" not in r}
    out = [f"A {lm['order']}-gram token LM of Earnings-21's reference text ({c['calls']} calls, {c['sentences']:,} "
           f"sentences, {c['words']:,} words) built with each model's tokenizer by `recipes/build_lm.py`, then "
           f"`{d['protocol']['strategy']}` decoding with and without its shallow fusion (NeMo's NGPU-LM, "
           f"`ngram_lm_alpha` {lm['alpha']:g}), random weights (the hypotheses are garbage: only the timing matters), "
           "one warm-up per mode, then alternating runs; medians.", "",
           f"The build, `{lm['build_command']}`, is timed whole in its own process (Python, Hydra and imports "
           "included). Parts of it: lmplz's own time from the LM's record, and, timed apart, tokenising the sentences "
           f"and reading and splitting the references ({_s(c['read_s'], '.1f')}).", "",
           f"| tokenizer | tokens | n-grams (orders 1–{lm['order']}) | ARPA file | lmplz | tokenising | "
           f"build, whole (goal ≤ {goal['build_seconds_max']:g} s) |", "| --- |" + " ---: |" * 6]
    for key, r in ok.items():
        b = r["build"]
        grams = " / ".join(f"{n:,}" for _, n in sorted(b["ngram_counts"].items(), key=lambda kv: int(kv[0])))
        out.append(f"| {key} ({r['tokenizer_vocab_size']:,} pieces) | {b['tokens']:,} | {grams} | "
                   f"{_size(b['arpa_bytes'])} | {_s(b['lmplz_s'], '.1f')} | {_s(b['tokenise_s'], '.1f')} | "
                   f"**{_s(b['recipe_s'], '.1f')}** ({_met(b['goal_met'])}) |")
    out += ["", "Loading the LM into the decoder is set-up, timed apart: "
            + ", ".join(f"{_s(r['lm_load_s'], '.1f')} ({k})" for k, r in ok.items()) + ".", "",
            f"| model | audio | no LM (wall / CPU) | LM (wall / CPU) | RTFx no LM / LM | tokens emitted no LM / LM | "
            f"ratio wall / CPU (goal ≤ {goal['ratio_max']:g}×) |", "| --- |" + " ---: |" * 6]
    out += _result_rows(d, 7, lambda r: (
        f"| {_model_label(r)} | {_s(r['audio_seconds'], '.0f')} | {_wall_cpu(r, 'no_lm')} | "
        f"{_wall_cpu(r, 'lm')} | {r['rtfx_no_lm']:.1f} / {r['rtfx_lm']:.1f} | "
        f"{r['tokens_emitted']['no_lm']:,} / {r['tokens_emitted']['lm']:,} | "
        f"**{_x(r['ratio'])}** / {_x(r['ratio_cpu'])} ({_met(r['goal_met'])}) |"))
    rest = [f"{_x(r['encoder_split']['rest_ratio_cpu'])} ({k})" for k, r in ok.items()
            if (r.get("encoder_split") or {}).get("rest_ratio_cpu") is not None]
    if rest:
        out += ["", "The encoder is the same in both modes; the rest of the decode — the decoding loop (where the LM "
                "is queried at every step: each frame and each emitted token), audio reading and the pipeline — takes "
                + ", ".join(rest) + " the CPU time with the LM."]
    return out


def _confidence(d: Mapping[str, Any], goal: Mapping[str, Any]) -> list[str]:
    cc = d["confidence_cfg"]
    method = cc.get("method_cfg") or {}
    how = ", ".join(f"{k} {v}" for k, v in method.items())
    out = [f"`{d['protocol']['strategy']}` decoding through the transcribe pipeline in three modes: plain (the "
           "recipe's default), with word times (`timestamps=true`), and with `confidence=true` (NeMo's word "
           f"confidence, `confidence_cfg` of `conf/transcribe.yaml`: {how}, token → word `{cc.get('aggregation')}`; "
           "it needs the word times too). Random weights (the hypotheses are garbage: only the timing matters), one "
           "warm-up per mode, then rounds of the three, the order rotated; medians.", "",
           "| model | audio | plain (wall / CPU) | word times (wall / CPU) | confidence (wall / CPU) | "
           f"confidence / word times | confidence / plain, wall / CPU (goal ≤ {goal['ratio_max']:g}×) |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    out += _result_rows(d, 7, lambda r: (
        f"| {_model_label(r)} | {_s(r['audio_seconds'], '.0f')} | {_wall_cpu(r, 'plain')} | "
        f"{_wall_cpu(r, 'timestamps')} | {_wall_cpu(r, 'confidence')} | "
        f"{_x(r['ratio_confidence_to_timestamps'])} | **{_x(r['ratio'])}** / {_x(r['ratio_cpu'])} "
        f"({_met(r['goal_met'])}) |"))
    ok = {k: r for k, r in d["results"].items() if "error" not in r}
    if ok and all("tokens_emitted" in r and "words_with_confidence" in r for r in ok.values()):
        out += ["", "NeMo computes a confidence at every step of the decoding loop (tokens emitted: "
                + ", ".join(f"{r['tokens_emitted']['confidence']:,} ({k})" for k, r in ok.items())
                + "); the words' confidence is aggregated from them afterwards ("
                + ", ".join(f"{r['words_with_confidence']:,} words ({k})" for k, r in ok.items()) + ")."]
    return out


def _strategy_label(strategy: str, r: Mapping[str, Any], la: Mapping[str, Any]) -> str:
    if strategy == "windows":
        return f"`windows` ({la['window']:g} s, {la['overlap']:g} s overlap; {r['windows']} windows)"
    if strategy == "local_attention":
        left, right = la["att_context_size"]
        return f"`local_attention` (±{left} frames)" if left == right else f"`local_attention` ({left}/{right} frames)"
    return f"`{strategy}` (whole, full attention)" if strategy == "none" else f"`{strategy}`"


def _longform(d: Mapping[str, Any]) -> list[str]:
    out = [f"One {d['minutes']:g}-minute recording of synthetic finance speech ({d['sentences']} sentences) decoded by "
           "`recipes/transcribe.py`'s pipeline with each `long_audio.strategy`, each in its own process "
           f"(`{d['model']}`, random weights; peak RSS includes NeMo's import).", "",
           "| strategy | peak memory | decode time | RTFx |", "| --- | ---: | ---: | ---: |"]
    for strategy, r in d["results"].items():
        if "error" in r:
            out.append(f"| `{strategy}` | {_failed(r['error'])} | | |")
            continue
        out.append(f"| {_strategy_label(strategy, r, d['long_audio'])} | {_gib(r['peak_rss_bytes'])} | "
                   f"{_s(r['decode_seconds'], '.1f')} | {r['rtfx']:.0f} |")
    return out


# name -> (heading, body); a body takes the record (and its goal, where the issue set one)
BENCHMARKS: dict[str, tuple[str, Callable[..., list[str]]]] = {
    "synth": ("Synthetic speech", _synth),
    "scoring": ("Entity scoring vs plain WER", _scoring),
    "evaluate": ("Evaluate end to end", _evaluate),
    "adapters": ("Adapters vs full fine-tuning, Parakeet-TDT-0.6B-v2's architecture", _adapters),
    "boosting": ("Phrase boosting overhead", _boosting),
    "lm": ("Finance n-gram LM: build and fusion overhead", _lm),
    "confidence": ("Word confidence overhead", _confidence),
    "longform": ("Long recordings", _longform),
}


def render_bench(name: str, doc: Mapping[str, Any]) -> str:
    """One benchmark's section: heading, command, machine and load, its table(s)."""
    heading, body = BENCHMARKS[name]
    lines = body(doc, doc["goal"]) if "goal" in doc else body(doc)
    return "\n".join([f"### {heading}", "", f"`{doc['command']}` → `results/{bench_json(name)}`", "",
                      machine_note(doc["machine"]), "", *lines]) + "\n"


def render_benchmarks(records: Mapping[str, Mapping[str, Any]]) -> str:
    """The Benchmarks section for ``records`` (name -> record); empty when there is none."""
    if not records:
        return ""
    return "\n".join([INTRO, "", *(render_bench(name, doc) for name, doc in records.items())])
