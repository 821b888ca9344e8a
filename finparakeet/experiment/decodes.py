"""One decode of the experiment: a recipe's config in; the entity report's figures, the split by voice, the decode
time and the command line that reproduces it out.

NeMo systems decode through ``recipes/transcribe.py``'s library call (the model loaded once per system); the Whisper
anchor through the decoder that ``recipes/run_experiment.py`` hands in (``finparakeet.whisper.transcribe_whisper``:
the core never imports the optional extra). Every record carries the recipe command of its config, so each row of
the table can be rerun by hand.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shlex
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from finparakeet.data.rejects import Reject
from finparakeet.data.rows import read_rows, row_entities, row_id
from finparakeet.experiment.general import voice_family
from finparakeet.scoring.api import score_items
from finparakeet.scoring.inputs import ScoringItem

__all__ = ["MODES", "MODE_LABELS", "SEEN", "HELDOUT", "rel", "absolute", "command_line", "summarize_report",
           "voice_split", "recorded_decode_seconds", "recipe_cfg", "decode_key", "reuse_or_decode", "decode_nemo",
           "decode_whisper", "tune"]

# How a finance input is decoded: which bias list, and whether the n-gram LM is fused.
MODES = ("none", "lexicon", "per_call", "per_call_prompt", "lm", "lm_per_call")
MODE_LABELS = {"none": "no list", "lexicon": "lexicon list", "per_call": "per-call list",
               "per_call_prompt": "per-call list as initial_prompt", "lm": "LM", "lm_per_call": "LM + per-call list"}
SEEN, HELDOUT = "seen", "heldout"  # voice groups: families heard in training, and those held out (piper)
CATEGORY_KEYS = ("entity_wer", "entity_accuracy", "num_entities")
RECORDS_JSON = "records.json"  # a finished decode's records, beside its reports
OUTPUT_KEYS = ("output_filename", "report_dir")
CONFIDENCE_KEYS = ("aggregation", "num_entities", "num_errors", "auroc", "catch_rate", "ece", "ece_calibrated",
                   "num_deleted", "auroc_heard")


def rel(path: str | Path) -> str:
    """``path`` as typed in the repository: relative to the working directory when under it, directly or through a
    link in it (``runs -> /data/runs`` shows ``runs/...``); else absolute."""
    p, cwd = Path(path).resolve(), Path.cwd()
    for base, shown in [(cwd, Path()), *((e.resolve(), Path(e.name)) for e in cwd.iterdir() if e.is_symlink())]:
        if p.is_relative_to(base):
            return str(shown / p.relative_to(base))
    return str(p)


def absolute(path: str | Path) -> str:
    return str(Path(path).resolve())


def _value(v: Any, path: Callable[[Path], str]) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_value(x, path) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, Path):
        return path(v)
    return str(v)


def _flatten(cfg: Mapping[str, Any], path: Callable[[Path], str]) -> list[str]:
    return [shlex.quote(f"{k}={_value(v, path)}") for k, v in _leaves(cfg)
            if v is not None and k.rsplit(".", 1)[-1] != "progress"]  # None: the recipe's default; progress: display


def command_line(script: str, cfg: Mapping[str, Any], path: Callable[[Path], str] = rel) -> str:
    """``python <script> key=value ...`` for a (nested) recipe config; paths as ``path`` writes them (:func:`rel`:
    as typed in the repository; :func:`absolute`: as the files are, whatever the working directory)."""
    return " ".join(["python", script, *_flatten(cfg, path)])


def summarize_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The scalars of an entity report that the table keeps."""
    from finparakeet.entities import FINANCE_CATEGORIES

    cats = {c: {k: v[k] for k in CATEGORY_KEYS} for c, v in (report.get("categories") or {}).items()
            if c in FINANCE_CATEGORIES}
    unseen = report.get("unseen") or {}
    kp = report.get("keyphrases") or {}
    return {"wer": report["wer"], "entity_wer": report["entity_wer"], "entity_accuracy": report["entity_accuracy"],
            "num_utterances": report["num_utterances"], "num_entities": report["num_entities"],
            "categories": cats, "unseen": {k: unseen.get(k) for k in CATEGORY_KEYS},
            "keyphrases": {k: kp.get(k) for k in ("precision", "recall", "f1", "hits", "false_alarms", "misses")}
            if kp else None, **_confidence(report.get("confidence"))}


def _confidence(section: Mapping[str, Any] | None) -> dict[str, Any]:
    """The confidence section's figures (a decode with ``confidence=true`` and references), without its bins."""
    if not section:
        return {}
    return {"confidence": {k: section.get(k) for k in CONFIDENCE_KEYS if k in section}}


def voice_split(manifest: str | Path, heldout_families: Iterable[str]) -> dict[str, dict[str, Any]]:
    """WER, entity WER and unseen-entity WER of a transcribed manifest's rows read by seen voice families and by
    held-out ones (``voice.family`` as synthesis records it), scored as the report scores them."""
    heldout = set(heldout_families)
    groups: dict[str, list[ScoringItem]] = {SEEN: [], HELDOUT: []}
    for row in read_rows(manifest):
        if isinstance(row, Reject) or not isinstance(row.fields.get("text"), str):
            continue
        f = row.fields
        groups[HELDOUT if voice_family(f) in heldout else SEEN].append(
            ScoringItem(row_id(f, row.line), f["text"], f.get("pred_text") or "", row_entities(f)))
    out = {}
    for name, items in groups.items():
        if items:
            r = score_items(items, alignments=False)
            out[name] = {"num_utterances": r["num_utterances"], "wer": r["wer"], "entity_wer": r["entity_wer"],
                         "entity_accuracy": r["entity_accuracy"], "num_entities": r["num_entities"],
                         "unseen_entity_wer": (r.get("unseen") or {}).get("entity_wer")}
    return out


def _record(report: Mapping[str, Any], manifest: Path, heldout: Sequence[str], seconds: float | None
            ) -> dict[str, Any]:
    return {**summarize_report(report), "voices": voice_split(manifest, heldout),
            "decode_seconds": None if seconds is None else round(seconds, 2)}


def _strs(cfg: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _strs(v) if isinstance(v, Mapping) else str(v) if isinstance(v, Path) else v for k, v in cfg.items()}


def recipe_cfg(source: Path, out: Path, settings: Mapping[str, Any], **keys: Any) -> dict[str, Any]:
    """A transcribe recipe's config: ``source`` (a NeMo manifest ``.json``, else Lhotse cuts) decoded into
    ``<out>.json`` with its reports in ``out/``; ``settings`` and ``keys`` as they are."""
    source_key = "dataset_manifest" if source.suffix == ".json" else "cuts_path"
    return {**settings, source_key: source, "output_filename": out.parent / f"{out.name}.json", "report_dir": out,
            **keys}


def decode_key(command: str, cfg: Mapping[str, Any], model_path: str | Path | None = None) -> dict[str, Any]:
    """What a decode's records depend on: its command and the sha256 of every file it reads (the model and the
    config's input files: manifest, bias lists, LM), so a list or model rebuilt under the same name decodes again."""
    inputs = {k: v for k, v in _leaves(cfg)
              if k not in OUTPUT_KEYS and isinstance(v, (str, Path)) and Path(v).is_file()}
    if model_path is not None:
        inputs["model_path"] = model_path
    return {"command": command, "sha256": {k: content_sha256(v) for k, v in sorted(inputs.items())}}


def content_sha256(path: str | Path) -> str:
    """sha256 of a file's content; of the uncompressed bytes for ``.gz`` (whose header holds its writing time)."""
    h = hashlib.sha256()
    with (gzip.open if str(path).endswith(".gz") else open)(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _leaves(cfg: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in cfg.items():
        out += _leaves(v, f"{prefix}{k}.") if isinstance(v, Mapping) else [(f"{prefix}{k}", v)]
    return out


def _flat_key(key: Mapping[str, Any]) -> dict[str, Any]:
    return {"command": key.get("command"), **(key.get("sha256") or {})}


def reuse_or_decode(report_dir: str | Path, key: Mapping[str, Any], decode: Callable[[], Any]) -> Any:
    """``decode()``'s records, kept in ``<report_dir>/records.json`` under ``key`` (:func:`decode_key`): an experiment
    interrupted during its decodes reuses the finished ones when rerun; any other key decodes again."""
    store = Path(report_dir) / RECORDS_JSON
    if store.is_file():
        kept = json.loads(store.read_text())
        if kept.get("key") == key:
            print(f"[experiment] reused {rel(store)}", flush=True)
            return kept["records"]
        then, now = _flat_key(kept.get("key") or {}), _flat_key(key)
        changed = sorted(k for k in {*then, *now} if then.get(k) != now.get(k))
        print(f"[experiment] {rel(store)}: {', '.join(changed)} changed since, decoding again", flush=True)
    records = decode()
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": key, "records": records}, indent=1))
    tmp.replace(store)  # whole or absent: an interrupted write is never read as finished
    return records


def recorded_decode_seconds(root: str | Path) -> float:
    """Seconds of every decode pass kept under ``root`` (each ``records.json``): the decoding time of the whole
    experiment, over all the sittings it took, which one rerun that reuses them cannot measure."""
    def total(o: Any) -> float:
        if isinstance(o, Mapping):
            own = o.get("decode_seconds")
            return (own if isinstance(own, (int, float)) else 0.0) + sum(total(v) for v in o.values())
        return 0.0

    return round(sum(total(json.loads(p.read_text())["records"]) for p in Path(root).rglob(RECORDS_JSON)), 1)


def decode_nemo(model, model_path: str | Path, cfg: Mapping[str, Any], heldout: Sequence[str]
                ) -> dict[str, dict[str, Any]]:
    """One ``recipes/transcribe.py`` run (``evaluate=true``) with ``model``: a record per decode it makes
    (``output`` or ``boosting``, and ``no_boosting`` with ``boosting.compare``); reused when it finished before."""
    from finparakeet.inference.pipeline import transcribe

    full = {"model_path": Path(model_path), **cfg, "evaluate": True}

    def decode() -> dict[str, dict[str, Any]]:
        res = transcribe(_strs({**cfg, "evaluate": True}), model=model)
        seconds = ((res.comparison or {}).get("rows") or {}).get("decode_seconds") or {}
        return {name: _record(res.reports[name], path, heldout,
                              seconds.get(name, res.stats.wall_seconds if len(res.outputs) == 1 else None))
                for name, path in res.outputs.items()}

    records = reuse_or_decode(cfg["report_dir"], decode_key(command_line("recipes/transcribe.py", full, absolute),
                                                            cfg, model_path), decode)
    command = command_line("recipes/transcribe.py", full)  # as typed here; the key holds absolute paths
    return {name: {**r, "command": command} for name, r in records.items()}


def decode_whisper(whisper: Callable[[Mapping[str, Any]], Any], cfg: Mapping[str, Any], heldout: Sequence[str]
                   ) -> dict[str, Any]:
    """One ``recipes/transcribe_whisper.py`` run (``evaluate=true``) through ``whisper`` (its library call); reused
    when it finished before."""
    full = {**cfg, "evaluate": True}

    def decode() -> dict[str, Any]:
        res = whisper(_strs(full))
        return _record(res.report, res.output, heldout, res.stats.wall_seconds)

    record = reuse_or_decode(cfg["report_dir"], decode_key(command_line("recipes/transcribe_whisper.py", full,
                                                                        absolute), cfg), decode)
    return {**record, "command": command_line("recipes/transcribe_whisper.py", full)}


def tune(candidates: Sequence[float], decode_dev: Callable[[float], Mapping[str, Any]]) -> dict[str, Any]:
    """Choose a weight on the *dev* split (the test split is never looked at): each candidate decodes dev
    (``decode_dev(value)`` returns the record), the lowest entity WER wins, ties going to the smaller weight.
    Returns ``{"chosen": value, "dev": {value: {entity_wer, wer, precision}}}``."""
    if not candidates:
        raise ValueError("no candidate weight to choose from (an empty list in the experiment config)")
    scores = {}
    for value in candidates:
        r = decode_dev(float(value))
        scores[float(value)] = {"entity_wer": r["entity_wer"], "wer": r["wer"],
                                "precision": (r.get("keyphrases") or {}).get("precision")}
    best = min(scores, key=lambda a: (scores[a]["entity_wer"], a))
    return {"chosen": best, "dev": {f"{a:g}": v for a, v in scores.items()}}
