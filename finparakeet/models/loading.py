"""Build a TDT model from config, or load Parakeet (hub name or local ``.nemo``), always adapter-capable.

NeMo's ``add_adapter`` only works if the encoder was *instantiated* as its adapter class
(``ConformerEncoderAdapter``), so the encoder ``_target_`` is switched before building or restoring.
Every model returned here also gets the CPU TDT loss (:func:`use_cpu_tdt_loss_if_needed`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence, Union

from omegaconf import DictConfig, OmegaConf, open_dict

from finparakeet.conf import CONF_DIR, compose
from finparakeet.models.tdt_loss import use_cpu_tdt_loss_if_needed
from finparakeet.models.tokenizer import is_tokenizer_dir
from finparakeet.pretrained import resolve_shipped_name

if TYPE_CHECKING:  # NeMo import costs ~7 s: only on the code paths that build a model
    from nemo.collections.asr.models import ASRModel

__all__ = [
    "CONF_DIR",
    "PretrainedUnavailableError",
    "load_group_config",
    "load_model_config",
    "load_adapter_config",
    "make_adapter_capable",
    "build_model",
    "load_pretrained",
    "load_or_build",
    "count_parameters",
]

HUB_HOST = "huggingface.co"
# Keys of our model configs that NeMo does not know; stripped before the config reaches NeMo.
FINPARAKEET_KEYS = ("pretrained_name", "nemo_path", "tokenizer_train")
_TRUE = {"1", "true", "yes", "on"}


class PretrainedUnavailableError(RuntimeError):
    """A pretrained model was requested but cannot be fetched (no network/hub) and is not cached."""


def load_group_config(group: str, name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """``conf/<group>/<name>.yaml`` composed by Hydra (``+<group>=<name>`` on an empty primary config), as the
    ``<group>`` node; ``overrides`` use Hydra's CLI paths, e.g. ``["model.encoder.n_layers=4"]``.

    The node keeps its interpolations: ``${model.*}`` resolve inside it, ``${data.*}`` once it sits in a training
    config (or to their ``oc.select`` defaults)."""
    return compose(None, [f"+{group}={name}", *overrides])[group]


def load_model_config(name: str = "tiny_tdt", overrides: Sequence[str] = ()) -> DictConfig:
    """``conf/model/<name>.yaml`` as the ``model`` node (see :func:`load_group_config`)."""
    return load_group_config("model", name, overrides)


def load_adapter_config(name: str = "linear", overrides: Sequence[str] = ()) -> DictConfig:
    """``conf/adapter/<name>.yaml`` as the ``adapter`` node, e.g. ``overrides=["adapter.dim=16"]``."""
    return load_group_config("adapter", name, overrides)


def make_adapter_capable(cfg: DictConfig) -> DictConfig:
    """Switch ``encoder._target_`` (and any other registered module) to its adapter-capable class, in place."""
    from nemo.core.classes.mixins import adapter_mixins

    with open_dict(cfg):
        for key in ("encoder", "decoder", "joint"):
            target = cfg.get(key, {}).get("_target_") if cfg.get(key) is not None else None
            if target is None:
                continue
            info = adapter_mixins.get_registered_adapter(target)
            if info is not None:
                cfg[key]["_target_"] = info.adapter_class_path
    return cfg


def _nemo_config(cfg: DictConfig) -> DictConfig:
    """Resolve our model config into the plain config NeMo expects (our own keys dropped)."""
    # Resolve key by key while still attached to the root, so ${model.*} and ${data.*} interpolations work.
    plain = {}
    for key in cfg:
        if key in FINPARAKEET_KEYS:
            continue
        value = cfg[key]
        plain[key] = OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
    return OmegaConf.create(plain)


def build_model(cfg: DictConfig, trainer: Any = None) -> "ASRModel":
    """A randomly initialised ``EncDecRNNTBPEModel`` from a model config (e.g. ``conf/model/tiny_tdt.yaml``), or
    NeMo's hybrid ``EncDecHybridRNNTCTCBPEModel`` when the config has an ``aux_ctc`` section.

    ``cfg.tokenizer.dir`` must hold a tokenizer (see :func:`finparakeet.models.tokenizer.train_tokenizer`).
    Dataset sections that are set are passed on to NeMo (set ``defer_setup: true`` in them to load data only
    when Lightning calls ``setup``).
    """
    from nemo.collections.asr.models import EncDecHybridRNNTCTCBPEModel, EncDecRNNTBPEModel

    plain = _nemo_config(cfg)
    tok_dir = plain.get("tokenizer", {}).get("dir")
    if not tok_dir or not is_tokenizer_dir(tok_dir):
        raise FileNotFoundError(
            f"model.tokenizer.dir={tok_dir!r} holds no tokenizer (tokenizer.model, tokenizer.vocab, vocab.txt). "
            "Train one with finparakeet.models.tokenizer.train_tokenizer(texts, dir) and set model.tokenizer.dir."
        )
    make_adapter_capable(plain)
    # An aux_ctc section asks for NeMo's hybrid TDT+CTC model (as Parakeet-TDT-CTC): a CTC head on the encoder,
    # trained alongside the TDT decoder; decoding, adapters and export still go through the TDT decoder.
    model_class = EncDecHybridRNNTCTCBPEModel if plain.get("aux_ctc") else EncDecRNNTBPEModel
    model = model_class(cfg=plain, trainer=trainer)
    use_cpu_tdt_loss_if_needed(model)
    return model


def _env_offline() -> bool:
    return any(os.environ.get(v, "").lower() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_reachable(host: str = HUB_HOST, timeout: float = 2.0) -> bool:
    """True if ``https://<host>`` answers (any HTTP status) within ``timeout`` seconds.

    An HTTPS request rather than a TCP connect: sandboxes and proxies may accept any TCP connection.
    It runs in a daemon thread so that slow DNS cannot hold us past ``timeout`` either.
    """
    import urllib.error
    import urllib.request

    result = []

    def probe():
        try:
            urllib.request.urlopen(urllib.request.Request(f"https://{host}/", method="HEAD"), timeout=timeout)
            result.append(True)
        except urllib.error.HTTPError:  # the server answered: it is reachable
            result.append(True)
        except Exception:  # noqa: BLE001 - any failure to get an answer means unreachable
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result)


def _hub_host() -> str:
    from urllib.parse import urlparse

    return urlparse(os.environ.get("HF_ENDPOINT", "")).hostname or HUB_HOST


def _cached_hub_file(name: str) -> Optional[str]:
    """Path of ``<repo>.nemo`` in the Hugging Face cache, if an earlier run downloaded it."""
    from huggingface_hub import try_to_load_from_cache

    path = try_to_load_from_cache(repo_id=name, filename=f"{name.rsplit('/', 1)[-1]}.nemo")
    return path if isinstance(path, str) and os.path.isfile(path) else None


def _offline_message(name: str, why: str) -> str:
    short = name.rsplit("/", 1)[-1]
    return (
        f"Cannot load pretrained model '{name}': {why}, and it is not in the Hugging Face cache.\n"
        f"Point at a local copy instead:  model.nemo_path=/path/to/{short}.nemo\n"
        f"(download it where the hub is reachable, e.g. `huggingface-cli download {name} {short}.nemo`, "
        "and copy it here)."
    )


def load_pretrained(
    pretrained_name: Optional[str] = None,
    nemo_path: Optional[Union[str, Path]] = None,
    map_location: Any = None,
    trainer: Any = None,
    timeout: float = 2.0,
) -> "ASRModel":
    """Restore a NeMo ASR model with an adapter-capable encoder; ``nemo_path`` wins over ``pretrained_name``.

    ``pretrained_name=finparakeet/<name>`` names a model shipped in :mod:`finparakeet.pretrained` (sha256-checked).

    A hub name is served from the Hugging Face cache when present; otherwise, offline (``HF_HUB_OFFLINE=1``
    or the hub unreachable within ``timeout`` s) it raises :class:`PretrainedUnavailableError` at once.
    """
    # finparakeet/<name>: a model shipped inside the package, checked against its sha256 before anything loads it.
    shipped = None if nemo_path else resolve_shipped_name(pretrained_name)
    if shipped is not None:
        nemo_path = shipped
    # Hub checks come before importing NeMo (~7 s), so an offline run fails at once.
    if nemo_path:
        path = Path(nemo_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"model.nemo_path={str(path)!r} does not exist")

        def restore(**kw):
            from nemo.collections.asr.models import ASRModel

            return ASRModel.restore_from(str(path), **kw)

    elif pretrained_name:
        cached = _cached_hub_file(pretrained_name)
        if cached:
            return load_pretrained(nemo_path=cached, map_location=map_location, trainer=trainer)
        if _env_offline():
            raise PretrainedUnavailableError(_offline_message(pretrained_name, "HF_HUB_OFFLINE is set"))
        host = _hub_host()
        if not hub_reachable(host, timeout=timeout):
            raise PretrainedUnavailableError(
                _offline_message(pretrained_name, f"{host} is not reachable within {timeout:g} s (no network?)")
            )

        def restore(**kw):
            from nemo.collections.asr.models import ASRModel

            return ASRModel.from_pretrained(pretrained_name, **kw)

    else:
        raise ValueError("give model.pretrained_name or model.nemo_path")

    cfg = make_adapter_capable(restore(return_config=True))
    model = restore(override_config_path=cfg, map_location=map_location, trainer=trainer)
    use_cpu_tdt_loss_if_needed(model)
    return model


def load_or_build(cfg: DictConfig, trainer: Any = None, map_location: Any = None) -> "ASRModel":
    """``load_pretrained`` if the config names weights (``nemo_path`` / ``pretrained_name``), else ``build_model``."""
    if cfg.get("nemo_path") or cfg.get("pretrained_name"):
        return load_pretrained(cfg.get("pretrained_name"), cfg.get("nemo_path"), map_location, trainer)
    return build_model(cfg, trainer=trainer)


def count_parameters(module) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts."""
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return trainable, total
