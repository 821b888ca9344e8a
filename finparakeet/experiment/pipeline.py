"""``run_experiment(cfg)``: what ``recipes/run_experiment.py`` runs (see ``conf/run_experiment.yaml``)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from finparakeet.experiment.book import write_results_md
from finparakeet.experiment.results import evaluate_goals, render_markdown, same_transcripts, summarize_report, \
    write_results
from finparakeet.experiment.runner import StageLog, decode_adapters_off, decode_system, run_training, \
    systems_from_cfg, training_wall_seconds, tune_boosting_alpha


def _split_summary(run_dir: Path, split: str) -> dict[str, Any]:
    path = run_dir / "data" / split / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def data_summary(run_dir: Path) -> dict[str, Any]:
    """Sizes of the train/test splits a run used, and the corpus' unseen-entity share."""
    train, test = _split_summary(run_dir, "train"), _split_summary(run_dir, "test")
    corpus = (Path(test.get("manifest", "")).parent / "summary.json").resolve()  # relative: to the working dir
    unseen = json.loads(corpus.read_text(encoding="utf-8")).get("unseen_share") if corpus.is_file() else None
    return {"train_hours": train.get("clean_hours"), "train_utterances": train.get("clean"),
            "test_hours": test.get("clean_hours"), "test_utterances": test.get("clean"), "test_unseen_share": unseen,
            "corpus": str(corpus.parent)}


def machine() -> dict[str, Any]:
    import torch

    cpu = platform.processor() or platform.machine()
    desc = f"{os.cpu_count()} CPU cores ({cpu}), no GPU" if not torch.cuda.is_available() else \
        f"{torch.cuda.get_device_name(0)}"
    return {"description": desc, "python": platform.python_version(), "torch": torch.__version__,
            "platform": platform.platform()}


def run_experiment(cfg: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """Train what is missing, decode every system, write ``experiment.{json,md,png}`` (and RESULTS.md)."""
    cfg = OmegaConf.create(cfg) if not isinstance(cfg, DictConfig) else cfg
    runs_dir, data_dir = Path(cfg.runs_dir).resolve(), Path(cfg.data_dir).resolve()
    out_dir = Path(cfg.output_dir)
    specs = systems_from_cfg(cfg.systems)
    log = StageLog()
    extra = [str(o) for o in cfg.train_overrides or ()]
    for spec in specs:  # in order: the adapted systems start from general_base's .nemo
        log.timed(f"train:{spec.key}", lambda spec=spec: run_training(spec, runs_dir, data_dir, extra))

    from finparakeet.biasing.build import BiasListConfig, build_bias_list, write_bias_list

    bias = build_bias_list(BiasListConfig(**OmegaConf.to_container(cfg.bias_list, resolve=True)))
    bias_file = write_bias_list(bias, runs_dir / "experiment_decodes" / "finance_bias_list.txt")
    finance_test = runs_dir / cfg.finance_test_run / "data" / "test" / "clean_cuts.jsonl.gz"
    general_test = runs_dir / cfg.general_test_run / "data" / "test" / "clean_cuts.jsonl.gz"
    finance_dev = runs_dir / cfg.finance_test_run / "data" / "validation" / "clean_cuts.jsonl.gz"

    from finparakeet.inference.pipeline import load_model
    from finparakeet.rundir import resolve_run

    decode_cfg = OmegaConf.to_container(cfg.decode, resolve=True)
    systems: dict[str, dict[str, Any]] = {}
    base_rows = None
    for spec in specs:
        run = resolve_run(runs_dir / spec.run)
        model = load_model(model_path=run["nemo"])
        dec_dir = runs_dir / "experiment_decodes" / spec.key
        tuned = None
        if decode_cfg.get("tune_alpha"):
            tuned = log.timed(f"tune_alpha:{spec.key}", lambda: tune_boosting_alpha(
                model, spec.key, finance_dev, bias_file, dec_dir, decode_cfg, decode_cfg["tune_alpha"]))
        dec = decode_cfg if tuned is None else \
            {**decode_cfg, "boosting": {**decode_cfg["boosting"], "boosting_tree_alpha": tuned["alpha"]}}
        res = log.timed(f"decode:{spec.key}", lambda: decode_system(model, spec.key, finance_test, general_test,
                                                                     bias_file, dec_dir, dec))
        row = {"label": spec.label, "run": spec.run, "train": list(spec.train),
               "trainable_params": run.get("trainable_params"), "total_params": run.get("total_params"),
               "train_steps": run.get("global_step"),
               "train_wall_seconds": training_wall_seconds(runs_dir / spec.run),
               "general_test_wer": res["general"]["wer"], "rtfx": res["rtfx"],
               "finance": {mode: summarize_report(r) for mode, r in res["finance"].items()},
               "boosting_alpha": dec["boosting"]["boosting_tree_alpha"], "boosting_dev_sweep": tuned and tuned["dev"],
               "adapters_off": None}
        if spec.key == cfg.base_system:
            base_rows = res["general_rows"]
        elif run.get("adapters") and base_rows is not None:
            off = decode_adapters_off(model, general_test, dec_dir, decode_cfg)
            row["adapters_off"] = same_transcripts(off, base_rows)
        systems[spec.key] = row
        del model

    doc = {"command": cfg.command, "systems": systems, "goals": evaluate_goals(systems),
           "data": {"finance": data_summary(runs_dir / cfg.finance_test_run),
                    "general": data_summary(runs_dir / cfg.general_test_run)},
           "bias_list": {"phrases": len(bias.phrases), "source": "lexicon", "config": cfg.bias_list and
                         OmegaConf.to_container(cfg.bias_list, resolve=True)},
           "decode": decode_cfg, "machine": machine(), "stage_seconds_this_invocation": log.seconds,
           "total_train_seconds": round(sum(s["train_wall_seconds"] or 0 for s in systems.values()), 1)}
    block = render_markdown(doc)
    paths = write_results(doc, block, out_dir)
    if cfg.results_md:
        write_results_md(out_dir, cfg.results_md)
    print(block)
    print(f"-> {paths['json']}  {paths['md'].name}  {paths['png'].name}")
    return doc
