"""The issue-6 record (``experiment.json`` without ``schema``: no list / lexicon list, no calls, LM or Whisper) as
RESULTS.md shows it until ``make experiment`` writes the issue-13/14 record (:mod:`.table`)."""

from __future__ import annotations

from typing import Any, Mapping

from finparakeet.entities import FINANCE_CATEGORIES
from finparakeet.experiment.fmt import dur as _dur, params as _params, pct
from finparakeet.scoring.report import nested

__all__ = ["render_legacy"]

NO_BOOSTING, BOOSTED = "no_boosting", "boosting"  # the decodes of an issue-6 record
MODES = (NO_BOOSTING, BOOSTED)


def render_legacy(doc: Mapping[str, Any]) -> str:
    """The issue-6 table, entity WER per category, the goals, and how the numbers were made."""
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
