"""Write RESULTS.md from results/*.json, every figure beside its command (see finparakeet/conf/write_results.yaml).

    python recipes/write_results.py [base_run=runs/general_base] [demo_run=runs/demo]
"""

import json
from pathlib import Path

import hydra
from omegaconf import DictConfig

from finparakeet.experiment.book import BASE_JSON, DEMO_JSON, Lever, base_record, demo_record, write_results_md
from finparakeet.experiment.general import evaluate_general_test


@hydra.main(config_path="pkg://finparakeet.conf", config_name="write_results", version_base="1.3")
def main(cfg: DictConfig) -> None:
    results = Path(cfg.results_dir)
    if cfg.base_run:
        path = results / BASE_JSON
        previous = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        ablations = {name: Lever(a.run, a.command, a.get("note") or "") for name, a in (cfg.base_ablations or {}).items()}
        doc = base_record(cfg.base_run, cfg.base_command, previous, ablations, cfg.base_note or "")
        if cfg.base_test:
            run = Path(cfg.base_run)
            test_cuts = run / "data" / "test" / "clean_cuts.jsonl.gz"
            groups = evaluate_general_test(run / "artifacts" / "model.nemo", test_cuts, run / "general_test.json",
                                           cfg.heldout_families, cfg.batch_size)
            doc["test"] = {"command": f"python recipes/write_results.py base_run={cfg.base_run} base_test=true",
                           "groups": groups}
        path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        print(f"{path}: {len(doc['curve'])} points of the learning curve")
    if cfg.demo_run:
        path = results / DEMO_JSON
        path.write_text(json.dumps(demo_record(cfg.demo_run, cfg.demo_command), indent=1) + "\n", encoding="utf-8")
        print(f"{path}: before and after from {cfg.demo_run}")
    print(f"-> {write_results_md(results, cfg.output)}")


if __name__ == "__main__":
    main()
