"""Lightning pieces of the training loop (Lightning and NeMo are imported on first use).

    hook     -- EntityValidationCallback: val_entity_wer & co. from the hypotheses NeMo's validation decodes
                (HypothesisTap wraps the model's WER metric: no second decoding pass), reports, metrics.json;
                with several processes the utterances are all-gathered and scored once (the same figures and
                report as one process)
    data     -- setup_validation_with_cuts: NeMo's Lhotse validation loader whose batches carry their cuts
    history  -- metrics.json (read_metrics, append_metrics)
"""

from finparakeet.lightning.history import METRICS_FILE, append_metrics, read_metrics

__all__ = ["EntityValidationCallback", "HypothesisTap", "METRICS_FILE", "append_metrics", "read_metrics",
           "setup_validation_with_cuts"]


def __getattr__(name: str):
    if name in ("EntityValidationCallback", "HypothesisTap"):
        from finparakeet.lightning import hook
        return getattr(hook, name)
    if name == "setup_validation_with_cuts":
        from finparakeet.lightning.data import setup_validation_with_cuts
        return setup_validation_with_cuts
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
