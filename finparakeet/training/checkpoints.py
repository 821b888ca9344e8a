"""Crash-safe checkpoints: atomic writes, and resuming from the newest intact checkpoint of a run.

:class:`AtomicCheckpointIO` is a Lightning ``CheckpointIO`` plugin: each checkpoint is written to a temporary file in
the same folder, flushed to disk and renamed over the target, so a process killed mid-save leaves the previous
checkpoint whole. :func:`find_resume_checkpoint` picks what a rerun continues from: the intact checkpoint with the
highest global step; a truncated or corrupt one is named with its reason and skipped, and a folder holding only broken
checkpoints is an error (a run never restarts from step 0 silently).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

__all__ = ["AtomicCheckpointIO", "BrokenCheckpoint", "CheckpointError", "ResumePoint", "checkpoint_step",
           "find_resume_checkpoint", "remove_stale_temporaries", "LAST_CKPT", "TMP_GLOB"]

LAST_CKPT = "last.ckpt"
TMP_GLOB = ".*.ckpt.*.tmp"  # temporary files of saves that never finished


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be read back (truncated, not a checkpoint, or without a global step)."""


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` into ``.<name>.<pid>.tmp`` beside the target, ``fsync``, then ``os.replace`` onto it."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Optional[Any] = None) -> None:
        if "://" in str(path):  # a remote filesystem (s3://, gs://...): Lightning's own writer
            return super().save_checkpoint(checkpoint, path, storage_options)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        # The rename itself must reach the disk before the run counts the checkpoint as written.
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def checkpoint_step(path: str | Path, verify: bool = True) -> int:
    """The ``global_step`` stored in a Lightning checkpoint; ``verify`` also checks every member's CRC (reads the
    whole file). Raises :class:`CheckpointError` with the reason when the file cannot be read back."""
    path = Path(path)
    try:
        if not zipfile.is_zipfile(path):
            raise CheckpointError("not a complete checkpoint (truncated, or not written by torch.save)")
        if verify:
            with zipfile.ZipFile(path) as zf:
                bad = zf.testzip()
            if bad is not None:
                raise CheckpointError(f"corrupt: member {bad} fails its CRC check")
        state = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - zip, pickle and torch errors all mean "cannot resume from this file"
        raise CheckpointError(f"unreadable: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    if not isinstance(state, dict) or "global_step" not in state:
        raise CheckpointError("no global_step: not a Lightning training checkpoint")
    return int(state["global_step"])


@dataclass(frozen=True)
class BrokenCheckpoint:
    path: Path
    reason: str


@dataclass(frozen=True)
class ResumePoint:
    """What a run resumes from: ``path`` (None: nothing to resume) at ``step``; ``broken``: the files skipped."""

    path: Optional[Path]
    step: int = 0
    broken: tuple[BrokenCheckpoint, ...] = field(default_factory=tuple)


def find_resume_checkpoint(ckpt_dir: str | Path) -> ResumePoint:
    """The intact ``*.ckpt`` in ``ckpt_dir`` with the highest global step (``last.ckpt`` wins a tie: it was written
    last). Raises :class:`CheckpointError` naming every file when checkpoints exist but none is intact."""
    ckpt_dir = Path(ckpt_dir)
    files = sorted(ckpt_dir.glob("*.ckpt")) if ckpt_dir.is_dir() else []
    intact: list[tuple[int, bool, Path]] = []
    broken: list[BrokenCheckpoint] = []
    for path in files:
        try:
            intact.append((checkpoint_step(path), path.name == LAST_CKPT, path))
        except CheckpointError as e:
            broken.append(BrokenCheckpoint(path, str(e)))
    if files and not intact:
        listing = "; ".join(f"{b.path}: {b.reason}" for b in broken)
        raise CheckpointError(f"no intact checkpoint to resume from in {ckpt_dir} ({listing}). Move the files away to "
                              "start this run from scratch, or set resume=false.")
    if not intact:
        return ResumePoint(None, 0, tuple(broken))
    step, _, path = max(intact)
    return ResumePoint(path, step, tuple(broken))


def remove_stale_temporaries(ckpt_dir: str | Path) -> list[Path]:
    """Delete the temporary files of saves that a kill interrupted (call before training starts)."""
    ckpt_dir = Path(ckpt_dir)
    stale = sorted(ckpt_dir.glob(TMP_GLOB)) if ckpt_dir.is_dir() else []
    for p in stale:
        p.unlink(missing_ok=True)
    return stale
