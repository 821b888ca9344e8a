"""The text a model learns from: the written form (the label, as scored) or the spoken form the audio says.

A general base trained on everyday English writes numbers as words ("ninety eight dollars"); the scorer's normaliser
counts that as the written ``$98``. Adapting such a base on written finance targets first unlearns the words and
only later learns the digits, so entity WER does not fall within a short run (README, the demo). The synthesiser
keeps what each utterance says in ``custom.spoken`` (numbers as words, tickers letter by letter, the respellings it
gave the voices); training on it keeps the base's own way of writing.
"""

from __future__ import annotations

from pathlib import Path

from lhotse import CutSet

__all__ = ["TARGET_TEXTS", "with_spoken_targets"]

TARGET_TEXTS = ("written", "spoken")


def with_spoken_targets(source: str | Path, target: str | Path) -> int:
    """Copy the cuts at ``source`` to ``target`` with each supervision's text replaced by its ``custom.spoken``
    (entity spans, which point into the written text, dropped); returns the number of cuts. A cut without a spoken
    form is named with its line, as only synthesised cuts carry one."""
    cuts = []
    for line, cut in enumerate(CutSet.from_file(source), start=1):
        for sup in cut.supervisions:
            spoken = (sup.custom or {}).get("spoken")
            if not spoken:
                raise ValueError(f"{source}:{line}: cut {cut.id} has no custom.spoken (only synthesised cuts do): "
                                 "train on data.target_text=written")
            sup.text = spoken
            sup.custom = {k: v for k, v in sup.custom.items() if k != "entities"}
        cuts.append(cut)
    CutSet.from_cuts(cuts).to_file(target)
    return len(cuts)
