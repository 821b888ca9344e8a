"""Benchmark: the full entity report vs plain ``jiwer.wer`` over every system x call of Earnings-21.

    python bench/bench_scoring.py [--root ../shared/earnings21] [--repeat 3] [--calls N]
                                  [--output results/bench_scoring.json]

Both sides get the same in-memory texts (loading the .nlp files is timed apart). Plain WER: ``jiwer.wer(ref, hyp)``
per pair. Entity report: finance normalisation of both sides (each reference once, it is shared by the systems),
entity span -> word mapping, one Levenshtein alignment per pair (jiwer's), entity/category counts and the report dict
(with per-utterance alignments) — i.e. ``finparakeet.scoring.score_systems``, one process, one thread. Writing the
files is timed apart too.

The two sides run alternately ``--repeat`` times (the machine is shared: the load is printed); each figure is the best
run, in wall-clock and in CPU seconds of this process. Every entity-report run starts with the normaliser's caches
emptied (``FinanceNormalizer.clear_cache``): what it learns about the texts' chunks is learnt in the timed run.
A collection before each run; ``score_systems`` pauses the cyclic collector during its batch
(``scoring.api.paused_gc``; jiwer runs with it on). The goal is met when the best entity-report run takes
at most twice the best jiwer run. For scale, the same report is also timed with a plain normaliser (case and
punctuation only), with a breakdown of the entity report's time. Also records, per system, WER and entity WER /
accuracy for MONEY, PERCENT, CARDINAL, ORG, PERSON, DATE (RESULTS.md shows them as a table).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchutil import (EARNINGS21, earnings21_missing, fmt_load, load_average, machine_info, record, record_path,
                       write_result)

TABLE_CATEGORIES = ("MONEY", "PERCENT", "CARDINAL", "ORG", "PERSON", "DATE")
GOAL = 2.0


def timed(fn, before=None):
    """(wall s, CPU s, result) of one call; ``before`` runs first, untimed."""
    if before is not None:
        before()
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=EARNINGS21)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--output", type=Path, default=record_path("scoring"))
    ap.add_argument("--calls", type=int, default=None, help="score only the first N calls (a quick run)")
    ap.add_argument("--freeze-gc", action="store_true",
                    help="gc.freeze() after loading (both sides): takes the imported modules out of full collections")
    args = ap.parse_args(argv)
    if earnings21_missing(args.root, "bench_scoring"):
        return 0

    import jiwer

    from finparakeet.data.earnings21 import list_calls, list_systems
    from finparakeet.scoring import load_earnings21, score_systems, write_reports
    from finparakeet.text import FinanceNormalizer

    systems = list_systems(args.root)
    calls = list_calls(args.root)[: args.calls]
    t0 = time.perf_counter()
    refs, hyps, skipped = load_earnings21(args.root, systems, calls)
    t_load = time.perf_counter() - t0
    pairs = [(refs[c][0], h[c]) for s, h in hyps.items() for c in refs if c in h]
    if args.freeze_gc:
        gc.collect()
        gc.freeze()
    n_words = sum(len(r.split()) + len(h.split()) for r, h in pairs)
    print(f"{len(systems)} systems x {len(refs)} calls = {len(pairs)} pairs, {n_words:,} words "
          f"(loaded in {t_load:.1f} s, not timed below); {os.cpu_count()} CPUs, "
          f"load average {fmt_load(load_average())}")

    normalizer = FinanceNormalizer()  # built once, outside the timing: its tables are a one-off cost

    def plain_wer():
        return [jiwer.wer(r, h) for r, h in pairs]

    def entity_report():
        return score_systems(refs, hyps, normalizer=normalizer)

    load_before = load_average()
    runs: dict[str, list[tuple[float, float]]] = {"jiwer": [], "entity": []}
    reports = None
    for _ in range(args.repeat):
        reports = None  # nothing of the previous entity run stays alive for the collector to scan during jiwer's
        normalizer.clear_cache()
        w, c, _ = timed(plain_wer)
        runs["jiwer"].append((w, c))
        w, c, reports = timed(entity_report, before=normalizer.clear_cache)
        runs["entity"].append((w, c))
    load_after = load_average()
    best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in runs.items()}
    ratio, ratio_cpu = best["entity"][0] / best["jiwer"][0], best["entity"][1] / best["jiwer"][1]
    for k, label in (("jiwer", "plain jiwer.wer:"), ("entity", "full entity report:")):
        print(f"{label:22s}{best[k][0]:6.2f} s wall, {best[k][1]:6.2f} s CPU  "
              f"(runs {', '.join(f'{w:.2f}/{c:.2f}' for w, c in runs[k])})")
    verdict = "met" if ratio <= GOAL else "NOT met"
    med_ratio = statistics.median(w for w, _ in runs["entity"]) / statistics.median(w for w, _ in runs["jiwer"])
    print(f"ratio entity/jiwer:   {ratio:6.2f}x wall, {ratio_cpu:6.2f}x CPU (medians: {med_ratio:.2f}x wall)  "
          f"-> goal <= {GOAL:g}x {verdict} (load average {fmt_load(load_before)} before, {fmt_load(load_after)} after)")

    # The scorer's own overhead: the same report with a plain normaliser (case + punctuation only).
    from finparakeet.scoring import PlainNormalizer
    plain = PlainNormalizer()
    t_plain = min(timed(lambda: score_systems(refs, hyps, normalizer=plain))[0] for _ in range(args.repeat))
    print(f"entity report, plain normaliser: {t_plain:6.2f} s wall ({t_plain / best['jiwer'][0]:.2f}x jiwer)")

    # Where the entity report's time goes (one pass each, same data, caches emptied first, collector paused as in
    # score_systems).
    from finparakeet.scoring import prepare_reference
    from finparakeet.scoring.align import align_ids, word_ids
    from finparakeet.scoring.api import paused_gc
    normalizer.clear_cache()
    with paused_gc():
        t_norm_refs, _, prepared = timed(
            lambda: {c: prepare_reference(t, e, normalizer) for c, (t, e) in refs.items()})
        t_norm_hyps, _, hyp_words = timed(lambda: [normalizer.normalize_arrays(h)[0] for _, h in pairs])
        ref_list = [prepared[c] for s, h in hyps.items() for c in refs if c in h]
        t_align, _, _ = timed(lambda: [align_ids(r.words, hw, r.numbering[0], word_ids(hw, r.numbering[1])[0])
                                       for r, hw in zip(ref_list, hyp_words)])
    del prepared, hyp_words, ref_list
    breakdown = {"normalise_references_once": t_norm_refs, "normalise_hypotheses": t_norm_hyps,
                 "align": t_align,
                 "entities_counts_report": max(0.0, best["entity"][0] - t_norm_refs - t_norm_hyps - t_align)}
    print("breakdown: " + ", ".join(f"{k} {v:.2f} s" for k, v in breakdown.items()))

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        for s, r in reports.items():
            write_reports(r, Path(d) / s.replace("/", "_"))
        t_write = time.perf_counter() - t0
    print(f"writing JSON+MD+HTML for {len(reports)} systems: {t_write:.2f} s (not in the ratio)")

    machine = machine_info(1, "cpu", load_before)
    machine["load_average_after"] = load_after  # when the timed runs ended, not after the extra timings above
    figures = {
        "systems": systems, "calls": len(refs), "pairs": len(pairs), "words": n_words, "repeat": args.repeat,
        "freeze_gc": args.freeze_gc, "load_s": t_load,
        "jiwer_wer_s": best["jiwer"][0], "entity_report_s": best["entity"][0], "ratio": ratio,
        "jiwer_wer_cpu_s": best["jiwer"][1], "entity_report_cpu_s": best["entity"][1], "ratio_cpu": ratio_cpu,
        "ratio_of_medians": med_ratio, "goal_met": ratio <= GOAL,
        "jiwer_runs_s": [w for w, _ in runs["jiwer"]], "entity_runs_s": [w for w, _ in runs["entity"]],
        "jiwer_runs_cpu_s": [c for _, c in runs["jiwer"]], "entity_runs_cpu_s": [c for _, c in runs["entity"]],
        "entity_report_plain_normalizer_s": t_plain, "ratio_plain_normalizer": t_plain / best["jiwer"][0],
        "breakdown_s": breakdown, "write_reports_s": t_write,
        "skipped_rows": {s: len(v) for s, v in skipped.items() if v},
        "per_system": {s: {"wer": r["wer"], "entity_wer": r["entity_wer"], "entity_accuracy": r["entity_accuracy"],
                           "categories": {c: r["categories"].get(c) for c in TABLE_CATEGORIES}}
                       for s, r in reports.items()},
    }
    result = record("scoring", argv, machine, {"ratio_max": GOAL}, figures)
    write_result(args.output, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
