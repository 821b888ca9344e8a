"""Synthesise finance (or general English) speech: python recipes/synthesize.py output_dir=DIR num_utterances=N seed=S"""

import json

import hydra
from omegaconf import DictConfig, OmegaConf

from finparakeet.synth import SynthConfig, from_dict, synthesize_corpus


@hydra.main(config_path="../conf", config_name="synthesize", version_base="1.3")
def main(cfg: DictConfig) -> None:
    config = from_dict(SynthConfig, OmegaConf.to_container(cfg, resolve=True))
    summary = synthesize_corpus(config)
    summary.pop("config")
    summary["voices"].pop("names")
    print(json.dumps(summary, indent=2))
    print(f"-> {config.output_dir}")


if __name__ == "__main__":
    main()
