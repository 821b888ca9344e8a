"""FinParakeet's Hydra configs, shipped as package data (``pkg://finparakeet.conf``).

The recipes compose them with ``@hydra.main(config_path="pkg://finparakeet.conf")``; library code composes them with
:func:`compose`, so an installed package finds its configs from any working directory. ``conf/`` at the root of a
checkout is a link to this folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

__all__ = ["CONF_DIR", "CONF_MODULE", "compose"]

CONF_DIR = Path(__file__).resolve().parent
CONF_MODULE = "finparakeet.conf"


def compose(config_name: str | None, overrides: Sequence[str] = (), return_hydra_config: bool = False):
    """Hydra's ``compose`` of ``<config_name>.yaml`` (None: an empty primary config) with CLI-style ``overrides``,
    e.g. ``compose(None, ["+model=tiny_tdt", "model.encoder.n_layers=4"])``. Inside a recipe's Hydra app (whose
    search path is this package) the app's own Hydra composes; elsewhere this package is the search path."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():  # inside a recipe's Hydra app, whose search path holds these configs
        return hydra_compose(config_name, overrides=list(overrides), return_hydra_config=return_hydra_config)
    with initialize_config_module(config_module=CONF_MODULE, version_base="1.3"):
        return hydra_compose(config_name, overrides=list(overrides), return_hydra_config=return_hydra_config)
