"""The issue-13/14/15 record (``experiment.json``, ``schema`` 2) as Markdown: the systems table, long-form calls,
entity WER per category, the weights chosen on dev, replay, the LM, entity confidence, the goals, and the command of
every row."""

from __future__ import annotations

from typing import Any, Mapping

from finparakeet.entities import FINANCE_CATEGORIES
from finparakeet.experiment.decodes import HELDOUT, MODE_LABELS, MODES, SEEN
from finparakeet.experiment.fmt import dur, params, pct
from finparakeet.scoring.report import nested

__all__ = ["render_table"]


def _rows(s: Mapping[str, Any], part: str) -> list[tuple[str, Mapping[str, Any]]]:
    return [(m, s[part][m]) for m in MODES if m in (s.get(part) or {})]


def _weights(r: Mapping[str, Any]) -> str:
    parts = ([f"α {r['alpha']:g}"] if r.get("alpha") is not None else []) + \
            ([f"λ {r['lm_alpha']:g}"] if r.get("lm_alpha") is not None else [])
    return ", ".join(parts) or "–"


def _kp(r: Mapping[str, Any]) -> str:
    kp = r.get("keyphrases") or {}
    return " / ".join(pct(kp.get(k)) for k in ("precision", "recall")) if kp else "–"


def _main(systems: Mapping[str, Mapping[str, Any]]) -> list[str]:
    out = ["Finance test calls and the general test (WER, entity WER %): entity WER also on the seen and the held-out "
           "voices and on unseen entities; key phrases scored against the list decoded with (no list: the per-call "
           "lists); weights chosen on the finance dev split (α boosting, λ LM).", "",
           "| system | decoding | trainable | steps | train time | general WER | finance WER | entity WER "
           "| seen voices | held-out voices | unseen entities | key-phrase P / R | weight (dev) |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for s in systems.values():
        for i, (mode, r) in enumerate(_rows(s, "finance")):
            first = i == 0
            out.append(" | ".join([
                f"| {s['label'] if first else ''}", MODE_LABELS[mode],
                params(s.get("trainable_params")) if first else "", str(s.get("train_steps") or "–") if first else "",
                dur(s.get("train_wall_seconds")) if first else "", pct(nested(s, "general", mode, "wer")),
                pct(r["wer"]), pct(r["entity_wer"]), pct(nested(r, "voices", SEEN, "entity_wer")),
                pct(nested(r, "voices", HELDOUT, "entity_wer")), pct(nested(r, "unseen", "entity_wer")), _kp(r),
                _weights(r) + " |"]))
    return out


def _longform(systems: Mapping[str, Mapping[str, Any]], data: Mapping[str, Any]) -> list[str]:
    rows = [(s, m, r) for s in systems.values() for m, r in _rows(s, "longform")]
    if not rows:
        return []
    lf = data.get("longform") or {}
    each = ", ".join(f"{m:g}" for m in lf.get("minutes_each") or [])
    out = ["", f"Call-length recordings: the finance test calls joined into {lf.get('recordings', '?')} recording(s) "
           f"({each} min), decoded with `long_audio` windows, without and with the union of their calls' lists:", "",
           "| system | decoding | WER | entity WER | key-phrase P / R | RTFx |",
           "| --- | --- | ---: | ---: | --- | ---: |"]
    for s, m, r in rows:
        secs = r.get("decode_seconds")
        rtfx = f"{60 * sum(lf.get('minutes_each') or []) / secs:.0f}" if secs and lf.get("minutes_each") else "–"
        out.append(f"| {s['label']} | {MODE_LABELS[m]} | {pct(r['wer'])} | {pct(r['entity_wer'])} | {_kp(r)} | "
                   f"{rtfx} |")
    return out


def _categories(systems: Mapping[str, Mapping[str, Any]]) -> list[str]:
    cats = [c for c in FINANCE_CATEGORIES if any(c in (r.get("categories") or {}) for s in systems.values()
                                                 for _, r in _rows(s, "finance"))]
    out = ["", "Entity WER (%) per category on the finance test split:", "",
           "| system | decoding | " + " | ".join(cats) + " |", "| --- | --- |" + " ---: |" * len(cats)]
    for s in systems.values():
        for i, (mode, r) in enumerate(_rows(s, "finance")):
            out.append(f"| {s['label'] if i == 0 else ''} | {MODE_LABELS[mode]} | "
                       + " | ".join(pct(nested(r, "categories", c, "entity_wer")) for c in cats) + " |")
    return out


def _sweeps(systems: Mapping[str, Mapping[str, Any]]) -> list[str]:
    sweeps = [(s["label"], kind, t) for s in systems.values() for kind, t in (s.get("alphas") or {}).items()]
    sweeps += [(s["label"], "LM weight λ", s["lm_alpha"]) for s in systems.values() if s.get("lm_alpha")]
    if not sweeps:
        return []
    out = ["", "Weights chosen on the finance dev split (boosting `boosting_tree_alpha` per list, and the LM's "
           "`ngram_lm_alpha`): the lowest dev entity WER wins. Dev entity WER (%) per candidate:", ""]
    for label, kind, t in sweeps:
        out.append(f"- {label}, {MODE_LABELS.get(kind, kind)}: chosen {t['chosen']:g} — "
                   + ", ".join(f"{a}: {pct(v['entity_wer'])}" for a, v in t["dev"].items()))
    return out


def _replay(systems: Mapping[str, Mapping[str, Any]]) -> list[str]:
    s = next((s for s in systems.values() if s.get("replay")), None)
    if s is None:
        return []
    rp = s["replay"]
    out = ["", f"Replay share chosen on dev for {s['label']} ({rp['criterion']}; general dev: the first "
           f"{rp.get('general_dev_utterances') or 'all'} utterances, base {pct(rp['base_general_dev_wer'])}):", "",
           "| share | run | general dev WER | finance dev entity WER | chosen |", "| ---: | --- | ---: | ---: | --- |"]
    for share, d in rp["candidates"].items():
        out.append(f"| {share} | `{d['run']}` | {pct(d['general_dev_wer'])} | {pct(d['finance_dev_entity_wer'])} | "
                   f"{'yes' if float(share) == rp['share'] else ''} |")
    return out


def _confidence(systems: Mapping[str, Mapping[str, Any]]) -> list[str]:
    s = next((s for s in systems.values() if s.get("confidence")), None)
    if s is None:
        return []
    c = s["confidence"]
    t, m = c["test"], c["test"].get("confidence") or {}
    caught, ceiling = m.get("catch_rate") or {}, t.get("catch_ceiling") or {}
    out = ["", f"Entity confidence of {s['label']} (per-call lists, α {c['alpha']:g}): NeMo's word confidence "
           f"aggregated per entity; method and aggregation chosen by {c['criterion']}; calibration "
           f"({c['calibration']}) fitted on that dev transcript"
           + (f" — none: {c['uncalibrated_because']}" if c.get("uncalibrated_because") else "")
           + ". Dev AUROC per candidate:", "",
           "| method | " + " | ".join(next(iter(c["dev"].values()))) + " |",
           "| --- |" + " ---: |" * len(next(iter(c["dev"].values())))]
    for name, row in c["dev"].items():
        out.append(f"| {name} | " + " | ".join("–" if v.get("auroc") is None else f"{v['auroc']:.3f}"
                                               for v in row.values()) + " |")
    out += ["", f"Finance test, {c['method']} / {c['aggregation']}: {m.get('num_entities')} reference entities, "
            f"{m.get('num_errors')} wrong; AUROC {_f3(m.get('auroc'))}; the least confident 10% / 20% catch "
            f"{pct(caught.get('10%'))}% / {pct(caught.get('20%'))}% of the errors (at most "
            f"{pct(ceiling.get('10%'))}% / {pct(ceiling.get('20%'))}%: a queue that short holds no more); "
            f"ECE {_f3(m.get('ece'))} raw, "
            f"{_f3(m.get('ece_calibrated'))} calibrated. `{t['command']}`"]
    return out


def _f3(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _goals(goals: Mapping[str, Mapping[str, Any]]) -> list[str]:
    out = ["", "| goal | met | numbers |", "| --- | --- | --- |"]
    for name, g in goals.items():
        nums = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in g.items() if k != "met")
        out.append(f"| {name} | {'–' if g['met'] is None else ('yes' if g['met'] else 'no')} | {nums} |")
    return out + ["", "Speed goals (decoding with LM fusion ≤ 1.3×, with confidence ≤ 1.2× the same decode without) "
                  "are judged by the benchmarks below, which time both modes in one process, warmed up and alternated; "
                  "the decodes here ran once each, in different sittings under different load."]


def _commands(systems: Mapping[str, Mapping[str, Any]], lm: Mapping[str, Any] | None) -> list[str]:
    out = ["", "The command of every row (the experiment makes the same library calls in one process; with "
           "`boosting.compare=true` one command makes two rows):", ""]
    if lm:
        out.append(f"- the LM: `{lm['command']}`")
    for s in systems.values():
        rows: dict[str, list[str]] = {}
        for part, where in (("finance", "finance test"), ("general", "general test"), ("longform", "call recordings")):
            for mode, r in _rows(s, part):
                if r.get("command"):
                    rows.setdefault(r["command"], []).append(f"{where}, {MODE_LABELS[mode]}")
        out += [f"- {s['label']}, {' + '.join(names)}: `{cmd}`" for cmd, names in rows.items()]
    return out


def render_table(doc: Mapping[str, Any]) -> str:
    """The RESULTS.md block of a schema-2 record."""
    systems, data = doc["systems"], doc.get("data") or {}
    out = _main(systems)
    if any(nested(s, "finance", "per_call_prompt") for s in systems.values()):
        out += ["", "Whisper's per-call list as `hotwords` and as `initial_prompt` is the same prompt on utterances "
                "under 30 s (faster-whisper puts either text after `<|startofprev|>`), so those rows are the same "
                "transcripts; the two modes part only on longer audio, where `hotwords` precedes every window."]
    for what, why in (doc.get("skipped") or {}).items():
        out += ["", f"**{what}: skipped** — {why}"]
    out += _longform(systems, data) + _categories(systems) + _sweeps(systems) + _replay(systems)
    best = doc.get("best_adapted") or {}
    if best.get("system"):
        out += ["", f"Best adapted system (LM fusion and call recordings besides the base): "
                f"{systems[best['system']]['label']} — {best['criterion']}."]
    lm = doc.get("lm")
    if lm:
        src = ", ".join(f"{x['kind']} ({len(x.get('calls') or [])} calls)" for x in lm.get("sources") or [])
        out += ["", f"LM: order {lm['order']} over the model's tokens, from {src}: {lm['lines']} lines, "
                f"{lm['tokens']} tokens, built in {lm['build_seconds']} s (lmplz {lm['lmplz_seconds']} s)."]
    out += _confidence(systems) + _goals(doc.get("goals") or {})
    fin, gen = data.get("finance") or {}, data.get("general") or {}
    lists = doc.get("bias_lists") or {}
    out += ["", f"Data: finance train {fin.get('train_hours')} h ({fin.get('train_utterances')} utterances in calls), "
            f"finance test {fin.get('test_utterances')} utterances ({fin.get('test_unseen_share')} of test entities "
            f"unseen in training); general train {gen.get('train_hours')} h ({gen.get('train_utterances')} "
            f"utterances), general test {gen.get('test_utterances')} utterances. Lists: lexicon "
            f"{nested(lists, 'lexicon', 'phrases')} phrases; per-call lists from {nested(lists, 'per_call', 'calls')} "
            f"calls' metadata ({nested(lists, 'per_call', 'phrases_per_call')} phrases each on average). Machine: "
            f"{nested(doc, 'machine', 'description') or '?'}. Training {dur(doc.get('total_train_seconds'))} in all, "
            f"decoding {dur(doc.get('total_decode_seconds'))} (every decode pass, summed over all sittings); this "
            f"run of `{doc.get('command', 'make experiment')}` took {dur(doc.get('run_seconds'))}."]
    out += _commands(systems, lm)
    return "\n".join(out) + "\n"
