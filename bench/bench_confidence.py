"""Benchmark: decoding with NeMo's word confidence (``confidence=true``) vs without, the same model and audio.

    python bench/bench_confidence.py [--models tiny,0.6b] [--repeat-tiny 5] [--repeat-large 3] [--seconds-tiny 180]
                                     [--seconds-large 60] [--threads 1] [--device cpu|cuda]
                                     [--output results/bench_confidence.json]

Issue 15's goal: confidence costs at most 1.2x the decode time. For each model — ``conf/model/tiny_tdt.yaml``
(~1M parameters) and ``conf/model/parakeet_tdt_0.6b_v2.yaml`` (Parakeet-TDT-0.6B-v2's architecture), both built with
RANDOM weights (no hub access), as ``bench_boosting.py`` — the same audio is decoded with NeMo's label-looping
``greedy_batch`` the way ``recipes/transcribe.py`` decodes it in three modes:

- ``plain``: no word times, no confidence (the recipe's default);
- ``timestamps``: word and segment times (``timestamps=true``), no confidence;
- ``confidence``: ``confidence=true`` — NeMo's ``confidence_cfg`` as ``conf/transcribe.yaml`` sets it (through
  ``finparakeet.inference.decoding.confidence_settings``: word and token confidence kept), which also turns on the
  word times (each word's confidence carries its start and end), and the transcripts built with a confidence on every
  word (``Transcriber(confidence=True)``).

The goal's ratio is ``confidence`` / ``plain``: what ``confidence=true`` costs a user of the default decode; the
``confidence`` / ``timestamps`` ratio shows the confidence's own share. Entity tagging and the review queue, written
after decoding, are not decoding and not timed. The three decoding configs come from
``finparakeet.inference.decoding.decoding_config`` and are applied ONCE each; the runs switch between the ready
decoders and decode through the transcribe pipeline's ``Transcriber`` (batches longest first; reading the WAVs is part
of each run, the same for every mode). One untimed warm-up per mode, then ``--repeat`` rounds of the three modes,
the order rotated each round; each figure is the median, in wall seconds and in process CPU seconds (the machine may
be shared: the load average is recorded). The goal is met when the ratio of the medians (wall) is at most 1.2x; the
verdict on CPU time, steadier when other jobs take the cores, is printed beside it.

With random weights the hypotheses are garbage: only the timing matters. NeMo computes the confidence of every step
of the decoding loop, so the number of tokens a random model emits (printed) moves its cost; the 0.6B
architecture's random weights emit far more tokens than speech holds.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

from benchutil import (GARBAGE_NOTE, REPO, add_model_args, alternating_runs, bench_models, build_decoders,
                       encoder_seconds, encoder_split, load_average, machine_after, medians, mode_fields, paired_ratio,
                       parse_model_args, random_model, record, run_fields, start_torch, timed, write_result)

MODELS = {"tiny": "tiny_tdt", "0.6b": "parakeet_tdt_0.6b_v2"}
MODES = ("plain", "timestamps", "confidence")
GOAL = 1.2
TRANSCRIBE_CONF = REPO / "finparakeet" / "conf" / "transcribe.yaml"


def recipe_confidence_cfg() -> dict[str, Any]:
    """``confidence_cfg`` as ``recipes/transcribe.py`` reads it from ``conf/transcribe.yaml`` (its defaults)."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(TRANSCRIBE_CONF).confidence_cfg, resolve=True)


# ---------------------------------------------------------------------------------------------------- one model
def bench_model(key: str, args, texts: list[str], audio_dir: Path, audio_s: float, n_utts: int,
                work: Path) -> dict[str, Any]:
    import torch

    from finparakeet.inference.decoding import confidence_settings, decoding_config
    from finparakeet.inference.inputs import collect_inputs
    from finparakeet.inference.transcriber import Transcriber

    name = MODELS[key]
    repeat = args.repeat_tiny if key == "tiny" else args.repeat_large
    device = torch.device(args.device)
    print(f"\n== {key} ({name}, random weights): {audio_s:.1f} s of audio in {n_utts} utterances, "
          f"{repeat} runs per mode", flush=True)
    model, built = random_model(name, texts, work, args.seed, device)

    conf = confidence_settings(recipe_confidence_cfg())
    overrides = {"strategy": "greedy_batch"}
    base = model.cfg.decoding
    configs = {"plain": decoding_config(base, overrides, boost=False, device_type=device.type),
               "timestamps": decoding_config(base, overrides, boost=False, timestamps=True, device_type=device.type),
               "confidence": decoding_config(base, overrides, boost=False, timestamps=True, device_type=device.type,
                                             confidence=conf)}
    decoders, setup = {}, {}
    for mode in MODES:
        decoders[mode], setup[mode] = build_decoders(model, configs[mode])
    if not decoders["confidence"].cfg.confidence_cfg.preserve_word_confidence:
        raise RuntimeError("the confidence decoding config keeps no word confidence")
    inputs = collect_inputs(audio_dir=audio_dir)
    if inputs.rejects:
        raise RuntimeError(f"audio rejected: {inputs.rejects[:3]}")
    # as the pipeline builds them: timestamps=true asks for word and segment times; confidence=true for the words
    # with their confidence (the decoding config computes the times either way)
    runners = {"plain": Transcriber(model, batch_size=args.batch_size, progress=False),
               "timestamps": Transcriber(model, batch_size=args.batch_size, timestamps=True, progress=False),
               "confidence": Transcriber(model, batch_size=args.batch_size, confidence=True, progress=False)}

    def decode(mode: str):
        decoders[mode].use(model)
        w, c, (transcripts, rejects, _) = timed(lambda: runners[mode].run(inputs.items), device)
        if rejects:
            raise RuntimeError(f"decode rejected items: {rejects[:3]}")
        if mode == "confidence" and not all(w_.get("confidence") is not None for t in transcripts
                                            for w_ in (t.words or [])):
            raise RuntimeError("a word came back without its confidence")
        return w, c, transcripts

    load_before = load_average()
    runs, out = alternating_runs(decode, list(MODES), repeat)
    load_after = load_average()
    decoders["plain"].use(model)
    enc = medians({"encoder": [encoder_seconds(model, inputs.items, args.batch_size, device)]})["encoder"]

    med = medians(runs)
    ratio = {m: med[m][0] / med["plain"][0] for m in MODES[1:]}
    ratio_cpu = {m: med[m][1] / med["plain"][1] for m in MODES[1:]}
    paired = paired_ratio(runs, "plain", "confidence")
    vs_times = med["confidence"][0] / med["timestamps"][0]
    vs_times_cpu = med["confidence"][1] / med["timestamps"][1]
    loop = encoder_split(enc, med, "plain", "confidence")
    texts_out = {m: [t.text for t in v] for m, v in out.items()}
    tokens = {m: sum(len(model.tokenizer.text_to_ids(t)) for t in v) for m, v in texts_out.items()}
    words = sum(len(t.words or []) for t in out["confidence"])
    same = all(texts_out[m] == texts_out["plain"] for m in MODES)
    goal_met, goal_met_cpu = ratio["confidence"] <= GOAL, ratio_cpu["confidence"] <= GOAL
    print(f"  {key}: " + "; ".join(f"{m} {med[m][0]:.2f} s wall / {med[m][1]:.2f} s CPU (RTFx "
                                   f"{audio_s / med[m][0]:.1f})" for m in MODES), flush=True)
    print(f"  confidence / plain {ratio['confidence']:.3f}x wall, {ratio_cpu['confidence']:.3f}x CPU (paired runs: "
          f"{paired:.3f}x) -> goal <= {GOAL}x {'met' if goal_met else 'NOT met'} (on CPU time: "
          f"{'met' if goal_met_cpu else 'NOT met'}); timestamps / plain {ratio['timestamps']:.3f}x; "
          f"confidence / timestamps {vs_times:.3f}x wall, {vs_times_cpu:.3f}x CPU", flush=True)
    share = (f"{loop['rest_ratio_cpu']:.2f}x" if loop["rest_ratio_cpu"] is not None
             else "too small next to the encoder to resolve here")
    print(f"  encoder alone {enc[1]:.2f} s CPU ({enc[0]:.2f} s wall); the rest (greedy loop, audio reading, "
          f"transcribe's overhead): {loop['rest_plain_cpu_s']:.2f} s -> {loop['rest_confidence_cpu_s']:.2f} s CPU "
          f"({share})", flush=True)
    print(f"  tokens emitted: {tokens}; {words} words with a confidence; the same transcripts in every mode: {same} "
          f"({GARBAGE_NOTE})", flush=True)
    result = {
        "model": name, "parameters": built["parameters"], "tokenizer_vocab_size": built["tokenizer_vocab_size"],
        "audio_seconds": round(audio_s, 2), "utterances": n_utts, "batch_size": args.batch_size, "repeat": repeat,
        "setup_s": {m: setup[m][0] for m in MODES},
        **mode_fields(med, audio_s, MODES),
        "ratio": ratio["confidence"], "ratio_cpu": ratio_cpu["confidence"], "ratio_paired_median": paired,
        "ratio_timestamps": ratio["timestamps"], "ratio_timestamps_cpu": ratio_cpu["timestamps"],
        "ratio_confidence_to_timestamps": vs_times, "ratio_confidence_to_timestamps_cpu": vs_times_cpu,
        "goal_met": goal_met, "goal_met_cpu": goal_met_cpu, "encoder_split": loop,
        **run_fields(runs, MODES),
        "tokens_emitted": tokens, "words_with_confidence": words, "same_transcripts": same,
        "load_average_before": load_before, "load_average_after": load_after,
    }
    del model, runners, decoders
    gc.collect()
    return result


# ------------------------------------------------------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(ap, MODELS, "confidence", repeat_what="timed rounds")
    return parse_model_args(ap, argv, MODELS)


def main(argv=None) -> int:
    args = parse_args(argv)
    load_before = start_torch(args)  # before anything imports torch
    if load_before is None:
        return 2
    t_start = time.perf_counter()
    results = bench_models(args, "confidence", lambda key, *rest: bench_model(key, args, *rest))
    machine = machine_after(args, load_before)
    figures = {
        "confidence_cfg": recipe_confidence_cfg(),
        "protocol": {"strategy": "greedy_batch", "modes": list(MODES), "warmup_runs_per_mode": 1,
                     "statistic": "median", "rotated": True, "random_weights": True, "seed": args.seed},
        "results": results,
        "total_wall_seconds": time.perf_counter() - t_start,
    }
    write_result(args.output, record("confidence", argv, machine, {"ratio_max": GOAL}, figures))
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
