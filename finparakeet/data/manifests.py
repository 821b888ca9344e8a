"""Reading and writing the project's manifests: Lhotse CutSets (``*.jsonl.gz``) and NeMo JSON manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from lhotse import CutSet
from lhotse.cut import Cut

from finparakeet.data.nemo_manifest import read_nemo_manifest
from finparakeet.data.rows import detect_format


def load_cuts(path: str | Path, lazy: bool = False) -> CutSet:
    """A Lhotse cuts file (``.jsonl``, ``.jsonl.gz``); lazy reading keeps long manifests out of memory."""
    cuts = CutSet.from_jsonl_lazy(path)
    return cuts if lazy else cuts.to_eager()


def save_cuts(cuts: CutSet | Iterable[Cut], path: str | Path) -> Path:
    """Write cuts one by one (works for lazy sets), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with CutSet.open_writer(path) as writer:
        for cut in cuts:
            writer.write(cut)
    return path


def load_manifest(path: str | Path, lazy: bool = False, read_header: bool | None = None) -> CutSet:
    """Either format as a CutSet (NeMo manifests are converted eagerly; strict — see ``finparakeet.data.validate``
    for damaged ones)."""
    if detect_format(path) == "cuts":
        return load_cuts(path, lazy=lazy)
    return read_nemo_manifest(path, read_header=read_header)
