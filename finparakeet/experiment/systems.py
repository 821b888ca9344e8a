"""The decodes of one system, as rows of the table.

A NeMo system: the boosting weight chosen on the finance dev split per list kind, then the finance test with no
list, the lexicon list and the per-call lists, the general test, and for adapted models the general test again with
the adapters switched off. For the base and the best adapted system also the n-gram LM (its weight chosen on dev)
without and with the per-call lists, and the call-length recordings. The Whisper anchor: the finance test with no
list, the lexicon list and the per-call lists (as ``hotwords``, and as ``initial_prompt``), and the general test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from finparakeet.experiment.decodes import decode_nemo, decode_whisper, recipe_cfg, tune
from finparakeet.experiment.lists import ExperimentInputs

__all__ = ["DecodeSettings", "boosting_keys", "nemo_rows", "lm_rows", "longform_rows", "adapters_off_rows",
           "whisper_rows"]

BOOSTED, NO_BOOSTING, OUTPUT = "boosting", "no_boosting", "output"  # transcribe's names for its decodes


@dataclass(frozen=True)
class DecodeSettings:
    """What every decode of the experiment shares."""

    inputs: ExperimentInputs
    general_test: Path
    heldout: tuple[str, ...]  # voice families held out of training (the held-out voices column)
    recipe: Mapping[str, Any]  # batch_size, progress, cuda: recipes/transcribe.py keys for every decode
    boosting: Mapping[str, Any]  # recipes/transcribe.py's boosting keys (context_score, depth_scaling, ...)
    tune_alpha: Sequence[float]  # boosting weights tried on dev


def boosting_keys(d: DecodeSettings, alpha: float, **keys: Any) -> dict[str, Any]:
    """The boosting keys of a decode at weight ``alpha`` (the experiment's boosting settings plus ``keys``)."""
    return {**d.boosting, "boosting_tree_alpha": alpha, **keys}


def nemo_rows(model, model_path: Path, out: Path, d: DecodeSettings) -> dict[str, Any]:
    """``alphas`` (per list kind, chosen on dev), ``finance`` (none / lexicon / per_call) and ``general`` (none)."""
    i = d.inputs
    lists = {"lexicon": (i.finance_dev, i.finance_test, {"key_phrases_file": i.lexicon_file}),
             "per_call": (i.per_call_dev, i.per_call_test, {})}  # per-call: each row's bias_list
    candidates = list(d.tune_alpha) or [float(d.boosting["boosting_tree_alpha"])]
    alphas = {}
    for kind, (dev, _, keys) in lists.items():
        alphas[kind] = tune(candidates, lambda a, dev=dev, keys=keys, kind=kind: decode_nemo(
            model, model_path, recipe_cfg(dev, out / "dev" / f"{kind}.alpha{a:g}", d.recipe,
                                          boosting=boosting_keys(d, a, **keys)), d.heldout)[BOOSTED])
    a_call, a_lex = alphas["per_call"]["chosen"], alphas["lexicon"]["chosen"]
    per_call = decode_nemo(model, model_path, recipe_cfg(i.per_call_test, out / "finance_test.per_call", d.recipe,
                                                         boosting=boosting_keys(d, a_call, compare=True)), d.heldout)
    lexicon = decode_nemo(model, model_path, recipe_cfg(i.finance_test, out / "finance_test.lexicon", d.recipe,
                                                        boosting=boosting_keys(d, a_lex, **lists["lexicon"][2])),
                          d.heldout)
    general = decode_nemo(model, model_path, recipe_cfg(d.general_test, out / "general_test", d.recipe,
                                                        boosting={"enabled": False}), d.heldout)
    return {"alphas": alphas,
            "finance": {"none": per_call[NO_BOOSTING], "lexicon": {**lexicon[BOOSTED], "alpha": a_lex},
                        "per_call": {**per_call[BOOSTED], "alpha": a_call}},
            "general": {"none": general[OUTPUT]}}


def lm_rows(model, model_path: Path, out: Path, d: DecodeSettings, arpa: str, lm_alphas: Sequence[float],
            per_call_alpha: float) -> dict[str, Any]:
    """The n-gram LM fused: its weight chosen on the finance dev split (no list), then the finance test without and
    with the per-call lists (at the system's per-call boosting weight) and the general test."""
    i = d.inputs

    def lm(alpha: float) -> dict[str, Any]:
        return {"ngram_lm_model": Path(arpa), "ngram_lm_alpha": alpha}

    tuned = tune(lm_alphas, lambda a: decode_nemo(model, model_path, recipe_cfg(
        i.finance_dev, out / "dev" / f"lm.lambda{a:g}", d.recipe, boosting={"enabled": False}, lm=lm(a)),
        d.heldout)[OUTPUT])
    la = tuned["chosen"]
    fin = decode_nemo(model, model_path, recipe_cfg(i.per_call_test, out / "finance_test.lm_per_call", d.recipe,
                                                    boosting=boosting_keys(d, per_call_alpha, compare=True), lm=lm(la)),
                      d.heldout)
    gen = decode_nemo(model, model_path, recipe_cfg(d.general_test, out / "general_test.lm", d.recipe,
                                                    boosting={"enabled": False}, lm=lm(la)), d.heldout)
    return {"lm_alpha": tuned,
            "finance": {"lm": {**fin[NO_BOOSTING], "lm_alpha": la},
                        "lm_per_call": {**fin[BOOSTED], "alpha": per_call_alpha, "lm_alpha": la}},
            "general": {"lm": {**gen[OUTPUT], "lm_alpha": la}}}


def longform_rows(model, model_path: Path, out: Path, d: DecodeSettings, per_call_alpha: float,
                  long_audio: Mapping[str, Any]) -> dict[str, Any]:
    """The call-length recordings, decoded with ``long_audio`` (windows), without and with their per-call lists."""
    res = decode_nemo(model, model_path, recipe_cfg(d.inputs.longform, out / "call_recordings", d.recipe,
                                                    boosting=boosting_keys(d, per_call_alpha, compare=True),
                                                    long_audio=dict(long_audio)), d.heldout)
    return {"none": res[NO_BOOSTING], "per_call": {**res[BOOSTED], "alpha": per_call_alpha}}


def adapters_off_rows(model, out: Path, d: DecodeSettings) -> list[dict[str, Any]]:
    """The general test decoded with the model's adapters switched off (should be the base model's output)."""
    from finparakeet.inference.pipeline import transcribe
    from finparakeet.models.adapters import set_adapters_enabled

    set_adapters_enabled(model, False)
    try:
        res = transcribe({**d.recipe, "cuts_path": str(d.general_test), "boosting": {"enabled": False},
                          "output_filename": str(out / "general_test.adapters_off.json")}, model=model)
    finally:
        set_adapters_enabled(model, True)
    return res.rows


def whisper_rows(whisper: Callable[[Mapping[str, Any]], Any], out: Path, d: DecodeSettings,
                 options: Mapping[str, Any]) -> dict[str, Any]:
    """Whisper on the finance test with no list (the per-call lists still scored), the lexicon list and the
    per-call lists as ``hotwords``, the per-call lists as ``initial_prompt``; and the general test."""
    i = d.inputs
    settings = {"progress": d.recipe.get("progress", True), **options}
    plans = {"none": (i.per_call_test, "none", {}),
             "lexicon": (i.finance_test, "hotwords", {"key_phrases_file": i.lexicon_file}),
             "per_call": (i.per_call_test, "hotwords", {}),
             "per_call_prompt": (i.per_call_test, "initial_prompt", {})}
    finance = {mode: decode_whisper(whisper, recipe_cfg(src, out / f"finance_test.{mode}", settings,
                                                        bias_mode=bias_mode, boosting=keys), d.heldout)
               for mode, (src, bias_mode, keys) in plans.items()}
    general = decode_whisper(whisper, recipe_cfg(d.general_test, out / "general_test", settings, bias_mode="none"),
                             d.heldout)
    return {"finance": finance, "general": {"none": general}}
