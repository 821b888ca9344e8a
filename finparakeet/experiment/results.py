"""The results table of the experiment: ``experiment.json`` (the record), its Markdown table, chart and goals.

RESULTS.md shows ``render_markdown`` of the committed JSON (:mod:`.book` renders it; a test checks it), so table and
JSON cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from finparakeet.entities import FINANCE_CATEGORIES
from finparakeet.inference.pipeline import BOOSTED, NO_BOOSTING
from finparakeet.scoring.report import nested

MODES = (NO_BOOSTING, BOOSTED)
ADAPTED = ("adapt_linear", "adapt_linear_all")  # the systems the goals call "general + adapters"


def summarize_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The scalars of an entity report that the table keeps."""
    cats = {c: {k: v[k] for k in ("entity_wer", "entity_accuracy", "num_entities")}
            for c, v in (report.get("categories") or {}).items() if c in FINANCE_CATEGORIES}
    unseen = report.get("unseen") or {}
    kp = report.get("keyphrases") or {}
    return {"wer": report["wer"], "entity_wer": report["entity_wer"], "entity_accuracy": report["entity_accuracy"],
            "num_utterances": report["num_utterances"], "num_entities": report["num_entities"],
            "categories": cats,
            "unseen": {k: unseen.get(k) for k in ("entity_wer", "entity_accuracy", "num_entities")},
            "keyphrases": {k: kp.get(k) for k in ("precision", "recall", "f1", "hits", "false_alarms", "misses")}
            if kp else None}


def same_transcripts(rows: list[Mapping[str, Any]], base_rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Whether two decodes of the same input gave the same text row by row."""
    a = [r.get("pred_text") for r in rows]
    b = [r.get("pred_text") for r in base_rows]
    diff = sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
    return {"equal": diff == 0, "differing_rows": diff, "rows": max(len(a), len(b))}


def evaluate_goals(systems: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Issue 6's goals, each with the numbers it was judged on (``met`` None when a system is missing)."""
    goals: dict[str, dict[str, Any]] = {}
    base, scratch = systems.get("general_base"), systems.get("finance_scratch")
    base_wer = nested(base, "general_test_wer")
    goals["general_base_wer_le_0.20"] = {"met": None if base_wer is None else base_wer <= 0.20, "general_wer": base_wer}
    for key in ADAPTED:
        s = systems.get(key)
        if s is None:
            continue
        ew = nested(s, "finance", NO_BOOSTING, "entity_wer")
        b_ew = nested(base, "finance", NO_BOOSTING, "entity_wer")
        s_ew = nested(scratch, "finance", NO_BOOSTING, "entity_wer")
        goals[f"{key}_beats_base_and_scratch"] = {
            "met": None if None in (ew, b_ew, s_ew) else ew < b_ew and ew < s_ew,
            "entity_wer": ew, "base_entity_wer": b_ew, "scratch_entity_wer": s_ew}
        gw = s.get("general_test_wer")
        goals[f"{key}_general_wer_cost_le_2_points"] = {
            "met": None if None in (gw, base_wer) else gw - base_wer <= 0.02,
            "general_wer": gw, "base_general_wer": base_wer}
        off = s.get("adapters_off")
        goals[f"{key}_adapters_off_equals_base"] = {"met": None if off is None else off["equal"], **(off or {})}
        no, yes = nested(s, "finance", NO_BOOSTING), nested(s, "finance", BOOSTED)
        if no and yes:
            d_all = no["entity_wer"] - yes["entity_wer"]
            d_unseen = (no["unseen"]["entity_wer"] or 0) - (yes["unseen"]["entity_wer"] or 0)
            prec, hits = nested(yes, "keyphrases", "precision"), nested(yes, "keyphrases", "hits")
            goals[f"{key}_boosting_lowers_entity_wer_most_on_unseen"] = {
                "met": d_all > 0 and d_unseen >= d_all, "entity_wer_drop": round(d_all, 4),
                "unseen_entity_wer_drop": round(d_unseen, 4)}
            # No hit at all is no evidence: precision is 1 by convention when nothing was written.
            goals[f"{key}_keyphrase_precision_ge_0.9"] = {"met": bool(hits) and prec is not None and prec >= 0.9,
                                                         "precision": prec, "hits": hits}
    return goals


def pct(x: Any) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _dur(seconds: Any) -> str:
    if seconds is None:
        return "–"
    m = round(seconds / 60)
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def _params(n: Any) -> str:
    if n is None:
        return "–"
    return f"{n / 1e6:.2f}M" if n >= 1e5 else f"{n / 1e3:.1f}k"


def render_markdown(doc: Mapping[str, Any]) -> str:
    """The README block: the main table, entity WER per category, the goals, and how the numbers were made."""
    systems = doc["systems"]
    out = ["| system | decoding | trainable | steps | train time | general WER | finance WER | entity WER "
           "| entity acc. | unseen entity WER | key-phrase P / R / F1 |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for key, s in systems.items():
        for mode in MODES:
            r = nested(s, "finance", mode)
            if r is None:
                continue
            kp = r.get("keyphrases") or {}
            first = mode == NO_BOOSTING
            out.append(" | ".join([
                f"| {s['label'] if first else ''}", "no boosting" if first else "boosting",
                _params(s.get("trainable_params")) if first else "", str(s.get("train_steps") or "–") if first else "",
                _dur(s.get("train_wall_seconds")) if first else "", pct(s.get("general_test_wer")) if first else "",
                pct(r["wer"]), pct(r["entity_wer"]), pct(r["entity_accuracy"]), pct(r["unseen"]["entity_wer"]),
                " / ".join(pct(kp.get(k)) for k in ("precision", "recall", "f1")) + " |"]))
    cats = [c for c in FINANCE_CATEGORIES
            if any(c in (nested(s, "finance", NO_BOOSTING, "categories") or {}) for s in systems.values())]
    out += ["", "Entity WER (%) per category on the finance test split, no boosting / boosting:", "",
            "| system | " + " | ".join(cats) + " |", "| --- |" + " ---: |" * len(cats)]
    for s in systems.values():
        cells = []
        for c in cats:
            no, yes = (nested(s, "finance", m, "categories", c, "entity_wer") for m in MODES)
            cells.append(f"{pct(no)} / {pct(yes)}")
        out.append(f"| {s['label']} | " + " | ".join(cells) + " |")
    out += ["", "| goal | met | numbers |", "| --- | --- | --- |"]
    for name, g in doc.get("goals", {}).items():
        nums = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in g.items() if k != "met")
        out.append(f"| {name} | {'–' if g['met'] is None else ('yes' if g['met'] else 'no')} | {nums} |")
    tuned = {s["label"]: s for s in systems.values() if s.get("boosting_dev_sweep")}
    if tuned:
        alphas = list(next(iter(tuned.values()))["boosting_dev_sweep"])
        out += ["", "Boosting weight (`alpha`) chosen per system on the finance dev split — dev entity WER (%) per alpha:",
                "", "| system | chosen | " + " | ".join(alphas) + " |", "| --- | ---: |" + " ---: |" * len(alphas)]
        for label, s in tuned.items():
            sweep = s["boosting_dev_sweep"]
            out.append(f"| {label} | {s['boosting_alpha']:g} | "
                       + " | ".join(pct((sweep.get(a) or {}).get("entity_wer")) for a in alphas) + " |")
    d = doc.get("data", {})
    out += ["", f"Data: finance train {nested(d, 'finance', 'train_hours')} h ({nested(d, 'finance', 'train_utterances')} "
            f"utterances), finance test {nested(d, 'finance', 'test_utterances')} utterances "
            f"({nested(d, 'finance', 'test_unseen_share')} of test entities unseen in training); general train "
            f"{nested(d, 'general', 'train_hours')} h ({nested(d, 'general', 'train_utterances')} utterances), general test "
            f"{nested(d, 'general', 'test_utterances')} utterances. Bias list: {doc.get('bias_list', {}).get('phrases')} "
            f"lexicon phrases. Machine: {doc.get('machine', {}).get('description', '?')}. Total training time "
            f"{_dur(doc.get('total_train_seconds'))}."]
    return "\n".join(out) + "\n"


def write_chart(doc: Mapping[str, Any], path: Path) -> Path:
    """Entity WER without/with boosting and general WER per system, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = list(doc["systems"].values())
    labels = [s["label"].replace(" + ", "\n+ ").replace(" from ", "\nfrom ") for s in systems]
    series = [("entity WER, no boosting", [nested(s, "finance", NO_BOOSTING, "entity_wer") for s in systems]),
              ("entity WER, boosting", [nested(s, "finance", BOOSTED, "entity_wer") for s in systems]),
              ("unseen entity WER, boosting", [nested(s, "finance", BOOSTED, "unseen", "entity_wer") for s in systems]),
              ("general-test WER", [s.get("general_test_wer") for s in systems])]
    fig, ax = plt.subplots(figsize=(10, 4.8), dpi=110)
    width = 0.8 / len(series)
    for i, (name, vals) in enumerate(series):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(systems))]
        ax.bar(xs, [100 * (v or 0) for v in vals], width, label=name)
    ax.set_xticks(range(len(systems)), labels, fontsize=8)
    ax.set_ylabel("%  (lower is better)")
    ax.set_title("Start big, then fine-tune — tiny TDT on synthetic speech")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_results(doc: Mapping[str, Any], markdown: str, output_dir: Path) -> dict[str, Path]:
    """``experiment.json``, ``experiment.md`` (``markdown``: ``render_markdown(doc)``) and ``experiment.png``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": output_dir / "experiment.json", "md": output_dir / "experiment.md",
             "png": output_dir / "experiment.png"}
    paths["json"].write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["md"].write_text(markdown, encoding="utf-8")
    write_chart(doc, paths["png"])
    return paths
