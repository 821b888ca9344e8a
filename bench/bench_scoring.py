"""Benchmark: the full entity report vs plain ``jiwer.wer`` over every system x call of Earnings-21.

    python bench/bench_scoring.py [--root /work/shared/earnings21] [--repeat 3] [--output bench/results/...json]

Both sides get the same in-memory texts (loading the .nlp files is timed apart). Plain WER: ``jiwer.wer(ref, hyp)``
per pair. Entity report: finance normalisation of both sides (each reference once, it is shared by the systems),
entity span -> word mapping, one jiwer alignment per pair, entity/category counts and the report dict (with
per-utterance alignments) — i.e. ``finparakeet.scoring.score_systems``. Writing the files is timed apart too.
Timings are the best of ``--repeat`` runs (the machine is shared), with Python's default garbage collector. For
scale, the same report is also timed with a plain normaliser (case and punctuation only). Also prints, per system, WER and entity WER /
accuracy for MONEY, PERCENT, CARDINAL, ORG, PERSON, DATE as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = REPO.parent / "shared" / "earnings21"
TABLE_CATEGORIES = ("MONEY", "PERCENT", "CARDINAL", "ORG", "PERSON", "DATE")


def best_of(repeat: int, fn):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, out


def pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}"


def markdown_table(reports: dict) -> str:
    head = "| system | WER | entity WER | " + " | ".join(f"{c} eWER / acc" for c in TABLE_CATEGORIES) + " |"
    lines = [head, "|" + " --- |" * (3 + len(TABLE_CATEGORIES))]
    for system, r in reports.items():
        cells = []
        for c in TABLE_CATEGORIES:
            g = r["categories"].get(c)
            cells.append(f"{pct(g['entity_wer'])} / {pct(g['entity_accuracy'])}" if g else "n/a")
        lines.append(f"| {system} | {pct(r['wer'])} | {pct(r['entity_wer'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "bench_scoring.json")
    ap.add_argument("--calls", type=int, default=None, help="score only the first N calls (a quick run)")
    ap.add_argument("--freeze-gc", action="store_true",
                    help="gc.freeze() after loading (both sides): takes the imported modules out of full collections")
    args = ap.parse_args(argv)
    if not (args.root / "transcripts" / "nlp_references").is_dir():
        print(f"bench_scoring: skipped, Earnings-21 not found under {args.root} "
              "(expected transcripts/nlp_references/; get it from github.com/revdotcom/speech-datasets)")
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
        import gc
        gc.collect()
        gc.freeze()
    n_words = sum(len(r.split()) + len(h.split()) for r, h in pairs)
    print(f"{len(systems)} systems x {len(refs)} calls = {len(pairs)} pairs, {n_words:,} words "
          f"(loaded in {t_load:.1f} s, not timed below)")

    t_jiwer, jiwer_runs, _ = best_of(args.repeat, lambda: [jiwer.wer(r, h) for r, h in pairs])
    print(f"plain jiwer.wer:      {t_jiwer:6.2f} s  (runs {', '.join(f'{t:.2f}' for t in jiwer_runs)})")

    normalizer = FinanceNormalizer()  # built once, outside the timing: its tables are a one-off cost

    def entity_report():
        return score_systems(refs, hyps, normalizer=normalizer)

    t_entity, entity_runs, reports = best_of(args.repeat, entity_report)
    ratio = t_entity / t_jiwer
    print(f"full entity report:   {t_entity:6.2f} s  (runs {', '.join(f'{t:.2f}' for t in entity_runs)})")
    print(f"ratio entity/jiwer:   {ratio:6.2f}x  (goal <= 2x)")

    # The scorer's own overhead: the same report with a plain normaliser (case + punctuation only).
    from finparakeet.scoring import PlainNormalizer
    plain = PlainNormalizer()
    t_plain, plain_runs, _ = best_of(args.repeat, lambda: score_systems(refs, hyps, normalizer=plain))
    print(f"entity report, plain normaliser: {t_plain:6.2f} s  ({t_plain / t_jiwer:.2f}x jiwer)")

    # Where the entity report's time goes (one pass each, same data).
    t0 = time.perf_counter()
    ref_words = {c: normalizer.normalize_with_spans(t) for c, (t, _) in refs.items()}
    t_norm_refs = time.perf_counter() - t0
    t0 = time.perf_counter()
    hyp_words = [normalizer.normalize_with_spans(h) for _, h in pairs]
    t_norm_hyps = time.perf_counter() - t0
    from finparakeet.scoring import align_words
    ref_list = [ref_words[c] for s, h in hyps.items() for c in refs if c in h]
    t0 = time.perf_counter()
    for rw, hw in zip(ref_list, hyp_words):
        align_words([w.text for w in rw], [w.text for w in hw])
    t_align = time.perf_counter() - t0
    breakdown = {"normalise_references_once": t_norm_refs, "normalise_hypotheses": t_norm_hyps,
                 "align": t_align, "entities_counts_report": max(0.0, t_entity - t_norm_refs - t_norm_hyps - t_align)}
    print("breakdown: " + ", ".join(f"{k} {v:.2f} s" for k, v in breakdown.items()))

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        for s, r in reports.items():
            write_reports(r, Path(d) / s.replace("/", "_"))
        t_write = time.perf_counter() - t0
    print(f"writing JSON+MD+HTML for {len(reports)} systems: {t_write:.2f} s (not in the ratio)")

    table = markdown_table(reports)
    print()
    print(table)
    result = {
        "pairs": len(pairs), "systems": systems, "calls": len(refs), "words": n_words, "repeat": args.repeat,
        "freeze_gc": args.freeze_gc,
        "load_s": t_load, "jiwer_wer_s": t_jiwer, "entity_report_s": t_entity, "ratio": ratio,
        "jiwer_runs_s": jiwer_runs, "entity_runs_s": entity_runs,
        "entity_report_plain_normalizer_s": t_plain, "ratio_plain_normalizer": t_plain / t_jiwer, "breakdown_s": breakdown, "write_reports_s": t_write,
        "skipped": {s: [k.to_dict() for k in v] for s, v in skipped.items() if v},
        "per_system": {s: {"wer": r["wer"], "entity_wer": r["entity_wer"], "entity_accuracy": r["entity_accuracy"],
                           "categories": {c: r["categories"].get(c) for c in TABLE_CATEGORIES}}
                       for s, r in reports.items()},
        "table_markdown": table,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"\n-> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
