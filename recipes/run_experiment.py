"""Issue 6: "start big, then fine-tune", measured — train every system, decode, write the results table.

    python recipes/run_experiment.py            # see conf/run_experiment.yaml
"""

import hydra
from omegaconf import DictConfig

from finparakeet.experiment.pipeline import run_experiment


@hydra.main(config_path="pkg://finparakeet.conf", config_name="run_experiment", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_experiment(cfg)


if __name__ == "__main__":
    main()
