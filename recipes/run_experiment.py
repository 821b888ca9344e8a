"""Issues 6, 13 and 14: "start big, then fine-tune", measured against Whisper — train every system, decode with no
list / the lexicon list / per-call lists, the text-only LM and the call recordings, write the results table.

    python recipes/run_experiment.py            # see conf/run_experiment.yaml

The Whisper anchor is the optional extra `whisper`: this recipe hands its decoder to the experiment when it is
installed (the package itself never imports it), and the Whisper rows are skipped, saying how to install it, when not.
"""

from typing import Any, Callable, Optional

import hydra
from omegaconf import DictConfig

from finparakeet.experiment.pipeline import run_experiment


def whisper_decoder() -> tuple[Optional[Callable[..., Any]], Optional[str]]:
    """``finparakeet.whisper.transcribe_whisper`` and None, or None and why it cannot run here."""
    from finparakeet.whisper import WhisperUnavailableError, require_whisper, transcribe_whisper

    try:
        require_whisper()
    except WhisperUnavailableError as e:
        return None, str(e)
    return transcribe_whisper, None


@hydra.main(config_path="pkg://finparakeet.conf", config_name="run_experiment", version_base="1.3")
def main(cfg: DictConfig) -> None:
    whisper, unavailable = whisper_decoder() if cfg.whisper.enabled else (None, None)
    run_experiment(cfg, whisper=whisper, whisper_unavailable=unavailable)


if __name__ == "__main__":
    main()
