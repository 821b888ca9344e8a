"""What the benchmark scripts share: their record (command, machine and load, goal, figures), synthetic finance text.

Each ``bench/bench_<name>.py`` writes its record to ``results/bench_<name>.json`` (committed); RESULTS.md renders it
(``finparakeet.experiment.bench_book``), so a record holds figures and names only, never Markdown.
"""

from __future__ import annotations

import json
import os
import platform
import random
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "results"


EARNINGS21 = REPO.parent / "shared" / "earnings21"  # ../shared beside the checkout


def earnings21_missing(root: Path, script: str) -> bool:
    """True (after saying why the benchmark is skipped) when ``root`` holds no Earnings-21 references."""
    if (root / "transcripts" / "nlp_references").is_dir():
        return False
    print(f"{script}: skipped, Earnings-21 not found under {root} "
          "(expected transcripts/nlp_references/; get it from github.com/revdotcom/speech-datasets)")
    return True


def record_path(name: str) -> Path:
    """Where ``bench/bench_<name>.py`` writes its record by default: ``results/bench_<name>.json``."""
    return RESULTS / f"bench_{name}.json"


def command_line(name: str, argv: Optional[Sequence[str]] = None) -> str:
    """The command as a user types it, ``python bench/bench_<name>.py`` and its arguments (``sys.argv`` by default)."""
    return shlex.join(["python", f"bench/bench_{name}.py", *(sys.argv[1:] if argv is None else argv)])


def record(name: str, argv: Optional[Sequence[str]], machine: dict[str, Any], goal: Optional[dict[str, Any]],
           figures: dict[str, Any]) -> dict[str, Any]:
    """A benchmark's record: its name, the command that produced it, the machine and load, the goal (if the issue
    set one) and the measured figures."""
    head = {"benchmark": name, "command": command_line(name, argv), "machine": machine}
    return {**head, **({"goal": goal} if goal else {}), **figures}


def write_result(path: Path, result: dict[str, Any]) -> Path:
    """Write a benchmark's JSON record (its folder created) and print it as RESULTS.md will show it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    from finparakeet.experiment.bench_book import BENCHMARKS, render_bench  # after the timing: it imports torch

    if result.get("benchmark") in BENCHMARKS:
        print("\n" + render_bench(result["benchmark"], result))
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


def machine_info(threads: Optional[int], device: str, load_before: Optional[list[float]] = None) -> dict[str, Any]:
    """CPU, threads, device, niceness, library versions and the commit: what a figure was measured on; with
    ``load_before`` (the load average when the run began) also the load average before and now, after it."""
    import torch

    info: dict[str, Any] = {
        "cpu": cpu_name(), "cpu_count": os.cpu_count(), "threads": threads, "device": device, "nice": os.nice(0),
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
    if load_before is not None:
        info.update(load_average_before=load_before, load_average_after=load_average())
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
