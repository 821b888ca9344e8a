"""Benchmark: greedy_batch decoding with no boosting vs a boosting tree of Earnings-21's oracle + distractor lists.

    python bench/bench_boosting.py [--models tiny,0.6b] [--repeat-tiny 5] [--repeat-large 3] [--seconds-tiny 180]
                                   [--seconds-large 60] [--threads 1] [--device cpu|cuda]
                                   [--output results/bench_boosting.json]

For each model — ``conf/model/tiny_tdt.yaml`` (~1M parameters) and ``conf/model/parakeet_tdt_0.6b_v2.yaml``
(Parakeet-TDT-0.6B-v2's architecture), both built with RANDOM weights (no hub access) — the same audio is decoded
with NeMo's label-looping ``greedy_batch``:

(a) without boosting, (b) with NeMo's boosting tree (GPU-PB, PyTorch on CPU: ``use_triton: false``) built from
    Earnings-21's ``bias_lists/oracle_list.txt`` + ``distractor_list.txt``, read as they are and re-cased for the
    cased model (``finparakeet.biasing.read_key_phrases(recase="auto")``); duplicates are dropped (every oracle
    phrase is also a distractor line), phrases the tokenizer cannot spell are dropped (none, normally: the tokenizer
    is trained on finance text plus the phrases).

Both decoding configs come from ``finparakeet.inference.decoding`` (``decoding_config`` + ``apply_decoding``: the
tree is built by ``change_decoding_strategy``) and are applied ONCE each; the tree build is set-up, timed and
reported apart, not part of decoding. The runs then switch between the two ready decoders (``model.decoding``) and
decode through the transcribe pipeline's ``Transcriber`` (``model.transcribe``, batches longest first; reading the
WAVs is part of each run, the same for both modes). One untimed warm-up decode per mode, then ``--repeat`` runs of
each mode, alternating which goes first; each figure is the median, in wall seconds and in process CPU seconds
(the machine may be shared: the load average is recorded). RTFx = audio seconds / decode wall seconds. The goal is
met when boosted decoding takes at most 1.15x the time of plain decoding (ratio of the medians, wall time; the
verdict on CPU time, steadier when other jobs take the cores, is printed beside it).

Also reported: the encoder's share (preprocessor + encoder forward on the same batches, timed apart, in CPU seconds),
so the ratio of the rest — mostly the greedy loop the tree works in — shows through the encoder time, and the
tokens emitted per mode.

With random weights the hypotheses are garbage (so is the boosted output): only the timing matters. The number of
tokens a random model emits differs from a trained one's, and boosting can change it; both counts are printed.
The audio is espeak-ng speech of synthetic finance sentences (``finparakeet.synth``); the 0.6B model takes the first
``--seconds-large`` seconds of it (slow on CPU, ~6 GB of memory).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

from benchutil import (GARBAGE_NOTE, add_model_args, alternating_runs, bench_models, build_decoders, encoder_seconds,
                       encoder_split, fusion_models, load_average, machine_after, medians, mode_fields,
                       parse_model_args, random_model, ratio_fields, record, run_fields, start_torch, timed,
                       write_result)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BIAS_DIR = REPO.parent / "shared" / "earnings21" / "bias_lists"
BIAS_FILES = ("oracle_list.txt", "distractor_list.txt")
MODELS = {"tiny": "tiny_tdt", "0.6b": "parakeet_tdt_0.6b_v2"}
GOAL = 1.15


# ------------------------------------------------------------------------------------------------------------- set-up
def read_phrases(bias_dir: Path) -> tuple[list[str], int]:
    """Oracle + distractor phrases, re-cased for a cased model, duplicates dropped; and the number of lines read."""
    from finparakeet.biasing import clean_phrases, read_key_phrases, recase_phrases

    lines, phrases = 0, []
    for name in BIAS_FILES:
        as_written = read_key_phrases(bias_dir / name)
        lines += len(as_written)
        phrases += recase_phrases(as_written, "auto")
    return clean_phrases(phrases), lines


# ---------------------------------------------------------------------------------------------------- one model
def bench_model(key: str, args, phrases: list[str], texts: list[str], audio_dir: Path, audio_s: float,
                n_utts: int, work: Path) -> dict[str, Any]:
    import torch

    from finparakeet.inference.decoding import BoostingParams, decoding_config, usable_phrases
    from finparakeet.inference.inputs import collect_inputs
    from finparakeet.inference.transcriber import Transcriber

    name = MODELS[key]
    repeat = args.repeat_tiny if key == "tiny" else args.repeat_large
    device = torch.device(args.device)
    print(f"\n== {key} ({name}, random weights): {audio_s:.1f} s of audio in {n_utts} utterances, "
          f"{repeat} runs per mode", flush=True)

    # Tokenizer of the model's vocabulary shape, trained on finance text + the bias phrases (so they are spellable).
    model, built = random_model(name, texts + phrases * 2, work, args.seed, device)
    n_params, vocab = built["parameters"], built["tokenizer_vocab_size"]

    usable = usable_phrases(model.tokenizer, phrases)
    params = BoostingParams(alpha=args.alpha, use_triton=False if device.type == "cpu" else None)
    overrides = {"strategy": "greedy_batch"}

    # (a) and (b) decoders, each built once: (b)'s set-up is the boosting tree's build.
    plain, setup_plain = build_decoders(
        model, decoding_config(model.cfg.decoding, overrides, boost=False, device_type=device.type))
    boosted, setup_boost = build_decoders(
        model, decoding_config(model.cfg.decoding, overrides, usable, params, device_type=device.type))
    fusion = {"no_boost": len(fusion_models(plain.decoding)), "boost": len(fusion_models(boosted.decoding))}
    tree_cfg = boosted.cfg.greedy.get("boosting_tree")
    if tree_cfg is None or not tree_cfg.get("key_phrases_list"):
        raise RuntimeError("the boosted decoding config carries no boosting tree")
    print(f"phrases: {len(usable)} in the tree ({len(phrases) - len(usable)} unspellable dropped); set-up "
          f"{setup_plain[0]:.2f} s without boosting, {setup_boost[0]:.2f} s with the tree "
          f"(tree build ~{setup_boost[0] - setup_plain[0]:.2f} s); fusion models attached: {fusion}", flush=True)

    inputs = collect_inputs(audio_dir=audio_dir)
    if inputs.rejects:
        raise RuntimeError(f"audio rejected: {inputs.rejects[:3]}")
    runner = Transcriber(model, batch_size=args.batch_size, progress=False)
    modes = {"no_boost": plain, "boost": boosted}

    def decode(mode: str):
        modes[mode].use(model)
        w, c, (transcripts, rejects, _) = timed(lambda: runner.run(inputs.items), device)
        if rejects:
            raise RuntimeError(f"decode rejected items: {rejects[:3]}")
        return w, c, [t.text for t in transcripts]

    load_before = load_average()
    runs, texts_out = alternating_runs(decode, list(modes), repeat)
    load_after = load_average()

    enc = None
    if not args.no_encoder_split:
        plain.use(model)
        timings = [encoder_seconds(model, inputs.items, args.batch_size, device) for _ in range(args.encoder_repeat)]
        enc = medians({"encoder": timings})["encoder"]

    med = medians(runs)
    versus = ratio_fields(runs, med, "no_boost", "boost", GOAL)
    ratio, ratio_cpu, paired = versus["ratio"], versus["ratio_cpu"], versus["ratio_paired_median"]
    loop = encoder_split(enc, med, "no_boost", "boost") if enc is not None else None
    tokens = {m: sum(len(model.tokenizer.text_to_ids(t)) for t in v) for m, v in texts_out.items()}
    changed = sum(a != b for a, b in zip(texts_out["no_boost"], texts_out["boost"]))
    verdict = (f"{'met' if versus['goal_met'] else 'NOT met'} (on CPU time: "
               f"{'met' if versus['goal_met_cpu'] else 'NOT met'})")
    print(f"  {key}: no boost {med['no_boost'][0]:.2f} s wall / {med['no_boost'][1]:.2f} s CPU (RTFx "
          f"{audio_s / med['no_boost'][0]:.1f}); boost {med['boost'][0]:.2f} s / {med['boost'][1]:.2f} s CPU (RTFx "
          f"{audio_s / med['boost'][0]:.1f}); ratio {ratio:.3f}x wall, {ratio_cpu:.3f}x CPU (paired runs: "
          f"{paired:.3f}x) -> goal <= {GOAL}x {verdict}", flush=True)
    if loop:
        share = (f"{loop['rest_ratio_cpu']:.2f}x" if loop["rest_ratio_cpu"] is not None
                 else "too small next to the encoder to resolve here")
        print(f"  encoder alone {enc[1]:.2f} s CPU ({enc[0]:.2f} s wall); the rest (greedy loop, audio reading, "
              f"transcribe's overhead): {loop['rest_no_boost_cpu_s']:.2f} s -> {loop['rest_boost_cpu_s']:.2f} s CPU "
              f"({share})", flush=True)
    print(f"  tokens emitted: {tokens['no_boost']} without, {tokens['boost']} with boosting; {changed}/{len(inputs.items)} "
          f"transcripts differ ({GARBAGE_NOTE})", flush=True)
    result = {
        "model": name, "parameters": n_params, "tokenizer_vocab_size": vocab,
        "audio_seconds": round(audio_s, 2), "utterances": n_utts, "batch_size": args.batch_size, "repeat": repeat,
        "phrases_in_tree": len(usable), "phrases_unspellable_dropped": len(phrases) - len(usable),
        "boosting": {"alpha": params.alpha, "context_score": params.context_score,
                     "depth_scaling": params.depth_scaling, "use_triton": tree_cfg.get("use_triton")},
        "setup_no_boost_s": setup_plain[0], "setup_boost_s": setup_boost[0], "setup_boost_cpu_s": setup_boost[1],
        "tree_build_s": setup_boost[0] - setup_plain[0], "fusion_models_attached": fusion,
        **mode_fields(med, audio_s, list(modes)), **versus, "encoder_split": loop, **run_fields(runs, list(modes)),
        "tokens_emitted": tokens, "transcripts_changed_by_boosting": changed,
        "load_average_before": load_before, "load_average_after": load_after,
    }
    del model, runner, plain, boosted, modes
    gc.collect()
    return result


# ------------------------------------------------------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(ap, MODELS, "boosting")
    ap.add_argument("--bias-dir", type=Path, default=DEFAULT_BIAS_DIR,
                    help="Earnings-21's bias_lists/ folder (oracle_list.txt, distractor_list.txt)")
    ap.add_argument("--alpha", type=float, default=0.5, help="boosting_tree_alpha (the recipe's default, 0.5)")
    ap.add_argument("--no-encoder-split", action="store_true", help="skip timing the encoder alone")
    ap.add_argument("--encoder-repeat", type=int, default=1, help="encoder-only timings (median; default 1)")
    return parse_model_args(ap, argv, MODELS, positive=("encoder_repeat",))


def main(argv=None) -> int:
    args = parse_args(argv)
    missing = [f for f in BIAS_FILES if not (args.bias_dir / f).is_file()]
    if missing:
        print(f"bench_boosting: skipped, {', '.join(missing)} not found under {args.bias_dir} "
              "(Earnings-21's bias_lists/; get it from github.com/revdotcom/speech-datasets)")
        return 0

    load_before = start_torch(args)  # before anything imports torch
    if load_before is None:
        return 2
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    phrases, lines = read_phrases(args.bias_dir)
    t_read = time.perf_counter() - t0
    print(f"bias lists: {lines} lines in {' + '.join(BIAS_FILES)} -> {len(phrases)} distinct phrases after "
          f"re-casing (read in {t_read:.2f} s)", flush=True)

    results = bench_models(args, "boosting", lambda key, *rest: bench_model(key, args, phrases, *rest))
    machine = machine_after(args, load_before)
    figures = {
        "bias_lists": {"files": list(BIAS_FILES), "lines": lines, "distinct_phrases": len(phrases), "recase": "auto",
                       "read_s": t_read},
        "protocol": {"strategy": "greedy_batch", "warmup_runs_per_mode": 1, "statistic": "median",
                     "alternating": True, "random_weights": True, "seed": args.seed},
        "results": results,
        "total_wall_seconds": time.perf_counter() - t_start,
    }
    write_result(args.output, record("boosting", argv, machine, {"ratio_max": GOAL}, figures))
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
