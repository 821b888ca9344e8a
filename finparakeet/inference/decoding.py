"""Decoding configs with NeMo's phrase boosting (the GPU-PB boosting tree), global and per utterance.

NeMo 3.0 keys this module sets on the model's ``decoding`` config (``nemo/collections/asr/parts/submodules/
rnnt_decoding.py``):

- ``strategy``: ``greedy_batch`` (label-looping greedy; the default) or a beam strategy such as ``malsd_batch``;
- ``greedy.boosting_tree`` (a ``BoostingTreeModelConfig``: ``key_phrases_list`` or ``key_phrases_file``,
  ``context_score``, ``depth_scaling``, ``use_triton``) and ``greedy.boosting_tree_alpha`` — ``beam.*`` for beam
  strategies;
- ``greedy.enable_per_stream_biasing``: the decoder keeps a multi-model that per-utterance requests are added to;
  each request rides on a partial hypothesis (``Hypothesis.biasing_cfg``, a ``BiasingRequestItemConfig``) passed to
  ``model.transcribe(partial_hypothesis=...)``. Greedy batch only.
- ``greedy.ngram_lm_model`` / ``greedy.ngram_lm_alpha`` (``beam.*`` for beam strategies): shallow fusion of a
  token-level n-gram LM (NGPU-LM: an ARPA file over token ids offset by 100, from ``recipes/build_lm.py``, or a
  ``.nemo`` LM). ``greedy_batch``, ``malsd_batch`` and ``maes_batch`` fuse it; ``greedy`` and ``beam`` refuse it.
- ``compute_timestamps`` when word times are wanted.
- ``confidence_cfg`` (NeMo's ``ConfidenceConfig``: ``aggregation``, ``exclude_blank``, ``tdt_include_duration``,
  ``method_cfg``) with ``preserve_word_confidence``: ``Hypothesis.word_confidence``, one value in [0, 1] per word of
  ``hyp.text.split()``. NeMo fills it for greedy decoding only (``compute_confidence`` runs on greedy hypotheses);
  frame-looping ``greedy`` needs ``preserve_alignments`` for it on TDT, so it is switched on with confidence.

The boosting tree runs on CPU with ``use_triton: false`` (Triton kernels are CUDA-only).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from omegaconf import DictConfig, OmegaConf

from finparakeet.lm.record import check_tokenizer
from finparakeet.lm.tokens import model_tokenizer_info

logger = logging.getLogger(__name__)

GREEDY_STRATEGIES = ("greedy", "greedy_batch")
DECODING_SECTIONS = ("greedy", "beam")
BOOSTING_KEYS = ("boosting_tree", "boosting_tree_alpha", "enable_per_stream_biasing")
LM_KEYS = ("ngram_lm_model", "ngram_lm_alpha")
LM_STRATEGIES = ("greedy_batch", "malsd_batch", "maes_batch")  # NeMo 3.0's TDT strategies with NGPU-LM fusion
# NeMo 3.0 computes word confidence for greedy hypotheses only: beam strategies (malsd_batch, beam, ...) return none
# or fail inside NeMo, so confidence with them is refused before any model loads.
CONFIDENCE_STRATEGIES = ("greedy_batch", "greedy")
CONFIDENCE_KEYS = ("aggregation", "exclude_blank", "tdt_include_duration", "method_cfg")  # confidence_cfg's keys


def check_confidence_strategy(strategy: str) -> None:
    """``ValueError`` unless NeMo computes word confidence with ``strategy``."""
    if strategy not in CONFIDENCE_STRATEGIES:
        raise ValueError(f"confidence=true needs rnnt_decoding.strategy={' or '.join(CONFIDENCE_STRATEGIES)}: NeMo "
                         f"computes word confidence for greedy decoding only, and {strategy!r} would return none")


def confidence_settings(node: Mapping[str, Any] | None) -> dict[str, Any]:
    """NeMo's ``confidence_cfg`` from the ``confidence_cfg`` block, word and token confidence kept; an unknown key is
    an error (NeMo would ignore it and compute another confidence than asked for)."""
    given = dict(OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else (node or {}))
    given = {k: v for k, v in given.items() if k not in ("preserve_word_confidence", "preserve_token_confidence")}
    unknown = sorted(set(given) - set(CONFIDENCE_KEYS))
    if unknown:
        raise ValueError(f"unknown confidence_cfg key(s) {unknown}; the keys are {list(CONFIDENCE_KEYS)}")
    from nemo.collections.asr.parts.utils.asr_confidence_utils import ConfidenceConfig  # NeMo checks the values

    ConfidenceConfig(**given)
    return {**given, "preserve_word_confidence": True, "preserve_token_confidence": True}


@dataclass(frozen=True)
class LMFusion:
    """A token-level n-gram LM fused into decoding (the ``lm`` config group)."""

    model: str  # ngram_lm_model: an ARPA file (recipes/build_lm.py) or a .nemo NGPU-LM
    alpha: float = 0.3  # ngram_lm_alpha: weight of the LM's log-probabilities next to the model's


def lm_fusion(node: Mapping[str, Any] | None, strategy: str) -> LMFusion | None:
    """The ``lm`` group's setting (None without ``ngram_lm_model``), checked before any model loads: the file exists
    and the strategy fuses an LM."""
    if OmegaConf.is_config(node) and OmegaConf.is_missing(node, "ngram_lm_model"):
        raise ValueError("lm=finance needs lm.ngram_lm_model=<an ARPA file from recipes/build_lm.py>")
    path = node.get("ngram_lm_model") if node else None
    if not path:
        return None
    if not Path(path).is_file():
        raise FileNotFoundError(f"lm.ngram_lm_model={path} does not exist (build one with recipes/build_lm.py)")
    if strategy not in LM_STRATEGIES:
        raise ValueError(f"an n-gram LM (lm.ngram_lm_model) needs a decoding strategy that fuses it: "
                         f"{', '.join(LM_STRATEGIES)} (NeMo's NGPU-LM); {strategy!r} does not")
    return LMFusion(str(path), float(node.get("ngram_lm_alpha") or 0.0))


def check_lm_tokenizer(model, lm: LMFusion) -> None:
    """``TokenizerMismatchError`` unless ``lm`` was built with ``model``'s tokenizer (its record, else its ids)."""
    if Path(lm.model).suffix != ".nemo":  # a .nemo LM carries no record to compare; NeMo checks its vocab size
        check_tokenizer(lm.model, model_tokenizer_info(model), int(model.tokenizer.vocab_size))


@dataclass(frozen=True)
class BoostingParams:
    """How phrases are boosted (NeMo's ``BoostingTreeModelConfig`` fields and the fusion weight)."""

    alpha: float = 0.5  # boosting_tree_alpha: weight of the boosting score next to the model's log-probabilities
    context_score: float = 1.0  # score per token of a matched phrase prefix
    depth_scaling: float = 2.0  # NeMo's value for CTC, RNN-T and TDT models
    use_triton: bool | None = None  # None: Triton on CUDA when available, PyTorch otherwise

    def tree_config(self, phrases: Sequence[str], device_type: str = "cpu") -> dict[str, Any]:
        use_triton = self.use_triton if self.use_triton is not None else (None if device_type == "cuda" else False)
        return {"key_phrases_list": list(phrases), "context_score": float(self.context_score),
                "depth_scaling": float(self.depth_scaling), "use_triton": use_triton}


def boosting_section(strategy: str) -> str:
    """``greedy`` or ``beam``: where NeMo reads the boosting tree for this strategy."""
    return "greedy" if strategy in GREEDY_STRATEGIES else "beam"


def decoding_config(base: DictConfig, overrides: Mapping[str, Any] | DictConfig | None = None,
                    phrases: Sequence[str] | None = None, params: BoostingParams = BoostingParams(),
                    per_utterance: bool = False, timestamps: bool = False, device_type: str = "cpu",
                    boost: bool = True, lm: LMFusion | None = None,
                    confidence: Mapping[str, Any] | None = None) -> DictConfig:
    """The model's decoding config without any boosting it carries, ``overrides`` (NeMo's ``rnnt_decoding`` keys)
    merged, plus boosting.

    ``phrases``: the global bias list (a boosting tree for every utterance). ``per_utterance``: enable per-stream
    biasing for per-utterance lists. ``boost=False`` removes every boosting tree, also one given in ``overrides``
    (the "without boosting" decode of a comparison). ``lm``: an n-gram LM fused into decoding (kept by ``boost=False``:
    a boosting comparison changes boosting only). ``confidence``: NeMo's ``confidence_cfg`` (``confidence_settings``)
    for word confidence, greedy strategies only.
    """
    cfg = copy.deepcopy(base)
    OmegaConf.set_struct(cfg, False)
    # What the model's config carries from an earlier call (or from its .nemo) is not this call's request:
    # only ``overrides`` and ``phrases`` say what is boosted now.
    _strip_boosting(cfg, BOOSTING_KEYS + LM_KEYS)
    if overrides:
        cfg = OmegaConf.merge(cfg, OmegaConf.create(OmegaConf.to_container(overrides, resolve=True)
                                                     if OmegaConf.is_config(overrides) else dict(overrides)))
        OmegaConf.set_struct(cfg, False)
    strategy = cfg.get("strategy", "greedy_batch")
    section = boosting_section(strategy)
    for name in DECODING_SECTIONS:
        if cfg.get(name) is None:
            cfg[name] = {}
    # One transcript per utterance: NeMo's TDT example configs set beam.return_best_hypothesis false, and then a
    # beam strategy returns every hypothesis of the beam (a list per utterance) instead of the best one.
    cfg.beam.return_best_hypothesis = True
    if not boost:
        _strip_boosting(cfg)
    if boost and phrases:
        if strategy == "greedy":
            raise ValueError("phrase boosting needs rnnt_decoding.strategy=greedy_batch (or a beam strategy such as "
                             "malsd_batch); NeMo's frame-looping 'greedy' has no fusion")
        cfg[section].boosting_tree = params.tree_config(phrases, device_type)
        cfg[section].boosting_tree_alpha = float(params.alpha)
    if boost and per_utterance:
        if strategy != "greedy_batch":
            raise ValueError(f"per-utterance key phrases need rnnt_decoding.strategy=greedy_batch (NeMo supports "
                             f"per-stream biasing in label-looping greedy decoding only), got {strategy!r}")
        cfg.greedy.enable_per_stream_biasing = True
    if lm is not None:
        if strategy not in LM_STRATEGIES:
            raise ValueError(f"an n-gram LM needs rnnt_decoding.strategy={' or '.join(LM_STRATEGIES)} (NeMo's "
                             f"NGPU-LM fusion); {strategy!r} does not fuse one")
        cfg[section].ngram_lm_model = lm.model
        cfg[section].ngram_lm_alpha = float(lm.alpha)
    if confidence is not None:
        check_confidence_strategy(strategy)
        cfg.confidence_cfg = dict(confidence)
        if strategy == "greedy":  # frame-looping TDT rebuilds token confidence from the alignments
            cfg.preserve_alignments = True
    elif cfg.get("confidence_cfg") is not None:  # not left on by an earlier call that wanted confidence
        cfg.confidence_cfg.preserve_word_confidence = False
        cfg.confidence_cfg.preserve_token_confidence = False
        cfg.confidence_cfg.preserve_frame_confidence = False
    if timestamps:
        cfg.compute_timestamps = True
    elif not (overrides and "compute_timestamps" in overrides):
        cfg.compute_timestamps = False  # not left on by an earlier call that wanted word times
    return cfg


def boosting_keys(decoding: Mapping[str, Any]) -> list[str]:
    """The boosting entries a decoding config carries (``greedy.boosting_tree``, ...)."""
    return [f"{name}.{key}" for name in DECODING_SECTIONS for key in BOOSTING_KEYS
            if isinstance(decoding.get(name), Mapping) and key in decoding[name]]


def _strip_boosting(cfg: DictConfig, keys: Sequence[str] = BOOSTING_KEYS) -> None:
    for name in DECODING_SECTIONS:
        section = cfg.get(name)
        if section is not None:
            for key in keys:
                section.pop(key, None)


def apply_decoding(model, cfg: DictConfig) -> None:
    """``model.change_decoding_strategy`` quietly (it builds the boosting tree)."""
    model.change_decoding_strategy(cfg, verbose=False)


def unknown_token_phrases(tokenizer, phrases: Sequence[str]) -> list[str]:
    """Phrases the tokenizer cannot spell (an ``<unk>`` token): boosting them would boost ``<unk>``."""
    unk = getattr(getattr(tokenizer, "tokenizer", None), "unk_id", lambda: None)()
    if unk is None or unk < 0:
        return []
    return [p for p in phrases if unk in tokenizer.text_to_ids(p)]


def usable_phrases(tokenizer, phrases: Sequence[str]) -> list[str]:
    """``phrases`` without those holding characters the model's tokenizer lacks (logged)."""
    bad = set(unknown_token_phrases(tokenizer, phrases))
    if bad:
        logger.warning("dropping %d key phrase(s) the model's tokenizer cannot spell (<unk>): %s", len(bad),
                       sorted(bad)[:10])
    return [p for p in phrases if p not in bad]


@functools.lru_cache(maxsize=None)
def _request_class():  # NeMo is imported on first use only
    from nemo.collections.asr.parts.utils.rnnt_utils import Hypothesis

    class BiasingRequest(Hypothesis):
        """An empty partial hypothesis carrying one utterance's biasing request.

        NeMo 3.0 merges the decoded continuation into a partial hypothesis with ``Hypothesis.merge_``, which does not
        carry ``token_duration`` over (TDT timestamps then fail) and turns ``y_sequence`` into a list of 0-d tensors.
        An empty request has nothing to merge: the result is the continuation, with the request kept.
        """

        def merge_(self, other):
            request = self.biasing_cfg
            for f in dataclasses.fields(other):
                setattr(self, f.name, getattr(other, f.name))
            self.biasing_cfg = other.biasing_cfg or request
            self.text = None  # decode_hypothesis fills it
            return self

    return BiasingRequest


def biasing_requests(phrase_lists: Sequence[Sequence[str] | None], params: BoostingParams = BoostingParams(),
                     device_type: str = "cpu", run_key: str = "") -> list[Any]:
    """One partial hypothesis per utterance: a biasing request for a non-empty list, else None.

    Requests share NeMo's model cache by list (``cache_key``), so windows of one recording build its tree once;
    call ``release_requests`` when done.
    """
    # NeMo (seconds to import) on first use only, as in _request_class
    from nemo.collections.asr.parts.context_biasing.biasing_multi_model import BiasingRequestItemConfig
    from nemo.collections.asr.parts.context_biasing.boosting_graph_batched import BoostingTreeModelConfig

    request_cls = _request_class()
    out = []
    for phrases in phrase_lists:
        if not phrases:
            out.append(None)
            continue
        tree = BoostingTreeModelConfig(**params.tree_config(phrases, device_type))
        key = "finparakeet:" + run_key + ":" + hashlib.sha1("\n".join(phrases).encode()).hexdigest()
        item = BiasingRequestItemConfig(boosting_model_cfg=tree, boosting_model_alpha=float(params.alpha),
                                        cache_key=key)
        out.append(request_cls(y_sequence=[], score=0.0, biasing_cfg=item))
    return out


def release_requests(requests: Sequence[Any]) -> None:
    """Drop the requests' boosting trees from NeMo's module-level cache."""
    for r in requests:
        if r is not None and r.biasing_cfg is not None:
            r.biasing_cfg.remove_from_cache()
