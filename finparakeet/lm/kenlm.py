"""KenLM's ``lmplz`` (modified Kneser-Ney estimation; built by ``make kenlm`` = ``scripts/build_kenlm.sh``) and the
ARPA header it writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

BUILD_COMMAND = "make kenlm"  # = scripts/build_kenlm.sh: builds lmplz into .venv/bin
LMPLZ = "lmplz"
MAX_ORDER = 6  # KENLM_MAX_ORDER in scripts/build_kenlm.sh


class LmplzMissingError(FileNotFoundError):
    """``lmplz`` is not built: the message names the command that builds it."""


def find_lmplz(explicit: str | None = None) -> Path:
    """``explicit``, else ``lmplz`` beside this Python (``.venv/bin``, where ``make kenlm`` puts it), else on PATH."""
    if explicit:
        path = Path(explicit)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise LmplzMissingError(f"lmplz={explicit} is not an executable file; build KenLM's lmplz with "
                                f"`{BUILD_COMMAND}` (scripts/build_kenlm.sh)")
    beside = Path(sys.executable).parent / LMPLZ
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(LMPLZ)
    if found:
        return Path(found)
    raise LmplzMissingError(f"KenLM's lmplz is not built (looked in {beside.parent} and on PATH); build it with "
                            f"`{BUILD_COMMAND}` (scripts/build_kenlm.sh, a few minutes; needs cmake and Boost)")


@dataclass(frozen=True)
class LmplzParams:
    order: int = 5
    prune: tuple[int, ...] = ()  # count thresholds per order, the unigram one 0 (lmplz --prune)
    discount_fallback: bool = True  # Kneser-Ney discounts of a small corpus cannot be estimated without it
    memory: str = "10%"  # lmplz -S (its sorting memory; lmplz's own default, 80%, would crowd a shared machine)

    def __post_init__(self) -> None:  # bad settings fail before any text is read
        if not 2 <= self.order <= MAX_ORDER:
            raise ValueError(f"order must be 2..{MAX_ORDER} (lmplz is built with KENLM_MAX_ORDER={MAX_ORDER}), "
                             f"got {self.order}")
        if self.prune and (len(self.prune) > self.order or self.prune[0] != 0
                           or any(b < a for a, b in zip(self.prune, self.prune[1:]))):
            raise ValueError(f"prune={list(self.prune)}: one count threshold per order up to {self.order}, the first "
                             "0 (unigrams are never pruned), never decreasing")

    def command(self, lmplz: Path, arpa: Path, tmp_dir: Path) -> list[str]:
        cmd = [str(lmplz), "-o", str(self.order), "--arpa", str(arpa), "-S", self.memory, "-T", str(tmp_dir)]
        if self.prune:
            cmd += ["--prune", *map(str, self.prune)]
        if self.discount_fallback:
            cmd.append("--discount_fallback")
        return cmd


def run_lmplz(lines: Sequence[str], arpa: Path, params: LmplzParams, lmplz: Path) -> tuple[list[str], float]:
    """Estimate from ``lines`` (fed on stdin) into ``arpa``; returns the command and its wall seconds.
    ``RuntimeError`` with lmplz's own last lines when it fails."""
    arpa.parent.mkdir(parents=True, exist_ok=True)
    tmp = arpa.with_name(arpa.name + ".partial")  # a failed run leaves no ARPA file that looks finished
    cmd = params.command(lmplz, tmp, arpa.parent)
    start = time.perf_counter()
    proc = subprocess.run(cmd, input="\n".join(lines) + "\n", text=True, encoding="utf-8", capture_output=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        hint = ("\n(a small corpus needs discount_fallback=true)" if "discount_fallback" in proc.stderr
                and not params.discount_fallback else "")
        raise RuntimeError(f"lmplz failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}{hint}")
    tmp.replace(arpa)
    cmd[cmd.index("--arpa") + 1] = str(arpa)
    return cmd, seconds


def arpa_counts(path: str | Path) -> dict[int, int]:
    """The header's ``ngram N=count`` lines: order -> count."""
    counts: dict[int, int] = {}
    with open(path, encoding="utf-8") as f:
        first = f.readline().strip()
        if first != "\\data\\":
            raise ValueError(f"{path} is not an ARPA file (first line {first!r}, expected \\data\\)")
        for line in f:
            line = line.strip()
            if not line:
                break
            if line.startswith("ngram "):
                order, count = line[len("ngram "):].split("=")
                counts[int(order)] = int(count)
    return counts
