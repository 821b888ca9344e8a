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
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchutil import (EARNINGS21, GARBAGE_NOTE, REPO, alternating_runs, build_decoders, earnings21_missing,
                       encoder_seconds, encoder_split, finance_utterances, fmt_load, fusion_models, load_average,
                       machine_info, make_audio, medians, paired_ratio, random_model, record, record_path,
                       set_threads, subset_dir, timed, write_result)

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
    ratio, ratio_cpu = med["lm"][0] / med["no_lm"][0], med["lm"][1] / med["no_lm"][1]
    paired = paired_ratio(runs, "no_lm", "lm")
    loop = encoder_split(enc, med, "no_lm", "lm")
    tokens = {m: sum(len(model.tokenizer.text_to_ids(t)) for t in v) for m, v in texts_out.items()}
    changed = sum(a != b for a, b in zip(texts_out["no_lm"], texts_out["lm"]))
    verdict = (f"{'met' if ratio <= GOAL_RATIO else 'NOT met'} (on CPU time: "
               f"{'met' if ratio_cpu <= GOAL_RATIO else 'NOT met'})")
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
        "decode_no_lm_s": med["no_lm"][0], "decode_lm_s": med["lm"][0],
        "decode_no_lm_cpu_s": med["no_lm"][1], "decode_lm_cpu_s": med["lm"][1],
        "rtfx_no_lm": audio_s / med["no_lm"][0], "rtfx_lm": audio_s / med["lm"][0],
        "ratio": ratio, "ratio_cpu": ratio_cpu, "ratio_paired_median": paired,
        "goal_met": ratio <= GOAL_RATIO, "goal_met_cpu": ratio_cpu <= GOAL_RATIO, "encoder_split": loop,
        "runs_no_lm_s": [w for w, _ in runs["no_lm"]], "runs_lm_s": [w for w, _ in runs["lm"]],
        "runs_no_lm_cpu_s": [c for _, c in runs["no_lm"]], "runs_lm_cpu_s": [c for _, c in runs["lm"]],
        "tokens_emitted": tokens, "transcripts_changed_by_lm": changed,
        "load_average_before": load_before, "load_average_after": load_after,
    }
    del model, runner, plain, fused, modes
    gc.collect()
    return result


# ------------------------------------------------------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {', '.join(MODELS)}")
    ap.add_argument("--earnings21", type=Path, default=EARNINGS21,
                    help="Earnings-21's root (transcripts/nlp_references/); default ../shared/earnings21")
    ap.add_argument("--order", type=int, default=5, help="the LM's order over tokens (recipes/build_lm.py's 5)")
    ap.add_argument("--alpha", type=float, default=0.3, help="ngram_lm_alpha (conf/lm/finance.yaml's 0.3)")
    ap.add_argument("--strategy", default="greedy_batch", choices=STRATEGIES,
                    help="decoding strategy, the same for both modes (default greedy_batch, the recipe's)")
    ap.add_argument("--seconds-tiny", type=float, default=180.0, help="audio for the tiny model (default 180 s)")
    ap.add_argument("--seconds-large", type=float, default=60.0, help="audio for the 0.6B model (default 60 s)")
    ap.add_argument("--repeat-tiny", type=int, default=5, help="timed runs per mode, tiny model (default 5)")
    ap.add_argument("--repeat-large", type=int, default=3, help="timed runs per mode, 0.6B model (default 3)")
    ap.add_argument("--batch-size", type=int, default=16, help="utterances per batch (the recipe's default, 16)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: the machine is shared)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", type=Path, default=record_path("lm"))
    args = ap.parse_args(argv)
    args.model_list = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in args.model_list if m not in MODELS]
    if bad or not args.model_list:
        ap.error(f"--models: unknown {bad}; choose from {', '.join(MODELS)}")
    if min(args.repeat_tiny, args.repeat_large, args.batch_size, args.threads) < 1:
        ap.error("--repeat-*, --batch-size, --threads must be >= 1")
    return args


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
    set_threads(args.threads)  # before anything imports torch
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda, but torch sees no CUDA device; use --device cpu", file=sys.stderr)
        return 2
    from finparakeet.lm.corpus import read_earnings21

    t_start = time.perf_counter()
    load_before = load_average()
    print(f"{os.cpu_count()} CPUs, {args.threads} torch thread(s), device {args.device}, load average "
          f"{fmt_load(load_before)}; {GARBAGE_NOTE}", flush=True)
    t0 = time.perf_counter()
    corpus_lines, source = read_earnings21(args.earnings21)
    t_read = time.perf_counter() - t0
    words = sum(len(line.split()) for line in corpus_lines)
    print(f"Earnings-21: {len(source.calls)} calls, {len(corpus_lines):,} sentences, {words:,} words (read and split "
          f"in {t_read:.1f} s)", flush=True)

    work = Path(tempfile.mkdtemp(prefix="bench_lm_"))
    results: dict[str, dict[str, Any]] = {}
    try:
        utterances = finance_utterances(3000, args.seed)
        texts = [u.label for u in utterances]
        need = max(args.seconds_tiny if "tiny" in args.model_list else 0,
                   args.seconds_large if "0.6b" in args.model_list else 0)
        t0 = time.perf_counter()
        audio = make_audio(utterances, need, work / "audio", args.seed)
        print(f"audio: {len(audio)} espeak-ng utterances, {sum(d for _, d, _ in audio):.1f} s "
              f"(synthesised in {time.perf_counter() - t0:.1f} s)", flush=True)
        for key in args.model_list:
            seconds = args.seconds_tiny if key == "tiny" else args.seconds_large
            folder, audio_s, n = subset_dir(audio, seconds, work / f"audio_{key}")
            try:
                results[key] = bench_model(key, args, texts, corpus_lines, folder, audio_s, n, work)
            except (RuntimeError, MemoryError, ValueError) as e:
                print(f"{key} failed: {type(e).__name__}: {e}", file=sys.stderr)
                results[key] = {"error": f"{type(e).__name__}: {e}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    machine = machine_info(args.threads, args.device, load_before)
    print(f"\n{GARBAGE_NOTE}. Load average {fmt_load(load_before)} before, {fmt_load(machine['load_average_after'])} "
          f"after; {os.cpu_count()} CPUs.")
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
