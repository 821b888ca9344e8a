"""``run_experiment(cfg)``: what ``recipes/run_experiment.py`` runs (see ``conf/run_experiment.yaml``).

Train what is missing (the replay candidates too), choose the replay share on dev, decode every NeMo system with no
list, the lexicon list and the per-call lists (weights chosen on dev), fuse the text-only LM into the base and the
best adapted system and decode the call-length recordings with them, decode the Whisper anchor, judge the goals and
write ``experiment.{json,md,png}`` (and RESULTS.md).
"""

from __future__ import annotations

import json
import os
import platform
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable, Mapping

from omegaconf import DictConfig, OmegaConf

from finparakeet.experiment.book import write_results_md
from finparakeet.experiment.confidence import ConfidenceSettings, confidence_rows
from finparakeet.experiment.decodes import decode_nemo, recipe_cfg, recorded_decode_seconds
from finparakeet.experiment.goals import evaluate_goals
from finparakeet.experiment.lists import prepare_inputs
from finparakeet.experiment.lm import LMSettings, build_experiment_lm, lm_unavailable, tokenizer_sha
from finparakeet.experiment.replay import CRITERION, ReplayConfig, choose_share, replay_specs
from finparakeet.experiment.results import SCHEMA, render_markdown, same_transcripts, write_results
from finparakeet.experiment.runner import (StageLog, SystemSpec, run_training, select_stages, systems_from_cfg,
                                          training_wall_seconds)
from finparakeet.experiment.systems import (DecodeSettings, adapters_off_rows, lm_rows, longform_rows, nemo_rows,
                                            whisper_rows)

__all__ = ["run_experiment", "data_summary", "machine"]

WHISPER_KEY = "whisper_tiny_en"
BEST_CRITERION = "lowest finance dev entity WER with its per-call list, at the weight chosen on dev"


def _split_summary(run_dir: Path, split: str) -> dict[str, Any]:
    path = run_dir / "data" / split / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def data_summary(run_dir: Path) -> dict[str, Any]:
    """Sizes of the train/test splits a run used, the corpus' unseen-entity share and its held-out voice families."""
    train, test = _split_summary(run_dir, "train"), _split_summary(run_dir, "test")
    corpus = (Path(test.get("manifest", "")).parent / "summary.json").resolve()  # relative: to the working dir
    made = json.loads(corpus.read_text(encoding="utf-8")) if corpus.is_file() else {}
    return {"train_hours": train.get("clean_hours"), "train_utterances": train.get("clean"),
            "test_hours": test.get("clean_hours"), "test_utterances": test.get("clean"),
            "test_unseen_share": made.get("unseen_share"),
            "heldout_families": (made.get("voices") or {}).get("heldout_families") or [], "corpus": str(corpus.parent)}


def machine() -> dict[str, Any]:
    import torch

    cpu = platform.processor() or platform.machine()
    desc = f"{os.cpu_count()} CPU cores ({cpu}), no GPU" if not torch.cuda.is_available() else \
        f"{torch.cuda.get_device_name(0)}"
    return {"description": desc, "python": platform.python_version(), "torch": torch.__version__,
            "platform": platform.platform()}


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


def _load(runs_dir: Path, spec: SystemSpec) -> tuple[Any, Path, dict[str, Any]]:
    from finparakeet.inference.pipeline import load_model
    from finparakeet.rundir import resolve_run

    run = resolve_run(runs_dir / spec.run)
    return load_model(model_path=run["nemo"]), Path(run["nemo"]), run


def _first_cuts(source: Path, n: int | None, out: Path) -> Path:
    """The first ``n`` cuts of ``source`` (all of them for None) as a file of their own."""
    if n is None:
        return source
    from finparakeet.data.manifests import load_cuts, save_cuts

    save_cuts(load_cuts(source, lazy=True).subset(first=int(n)), out)
    return out


def _longform_summary(manifest: Path | None) -> dict[str, Any] | None:
    if manifest is None:
        return None
    minutes = [json.loads(x)["duration"] / 60 for x in manifest.read_text(encoding="utf-8").splitlines() if x.strip()]
    return {"recordings": len(minutes), "minutes": round(sum(minutes), 1),
            "minutes_each": [round(m, 2) for m in minutes]}


def _choose_replay(runs_dir: Path, dec_root: Path, d: DecodeSettings, candidates: Mapping[float, SystemSpec],
                   base: SystemSpec, rcfg: ReplayConfig) -> tuple[SystemSpec, dict[str, Any]]:
    """Decode the general dev split (its first utterances) and the finance dev split with the base and with each
    replay candidate; the share by :data:`CRITERION`."""
    general_dev = _first_cuts(runs_dir / base.run / "data" / "validation" / "clean_cuts.jsonl.gz",
                              rcfg.general_dev_utterances, dec_root / "replay" / "general_dev.jsonl.gz")

    def dev_scores(spec: SystemSpec) -> tuple[float, float | None]:
        model, path, _ = _load(runs_dir, spec)
        out = dec_root / "replay" / spec.run
        g = decode_nemo(model, path, recipe_cfg(general_dev, out / "general_dev", d.recipe,
                                                boosting={"enabled": False}), d.heldout)["output"]
        f = None if spec is base else decode_nemo(model, path, recipe_cfg(
            d.inputs.finance_dev, out / "finance_dev", d.recipe, boosting={"enabled": False}), d.heldout)["output"]
        return g["wer"], None if f is None else f["entity_wer"]

    base_wer, _ = dev_scores(base)
    dev = {}
    for share, spec in candidates.items():
        g, f = dev_scores(spec)
        dev[share] = {"run": spec.run, "general_dev_wer": g, "finance_dev_entity_wer": f}
    share = choose_share(dev, base_wer, rcfg.max_general_cost)
    print(f"[experiment] replay share {share:g} chosen on dev (" + ", ".join(
        f"{s:g}: general {v['general_dev_wer']:.3f}, finance entity {v['finance_dev_entity_wer']:.3f}"
        for s, v in dev.items()) + f"; base general {base_wer:.3f})", flush=True)
    return candidates[share], {"system": candidates[share].key, "share": share,
                               "criterion": CRITERION.format(cost=rcfg.max_general_cost),
                               "base_general_dev_wer": base_wer, "general_dev_utterances": rcfg.general_dev_utterances,
                               "candidates": {f"{s:g}": v for s, v in dev.items()}}


def _skip(skipped: dict[str, str], what: str, why: str) -> None:
    skipped[what] = why
    print(f"[experiment] {what}: skipped — {why}", flush=True)


def _check_roles(cfg: DictConfig, keys: set[str]) -> None:
    """Before hours of training: every system the config names must be one of ``keys``."""
    named = {"base_system": cfg.base_system, "scratch_system": cfg.scratch_system, "replay.system": cfg.replay.system,
             "best_adapted": None if cfg.best_adapted == "auto" else cfg.best_adapted}
    bad = {k: v for k, v in named.items() if v is not None and v not in keys}
    if bad:
        raise ValueError(f"conf/run_experiment.yaml: {', '.join(f'{k}={v!r}' for k, v in bad.items())} is not a "
                         f"system of the experiment ({sorted(keys)}; the chosen replay system is "
                         "<replay.system>_replay)")


def _nemo_system(spec: SystemSpec, runs_dir: Path, dec_root: Path, d: DecodeSettings, log: StageLog,
                 base_rows: list[dict[str, Any]] | None) -> dict[str, Any]:
    """One NeMo system's rows (:func:`.systems.nemo_rows`); an adapted model's general test also with its adapters
    switched off, against ``base_rows`` (the base's general test)."""
    model, path, run = _load(runs_dir, spec)
    out = dec_root / spec.key
    row = {"label": spec.label, "kind": "nemo", "run": spec.run, "train": list(spec.train or ()) or None,
           "adapted": spec.adapted, "model_path": str(path), "trainable_params": run.get("trainable_params"),
           "total_params": run.get("total_params"), "train_steps": run.get("global_step"),
           "train_wall_seconds": training_wall_seconds(runs_dir / spec.run),
           **log.timed(f"decode:{spec.key}", lambda: nemo_rows(model, path, out, d)), "adapters_off": None}
    if run.get("adapters") and base_rows is not None:
        row["adapters_off"] = same_transcripts(adapters_off_rows(model, out, d), base_rows)
    return row


def _nemo_systems(specs: Mapping[str, SystemSpec], runs_dir: Path, dec_root: Path, d: DecodeSettings, log: StageLog,
                  base_key: str, replay: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Every NeMo system's rows, the base first (the adapted systems' adapters-off check reads its output)."""
    systems = {base_key: _nemo_system(specs[base_key], runs_dir, dec_root, d, log, None)}
    base_rows = _read_rows(dec_root / base_key / "general_test.json")
    for key, spec in specs.items():
        if key != base_key:
            systems[key] = _nemo_system(spec, runs_dir, dec_root, d, log, base_rows)
        systems[key]["replay"] = replay if replay and key == replay["system"] else None
    return systems


def _best_adapted(systems: Mapping[str, Mapping[str, Any]], setting: str) -> dict[str, Any]:
    """``setting`` (a system key), or for ``auto`` the adapted system by :data:`BEST_CRITERION`."""
    dev = {k: s["alphas"]["per_call"] for k, s in systems.items() if s.get("adapted")}
    dev_ewer = {k: t["dev"][f"{t['chosen']:g}"]["entity_wer"] for k, t in dev.items()}
    if setting != "auto":
        return {"system": setting, "criterion": "configured (best_adapted)", "dev_entity_wer": dev_ewer}
    return {"system": min(dev_ewer, key=lambda k: (dev_ewer[k], k)) if dev_ewer else None,
            "criterion": BEST_CRITERION, "dev_entity_wer": dev_ewer}


def _lm_and_longform(systems: dict[str, dict[str, Any]], specs: Mapping[str, SystemSpec], keys: list[str],
                     runs_dir: Path, dec_root: Path, d: DecodeSettings, lm: LMSettings, long_audio: Mapping[str, Any],
                     log: StageLog, skipped: dict[str, str]) -> dict[str, Any] | None:
    """The LM rows and the call recordings of ``keys`` (the base and the best adapted system), added to their rows;
    returns the first LM's record (one LM per tokenizer: the adapted systems share the base's)."""
    why_no_lm = lm_unavailable(lm)
    if why_no_lm:
        _skip(skipped, "LM rows", why_no_lm)
    if d.inputs.longform is None:
        _skip(skipped, "Call recordings", "the finance corpus has no test_calls_manifest.json: synthesise it with "
                                          "data.synth.calls.recordings=true")
    lms: dict[str, dict[str, Any]] = {}  # tokenizer sha256 -> the LM built with it
    for key in keys:
        s = systems[key]
        model, path, _ = _load(runs_dir, specs[key])
        out = dec_root / key
        a_call = s["alphas"]["per_call"]["chosen"]
        if not why_no_lm:
            sha = tokenizer_sha(path)
            if sha not in lms:
                lms[sha] = log.timed(f"lm:build:{key}", partial(build_experiment_lm, path, dec_root / "lm", lm))
            fused = log.timed(f"lm:{key}", partial(lm_rows, model, path, out, d, lms[sha]["arpa"], lm.tune_alpha,
                                                   a_call))
            s["lm_alpha"] = fused["lm_alpha"]
            s["finance"].update(fused["finance"])
            s["general"].update(fused["general"])
        if d.inputs.longform is not None:
            s["longform"] = log.timed(f"longform:{key}", partial(longform_rows, model, path, out, d, a_call,
                                                                 long_audio))
        model = None  # free it before the next one loads
    return next(iter(lms.values()), None)


def run_experiment(cfg: DictConfig | Mapping[str, Any], whisper: Callable[[Mapping[str, Any]], Any] | None = None,
                   whisper_unavailable: str | None = None) -> dict[str, Any]:
    """Train what is missing, decode every system, write ``experiment.{json,md,png}`` (and RESULTS.md).

    ``whisper``: the Whisper anchor's decoder (``finparakeet.whisper.transcribe_whisper``, which the recipe passes in
    when the optional extra is installed); without it the Whisper rows are skipped, saying ``whisper_unavailable``.
    """
    start = time.perf_counter()
    cfg = OmegaConf.create(cfg) if not isinstance(cfg, DictConfig) else cfg
    runs_dir, data_dir = Path(cfg.runs_dir).resolve(), Path(cfg.data_dir).resolve()
    dec_root = runs_dir / "experiment_decodes"
    specs = {s.key: s for s in systems_from_cfg(cfg.systems)}
    rcfg = ReplayConfig(**{**_plain(cfg.replay), "shares": tuple(cfg.replay.shares or ())})
    _check_roles(cfg, set(specs) | ({f"{rcfg.system}_replay"} if rcfg.system else set()))
    base = specs[cfg.base_system]
    candidates = replay_specs(rcfg, specs[rcfg.system], runs_dir / base.run / "data" / "train" /
                              "clean_cuts.jsonl.gz") if rcfg.system else {}
    log = StageLog()
    extra = [str(o) for o in cfg.train_overrides or ()]
    trained = [*specs.values(), *candidates.values()]
    only = select_stages(trained, cfg.get("train_only"))
    for spec in only:  # in order: adapted systems start from the base's .nemo, replay reads its train cuts
        log.timed(f"train:{spec.run}", lambda spec=spec: run_training(spec, runs_dir, data_dir, extra))
    if cfg.get("train_only") is not None:
        print(f"[experiment] train_only: {', '.join(s.run for s in only)} trained; rerun without train_only to "
              "decode and write the table", flush=True)
        return {"trained": [s.run for s in only], "stage_seconds_this_invocation": log.seconds}

    finance_data = data_summary(runs_dir / cfg.finance_test_run)
    dcfg = _plain(cfg.decode)
    d = DecodeSettings(
        inputs=log.timed("lists", lambda: prepare_inputs(runs_dir / cfg.finance_test_run, dec_root / "lists",
                                                         _plain(cfg.bias_list))),
        general_test=runs_dir / cfg.general_test_run / "data" / "test" / "clean_cuts.jsonl.gz",
        heldout=tuple(finance_data["heldout_families"]),
        recipe={k: dcfg.get(k) for k in ("batch_size", "progress", "cuda")}, boosting=dcfg["boosting"],
        tune_alpha=dcfg.get("tune_alpha") or [])
    replay = None
    if candidates:
        chosen, replay = log.timed("replay:choose", lambda: _choose_replay(runs_dir, dec_root, d, candidates, base,
                                                                             rcfg))
        specs[chosen.key] = chosen
    systems = _nemo_systems(specs, runs_dir, dec_root, d, log, cfg.base_system, replay)
    best = _best_adapted(systems, cfg.best_adapted)
    skipped: dict[str, str] = {}
    lm = LMSettings(**{**_plain(cfg.lm), "prune": tuple(cfg.lm.prune or ()),
                       "tune_alpha": tuple(cfg.lm.tune_alpha or ())})
    lm_record = _lm_and_longform(systems, specs, list(dict.fromkeys(k for k in (cfg.base_system, best["system"]) if k)),
                                 runs_dir, dec_root, d, lm, _plain(cfg.longform.long_audio), log, skipped)
    ccfg = _plain(cfg.get("confidence")) or {"enabled": False}
    conf = ConfidenceSettings(**{**ccfg, "aggregations": tuple(ccfg.get("aggregations") or ())})
    if not conf.enabled:
        _skip(skipped, "Entity confidence", "confidence.enabled=false")
    elif best["system"]:
        key = best["system"]
        model, path, _ = _load(runs_dir, specs[key])
        systems[key]["confidence"] = log.timed(f"confidence:{key}", partial(
            confidence_rows, model, path, dec_root / key, d, systems[key]["alphas"]["per_call"]["chosen"], conf))
        model = None
    if not cfg.whisper.enabled:
        _skip(skipped, "Whisper tiny.en", "whisper.enabled=false")
    elif whisper is None:
        _skip(skipped, "Whisper tiny.en", whisper_unavailable or "no Whisper decoder was given to run_experiment")
    else:
        systems[WHISPER_KEY] = {"label": cfg.whisper.label, "kind": "whisper", "train": None, "adapted": False,
                                **log.timed("decode:whisper", lambda: whisper_rows(
                                    whisper, dec_root / WHISPER_KEY, d, _plain(cfg.whisper.options) or {}))}

    roles = {"base": cfg.base_system, "scratch": cfg.scratch_system, "best": best["system"],
             "replay": replay and replay["system"], "whisper": WHISPER_KEY if WHISPER_KEY in systems else None}
    doc = {"schema": SCHEMA, "command": cfg.command, "systems": systems, "roles": roles, "best_adapted": best,
           "lm": lm_record, "skipped": skipped, "goals": evaluate_goals(systems, roles, lm_record),
           "bias_lists": d.inputs.summary,
           "data": {"finance": finance_data, "general": data_summary(runs_dir / cfg.general_test_run),
                    "longform": _longform_summary(d.inputs.longform)},
           "decode": dcfg, "lm_settings": _plain(cfg.lm), "longform": _plain(cfg.longform),
           "machine": machine(), "stage_seconds_this_invocation": log.seconds,
           "total_train_seconds": round(sum(training_wall_seconds(runs_dir / s.run) or 0 for s in trained), 1),
           "total_decode_seconds": recorded_decode_seconds(dec_root),
           "run_seconds": round(time.perf_counter() - start, 1)}
    block = render_markdown(doc)
    paths = write_results(doc, block, Path(cfg.output_dir))
    if cfg.results_md:
        write_results_md(cfg.output_dir, cfg.results_md)
    print(block)
    print(f"-> {paths['json']}  {paths['md'].name}  {paths['png'].name}")
    return doc


def _read_rows(manifest: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in manifest.read_text(encoding="utf-8").splitlines() if x.strip()]
