"""The Whisper anchor: Whisper tiny.en on the same inputs, bias lists and entity report as recipes/transcribe.py
(see conf/transcribe_whisper.yaml; needs `pip install -e '.[whisper]'`).

    python recipes/transcribe_whisper.py dataset_manifest=test.json output_filename=out/whisper.json evaluate=true
    python recipes/transcribe_whisper.py dataset_manifest=test.json output_filename=out/whisper.json \
        boosting.key_phrases_file=bias.txt bias_mode=initial_prompt evaluate=true
"""

import sys

import hydra
from omegaconf import DictConfig

from finparakeet.biasing.phrases import EmptyBiasListError
from finparakeet.whisper import WhisperUnavailableError, transcribe_whisper


@hydra.main(config_path="pkg://finparakeet.conf", config_name="transcribe_whisper", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        result = transcribe_whisper(cfg)
    except (WhisperUnavailableError, EmptyBiasListError, FileNotFoundError, ValueError) as e:
        sys.exit(f"transcribe_whisper: {e}")
    print("\n".join(result.summary_lines()))
    if result.report is not None:
        from finparakeet.scoring.report import summary_lines

        print("\n".join(summary_lines(result.report, categories=False)))
        print(f"-> {result.report_paths['json']}")


if __name__ == "__main__":
    main()
