"""Fine-tune a TDT model with NeMo adapters; entity WER in the validation loop (see conf/train.yaml).

    python recipes/train.py +experiment=demo
    python recipes/train.py +experiment=finance_calls model.nemo_path=PATH data.train_cuts=PATH data.validation_cuts=PATH
    python recipes/train.py -m +experiment=demo adapter.dim=8,16          # sweep -> sweep_summary.{csv,md}
    python recipes/train.py +experiment=demo hparams_search=adapter_optuna  # Optuna

Rerunning a command resumes its run dir (runs/<name>). Returns the best `checkpoint.monitor` value (val_entity_wer by
default), which Hydra's Optuna sweeper minimises.
"""

import sys

import hydra
from omegaconf import DictConfig
from omegaconf.errors import MissingMandatoryValue

from finparakeet.models.loading import PretrainedUnavailableError
from finparakeet.training import SetupError, train


@hydra.main(config_path="pkg://finparakeet.conf", config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> float:
    try:
        result = train(cfg)
    except (PretrainedUnavailableError, SetupError, MissingMandatoryValue) as e:
        # A setup problem, not a bug: the message says what to do; a stack trace would only bury it.
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    return result.objective


if __name__ == "__main__":
    main()
