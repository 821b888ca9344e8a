"""What the benchmark scripts share: the machine's description and load, and synthetic finance text."""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


EARNINGS21 = REPO.parent / "shared" / "earnings21"  # ../shared beside the checkout


def earnings21_missing(root: Path, script: str) -> bool:
    """True (after saying why the benchmark is skipped) when ``root`` holds no Earnings-21 references."""
    if (root / "transcripts" / "nlp_references").is_dir():
        return False
    print(f"{script}: skipped, Earnings-21 not found under {root} "
          "(expected transcripts/nlp_references/; get it from github.com/revdotcom/speech-datasets)")
    return True


def write_result(path: Path, result: dict[str, Any]) -> Path:
    """A benchmark's JSON record (its folder created), printed as ``-> path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"-> {path}")
    return path


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages (empty where the platform has none): the machine may be shared."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on this platform
        return []


def fmt_load(load: list[float]) -> str:
    return "/".join(f"{v:.2f}" for v in load) if load else "n/a"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info(threads: int, device: str) -> dict[str, Any]:
    """CPU, threads, device, library versions and the commit: what a figure was measured on."""
    import torch

    info: dict[str, Any] = {
        "cpu": cpu_name(), "cpu_count": os.cpu_count(), "threads": threads, "device": device,
        "torch": torch.__version__, "python": platform.python_version(), "platform": platform.platform(),
        "mem_total_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "git_commit": git_commit()}
    try:
        from importlib.metadata import version

        info["nemo_toolkit"] = version("nemo_toolkit")
    except Exception:  # noqa: BLE001 - NeMo not installed: the figure stands without its version
        pass
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    return info


def finance_utterances(n: int, seed: int) -> list:
    """``n`` synthetic finance utterances (``finparakeet.synth.text.Utterance``: written label and spoken form)."""
    from finparakeet.lexicon import load_lexicon
    from finparakeet.synth.pools import LexiconPools
    from finparakeet.synth.templates import load_templates
    from finparakeet.synth.text import FinanceTextGenerator

    rng = random.Random(seed)
    gen = FinanceTextGenerator(load_templates(), LexiconPools.build(load_lexicon(), 0.0, rng))
    return [gen.generate(rng) for _ in range(n)]
