"""Validate a NeMo manifest or Lhotse cuts: python recipes/validate_manifest.py manifest=PATH output_dir=DIR"""

import sys

import hydra
from omegaconf import DictConfig

from finparakeet.data.validate import ValidationConfig, format_summary, validate_to_dir


@hydra.main(config_path="pkg://finparakeet.conf", config_name="validate_manifest", version_base="1.3")
def main(cfg: DictConfig) -> None:
    config = ValidationConfig(sampling_rate=cfg.sampling_rate, duration_tolerance=cfg.duration_tolerance,
                              read_audio=cfg.read_audio, downmix_dir=cfg.downmix_dir)
    summary = validate_to_dir(cfg.manifest, cfg.output_dir, config, progress=cfg.progress)
    print(format_summary(summary))
    if summary["clean"] == 0:
        print("error: no usable row remains", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
