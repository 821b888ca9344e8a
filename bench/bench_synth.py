"""Synthesis throughput: audio seconds produced per wall-clock second.

    python bench/bench_synth.py [--num-utterances 200] [--num-workers 2] [--output bench/results/synth.json]

Times the whole job (planning, espeak-ng + sox rendering, augmentation, writing cuts and manifests) into a temporary
folder, and records the machine's load average before and after, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from benchutil import load_average

from finparakeet.synth import SynthConfig, synthesize_corpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-utterances", type=int, default=200)
    ap.add_argument("--num-workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--corpus", default="finance", choices=("finance", "general", "mixed"))
    ap.add_argument("--output", default="bench/results/synth.json", help="where to write the JSON result")
    ap.add_argument("--keep", default=None, help="write the corpus here and keep it (default: a temporary folder)")
    args = ap.parse_args()

    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_synth_"))
    cfg = SynthConfig(output_dir=str(out), num_utterances=args.num_utterances, seed=args.seed, corpus=args.corpus,
                      num_workers=args.num_workers, progress=False)
    load_before = load_average()
    cpu_before = time.process_time()
    t0 = time.perf_counter()
    summary = synthesize_corpus(cfg)
    wall = time.perf_counter() - t0
    load_after = load_average()
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)

    audio_s = summary["hours"] * 3600
    result = {
        "benchmark": "synth",
        "audio_seconds_per_wall_second": round(audio_s / wall, 1),
        "audio_seconds": round(audio_s, 1),
        "wall_seconds": round(wall, 2),
        "utterances": args.num_utterances,
        "mean_utterance_seconds": round(audio_s / args.num_utterances, 2),
        "num_workers": args.num_workers,
        "corpus": args.corpus,
        "seed": args.seed,
        "augmented_share": summary["augmented_share"],
        "main_process_cpu_seconds": round(time.process_time() - cpu_before, 2),
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "machine": platform.machine(),
        "python": platform.python_version(),
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['audio_seconds_per_wall_second']} audio s / wall s  ({result['audio_seconds']} s of audio in "
          f"{result['wall_seconds']} s, {args.num_workers} workers, load {load_before[0]:.2f} -> {load_after[0]:.2f})"
          f"  -> {args.output}")


if __name__ == "__main__":
    main()
