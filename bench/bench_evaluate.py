"""Benchmark: ``recipes/evaluate.py``'s work end to end on one Earnings-21 system vs plain ``jiwer.wer``.

    python bench/bench_evaluate.py [--root ../shared/earnings21] [--system google] [--repeat 3]
                                   [--output results/bench_evaluate.json]

End to end = what the recipe does after parsing its config: read the 44 reference calls, the NER sidecar and the
system's 44 outputs from disk, score them (``score_earnings21``), write ``entity_report.{json,md,html}`` (+ the
compressed details of the long utterances) and format the printed summary. Plain WER = ``jiwer.wer(ref, hyp)`` per
call over the same texts, already in memory (reading them is not timed for jiwer). One process, one thread; imports
and the normaliser's one-off tables are loaded before timing. The two run alternately ``--repeat`` times (the machine
may be shared: the load average is printed); each figure is the best run, wall clock and CPU seconds of this process.
Goals (issue 12): end to end <= 5x jiwer, and ``entity_report.json`` under 5 MB. The recipe itself is also run once as
a subprocess, to show what Python, Hydra and the imports add on top (not in the ratio).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchutil import (EARNINGS21, REPO, cpu_name, earnings21_missing, fmt_load, load_average, machine_info, record,
                       record_path, write_result)

GOAL_RATIO = 5.0
GOAL_JSON_BYTES = 5_000_000


def timed(fn):
    """(wall s, CPU s, result) of one call, after a collection."""
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=EARNINGS21)
    ap.add_argument("--system", default="google")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--output", type=Path, default=record_path("evaluate"))
    args = ap.parse_args(argv)
    if earnings21_missing(args.root, "bench_evaluate"):
        return 0

    import jiwer

    from finparakeet.data.earnings21 import list_calls, load_call, load_hypothesis
    from finparakeet.scoring import score_earnings21, write_reports
    from finparakeet.scoring.report import summary_lines
    from finparakeet.text import FinanceNormalizer

    calls = list_calls(args.root)
    pairs = [(load_call(args.root, c).text, load_hypothesis(args.root, args.system, c)) for c in calls]
    words = sum(len(r.split()) for r, _ in pairs)
    FinanceNormalizer()  # its tables are built once per process (a one-off, like jiwer's import)
    print(f"Earnings-21 system {args.system}: {len(pairs)} calls, {words:,} reference words; {os.cpu_count()} CPUs "
          f"({cpu_name()}), load average {fmt_load(load_average())}")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"

        def plain_wer():
            return [jiwer.wer(r, h) for r, h in pairs]

        def evaluate():
            report = score_earnings21(args.root, args.system)
            paths = write_reports(report, out)
            summary_lines(report)
            return report, paths

        load_before = load_average()
        runs: dict[str, list[tuple[float, float]]] = {"jiwer": [], "evaluate": []}
        for _ in range(args.repeat):
            report = paths = None  # nothing of the previous run stays alive during the next
            w, c, _ = timed(plain_wer)
            runs["jiwer"].append((w, c))
            w, c, (report, paths) = timed(evaluate)
            runs["evaluate"].append((w, c))
        load_after = load_average()
        sizes = {k: p.stat().st_size for k, p in paths.items()}

        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(REPO / "recipes" / "evaluate.py"), f"earnings21.root={args.root}",
                               f"earnings21.system={args.system}", f"output_dir={Path(tmp) / 'recipe'}"],
                              capture_output=True, text=True, cwd=REPO)
        t_recipe = time.perf_counter() - t0
        if proc.returncode:
            print(proc.stderr[-2000:])
            return proc.returncode

    best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in runs.items()}
    ratio, ratio_cpu = best["evaluate"][0] / best["jiwer"][0], best["evaluate"][1] / best["jiwer"][1]
    for k, label in (("jiwer", "plain jiwer.wer:"), ("evaluate", "evaluate end to end:")):
        print(f"{label:22s}{best[k][0]:6.2f} s wall, {best[k][1]:6.2f} s CPU  "
              f"(runs {', '.join(f'{w:.2f}/{c:.2f}' for w, c in runs[k])})")
    ratio_met, size_met = ratio <= GOAL_RATIO, sizes["json"] < GOAL_JSON_BYTES
    print(f"ratio evaluate/jiwer: {ratio:6.2f}x wall, {ratio_cpu:6.2f}x CPU  -> goal <= {GOAL_RATIO:g}x "
          f"{'met' if ratio_met else 'NOT met'} (load average {fmt_load(load_before)} before, "
          f"{fmt_load(load_after)} after)")
    print("files: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items())
          + f"  -> entity_report.json < {GOAL_JSON_BYTES / 1e6:g} MB {'met' if size_met else 'NOT met'}")
    print(f"the recipe as a command (Python, Hydra, imports included): {t_recipe:.2f} s wall")
    print(f"WER {report['wer']:.4f}, entity WER {report['entity_wer']:.4f}, entity accuracy "
          f"{report['entity_accuracy']:.4f}, {report['num_entities']} entities")

    machine = machine_info(1, "cpu", load_before)
    machine["load_average_after"] = load_after  # when the timed runs ended, before the recipe's own run
    figures = {
        "system": args.system, "calls": len(pairs), "reference_words": words, "repeat": args.repeat,
        "jiwer_wer_s": best["jiwer"][0], "evaluate_s": best["evaluate"][0], "ratio": ratio,
        "jiwer_wer_cpu_s": best["jiwer"][1], "evaluate_cpu_s": best["evaluate"][1], "ratio_cpu": ratio_cpu,
        "goal_ratio_met": ratio_met, "file_bytes": sizes, "goal_json_met": size_met,
        "recipe_command_s": t_recipe,
        "jiwer_runs": runs["jiwer"], "evaluate_runs": runs["evaluate"],
        "wer": report["wer"], "entity_wer": report["entity_wer"], "entity_accuracy": report["entity_accuracy"],
        "num_entities": report["num_entities"],
    }
    result = record("evaluate", argv, machine, {"ratio_max": GOAL_RATIO, "json_bytes_below": GOAL_JSON_BYTES}, figures)
    write_result(args.output, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
