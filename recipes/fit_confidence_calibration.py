"""Fit the entity-confidence calibration on a dev transcript (see finparakeet/conf/fit_confidence_calibration.yaml).

    python recipes/fit_confidence_calibration.py transcript=dev/out.json output=dev/calibration.json
"""

import json
import sys

import hydra
from omegaconf import DictConfig

from finparakeet.scoring.review import compare_aggregations, fit_from_transcript, read_transcript


@hydra.main(config_path="pkg://finparakeet.conf", config_name="fit_confidence_calibration", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        table = compare_aggregations(read_transcript(cfg.transcript))
        cal = fit_from_transcript(cfg.transcript, cfg.method, cfg.aggregation)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"fit_confidence_calibration: {e}")
    for how, m in table.items():
        print(f"{how:>5}: AUROC {m.get('auroc')}  caught {json.dumps(m.get('catch_rate'))}  ECE {m.get('ece')}")
    path = cal.save(cfg.output)
    f = cal.fitted_on
    print(f"{cal.method} on {f['entities']} entities ({f['errors']} wrong): ECE {f['ece_before']:.3f} -> "
          f"{f['ece_after']:.3f}\n-> {path}")


if __name__ == "__main__":
    main()
