"""What the benchmark scripts share: their record (command, machine and load, goal, figures), synthetic finance text,
and for the decoding benchmarks (boosting, LM fusion, confidence) the audio, the random-weight models, the decoders
built once to switch between, and the alternating timed runs.

Each ``bench/bench_<name>.py`` writes its record to ``results/bench_<name>.json`` (committed); RESULTS.md renders it
(``finparakeet.experiment.bench_book``), so a record holds figures and names only, never Markdown.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

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


# ------------------------------------------------------------------------------------------ decoding benchmarks
GARBAGE_NOTE = "random weights: the hypotheses are garbage in every mode; only the timing matters"


def set_threads(threads: int) -> None:
    """One process's CPU threads, set before torch is imported (the machine is shared), and NeMo's logging quiet."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process
        pass
    from nemo.utils import logging as nemo_logging

    nemo_logging.setLevel(nemo_logging.ERROR)


def make_audio(utterances, seconds: float, out_dir: Path, seed: int) -> list[tuple[Path, float, str]]:
    """espeak-ng speech of ``utterances`` until ``seconds`` of audio: (wav, duration, label)."""
    import soundfile as sf

    from finparakeet.synth.tts import TTSConfig, check_tools, choose_voice, synthesize

    cfg = TTSConfig()
    check_tools(cfg)
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    made, total = [], 0.0
    for k, u in enumerate(utterances):
        if total >= seconds:
            break
        samples = synthesize(u.spoken, choose_voice(cfg, rng), (), cfg)
        path = out_dir / f"utt{k:03d}.wav"
        sf.write(path, samples, cfg.sample_rate, subtype="PCM_16")
        dur = len(samples) / cfg.sample_rate
        made.append((path, dur, u.label))
        total += dur
    return made


def subset_dir(audio: list[tuple[Path, float, str]], seconds: float, out_dir: Path) -> tuple[Path, float, int]:
    """A folder with the first utterances of ``audio`` up to ``seconds`` (links: the same files)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    total, n = 0.0, 0
    for path, dur, _ in audio:
        if total >= seconds:
            break
        os.symlink(path, out_dir / path.name)
        total, n = total + dur, n + 1
    return out_dir, total, n


def random_model(name: str, texts: Sequence[str], work: Path, seed: int, device) -> tuple[Any, dict[str, Any]]:
    """``conf/model/<name>.yaml`` with RANDOM weights (no hub access) in eval mode on ``device``, with a tokenizer of
    the model's vocabulary shape trained on ``texts``; and what was built: parameters, vocabulary, the tokenizer's
    folder, seconds to train it and to build the model."""
    import torch

    from finparakeet.models.loading import build_model, load_model_config
    from finparakeet.models.tokenizer import train_tokenizer

    shape = load_model_config(name).tokenizer_train
    t0 = time.perf_counter()
    tok = train_tokenizer(list(texts), work / f"tokenizer_{name}", vocab_size=int(shape.vocab_size),
                          model_type=str(shape.get("model_type", "unigram")),
                          split_digits=bool(shape.get("split_digits", True)),
                          byte_fallback=bool(shape.get("byte_fallback", False)))
    t_tok = time.perf_counter() - t0
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    model = build_model(load_model_config(name, [f"model.tokenizer.dir={tok}"]))
    model.eval()
    model = model.to(device)
    info = {"parameters": sum(p.numel() for p in model.parameters()),
            "tokenizer_vocab_size": model.tokenizer.vocab_size, "tokenizer_dir": Path(tok),
            "tokenizer_s": t_tok, "build_s": time.perf_counter() - t0}
    print(f"tokenizer {info['tokenizer_vocab_size']} pieces ({t_tok:.1f} s), model {info['parameters'] / 1e6:.1f}M "
          f"parameters built in {info['build_s']:.1f} s", flush=True)
    return model, info


class Decoders:
    """The model's decoding objects for one config, built once (``apply_decoding``), to switch between."""

    def __init__(self, model):
        self.decoding, self.wer, self.cfg = model.decoding, model.wer, model.cfg.decoding

    def use(self, model) -> None:
        from omegaconf import open_dict

        model.decoding, model.wer = self.decoding, self.wer
        with open_dict(model.cfg):
            model.cfg.decoding = self.cfg
        if model.joint.fuse_loss_wer:
            model.joint.set_wer(self.wer)


def build_decoders(model, cfg) -> tuple[Decoders, tuple[float, float]]:
    """``apply_decoding(model, cfg)`` once (a boosting tree or an LM is loaded there): the decoders, and the set-up's
    (wall s, CPU s)."""
    from finparakeet.inference.decoding import apply_decoding

    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    apply_decoding(model, cfg)
    return Decoders(model), (time.perf_counter() - t0, time.process_time() - c0)


def greedy_computer(decoding) -> Any:
    """The label-looping computer of a ``greedy_batch`` decoder (where fusion models and confidence live), or None."""
    inner = getattr(decoding, "decoding", None)
    return getattr(inner, "decoding_computer", None) or getattr(inner, "_decoding_computer", None)


def fusion_models(decoding) -> list[Any]:
    """The fusion models (boosting tree, n-gram LM) attached to a greedy_batch decoder: a sanity check that the
    decoder being timed is the one meant."""
    for obj in (greedy_computer(decoding), getattr(decoding, "decoding", None)):
        fm = getattr(obj, "fusion_models", None)
        if fm is not None:
            return list(fm)
    return []


def timed(fn: Callable[[], Any], device) -> tuple[float, float, Any]:
    """(wall s, process CPU s, ``fn()``), garbage collected before and CUDA synchronised around it."""
    import torch

    gc.collect()
    if device.type == "cuda":
        torch.cuda.synchronize()
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - w0, time.process_time() - c0, out


def alternating_runs(decode: Callable[[str], tuple[float, float, Any]], modes: Sequence[str],
                     repeat: int) -> tuple[dict[str, list[tuple[float, float]]], dict[str, Any]]:
    """One untimed warm-up per mode, then ``repeat`` rounds of every mode, the order rotated each round (two modes
    alternate which goes first), so that a change in the machine's load falls on every mode alike. ``decode(mode)``
    returns (wall s, CPU s, output). Returns the (wall, CPU) of every timed run by mode and each mode's last output."""
    for mode in modes:
        w, _, _ = decode(mode)
        print(f"  warm-up {mode}: {w:.2f} s", flush=True)
    runs: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
    outputs: dict[str, Any] = {}
    width = max(len(m) for m in modes)
    for r in range(repeat):
        k = r % len(modes)
        for mode in [*modes[k:], *modes[:k]]:
            w, c, outputs[mode] = decode(mode)
            runs[mode].append((w, c))
            print(f"  run {r + 1}/{repeat} {mode:{width}s}: {w:7.2f} s wall, {c:7.2f} s CPU  "
                  f"(load {fmt_load(load_average())})", flush=True)
    return runs, outputs


def medians(runs: dict[str, list[tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    """Mode -> (median wall s, median CPU s)."""
    return {m: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for m, v in runs.items()}


def paired_ratio(runs: dict[str, list[tuple[float, float]]], base: str, other: str) -> float:
    """The median of ``other``/``base`` over the rounds (wall): each pair ran side by side, under the same load."""
    return statistics.median(b[0] / a[0] for a, b in zip(runs[base], runs[other]))


def encoder_seconds(model, items, batch_size: int, device) -> tuple[float, float]:
    """(wall s, CPU s) of preprocessor + encoder on the decode's batches (longest first), no decoding."""
    import numpy as np
    import torch

    order = sorted(items, key=lambda it: -it.cut.duration)
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            audios = [it.cut.load_audio()[0].astype(np.float32) for it in order[b:b + batch_size]]
            lens = torch.tensor([len(a) for a in audios], device=device)
            sig = torch.zeros(len(audios), int(lens.max()), device=device)
            for i, a in enumerate(audios):
                sig[i, : len(a)] = torch.from_numpy(a).to(device)
            model.forward(input_signal=sig, input_signal_length=lens)
            if device.type == "cuda":
                torch.cuda.synchronize()
    return time.perf_counter() - start, time.process_time() - cpu


def encoder_split(encoder: tuple[float, float], med: dict[str, tuple[float, float]], base: str,
                  other: str) -> dict[str, Any]:
    """The decode less the encoder, in CPU seconds (wall time on a shared machine is too noisy for a difference),
    for ``base`` and ``other``, and their ratio where the rest is not lost in the encoder's noise (> 2% of ``base``)."""
    split = {"encoder_s": encoder[0], "encoder_cpu_s": encoder[1],
             f"rest_{base}_cpu_s": med[base][1] - encoder[1], f"rest_{other}_cpu_s": med[other][1] - encoder[1],
             "rest_ratio_cpu": None}
    if split[f"rest_{base}_cpu_s"] > 0.02 * med[base][1]:
        split["rest_ratio_cpu"] = split[f"rest_{other}_cpu_s"] / split[f"rest_{base}_cpu_s"]
    return split


def mode_fields(med: dict[str, tuple[float, float]], audio_s: float, modes: Sequence[str]) -> dict[str, Any]:
    """A record's median figures by mode: ``decode_<mode>_s``, ``decode_<mode>_cpu_s`` and ``rtfx_<mode>``."""
    return {**{f"decode_{m}_s": med[m][0] for m in modes}, **{f"decode_{m}_cpu_s": med[m][1] for m in modes},
            **{f"rtfx_{m}": audio_s / med[m][0] for m in modes}}


def run_fields(runs: dict[str, list[tuple[float, float]]], modes: Sequence[str]) -> dict[str, Any]:
    """A record's timed runs by mode: ``runs_<mode>_s`` (wall) and ``runs_<mode>_cpu_s``."""
    return {**{f"runs_{m}_s": [w for w, _ in runs[m]] for m in modes},
            **{f"runs_{m}_cpu_s": [c for _, c in runs[m]] for m in modes}}


def ratio_fields(runs: dict[str, list[tuple[float, float]]], med: dict[str, tuple[float, float]], base: str,
                 other: str, goal: float) -> dict[str, Any]:
    """``other`` against ``base``: the ratio of the medians (wall, CPU), the paired ratio, and the goal's verdicts."""
    ratio, ratio_cpu = med[other][0] / med[base][0], med[other][1] / med[base][1]
    return {"ratio": ratio, "ratio_cpu": ratio_cpu, "ratio_paired_median": paired_ratio(runs, base, other),
            "goal_met": ratio <= goal, "goal_met_cpu": ratio_cpu <= goal}


# ------------------------------------------------------------------------------------------- the scripts' main
def add_model_args(ap, models: Sequence[str], name: str, repeat_what: str = "timed runs per mode") -> None:
    """The options every decoding benchmark takes: the models, audio and runs per model, batch, threads, device,
    seed, and the record's path (``results/bench_<name>.json``)."""
    ap.add_argument("--models", default=",".join(models), help=f"comma-separated subset of {', '.join(models)}")
    ap.add_argument("--seconds-tiny", type=float, default=180.0, help="audio for the tiny model (default 180 s)")
    ap.add_argument("--seconds-large", type=float, default=60.0, help="audio for the 0.6B model (default 60 s)")
    ap.add_argument("--repeat-tiny", type=int, default=5, help=f"{repeat_what}, tiny model (default 5)")
    ap.add_argument("--repeat-large", type=int, default=3, help=f"{repeat_what}, 0.6B model (default 3)")
    ap.add_argument("--batch-size", type=int, default=16, help="utterances per batch (the recipe's default, 16)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: the machine is shared)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", type=Path, default=record_path(name))


def parse_model_args(ap, argv, models: Sequence[str], positive: Sequence[str] = ()):
    """``ap.parse_args(argv)`` with ``args.model_list`` (``--models`` split and checked), and the counts checked
    (the runs, batch and threads, and the options named in ``positive``, must be >= 1)."""
    args = ap.parse_args(argv)
    args.model_list = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in args.model_list if m not in models]
    if bad or not args.model_list:
        ap.error(f"--models: unknown {bad}; choose from {', '.join(models)}")
    names = ["repeat_tiny", "repeat_large", "batch_size", "threads", *positive]
    if min(getattr(args, n) for n in names) < 1:
        ap.error(", ".join(["--repeat-*", "--batch-size", "--threads", *(f"--{n.replace('_', '-')}" for n in positive)])
                 + " must be >= 1")
    return args


def start_torch(args) -> Optional[list[float]]:
    """Set the threads (before anything imports torch) and check the device; then the load average now, after
    printing it with the CPUs, or None (after saying why) when ``--device cuda`` has no CUDA device."""
    set_threads(args.threads)
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda, but torch sees no CUDA device; use --device cpu", file=sys.stderr)
        return None
    load_before = load_average()
    print(f"{os.cpu_count()} CPUs, {args.threads} torch thread(s), device {args.device}, load average "
          f"{fmt_load(load_before)}; {GARBAGE_NOTE}", flush=True)
    return load_before


def bench_models(args, name: str, bench: Callable[[str, list[str], Path, float, int, Path], dict[str, Any]],
                 errors: tuple[type[BaseException], ...] = (RuntimeError, MemoryError)) -> dict[str, dict[str, Any]]:
    """Synthetic finance text and its espeak-ng audio in a temporary folder, then ``bench(key, texts, folder,
    audio_s, n_utts, work)`` for each model of ``args.model_list`` on its share of the audio; a model that fails
    with one of ``errors`` gets ``{"error": ...}``. The results by model."""
    work = Path(tempfile.mkdtemp(prefix=f"bench_{name}_"))
    results: dict[str, dict[str, Any]] = {}
    try:
        utterances = finance_utterances(3000, args.seed)
        texts = [u.label for u in utterances]
        need = max(args.seconds_tiny if "tiny" in args.model_list else 0,
                   args.seconds_large if "0.6b" in args.model_list else 0)
        t0 = time.perf_counter()
        audio = make_audio(utterances, need, work / "audio", args.seed)
        print(f"audio: {len(audio)} espeak-ng utterances, {sum(d for _, d, _ in audio):.1f} s "
              f"(synthesised in {time.perf_counter() - t0:.1f} s)", flush=True)
        for key in args.model_list:
            seconds = args.seconds_tiny if key == "tiny" else args.seconds_large
            folder, audio_s, n = subset_dir(audio, seconds, work / f"audio_{key}")
            try:
                results[key] = bench(key, texts, folder, audio_s, n, work)
            except errors as e:
                print(f"{key} failed: {type(e).__name__}: {e}", file=sys.stderr)
                results[key] = {"error": f"{type(e).__name__}: {e}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def machine_after(args, load_before: list[float]) -> dict[str, Any]:
    """``machine_info`` at the end of a run, after printing the load average before and after it."""
    machine = machine_info(args.threads, args.device, load_before)
    print(f"\n{GARBAGE_NOTE}. Load average {fmt_load(load_before)} before, {fmt_load(machine['load_average_after'])} "
          f"after; {os.cpu_count()} CPUs.")
    return machine
