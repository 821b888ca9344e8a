"""Benchmark: a finance n-gram LM built from Earnings-21's 44 calls, and decoding with vs without its shallow fusion.

    python bench/bench_lm.py [--models tiny,0.6b] [--earnings21 ../shared/earnings21] [--order 5] [--alpha 0.3]
                             [--strategy greedy_batch|malsd_batch] [--repeat-tiny 5] [--repeat-large 3]
                             [--seconds-tiny 180] [--seconds-large 60] [--threads 1] [--device cpu|cuda]
                             [--output results/bench_lm.json]

Issue 14's goals: decoding with LM fusion takes at most 1.3x the time of decoding without it (both measured in this
one run), and building the LM from Earnings-21's 44 calls takes under a minute. Skipped, saying so, when Earnings-21
is not under ``--earnings21`` (``../shared/earnings21`` beside the checkout).

For each model — ``conf/model/tiny_tdt.yaml`` (~1M parameters) and ``conf/model/parakeet_tdt_0.6b_v2.yaml``
(Parakeet-TDT-0.6B-v2's architecture), both built with RANDOM weights (no hub access), as ``bench_boosting.py``:

1. **Build.** A tokenizer of the model's vocabulary shape (128 / 1,024 pieces) is trained on the synthetic finance
   text plus Earnings-21's reference sentences, so that every sentence can be spelled (Parakeet's own tokenizer
   spells nearly all of them). Then the recipe, as a user runs it, in its own process and timed whole (Python, Hydra
   and imports included): ``python recipes/build_lm.py tokenizer_dir=<it> earnings21.root=<Earnings-21>
   output_filename=<lm>.arpa order=5`` — every call's ``.nlp`` reference read and split into sentences, tokenised,
   and KenLM's ``lmplz`` (``make kenlm``) estimating the ARPA file. The goal is judged on that whole command; the
   record also holds lmplz's own seconds (from ``<lm>.arpa.json``) and, timed here in-process, reading the
   references and tokenising them.
2. **Decode.** The same audio with NeMo's label-looping ``greedy_batch`` (or ``--strategy malsd_batch``) (a) without
   an LM and (b) with the LM fused (NeMo's NGPU-LM, ``ngram_lm_alpha`` = ``--alpha``, ``conf/lm/finance.yaml``'s
   0.3), both decoding configs from ``finparakeet.inference.decoding`` (``decoding_config(lm=...)``, the model's
   tokenizer checked against the LM's record as ``recipes/transcribe.py`` does) and applied ONCE each: loading the
   LM into the decoder is set-up, timed and reported apart. Then the protocol of ``bench_boosting.py``: the runs
   switch between the two ready decoders and decode through the transcribe pipeline's ``Transcriber`` (batches
   longest first; reading the WAVs is part of each run, the same for both), one untimed warm-up per mode, then
   ``--repeat`` rounds alternating which mode goes first; each figure is the median, in wall seconds and in process
   CPU seconds (the machine may be shared: the load average is recorded). The goal is met when the ratio of the
   medians (wall) is at most 1.3x; the verdict on CPU time, steadier when other jobs take the cores, is printed
   beside it. Also reported: the encoder's share (timed apart) so the greedy loop's ratio — where the LM is queried,
   once per step of the loop — shows through, and the tokens emitted in each mode.

With random weights the hypotheses are garbage: only the timing matters. The LM is queried at every step of the
decoding loop, and a random model takes a different number of steps than a trained one (the tokens emitted are
printed): the 0.6B architecture's random weights emit far more tokens than speech holds, which makes its loop — and
the LM's share — larger than a trained model's.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchutil import (EARNINGS21, GARBAGE_NOTE, REPO, add_model_args, alternating_runs, bench_models, build_decoders,
                       earnings21_missing, encoder_seconds, encoder_split, fusion_models, load_average, machine_after,
                       medians, mode_fields, parse_model_args, random_model, ratio_fields, record, run_fields,
                       start_torch, timed, write_result)

MODELS = {"tiny": "tiny_tdt", "0.6b": "parakeet_tdt_0.6b_v2"}
STRATEGIES = ("greedy_batch", "malsd_batch")
GOAL_RATIO = 1.3
GOAL_BUILD_S = 60.0
BUILD_COMMAND = ("python recipes/build_lm.py tokenizer_dir=<the model's tokenizer> earnings21.root={root} "
                 "output_filename=<lm>.arpa order={order}")


def shown(path: Path) -> str:
    """``../shared/earnings21`` for the default place, the path as given otherwise."""
    try:
        return str(Path(os.path.relpath(path, REPO))) if path.resolve() == EARNINGS21.resolve() else str(path)
    except ValueError:  # pragma: no cover - another drive
        return str(path)


# ------------------------------------------------------------------------------------------------------------ build
def build_lm(tokenizer_dir: Path, root: Path, arpa: Path, order: int, threads: int,
             lines: list[str]) -> dict[str, Any]:
    """``recipes/build_lm.py`` in its own process, timed whole; its record's figures, and tokenising ``lines`` (the
    same sentences) timed here."""
    from finparakeet.lm.record import read_record
    from finparakeet.lm.tokens import TOKEN_OFFSET, encode_lines, load_tokenizer

    cmd = [sys.executable, "recipes/build_lm.py", f"tokenizer_dir={tokenizer_dir}", f"earnings21.root={root}",
           f"output_filename={arpa}", f"order={order}"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not arpa.is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"recipes/build_lm.py failed (exit {proc.returncode}): {tail}")
    rec = read_record(arpa)
    sp, _ = load_tokenizer(tokenizer_dir=tokenizer_dir)
    t0 = time.perf_counter()
    encode_lines(sp, lines, TOKEN_OFFSET)
    tokenise = time.perf_counter() - t0
    build = {"recipe_s": wall, "lmplz_s": rec.lmplz_seconds, "tokenise_s": tokenise, "lines": rec.lines,
             "tokens": rec.tokens, "unknown_lines": rec.unknown_lines,
             "ngram_counts": {str(k): v for k, v in rec.ngram_counts.items()}, "arpa_bytes": arpa.stat().st_size,
             "goal_met": wall <= GOAL_BUILD_S}
    print(f"LM built by the recipe in {wall:.1f} s (lmplz {rec.lmplz_seconds:.1f} s, tokenising {tokenise:.1f} s): "
          f"{rec.lines:,} lines, {rec.tokens:,} tokens ({rec.unknown_lines} unspellable lines left out), n-grams "
          f"{rec.ngram_counts}, {arpa.stat().st_size / 1e6:.1f} MB -> goal <= {GOAL_BUILD_S:g} s "
          f"{'met' if build['goal_met'] else 'NOT met'}", flush=True)
    return build


# ---------------------------------------------------------------------------------------------------- one model
def bench_model(key: str, args, texts: list[str], corpus_lines: list[str], audio_dir: Path, audio_s: float,
                n_utts: int, work: Path) -> dict[str, Any]:
    import torch

    from finparakeet.inference.decoding import LMFusion, check_lm_tokenizer, decoding_config
    from finparakeet.inference.inputs import collect_inputs
    from finparakeet.inference.transcriber import Transcriber

    name = MODELS[key]
    repeat = args.repeat_tiny if key == "tiny" else args.repeat_large
    device = torch.device(args.device)
    print(f"\n== {key} ({name}, random weights): {audio_s:.1f} s of audio in {n_utts} utterances, "
          f"{repeat} runs per mode", flush=True)
    model, built = random_model(name, texts + corpus_lines, work, args.seed, device)

    arpa = work / f"lm_{key}.arpa"
    build = build_lm(built["tokenizer_dir"], args.earnings21, arpa, args.order, args.threads, corpus_lines)

    lm = LMFusion(str(arpa), args.alpha)
    check_lm_tokenizer(model, lm)
    overrides = {"strategy": args.strategy}
    plain, setup_plain = build_decoders(
        model, decoding_config(model.cfg.decoding, overrides, boost=False, device_type=device.type))
    fused, setup_lm = build_decoders(
        model, decoding_config(model.cfg.decoding, overrides, boost=False, device_type=device.type, lm=lm))
    section = "greedy" if args.strategy == "greedy_batch" else "beam"
    if fused.cfg[section].get("ngram_lm_model") != str(arpa):
        raise RuntimeError("the fused decoding config carries no n-gram LM")
    fusion = {"no_lm": len(fusion_models(plain.decoding)), "lm": len(fusion_models(fused.decoding))}
    print(f"set-up {setup_plain[0]:.2f} s without the LM, {setup_lm[0]:.2f} s with it (loading the LM "
          f"~{setup_lm[0] - setup_plain[0]:.2f} s); fusion models attached: {fusion}", flush=True)

    inputs = collect_inputs(audio_dir=audio_dir)
    if inputs.rejects:
        raise RuntimeError(f"audio rejected: {inputs.rejects[:3]}")
    runner = Transcriber(model, batch_size=args.batch_size, progress=False)
    modes = {"no_lm": plain, "lm": fused}

    def decode(mode: str):
        modes[mode].use(model)
        w, c, (transcripts, rejects, _) = timed(lambda: runner.run(inputs.items), device)
        if rejects:
            raise RuntimeError(f"decode rejected items: {rejects[:3]}")
        return w, c, [t.text for t in transcripts]

    load_before = load_average()
    runs, texts_out = alternating_runs(decode, list(modes), repeat)
    load_after = load_average()
    plain.use(model)
    enc = medians({"encoder": [encoder_seconds(model, inputs.items, args.batch_size, device)]})["encoder"]

    med = medians(runs)
    versus = ratio_fields(runs, med, "no_lm", "lm", GOAL_RATIO)
    ratio, ratio_cpu, paired = versus["ratio"], versus["ratio_cpu"], versus["ratio_paired_median"]
    loop = encoder_split(enc, med, "no_lm", "lm")
    tokens = {m: sum(len(model.tokenizer.text_to_ids(t)) for t in v) for m, v in texts_out.items()}
    changed = sum(a != b for a, b in zip(texts_out["no_lm"], texts_out["lm"]))
    verdict = (f"{'met' if versus['goal_met'] else 'NOT met'} (on CPU time: "
               f"{'met' if versus['goal_met_cpu'] else 'NOT met'})")
    print(f"  {key}: no LM {med['no_lm'][0]:.2f} s wall / {med['no_lm'][1]:.2f} s CPU (RTFx "
          f"{audio_s / med['no_lm'][0]:.1f}); LM {med['lm'][0]:.2f} s / {med['lm'][1]:.2f} s CPU (RTFx "
          f"{audio_s / med['lm'][0]:.1f}); ratio {ratio:.3f}x wall, {ratio_cpu:.3f}x CPU (paired runs: "
          f"{paired:.3f}x) -> goal <= {GOAL_RATIO}x {verdict}", flush=True)
    share = (f"{loop['rest_ratio_cpu']:.2f}x" if loop["rest_ratio_cpu"] is not None
             else "too small next to the encoder to resolve here")
    print(f"  encoder alone {enc[1]:.2f} s CPU ({enc[0]:.2f} s wall); the rest (decoding loop, audio reading, "
          f"transcribe's overhead): {loop['rest_no_lm_cpu_s']:.2f} s -> {loop['rest_lm_cpu_s']:.2f} s CPU ({share})",
          flush=True)
    print(f"  tokens emitted: {tokens['no_lm']} without, {tokens['lm']} with the LM; {changed}/{len(inputs.items)} "
          f"transcripts differ ({GARBAGE_NOTE})", flush=True)
    result = {
        "model": name, "parameters": built["parameters"], "tokenizer_vocab_size": built["tokenizer_vocab_size"],
        "audio_seconds": round(audio_s, 2), "utterances": n_utts, "batch_size": args.batch_size, "repeat": repeat,
        "build": build, "setup_no_lm_s": setup_plain[0], "setup_lm_s": setup_lm[0], "setup_lm_cpu_s": setup_lm[1],
        "lm_load_s": setup_lm[0] - setup_plain[0], "fusion_models_attached": fusion,
        **mode_fields(med, audio_s, list(modes)), **versus, "encoder_split": loop, **run_fields(runs, list(modes)),
        "tokens_emitted": tokens, "transcripts_changed_by_lm": changed,
        "load_average_before": load_before, "load_average_after": load_after,
    }
    del model, runner, plain, fused, modes
    gc.collect()
    return result


# ------------------------------------------------------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(ap, MODELS, "lm")
    ap.add_argument("--earnings21", type=Path, default=EARNINGS21,
                    help="Earnings-21's root (transcripts/nlp_references/); default ../shared/earnings21")
    ap.add_argument("--order", type=int, default=5, help="the LM's order over tokens (recipes/build_lm.py's 5)")
    ap.add_argument("--alpha", type=float, default=0.3, help="ngram_lm_alpha (conf/lm/finance.yaml's 0.3)")
    ap.add_argument("--strategy", default="greedy_batch", choices=STRATEGIES,
                    help="decoding strategy, the same for both modes (default greedy_batch, the recipe's)")
    return parse_model_args(ap, argv, MODELS)


def main(argv=None) -> int:
    args = parse_args(argv)
    if earnings21_missing(args.earnings21, "bench_lm"):
        return 0
    from finparakeet.lm.kenlm import LmplzMissingError, find_lmplz

    try:
        find_lmplz()
    except LmplzMissingError as e:
        print(f"bench_lm: {e}", file=sys.stderr)
        return 2
    os.environ.setdefault("TQDM_DISABLE", "1")  # NeMo's progress bars while it reads the ARPA file
    load_before = start_torch(args)  # before anything imports torch
    if load_before is None:
        return 2
    from finparakeet.lm.corpus import read_earnings21

    t_start = time.perf_counter()
    t0 = time.perf_counter()
    corpus_lines, source = read_earnings21(args.earnings21)
    t_read = time.perf_counter() - t0
    words = sum(len(line.split()) for line in corpus_lines)
    print(f"Earnings-21: {len(source.calls)} calls, {len(corpus_lines):,} sentences, {words:,} words (read and split "
          f"in {t_read:.1f} s)", flush=True)

    results = bench_models(args, "lm",
                           lambda key, texts, *rest: bench_model(key, args, texts, corpus_lines, *rest),
                           errors=(RuntimeError, MemoryError, ValueError))
    machine = machine_after(args, load_before)
    figures = {
        "corpus": {"source": "earnings21", "root": shown(args.earnings21), "calls": len(source.calls),
                   "sentences": len(corpus_lines), "words": words, "read_s": t_read},
        "lm": {"order": args.order, "alpha": args.alpha,
               "build_command": BUILD_COMMAND.format(root=shown(args.earnings21), order=args.order)},
        "protocol": {"strategy": args.strategy, "warmup_runs_per_mode": 1, "statistic": "median",
                     "alternating": True, "random_weights": True, "seed": args.seed},
        "results": results,
        "total_wall_seconds": time.perf_counter() - t_start,
    }
    goal = {"ratio_max": GOAL_RATIO, "build_seconds_max": GOAL_BUILD_S}
    write_result(args.output, record("lm", argv, machine, goal, figures))
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
