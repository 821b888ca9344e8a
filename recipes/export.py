"""Export a training run as a .nemo that NeMo's own scripts load (see finparakeet/conf/export.yaml).

    python recipes/export.py run_dir=runs/finance_calls output=finance.nemo
"""

import sys

import hydra
from omegaconf import DictConfig

from finparakeet.inference.export import RunDirError, export_run


@hydra.main(config_path="pkg://finparakeet.conf", config_name="export", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        result = export_run(cfg.run_dir, cfg.output, adapters_enabled=cfg.adapters_enabled, verify=cfg.verify)
    except (RunDirError, FileNotFoundError, ValueError) as e:
        sys.exit(f"export: {e}")
    print("\n".join(result.summary_lines()))


if __name__ == "__main__":
    main()
