"""Validation batches that carry their Lhotse cuts, so the entity hook reads each utterance's written text and entity
spans from its supervision instead of re-tagging decoded token ids.

NeMo's ``validation_step`` unpacks exactly four items. The batch here is a *list* of five (audio, audio_lens, tokens,
token_lens, cuts): :class:`~finparakeet.lightning.hook.EntityValidationCallback` pops the cuts off in
``on_validation_batch_start`` (Lightning hands callbacks and ``validation_step`` the same object), so NeMo sees its
usual four.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

__all__ = ["CutsBatchDataset", "cuts_validation_dataloader", "setup_validation_with_cuts", "CUTS_MARKER"]

# A batch is recognised as ours by its length: NeMo's Lhotse ASR batches have 4 items (5 with sample ids for
# non-Lhotse datasets, which hold a tensor there, never a CutSet).
CUTS_MARKER = 5


@lru_cache(maxsize=None)
def _dataset_class():
    from nemo.collections.asr.data.audio_to_text_lhotse import LhotseSpeechToTextBpeDataset

    class CutsBatchDataset(LhotseSpeechToTextBpeDataset):
        """NeMo's Lhotse BPE dataset with ``return_cuts=True``, returning a list so a callback can pop the cuts.

        NeMo's ``AudioSamples(fault_tolerant=True)`` drops cuts whose audio fails to load and returns the survivors,
        so the cuts stay aligned with the audio rows.
        """

        def __init__(self, tokenizer: Any):
            super().__init__(tokenizer=tokenizer, return_cuts=True)

        def __getitem__(self, cuts) -> list:
            return list(super().__getitem__(cuts))

    return CutsBatchDataset


def __getattr__(name: str):  # the class needs NeMo (~7 s import): built on first access
    if name == "CutsBatchDataset":
        return _dataset_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def cuts_validation_dataloader(model, config: DictConfig):
    """A NeMo Lhotse dataloader (``use_lhotse`` config) whose batches are ``[audio, lens, tokens, lens, cuts]``."""
    from nemo.collections.common.data.lhotse import get_lhotse_dataloader_from_config

    return get_lhotse_dataloader_from_config(
        config,
        global_rank=model.global_rank,
        world_size=model.world_size,
        dataset=_dataset_class()(model.tokenizer),
        tokenizer=model.tokenizer,
    )


def setup_validation_with_cuts(model, config: DictConfig | dict) -> None:
    """``model.setup_validation_data(config)``, with the cuts riding along when ``config.use_lhotse`` is set.

    The config is stored in ``model.cfg.validation_ds`` as NeMo's own setup does (so a saved ``.nemo`` keeps it);
    without Lhotse (a plain NeMo manifest) NeMo's dataloader is kept and the hook falls back to token-id references.
    """
    config = OmegaConf.create(config) if not isinstance(config, DictConfig) else config
    if not config.get("use_lhotse", False):
        model.setup_validation_data(config)
        return
    with open_dict(config):
        config.setdefault("shuffle", False)
    model._update_dataset_config(dataset_name="validation", config=config)  # what NeMo's own setup does
    # NeMo 3.0 has no public setter for a custom validation loader: its own setup_validation_data assigns this too
    model._validation_dl = cuts_validation_dataloader(model, config)
