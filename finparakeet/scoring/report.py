"""The entity report: a JSON-ready dict (the contract) and its writers (JSON, Markdown, HTML).

Contract (``entity_report.json``)::

    {"wer", "entity_wer", "entity_accuracy", "num_utterances", "num_entities",
     "categories": {CAT: {"entity_wer", "entity_accuracy", "num_entities", "errors", "ref_words", "format_only"}},
     "unseen": {same keys, over entities with seen == false: lexicon entries no training utterance used},
     "keyphrases": {"precision", "recall", "f1", "hits", "false_alarms", "misses", ...} or null without a bias list,
     "utterances": [{"id", "wer", "entities": [{"category", "ref", "hyp", "correct", "errors", ...}], ...}],
     ...}

Rates are null where there is nothing to divide. Extra keys: ``substitutions``, ``deletions``, ``insertions``,
``ref_words``, ``num_unscorable_entities`` (entities that normalise to no word), ``format_only_words`` and
``format_only_entities`` (equal but for a missing currency: not errors, ``scoring.align``), ``unseen_categories``,
``finance_categories`` (Earnings-21 types folded into ours, e.g. DATE + YEAR -> PERIOD, when any were),
``confusions`` (the most frequent wrong entities, on normalised words), ``num_rows_scored``/``skipped`` (added by the
input readers), and per utterance the normalised alignment (``alignment``: ref/hyp word lists and
``[op, ref_start, ref_end, hyp_start, hyp_end]`` chunks, op one of e/s/d/i) that the HTML page draws.

On disk, an utterance longer than ``INLINE_WORDS`` reference words (a whole call) keeps only its counts in
``entity_report.json`` (``"details": "entity_report.details.jsonl.gz"``); its entities and alignment are a line of
that gzip'd JSON-lines file beside it. ``read_report`` puts them back.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from finparakeet.entities import EARNINGS21_TO_FINANCE, FINANCE_CATEGORIES
from finparakeet.scoring.counts import (N_COLUMNS, N_ENTITIES, N_FORMAT_ONLY, W_DEL, W_FORMAT, W_INS, W_REF,
                                        W_SUB, W_UNSCORABLE, W_UTTS, Counts, rates)
from finparakeet.scoring.html import to_html
from finparakeet.scoring.keyphrases import prf
from finparakeet.scoring.reliability import RELIABILITY_PNG, write_reliability_diagram
from finparakeet.scoring.utterance import UtteranceScore

def _sum_rows(rows: Iterable[Sequence[int]]) -> list[int]:
    total = [0] * N_COLUMNS
    for r in rows:
        for k in range(N_COLUMNS):
            total[k] += r[k]
    return total


def _group(row: Sequence[int]) -> dict[str, Any]:
    return rates(*row[:N_COLUMNS])  # the N_* columns in rates' order


def _utterance(u: UtteranceScore, alignments: bool) -> dict[str, Any]:
    al = u.alignment
    entities = []
    d: dict[str, Any] = {"id": u.id, "wer": al.wer, "ref_words": len(al.ref), "errors": al.errors,
                         "entities": entities}
    for category, ref, hyp, errors, ref_words, ref_norm, hyp_norm, seen, start, end, word_start, word_end \
            in u.entities:
        ed = {"category": category, "ref": ref, "hyp": hyp, "correct": errors == 0, "errors": errors,
              "ref_words": ref_words, "ref_norm": ref_norm, "hyp_norm": hyp_norm, "start": start,
              "end": end, "word_start": word_start, "word_end": word_end}
        if seen is not None:
            ed["seen"] = seen
        entities.append(ed)
    if u.unscorable:
        d["unscorable_entities"] = [s.to_dict() for s in u.unscorable]
    if u.keyphrases is not None:
        d["keyphrases"] = u.keyphrases.per_phrase
    if alignments:
        d["alignment"] = {"ref": al.ref, "hyp": al.hyp,
                          "chunks": al.chunks}  # (code, ref_start, ref_end, hyp_start, hyp_end) tuples
    return d


def _worst_confusions(details: Sequence[UtteranceScore], limit: int) -> list[dict[str, Any]]:
    """The most frequent (category, reference, hypothesis) entity errors, compared on normalised words."""
    counts: Counter[tuple[str, str, str]] = Counter()
    example: dict[tuple[str, str, str], tuple[str, str]] = {}
    errors: Counter[tuple[str, str, str]] = Counter()
    for u in details:
        for category, ref, hyp, n_errors, _, ref_norm, hyp_norm, _, _, _, _, _ in u.entities:
            if not n_errors:
                continue
            key = (category, ref_norm, hyp_norm)
            counts[key] += 1
            errors[key] += n_errors
            if key not in example:
                example[key] = (ref, hyp)
    return _ranked(counts, errors, example, limit)


def _ranked(counts: Counter, errors: Counter, example: dict, limit: int) -> list[dict[str, Any]]:
    ranked = sorted(counts, key=lambda k: (-counts[k], -errors[k], k))[:limit]
    return [{"category": k[0], "ref": example[k][0], "hyp": example[k][1], "ref_norm": k[1], "hyp_norm": k[2],
             "count": counts[k], "errors": errors[k]} for k in ranked]


def build_report(counts: Counts, details: Sequence[UtteranceScore] = (), *, alignments: bool = True,
                 max_confusions: int = 20) -> dict[str, Any]:
    """The report dict from a metric's counts and its per-utterance details."""
    w = counts.words
    total = _sum_rows(counts.by_category)
    errors = w[W_SUB] + w[W_DEL] + w[W_INS]
    ent = _group(total)
    report: dict[str, Any] = {
        "wer": errors / w[W_REF] if w[W_REF] else None,
        "entity_wer": ent["entity_wer"],
        "entity_accuracy": ent["entity_accuracy"],
        "num_utterances": w[W_UTTS],
        "num_entities": ent["num_entities"],
        "entity_errors": ent["errors"],
        "entity_ref_words": ent["ref_words"],
        "substitutions": w[W_SUB],
        "deletions": w[W_DEL],
        "insertions": w[W_INS],
        "ref_words": w[W_REF],
        "num_unscorable_entities": w[W_UNSCORABLE],
        # not errors: words and entities that differ from the reference only by a missing currency
        "format_only_words": w[W_FORMAT],
        "format_only_entities": total[N_FORMAT_ONLY],
        "categories": {c: _group(r) for c, r in zip(counts.categories, counts.by_category) if r[N_ENTITIES]},
        "unseen": _group(_sum_rows(counts.unseen)),
        "unseen_categories": {c: _group(r) for c, r in zip(counts.categories, counts.unseen) if r[N_ENTITIES]},
        "keyphrases": None,
    }
    mapped = _finance_view(counts)
    if mapped is not None:
        report["finance_categories"] = mapped
    if counts.keyphrases is not None:
        hits, fa, miss = counts.keyphrases
        report["keyphrases"] = {**prf(hits, fa, miss), "hits": hits, "false_alarms": fa, "misses": miss,
                                "top_false_alarms": _top_phrases(details, 1), "top_misses": _top_phrases(details, 2)}
    report["utterances"] = [_utterance(u, alignments) for u in details]
    report["confusions"] = _worst_confusions(details, max_confusions)
    return report


def _finance_view(counts: Counts) -> dict[str, Any] | None:
    """Earnings-21 types folded into FinParakeet's categories (DATE + YEAR -> PERIOD, ...), when any was folded."""
    rows: dict[str, list[int]] = {}
    folded = False
    for c, r in zip(counts.categories, counts.by_category):
        target = c if c in FINANCE_CATEGORIES else EARNINGS21_TO_FINANCE.get(c)
        if target is None or not r[N_ENTITIES]:
            continue
        folded |= target != c
        acc = rows.setdefault(target, [0] * N_COLUMNS)
        for k in range(N_COLUMNS):
            acc[k] += r[k]
    if not folded:
        return None
    return {c: _group(rows[c]) for c in FINANCE_CATEGORIES if c in rows}


def _top_phrases(details: Sequence[UtteranceScore], column: int, limit: int = 20) -> list[dict[str, Any]]:
    c: Counter[str] = Counter()
    for u in details:
        for phrase, v in (u.keyphrases.per_phrase.items() if u.keyphrases else ()):
            if v[column]:
                c[phrase] += v[column]
    return [{"phrase": p, "count": n} for p, n in c.most_common(limit)]


def nested(d: Mapping[str, Any] | None, *keys: str) -> Any:
    """``d[k1][k2]...``, or None where a level is missing (a report without key phrases, say)."""
    for k in keys:
        if not isinstance(d, Mapping):
            return None
        d = d.get(k)
    return d


def flat_scalars(report: Mapping[str, Any]) -> dict[str, float]:
    """Scalars for a logger: ``wer``, ``entity_wer``, ``entity_accuracy``, ``entity_wer/<CAT>``, ``unseen/...``,
    ``keyphrase_f1``...; rates that are undefined are left out."""
    out: dict[str, float] = {}
    for k in ("wer", "entity_wer", "entity_accuracy"):
        if report.get(k) is not None:
            out[k] = float(report[k])
    for cat, g in report.get("categories", {}).items():
        for k in ("entity_wer", "entity_accuracy"):
            if g[k] is not None:
                out[f"{k}/{cat}"] = float(g[k])
    for k in ("entity_wer", "entity_accuracy"):
        if report.get("unseen", {}).get(k) is not None:
            out[f"unseen/{k}"] = float(report["unseen"][k])
    if report.get("keyphrases"):
        for k in ("precision", "recall", "f1"):
            out[f"keyphrase_{k}"] = float(report["keyphrases"][k])
    return out


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def _md(s: Any) -> str:
    # Table cells: a pipe or a line break would end the cell.
    return str(s).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "\\`") or "∅"


def to_markdown(report: Mapping[str, Any], max_confusions: int = 20, max_utterances: int = 20) -> str:
    """Summary, per-category table, unseen, key phrases, worst confusions, skipped rows, worst utterances."""
    r = report
    lines = ["# Entity report", "",
             "| measure | value |", "| --- | --- |",
             f"| WER | {_pct(r['wer'])} |",
             f"| entity WER | {_pct(r['entity_wer'])} |",
             f"| entity accuracy | {_pct(r['entity_accuracy'])} |",
             f"| utterances | {r['num_utterances']} |",
             f"| entities | {r['num_entities']} |"]
    if "num_rows_scored" in r:
        lines.append(f"| rows scored / skipped | {r['num_rows_scored']} / {len(r.get('skipped', []))} |")
    lines += ["", "## Per category", "",
              "| category | entities | entity WER | accuracy | errors | ref words | format only |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for cat, g in r["categories"].items():
        lines.append(f"| {_md(cat)} | {g['num_entities']} | {_pct(g['entity_wer'])} | {_pct(g['entity_accuracy'])} "
                     f"| {g['errors']} | {g['ref_words']} | {g.get('format_only', 0)} |")
    lines += ["", "Format only: correct entities that differ from the reference only by a missing currency "
              "(\"329.3 million\" for \"$329.3 million\"); not errors."]
    u = r["unseen"]
    lines += ["", "## Unseen entities", "",
              f"{u['num_entities']} entities marked unseen: entity WER {_pct(u['entity_wer'])}, "
              f"accuracy {_pct(u['entity_accuracy'])}."]
    kp = r.get("keyphrases")
    if kp:
        lines += ["", "## Key phrases", "",
                  f"precision {_pct(kp['precision'])}, recall {_pct(kp['recall'])}, F1 {_pct(kp['f1'])} "
                  f"({kp['hits']} hits, {kp['false_alarms']} false alarms, {kp['misses']} misses)."]
        if kp.get("top_false_alarms"):
            lines.append("Most frequent false alarms: "
                         + ", ".join(f"{_md(p['phrase'])} ({p['count']})" for p in kp["top_false_alarms"][:10]) + ".")
    conf = r.get("confidence")
    if conf:
        lines += ["", "## Confidence", "",
                  f"How well entity confidence ({conf['aggregation']} of its words' NeMo confidence) finds entity "
                  f"errors, over {conf['num_entities']} reference entities ({conf['num_errors']} wrong, "
                  f"{conf['num_deleted']} of them wholly deleted):", "",
                  "| measure | value |", "| --- | --- |",
                  f"| AUROC (errors vs correct) | {_num(conf['auroc'])} |",
                  f"| AUROC without deleted entities | {_num(conf['auroc_heard'])} |"]
        lines += [f"| errors caught by the least confident {share} | {_pct(v)} |"
                  for share, v in conf["catch_rate"].items()]
        lines.append(f"| ECE, raw | {_num(conf['ece'])} |")
        if "ece_calibrated" in conf:
            lines.append(f"| ECE, calibrated ({conf['calibration']['method']}) | {_num(conf['ece_calibrated'])} |")
        if conf.get("reliability"):
            lines += ["", f"Reliability diagram: `{RELIABILITY_PNG}`; the least confident entities, with an audio "
                      f"player at each, in `{REPORT_HTML}`."]
    lines += ["", "## Worst confusions", "", "| category | reference | hypothesis | count |",
              "| --- | --- | --- | ---: |"]
    for c in r.get("confusions", [])[:max_confusions]:
        lines.append(f"| {_md(c['category'])} | {_md(c['ref'])} | {_md(c['hyp'])} | {c['count']} |")
    if r.get("skipped"):
        lines += ["", "## Skipped rows", ""]
        lines += [f"- {_md(s.get('source', ''))}:{s.get('line', '?')}: {_md(s['reason'])}" for s in r["skipped"]]
    worst = sorted(r["utterances"], key=lambda x: (-sum(not e["correct"] for e in x["entities"]), x["id"]))
    worst = [x for x in worst if any(not e["correct"] for e in x["entities"])][:max_utterances]
    if worst:
        lines += ["", "## Utterances with the most entity errors", "", "| id | WER | wrong entities | examples |",
                  "| --- | ---: | ---: | --- |"]
        for x in worst:
            bad = [e for e in x["entities"] if not e["correct"]]
            ex = "; ".join(f"{_md(e['ref'])} → {_md(e['hyp'])}" for e in bad[:3])
            lines.append(f"| {_md(x['id'])} | {_pct(x['wer'])} | {len(bad)} / {len(x['entities'])} | {ex} |")
    return "\n".join(lines) + "\n"


def summary_lines(report: Mapping[str, Any], categories: bool = True) -> list[str]:
    """A short plain-text summary for a terminal."""
    r = report
    lines = [f"utterances {r['num_utterances']}  entities {r['num_entities']}  WER {_pct(r['wer'])}  "
             f"entity WER {_pct(r['entity_wer'])}  entity accuracy {_pct(r['entity_accuracy'])}"]
    if "num_rows_scored" in r:
        lines.append(f"rows scored {r['num_rows_scored']}, skipped {r.get('num_skipped', len(r.get('skipped', [])))}")
        for s in r.get("skipped", [])[:10]:
            lines.append(f"  skipped {s.get('source')}:{s.get('line')}: {s['reason']}")
    if r["unseen"]["num_entities"]:
        u = r["unseen"]
        lines.append(f"unseen entities {u['num_entities']}: entity WER {_pct(u['entity_wer'])}, "
                     f"accuracy {_pct(u['entity_accuracy'])}")
    if r.get("keyphrases"):
        k = r["keyphrases"]
        lines.append(f"key phrases: precision {_pct(k['precision'])} recall {_pct(k['recall'])} F1 {_pct(k['f1'])} "
                     f"({k['false_alarms']} false alarms)")
    if categories and r["categories"]:
        lines.append(f"{'category':<14}{'entities':>9}{'entity WER':>12}{'accuracy':>10}")
        for c, g in r["categories"].items():
            lines.append(f"{c:<14}{g['num_entities']:>9}{_pct(g['entity_wer']):>12}{_pct(g['entity_accuracy']):>10}")
    return lines


REPORT_JSON, REPORT_MD, REPORT_HTML = "entity_report.json", "entity_report.md", "entity_report.html"
DETAILS_JSONL_GZ = "entity_report.details.jsonl.gz"
# An utterance longer than this (reference words, e.g. a whole earnings call) keeps only its counts in
# entity_report.json; its entity list and alignment go to the compressed side file. One Earnings-21 system inline
# is ~27 MB of JSON, nearly all of it per-word alignment and per-entity rows of 44 calls.
INLINE_WORDS = 1000


def split_details(report: Mapping[str, Any], inline_words: int = INLINE_WORDS
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report with each long utterance cut down to its counts (plus ``num_entities``, ``num_wrong`` and
    ``"details": DETAILS_JSONL_GZ``), and those utterances whole, in order (the side file's rows)."""
    utterances, details = [], []
    for u in report["utterances"]:
        if u["ref_words"] <= inline_words:
            utterances.append(u)
            continue
        details.append(u)
        stub = {k: v for k, v in u.items() if k not in ("entities", "alignment", "unscorable_entities", "keyphrases")}
        stub.update(num_entities=len(u["entities"]), num_wrong=sum(not e["correct"] for e in u["entities"]),
                    details=DETAILS_JSONL_GZ)
        utterances.append(stub)
    return {**report, "utterances": utterances}, details


def write_reports(report: Mapping[str, Any], output_dir: str | Path,
                  inline_words: int = INLINE_WORDS) -> dict[str, Path]:
    """Write ``entity_report.json`` (long utterances' details in ``entity_report.details.jsonl.gz``, only when
    there are any), ``entity_report.md`` and ``entity_report.html`` into ``output_dir``; ``read_report`` reads
    the JSON back whole."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / REPORT_JSON, "md": out / REPORT_MD, "html": out / REPORT_HTML}
    summary, details = split_details(report, inline_words)
    if details:
        paths["details"] = out / DETAILS_JSONL_GZ
        # Level 1: a fifth of the size, in a tenth of the time of the default level.
        with gzip.open(paths["details"], "wt", encoding="utf-8", compresslevel=1) as f:
            f.writelines(json.dumps(u, ensure_ascii=False, separators=(",", ":")) + "\n" for u in details)
    else:
        (out / DETAILS_JSONL_GZ).unlink(missing_ok=True)  # a stale one from an earlier report in this directory
    # No indent: json's C encoder only runs without one (indented, the dump took most of the writing time).
    paths["json"].write_text(json.dumps(summary, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["md"].write_text(to_markdown(report), encoding="utf-8")
    paths["html"].write_text(to_html(report, out), encoding="utf-8")
    reliability = nested(report, "confidence", "reliability")
    if reliability:
        paths["png"] = write_reliability_diagram(reliability, out / RELIABILITY_PNG)
    else:
        (out / RELIABILITY_PNG).unlink(missing_ok=True)  # a stale one would describe another transcript
    return paths


def read_report(path: str | Path) -> dict[str, Any]:
    """An ``entity_report.json`` with the details of its long utterances read back from the side file next to it
    (the report ``write_reports`` was given)."""
    path = Path(path)
    report = json.loads(path.read_text(encoding="utf-8"))
    stubs = [k for k, u in enumerate(report["utterances"]) if "details" in u]
    if stubs:
        side = path.parent / report["utterances"][stubs[0]]["details"]
        with gzip.open(side, "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        if len(rows) != len(stubs):
            raise ValueError(f"{side} has {len(rows)} utterances, {path} refers to {len(stubs)}: "
                             "the two files come from different runs; write the report again")
        for k, row in zip(stubs, rows):
            report["utterances"][k] = row
    return report
