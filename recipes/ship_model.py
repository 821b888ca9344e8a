"""Ship a training run's model or adapters inside the package, checked by sha256 (see finparakeet/conf/ship_model.yaml).

    python recipes/ship_model.py run_dir=runs/general_base name=general_base kind=nemo
"""

import sys

import hydra
from omegaconf import DictConfig

from finparakeet.pretrained import ShippedModelError, ship_run


@hydra.main(config_path="pkg://finparakeet.conf", config_name="ship_model", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        entry = ship_run(cfg.run_dir, cfg.name, cfg.kind, base=cfg.base,
                         train_commands=list(cfg.train_commands) if cfg.train_commands else None)
    except (ShippedModelError, FileNotFoundError, ValueError) as e:
        sys.exit(f"ship_model: {e}")
    print(f"shipped {entry.name}: {entry.file} ({entry.bytes / 2**20:.1f} MiB, sha256 {entry.sha256[:16]}...)")
    print("rebuild: " + " && ".join(entry.rebuild))


if __name__ == "__main__":
    main()
