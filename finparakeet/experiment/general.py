"""The general base on its test split: WER and CER on seen and on held-out voices (and both together).

Both sides go through the finance normaliser, as every WER of the project does, so "Mr." vs "mister" or "2" vs "two"
are not errors; CER is jiwer's character error rate over the same normalised strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import jiwer

from finparakeet.inference.pipeline import transcribe
from finparakeet.text import FinanceNormalizer

__all__ = ["SEEN", "HELDOUT", "ALL", "voice_family", "score_groups", "evaluate_general_test"]

SEEN, HELDOUT, ALL = "seen voices", "held-out voices", "all"


def voice_family(row: Mapping[str, Any]) -> str:
    """The row's voice family (``voice.family`` as synthesis records it); "unknown" when the row does not say."""
    voice = row.get("voice")
    return voice.get("family", "unknown") if isinstance(voice, Mapping) else "unknown"


def _rates(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    refs = [r for r, _ in pairs]
    hyps = [h for _, h in pairs]
    return {"utterances": len(pairs), "wer": jiwer.wer(refs, hyps), "cer": jiwer.cer(refs, hyps)}


def score_groups(rows: Iterable[Mapping[str, Any]], heldout_families: Iterable[str]) -> dict[str, dict[str, Any]]:
    """WER/CER of ``rows`` (``text``, ``pred_text``, ``voice.family``) for seen voices, held-out voices and all;
    also per voice family. Rows whose normalised reference is empty are left out (nothing to score)."""
    norm = FinanceNormalizer()
    heldout = set(heldout_families)
    groups: dict[str, list[tuple[str, str]]] = {SEEN: [], HELDOUT: [], ALL: []}
    families: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        ref, hyp = norm.normalize(row["text"]), norm.normalize(row.get("pred_text") or "")
        if not ref:
            continue
        fam = voice_family(row)
        groups[HELDOUT if fam in heldout else SEEN].append((ref, hyp))
        groups[ALL].append((ref, hyp))
        families.setdefault(fam, []).append((ref, hyp))
    out = {name: _rates(pairs) for name, pairs in groups.items() if pairs}
    out.update({f"family: {fam}": _rates(pairs) for fam, pairs in sorted(families.items())})
    return out


def evaluate_general_test(model_path: str | Path, test_cuts: str | Path, output: str | Path,
                          heldout_families: Iterable[str], batch_size: int = 32) -> dict[str, dict[str, Any]]:
    """Transcribe ``test_cuts`` with the model at ``model_path`` (greedy_batch, no boosting) into ``output`` (a NeMo
    manifest) and score it with :func:`score_groups`."""
    result = transcribe({"model_path": str(model_path), "cuts_path": str(test_cuts), "output_filename": str(output),
                         "batch_size": batch_size, "progress": True})
    return score_groups(result.rows, heldout_families)
