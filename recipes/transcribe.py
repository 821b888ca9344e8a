"""Transcribe with finance phrase boosting, long recordings and entity reports (see conf/transcribe.yaml).

    python recipes/transcribe.py model_path=finance.nemo dataset_manifest=test.json output_filename=out/test.json
    python recipes/transcribe.py model_path=finance.nemo dataset_manifest=test.json output_filename=out/test.json \
        boosting.key_phrases_file=bias.txt evaluate=true boosting.compare=true
"""

import sys

import hydra
from omegaconf import DictConfig

from finparakeet.biasing.phrases import EmptyBiasListError
from finparakeet.inference.pipeline import transcribe
from finparakeet.models.loading import PretrainedUnavailableError


@hydra.main(config_path="pkg://finparakeet.conf", config_name="transcribe", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        result = transcribe(cfg)
    except (EmptyBiasListError, PretrainedUnavailableError, FileNotFoundError, ValueError) as e:
        sys.exit(f"transcribe: {e}")
    print("\n".join(result.summary_lines()))
    if result.reports:
        from finparakeet.scoring.report import summary_lines

        for name, report in result.reports.items():
            print(f"[{name}]")
            print("\n".join(summary_lines(report, categories=False)))
            print(f"-> {result.report_paths[name]['json']}")
    if result.comparison is not None:
        from finparakeet.inference.evaluation import comparison_markdown

        print(comparison_markdown(result.comparison))


if __name__ == "__main__":
    main()
