"""One entry point for every importer: a source name and its input give cuts (and what could not be used)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from lhotse import CutSet

from finparakeet.data.earnings21 import import_earnings21
from finparakeet.data.folder import import_folder
from finparakeet.data.manifests import load_manifest
from finparakeet.data.rejects import Reject

Source = Literal["nemo", "cuts", "folder", "earnings21"]
SOURCES: tuple[str, ...] = ("nemo", "cuts", "folder", "earnings21")


def import_source(source: str, input_path: str | Path, media_dir: str | Path | None = None
                  ) -> tuple[CutSet, list[Reject]]:
    """``nemo``/``cuts``: a manifest (strict: a bad row raises with its line; see validation for damaged ones);
    ``folder``: audio + same-stem ``.txt``; ``earnings21``: the Earnings-21 folder (``media_dir``: its audio)."""
    if source in ("nemo", "cuts"):
        return load_manifest(input_path), []
    if source == "folder":
        return import_folder(input_path)
    if source == "earnings21":
        return import_earnings21(input_path, media_dir=media_dir), []
    raise ValueError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
