"""A self-contained HTML page for an entity report: inline CSS, an inline-SVG per-category chart (with the mean
entity confidence when the report has a confidence section), the confidence metrics and reliability diagram, the
review queue with an audio player at each entity, worst confusions, and side-by-side alignments with entities
highlighted. No script, nothing fetched but the report's own reliability PNG and the audio. Every piece of transcript
text goes through ``html.escape``, every path through ``urllib.parse.quote``.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import quote

from finparakeet.scoring.reliability import RELIABILITY_PNG

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
td.n{text-align:right}h2{margin-top:1.6em}.muted{color:#777}
.al{display:flex;flex-wrap:wrap;gap:2px 0;font-family:ui-monospace,monospace;font-size:12px;margin:.4em 0 1em}
.c{display:inline-flex;flex-direction:column;padding:1px 3px;border-bottom:3px solid transparent}
.c .h{color:#555}
.s .h{color:#b00;font-weight:bold}.d .r{text-decoration:line-through;color:#b00}.i .h{color:#06c;font-weight:bold}
.ent{background:#fff4c2}.ent.bad{background:#ffd9d9}.es{border-left:2px solid #c90}.ee{border-right:2px solid #c90}
.gap{color:#999;padding:0 6px;align-self:center}
#review-queue audio{height:28px;width:260px}
"""


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def _chart(categories: Mapping[str, Mapping[str, Any]],
           confidence: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """Horizontal bars per category: entity accuracy (green), entity WER (red, capped at 100%) and, with the
    confidence section's ``categories``, the mean entity confidence (blue)."""
    cats = list(categories)
    if not cats:
        return "<p class=muted>No entities.</p>"
    row, label_w, bar_w = (48 if confidence else 34), 130, 420
    h = row * len(cats) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" height="{h}" role="img" '
             f'aria-label="entity accuracy, entity WER{" and mean confidence" if confidence else ""} per category">']
    for k, cat in enumerate(cats):
        g = categories[cat]
        y = 10 + k * row
        acc, wer = g["entity_accuracy"] or 0.0, g["entity_wer"] or 0.0
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="12">{escape(cat)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{bar_w * acc:.1f}" height="12" fill="#3a9d5d"/>')
        parts.append(f'<text x="{label_w + bar_w * acc + 4:.1f}" y="{y + 10}" font-size="10">'
                     f'acc {_pct(g["entity_accuracy"])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 14}" width="{bar_w * min(wer, 1.0):.1f}" height="12" '
                     f'fill="#d9534f"/>')
        parts.append(f'<text x="{label_w + bar_w * min(wer, 1.0) + 4:.1f}" y="{y + 24}" font-size="10">'
                     f'WER {_pct(g["entity_wer"])}</text>')
        c = (confidence or {}).get(cat)
        if c is not None:
            conf = c["mean_confidence"]
            parts.append(f'<rect class="conf" data-category="{escape(cat)}" data-confidence="{conf:.4f}" '
                         f'x="{label_w}" y="{y + 28}" width="{bar_w * conf:.1f}" height="12" fill="#1f4e9c"/>')
            parts.append(f'<text x="{label_w + bar_w * conf + 4:.1f}" y="{y + 38}" font-size="10">'
                         f'conf {conf:.3f}</text>')
    legend = ", blue: mean entity confidence" if confidence else ""
    parts.append(f'<text x="{label_w}" y="{h - 4}" font-size="10" fill="#777">green: entity accuracy, '
                 f'red: entity WER (bar capped at 100%){legend}</text></svg>')
    return "".join(parts)


def _group_table(groups: Mapping[str, Mapping[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{escape(c)}</td><td class=n>{g['num_entities']}</td><td class=n>{_pct(g['entity_wer'])}</td>"
        f"<td class=n>{_pct(g['entity_accuracy'])}</td><td class=n>{g['errors']}</td>"
        f"<td class=n>{g['ref_words']}</td></tr>" for c, g in groups.items())
    return ("<table><tr><th>category</th><th>entities</th><th>entity WER</th><th>accuracy</th><th>errors</th>"
            f"<th>ref words</th></tr>{rows}</table>")


def _confidence(conf: Mapping[str, Any]) -> str:
    """The confidence section: how well entity confidence finds errors, and the reliability diagram."""
    rows = [("AUROC (errors vs correct)", _num(conf["auroc"])),
            ("AUROC without deleted entities", _num(conf.get("auroc_heard")))]
    rows += [(f"errors caught by the least confident {escape(s)}", _pct(v)) for s, v in conf["catch_rate"].items()]
    rows.append(("ECE, raw", _num(conf["ece"])))
    if "ece_calibrated" in conf:
        rows.append((f"ECE, calibrated ({escape(conf['calibration']['method'])})", _num(conf["ece_calibrated"])))
    p = [f"<h2>Confidence</h2><p>Entity confidence ({escape(conf['aggregation'])} of its words' NeMo confidence) over "
         f"{conf['num_entities']} reference entities ({conf['num_errors']} wrong, {conf['num_deleted']} of them "
         "wholly deleted).</p><table>",
         *(f"<tr><td>{k}</td><td class=n>{v}</td></tr>" for k, v in rows), "</table>"]
    rel = conf.get("reliability")
    if rel:
        p.append(f'<p><img id=reliability src="{quote(RELIABILITY_PNG)}" alt="reliability diagram: accuracy per '
                 'confidence bin"></p><table><tr><th>confidence bin</th><th>entities</th><th>mean confidence</th>'
                 "<th>accuracy</th></tr>")
        p.extend(f"<tr><td>{b['lo']:.1f}–{b['hi']:.1f}</td><td class=n>{b['count']}</td>"
                 f"<td class=n>{b['confidence']:.3f}</td><td class=n>{_pct(b['accuracy'])}</td></tr>"
                 for b in rel["bins"])
        p.append("</table>")
    return "".join(p)


def _seconds(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".")


def audio_src(path: str, start: float | None, end: float | None, base_dir: str | Path | None = None) -> str:
    """An entity's player source: the audio file relative to the page's folder ``base_dir`` (an absolute
    ``file://`` URI without one, or where no relative path exists), percent-encoded, with the media fragment
    ``#t=start,end`` (``#t=start`` when the entity has no length: a wholly deleted one, placed in the gap)."""
    absolute = os.path.abspath(path)
    url = Path(absolute).as_uri()
    if base_dir is not None:
        try:
            url = quote(Path(os.path.relpath(absolute, os.path.abspath(base_dir))).as_posix())
        except ValueError:  # another drive: no relative path
            pass
    if start is not None:
        url += f"#t={_seconds(start)}" + (f",{_seconds(end)}" if end is not None and end > start else "")
    return url


def _review(review: Mapping[str, Any], base_dir: str | Path | None) -> str:
    """The review queue's head, least confident first, an audio player at each entity."""
    items = review["items"]
    calibrated = any(it.get("calibrated_confidence") is not None for it in items)
    shown = (f"All {len(items)} entities" if len(items) == review["num_items"] else
             f"The {len(items)} least confident of {review['num_items']} entities (all of them in review.jsonl "
             "beside the transcript)")
    p = [f"<h2>Review queue</h2><p class=muted>{shown}, least confident first; each player starts at the entity "
         "(a wholly deleted one: at the gap where it was said).</p>",
         "<table id=review-queue><tr><th>#</th><th>confidence</th>" + ("<th>calibrated</th>" if calibrated else "")
         + "<th>category</th><th>transcribed</th><th>reference</th><th>verdict</th><th>utterance</th>"
         "<th>start–end (s)</th><th>listen</th></tr>"]
    verdicts = {True: "right", False: "wrong", None: "no reference entity"}
    for k, it in enumerate(items, 1):
        start, end = it.get("start"), it.get("end")
        where = ("—" if start is None else _seconds(start) if end is None or end <= start
                 else f"{_seconds(start)}–{_seconds(end)}")
        audio = it.get("audio_filepath")
        player = (f'<audio controls preload="none" src="{escape(audio_src(audio, start, end, base_dir))}"></audio>'
                  if audio else "<span class=muted>no audio</span>")
        cal = it.get("calibrated_confidence")
        p.append(f"<tr class=rq><td class=n>{k}</td><td class=n>{it['confidence']:.3f}</td>"
                 + (f"<td class=n>{'—' if cal is None else f'{cal:.3f}'}</td>" if calibrated else "")
                 + f"<td>{escape(it['category'])}</td>"
                 f"<td class=text>{escape(it['text']) or '<span class=muted>(nothing heard)</span>'}</td>"
                 f"<td>{escape(it.get('reference') or '')}</td><td>{verdicts[it.get('correct')]}</td>"
                 f"<td class=id>{escape(str(it['id']))}</td><td class=n>{where}</td><td>{player}</td></tr>")
    p.append("</table>")
    return "".join(p)


def _windows(n: int, entities: Sequence[Mapping[str, Any]], context: int, max_windows: int) -> list[tuple[int, int]]:
    """Reference word windows around wrong entities, merged (for utterances too long to show whole)."""
    spans = [(max(0, e["word_start"] - context), min(n, e["word_end"] + context))
             for e in entities if not e["correct"]][:max_windows]
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _alignment(u: Mapping[str, Any], max_words: int, context: int = 6, max_windows: int = 40) -> str:
    al = u.get("alignment")
    if not al:
        return ""
    ref, hyp = al["ref"], al["hyp"]
    n = len(ref)
    # Which entity (index) each reference word belongs to, and whether that entity is wrong.
    owner: list[int] = [-1] * n
    ents = u["entities"]
    for k, e in enumerate(ents):
        for w in range(e["word_start"], e["word_end"]):
            if owner[w] < 0:
                owner[w] = k
    windows = [(0, n)] if n <= max_words else _windows(n, ents, context, max_windows)
    if not windows:
        return f"<p class=muted>{n} words, no entity errors: alignment not shown.</p>"
    shown = [False] * (n + 1)
    for a, b in windows:
        for w in range(a, b):
            shown[w] = True

    def cell(op: str, r: str, h: str, ent: int, pos: int) -> str:
        cls = ["c", op]
        title = ""
        if ent >= 0:
            e = ents[ent]
            cls.append("ent")
            if not e["correct"]:
                cls.append("bad")
            if op != "i" and pos == e["word_start"]:
                cls.append("es")
            if op != "i" and pos == e["word_end"] - 1:
                cls.append("ee")
            title = f' title="{escape(e["category"])}: {escape(e["ref"])} → {escape(e["hyp"])}"'
        return (f'<span class="{" ".join(cls)}"{title}><span class=r>{escape(r) or "&nbsp;"}</span>'
                f'<span class=h>{escape(h) or "&nbsp;"}</span></span>')

    out: list[str] = []
    last_shown = True
    for op, r1, r2, h1, h2 in al["chunks"]:
        if op == "i":
            if not (shown[r1] or (r1 > 0 and shown[r1 - 1])):
                continue
            # An insertion belongs to an entity only between two of its words (see scoring.align).
            ent = owner[r1] if 0 < r1 < n and owner[r1] >= 0 and owner[r1] == owner[r1 - 1] else -1
            out.extend(cell("i", "", hyp[h], ent, r1) for h in range(h1, h2))
            continue
        for k in range(r2 - r1):
            w = r1 + k
            if not shown[w]:
                if last_shown:
                    out.append('<span class=gap>…</span>')
                last_shown = False
                continue
            last_shown = True
            h = hyp[h1 + k] if op in ("e", "s") else ""
            out.append(cell(op, ref[w], h, owner[w], w))
    note = "" if n <= max_words else (f"<p class=muted>{n} words: only windows around wrong entities are shown."
                                      "</p>")
    return note + '<div class=al>' + "".join(out) + "</div>"


def to_html(report: Mapping[str, Any], base_dir: str | Path | None = None, max_utterances: int = 200,
            max_words: int = 400) -> str:
    """The page. ``base_dir``: the folder the page is written to (audio paths relative to it; absolute file URIs
    without it). Utterances with wrong entities come first; at most ``max_utterances`` are drawn, and an utterance
    longer than ``max_words`` shows windows around its wrong entities rather than the whole alignment."""
    r = report
    p = ["<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Entity report</title>",
         f"<style>{_CSS}</style></head><body><h1>Entity report</h1>",
         "<table>",
         f"<tr><td>WER</td><td class=n>{_pct(r['wer'])}</td></tr>",
         f"<tr><td>entity WER</td><td class=n>{_pct(r['entity_wer'])}</td></tr>",
         f"<tr><td>entity accuracy</td><td class=n>{_pct(r['entity_accuracy'])}</td></tr>",
         f"<tr><td>utterances</td><td class=n>{r['num_utterances']}</td></tr>",
         f"<tr><td>entities</td><td class=n>{r['num_entities']}</td></tr>"]
    if "num_rows_scored" in r:
        p.append(f"<tr><td>rows scored / skipped</td><td class=n>{r['num_rows_scored']} / "
                 f"{len(r.get('skipped', []))}</td></tr>")
    p.append("</table><h2>Per category</h2>")
    conf = r.get("confidence")
    p.append(_chart(r["categories"], conf.get("categories") if conf else None))
    p.append(_group_table(r["categories"]))
    u = r["unseen"]
    p.append(f"<h2>Unseen entities</h2><p>{u['num_entities']} entities: entity WER {_pct(u['entity_wer'])}, "
             f"accuracy {_pct(u['entity_accuracy'])}.</p>")
    if r.get("unseen_categories"):
        p.append(_group_table(r["unseen_categories"]))
    kp = r.get("keyphrases")
    if kp:
        p.append(f"<h2>Key phrases</h2><p>precision {_pct(kp['precision'])}, recall {_pct(kp['recall'])}, "
                 f"F1 {_pct(kp['f1'])} ({kp['hits']} hits, {kp['false_alarms']} false alarms, "
                 f"{kp['misses']} misses)</p>")
        if kp.get("top_false_alarms"):
            p.append("<p>False alarms: " + ", ".join(f"{escape(x['phrase'])} ({x['count']})"
                                                      for x in kp["top_false_alarms"]) + "</p>")
    if conf:
        p.append(_confidence(conf))
    if r.get("review"):
        p.append(_review(r["review"], base_dir))
    p.append("<h2>Worst confusions</h2><table><tr><th>category</th><th>reference</th><th>hypothesis</th>"
             "<th>count</th></tr>")
    p.extend(f"<tr><td>{escape(c['category'])}</td><td>{escape(c['ref'])}</td><td>{escape(c['hyp'])}</td>"
             f"<td class=n>{c['count']}</td></tr>" for c in r.get("confusions", []))
    p.append("</table>")
    if r.get("skipped"):
        p.append("<h2>Skipped rows</h2><ul>")
        p.extend(f"<li>{escape(str(s.get('source', '')))}:{escape(str(s.get('line', '?')))}: "
                 f"{escape(str(s['reason']))}</li>" for s in r["skipped"])
        p.append("</ul>")
    utts = sorted(r["utterances"], key=lambda x: -sum(not e["correct"] for e in x["entities"]))
    p.append(f"<h2>Utterances</h2><p class=muted>{len(utts)} utterances"
             + (f", the first {max_utterances} with the most entity errors drawn" if len(utts) > max_utterances
                else "") + ". Top line: reference, bottom: hypothesis (normalised); yellow: entity, red: wrong "
             "entity.</p>")
    for x in utts[:max_utterances]:
        bad = sum(not e["correct"] for e in x["entities"])
        p.append(f"<h3>{escape(str(x['id']))} <span class=muted>WER {_pct(x['wer'])}, "
                 f"{bad} of {len(x['entities'])} entities wrong</span></h3>")
        rows = "".join(f"<tr><td>{escape(e['category'])}</td><td>{escape(e['ref'])}</td><td>{escape(e['hyp'])}</td>"
                       f"<td class=n>{e['errors']}</td></tr>" for e in x["entities"] if not e["correct"])
        if rows:
            p.append("<table><tr><th>category</th><th>reference</th><th>hypothesis</th><th>errors</th></tr>"
                     f"{rows}</table>")
        p.append(_alignment(x, max_words))
    p.append("</body></html>")
    return "\n".join(p)
