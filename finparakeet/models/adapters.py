"""Add, enable/disable, save and load NeMo adapters on a TDT model from a ``conf/adapter/*.yaml`` config.

Adapter config keys (all sweepable, e.g. ``adapter.dim=16``):
    type: linear | mha | none      ``none`` = full fine-tuning baseline (no adapters, everything trainable)
    name: base name; each module gets ``<name>_<enc|dec|joint>`` (NeMo's save/load match names by substring,
          so no name may be a substring of another — checked here)
    modules: [encoder, decoder, joint]   where to add (decoder = TDT prediction net; mha: encoder only)
    dim: bottleneck size (linear) or attention projection size (mha)
    activation, norm_position (linear), n_head (mha), dropout, stochastic_depth, l2_lambda
"""

from __future__ import annotations

import collections
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Union

import torch
from omegaconf import DictConfig, OmegaConf

from finparakeet.models.loading import count_parameters

__all__ = [
    "AdapterSummary",
    "adapter_configs",
    "add_adapters",
    "adapter_names",
    "set_adapters_enabled",
    "save_adapters",
    "load_adapters",
    "adapter_load_allowlist",
]

MODULE_SUFFIX = {"encoder": "enc", "decoder": "dec", "joint": "joint"}


@dataclass
class AdapterSummary:
    """What :func:`add_adapters` did."""

    names: list[str]  # "module:name" as NeMo addresses them
    trainable: int
    total: int

    @property
    def trainable_fraction(self) -> float:
        return self.trainable / max(self.total, 1)

    def __str__(self) -> str:
        what = ", ".join(self.names) if self.names else "no adapters (full fine-tuning)"
        return (f"{what}: trainable {self.trainable:,} / {self.total:,} parameters "
                f"({100 * self.trainable_fraction:.2f}%)")


def _module_dim(model, module: str) -> int:
    if module == "encoder":
        return int(model.encoder.d_model)
    if module == "decoder":
        return int(model.decoder.pred_hidden)
    if module == "joint":
        return int(model.joint.joint_hidden)
    raise ValueError(f"adapter module must be one of {list(MODULE_SUFFIX)}, got {module!r}")


def _plain(cfg_dataclass) -> DictConfig:
    # A plain DictConfig (not a structured one) keeps NeMo's dataclasses out of the saved adapter file.
    return OmegaConf.create(OmegaConf.to_container(OmegaConf.structured(cfg_dataclass)))


def adapter_configs(model, adapter_cfg: DictConfig) -> dict[str, DictConfig]:
    """NeMo adapter configs keyed by ``"module:name"`` for this model and adapter config (empty for ``none``)."""
    from nemo.collections.asr.parts.submodules.adapters import multi_head_attention_adapter_module as mha
    from nemo.collections.common.parts.adapter_modules import LinearAdapterConfig
    from nemo.core.classes.mixins.adapter_mixin_strategies import ResidualAddAdapterStrategyConfig

    kind = adapter_cfg.get("type", "linear")
    if kind == "none":
        return {}
    out = {}
    for module in adapter_cfg.get("modules", ["encoder"]):
        dim_in = _module_dim(model, module)
        name = f"{module}:{adapter_cfg.name}_{MODULE_SUFFIX[module]}"
        strategy = dict(stochastic_depth=adapter_cfg.get("stochastic_depth", 0.0),
                        l2_lambda=adapter_cfg.get("l2_lambda", 0.0))
        if kind == "linear":
            cfg = LinearAdapterConfig(
                in_features=dim_in,
                dim=adapter_cfg.dim,
                activation=adapter_cfg.get("activation", "swish"),
                norm_position=adapter_cfg.get("norm_position", "pre"),
                dropout=adapter_cfg.get("dropout", 0.0),
                adapter_strategy=ResidualAddAdapterStrategyConfig(**strategy),
            )
        elif kind == "mha":
            if module != "encoder":
                raise ValueError(f"mha adapters fit the encoder only, not {module!r} (use type: linear there)")
            rel = model.cfg.encoder.get("self_attention_model", "rel_pos") == "rel_pos"
            cfg = (mha.RelPositionMultiHeadAttentionAdapterConfig if rel else mha.MultiHeadAttentionAdapterConfig)(
                n_head=adapter_cfg.get("n_head", 4),
                n_feat=dim_in,
                dropout_rate=adapter_cfg.get("dropout", 0.0),
                proj_dim=adapter_cfg.dim,
                adapter_strategy=mha.MHAResidualAddAdapterStrategyConfig(**strategy),
            )
        else:
            raise ValueError(f"adapter type must be linear, mha or none, got {kind!r}")
        out[name] = _plain(cfg)
    return out


def adapter_names(model) -> list[str]:
    """Adapter names on the model (without the ``module:`` part)."""
    adapters = model.cfg.get("adapters") or {}
    return [k for k in adapters.keys() if k != model.adapter_global_cfg_key]


def _check_names(names: Iterable[str]) -> None:
    names = list(names)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"adapter names {duplicates} already exist on the model")
    for a in names:
        for b in names:
            if a != b and a in b:
                raise ValueError(
                    f"adapter name {a!r} is a substring of {b!r}: NeMo's save/load_adapters match by substring "
                    "and would mix their weights; choose distinct names"
                )
        # Saving keeps every state-dict key containing the name: it must not occur inside module paths.
        for fragment in ("module", "weight", "bias", "linear", "norm", "pos_bias", "adapter"):
            if a in fragment:
                raise ValueError(f"adapter name {a!r} occurs in parameter names ({fragment!r}); choose another")


def add_adapters(model, adapter_cfg: DictConfig, verbose: bool = True) -> AdapterSummary:
    """Add the configured adapters, then freeze the base and unfreeze the enabled adapters.

    With ``type: none`` nothing is added and every parameter is trainable (full fine-tuning baseline).
    Note NeMo's ``freeze()`` also puts the model in eval mode; Lightning switches it back to train mode.
    """
    configs = adapter_configs(model, adapter_cfg)
    if not configs:
        model.unfreeze()
    else:
        new = [full.split(":", 1)[1] for full in configs]
        _check_names(adapter_names(model) + new)
        for full_name, cfg in configs.items():
            model.add_adapter(name=full_name, cfg=cfg)
        model.set_enabled_adapters(enabled=True)
        model.freeze()
        # freeze_batchnorm (default): BatchNorm keeps its running statistics, so disabling the adapters
        # gives back the base model exactly.
        model.unfreeze_enabled_adapters()
    trainable, total = count_parameters(model)
    summary = AdapterSummary(list(configs), trainable, total)
    if verbose:
        print(f"[finparakeet] adapters {summary}")
    return summary


def set_adapters_enabled(model, enabled: bool = True, name: Optional[str] = None) -> None:
    """Enable/disable one adapter (by name, ``module:`` optional) or all of them."""
    if name is not None and ":" in name:
        name = name.split(":", 1)[1]
    model.set_enabled_adapters(name=name, enabled=enabled)


def adapter_load_allowlist() -> list:
    """Classes a saved adapter file may contain besides tensors: its OmegaConf config.

    Passed to ``torch.serialization.safe_globals`` so loading stays ``weights_only`` (no arbitrary pickles).
    NeMo's adapter-config dataclasses are listed for files written from structured configs (e.g. by NeMo's own
    scripts); ours hold plain DictConfigs.
    """
    from omegaconf import ListConfig, nodes
    from omegaconf.base import ContainerMetadata, Metadata

    from nemo.collections.asr.parts.submodules.adapters import multi_head_attention_adapter_module as mha
    from nemo.collections.common.parts.adapter_modules import LinearAdapterConfig
    from nemo.core.classes.mixins.adapter_mixin_strategies import (
        ResidualAddAdapterStrategyConfig,
        ReturnResultAdapterStrategyConfig,
    )

    return [
        DictConfig, ListConfig, ContainerMetadata, Metadata,
        nodes.AnyNode, nodes.StringNode, nodes.IntegerNode, nodes.FloatNode, nodes.BooleanNode,
        nodes.EnumNode, nodes.BytesNode, nodes.PathNode,
        # OmegaConf metadata refers to plain types (ref_type=dict, element types) as globals.
        dict, list, tuple, int, float, str, bool, bytes, type(None),
        typing.Any, typing.List, typing.Dict, typing.Optional, typing.Union, collections.defaultdict,
        LinearAdapterConfig, ResidualAddAdapterStrategyConfig, ReturnResultAdapterStrategyConfig,
        mha.MultiHeadAttentionAdapterConfig, mha.RelPositionMultiHeadAttentionAdapterConfig,
        mha.PositionalEncodingAdapterConfig, mha.RelPositionalEncodingAdapterConfig,
        mha.MHAResidualAddAdapterStrategyConfig,
    ]


def save_adapters(model, path: Union[str, Path], name: Optional[str] = None) -> Path:
    """Write only the adapter weights and their config (NeMo's format; a small ``.pt``)."""
    _check_names(adapter_names(model))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save_adapters(str(path), name=name)
    return path


def _safe_load(path: Union[str, Path], map_location: Any):
    with torch.serialization.safe_globals(adapter_load_allowlist()):
        return torch.load(str(path), map_location=map_location, weights_only=True)


def load_adapters(model, path: Union[str, Path], map_location: Any = "cpu", strict: bool = True) -> list[str]:
    """Load adapters saved by :func:`save_adapters` (or NeMo) with weights-only unpickling and an allow-list.

    Adapters missing from the model are created from the saved config (NeMo's ``load_adapters``); adapters it
    already has get the saved weights. Returns the ``module:name`` keys loaded. Trainability is left as is:
    call ``model.freeze(); model.unfreeze_enabled_adapters()`` to continue training them.
    """
    from nemo.core.classes.mixins.adapter_mixins import AdapterModuleMixin

    present = set(adapter_names(model))
    payload = _safe_load(path, map_location)
    keys = [k for k in payload if k != "__cfg__"]
    missing = [k for k in keys if k.split(":")[-1] not in present]
    if missing:
        # NeMo's loader calls plain torch.load: give it the same allow-list (weights_only stays on).
        with torch.serialization.safe_globals(adapter_load_allowlist()):
            model.load_adapters(str(path), name=missing, map_location=map_location, strict=strict)
    for key in keys:
        if key in missing:
            continue
        adapter = key.split(":")[-1]
        targets = [m.get_adapter_module(adapter) for m in model.modules()
                   if isinstance(m, AdapterModuleMixin) and m.get_adapter_module(adapter) is not None]
        states = payload[key]
        if len(states) != len(targets):
            raise ValueError(f"{path}: {len(states)} modules saved for adapter {key!r}, model has {len(targets)}")
        prefix = f"{adapter}."
        for state, target in zip(states, targets):
            target.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)},
                                   strict=strict)
    return keys

