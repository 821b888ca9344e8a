"""Synthesis throughput: audio seconds produced per wall-clock second.

    python bench/bench_synth.py [--num-utterances 200] [--num-workers 2] [--output results/bench_synth.json]

Times the whole job (planning, text to speech with the voice families and sox, augmentation, writing cuts and
manifests) into a temporary folder, and records the machine's load average before and after (it may be shared).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from benchutil import load_average, machine_info, record, record_path, write_result

from finparakeet.synth import SynthConfig, synthesize_corpus


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-utterances", type=int, default=200)
    ap.add_argument("--num-workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--corpus", default="finance", choices=("finance", "general", "mixed"))
    ap.add_argument("--output", type=Path, default=record_path("synth"), help="where to write the JSON record")
    ap.add_argument("--keep", default=None, help="write the corpus here and keep it (default: a temporary folder)")
    args = ap.parse_args(argv)

    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_synth_"))
    cfg = SynthConfig(output_dir=str(out), num_utterances=args.num_utterances, seed=args.seed, corpus=args.corpus,
                      num_workers=args.num_workers, progress=False)
    load_before = load_average()
    cpu_before = time.process_time()
    t0 = time.perf_counter()
    summary = synthesize_corpus(cfg)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu_before
    machine = machine_info(None, "cpu", load_before)  # synthesis runs in worker processes, no torch threads
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)

    audio_s = summary["hours"] * 3600
    figures = {
        "utterances": args.num_utterances, "num_workers": args.num_workers, "corpus": args.corpus, "seed": args.seed,
        "audio_seconds": audio_s, "wall_seconds": wall, "audio_seconds_per_wall_second": audio_s / wall,
        "augmented_share": summary["augmented_share"],
        "main_process_cpu_seconds": cpu,
    }
    print(f"{audio_s / wall:.1f} audio s / wall s  ({audio_s:.1f} s of audio in {wall:.2f} s, {args.num_workers} "
          f"workers, load {load_before[0]:.2f} -> {machine['load_average_after'][0]:.2f})")
    write_result(args.output, record("synth", argv, machine, None, figures))


if __name__ == "__main__":
    main()
