"""Adapters vs full fine-tuning on Parakeet-TDT-0.6B-v2's architecture: trainable parameters, step time, peak memory.

    python bench/bench_adapters.py [--device cpu|cuda] [--batch-size 2] [--seconds 5] [--warmup 1] [--steps 3]
                                   [--threads 1] [--configs linear32,linear64,none]
                                   [--output results/bench_adapters.json]

The model is built from ``conf/model/parakeet_tdt_0.6b_v2.yaml`` with random weights (no hub access needed) and a
1024-piece BPE tokenizer trained here on synthetic finance text (+ general sentences when installed). Every
configuration — encoder ``linear`` adapters of dim 32 and 64 (``conf/adapter/linear.yaml``) and full fine-tuning
(``conf/adapter/none.yaml``) — runs in its own subprocess, one after the other, on the same batch (noise audio, real
finance transcripts of a length that fits the audio), so that peak memory is per configuration:

* a training step = forward + TDT loss + backward + AdamW step (``finparakeet.models.step.transducer_loss``);
  ``--warmup`` steps are excluded, the median of ``--steps`` timed steps is reported (with its phases), in wall
  seconds (the verdict) and in process CPU seconds ("CPU s": all threads summed; on a shared machine it is less
  sensitive than wall time to other jobs taking the cores — compare the two to see contention);
* adapters train with the base frozen (``requires_grad`` False, as the recipe does), so autograd computes no weight
  gradients for frozen parameters and AdamW holds state only for the adapters;
* peak memory on CPU: the process's peak RSS (``ru_maxrss``; it includes the ~0.8 GB of NeMo's import and the model
  build) and the peak RSS sampled during the training steps; on CUDA: ``torch.cuda.max_memory_allocated``.
  On CPU NeMo's CUDA-only TDT loss is replaced by finparakeet's PyTorch TDT loss; on CUDA NeMo's numba loss runs.

Prints a table and the issue's verdicts (trainable <= 1% of parameters; adapter step time and peak memory <= 0.6x
those of full fine-tuning) and writes its record with the machine's description and load (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Optional

from benchutil import finance_utterances, fmt_load, load_average, machine_info, record, record_path, write_result

REPO = Path(__file__).resolve().parents[1]
MODEL_CONFIG = "parakeet_tdt_0.6b_v2"
VOCAB_SIZE = 1024
SAMPLE_RATE = 16000
WORDS_PER_SECOND = 2.6  # conversational English; a transcript "of real length" for the audio
# name -> (conf/adapter/<file>, overrides)
CONFIGS = {
    "linear32": ("linear", ["adapter.dim=32"]),
    "linear64": ("linear", ["adapter.dim=64"]),
    "none": ("none", []),
}
BASELINE = "none"
GOAL_TRAINABLE = 0.01
GOAL_RATIO = 0.6


class BenchError(RuntimeError):
    """A setup problem with a message that says what to do."""


# ----------------------------------------------------------------------------------------------------------- helpers
def _require_modules() -> None:
    missing = []
    for mod in ("torch", "omegaconf", "sentencepiece", "nemo.collections.asr", "finparakeet.models.loading"):
        try:
            __import__(mod)
        except Exception as e:  # noqa: BLE001 - any import failure is reported the same way
            missing.append(f"{mod} ({type(e).__name__}: {e})")
    if missing:
        raise BenchError("cannot import: " + "; ".join(missing) +
                         "\nActivate the project's environment (`. .venv/bin/activate`) or install it "
                         "(`pip install -e .`, with nemo_toolkit[asr]==3.0.0 and torch 2.13.0, see README).")
    if not (REPO / "conf" / "model" / f"{MODEL_CONFIG}.yaml").is_file():
        raise BenchError(f"missing model config conf/model/{MODEL_CONFIG}.yaml under {REPO}")
    for file, _ in CONFIGS.values():
        if not (REPO / "conf" / "adapter" / f"{file}.yaml").is_file():
            raise BenchError(f"missing adapter config conf/adapter/{file}.yaml under {REPO}")


def _rss_bytes() -> int:
    """Current resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _max_rss_bytes() -> int:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb if sys.platform == "darwin" else kb * 1024  # bytes on macOS, KiB on Linux


def _mem_available_bytes() -> Optional[int]:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class _RssSampler:
    """Samples this process's RSS every ``interval`` seconds in a thread (torch releases the GIL in its ops)."""

    def __init__(self, interval: float = 0.005):
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> "_RssSampler":
        self.peak = _rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def _gib(n: Optional[float]) -> str:
    return "-" if n is None else f"{n / 2**30:.2f}"


# ------------------------------------------------------------------------------------------------------ shared setup
def prepare(args, work: Path) -> dict[str, Any]:
    """Tokenizer (1024 BPE pieces, Parakeet's vocabulary shape) and the batch, shared by every configuration."""
    import sentencepiece as spm
    import torch

    from finparakeet.models.loading import load_model_config
    from finparakeet.models.tokenizer import train_tokenizer

    texts = [u.label for u in finance_utterances(3000, args.seed)]
    try:  # general English widens the vocabulary; optional (Debian fortunes / wordnet)
        from finparakeet.synth.general import load_general_sentences

        general = list(load_general_sentences())
    except Exception:  # noqa: BLE001 - sources not installed: finance text alone
        general = []
    shape = load_model_config(MODEL_CONFIG).tokenizer_train
    tok_dir = train_tokenizer(texts + general, work / "tokenizer", vocab_size=int(shape.vocab_size),
                              model_type=str(shape.model_type), split_digits=bool(shape.split_digits),
                              byte_fallback=bool(shape.byte_fallback))
    vocab = spm.SentencePieceProcessor(model_file=str(tok_dir / "tokenizer.model")).get_piece_size()

    # Transcripts whose word count fits the audio length; noise audio (content does not change the compute).
    target = max(3, round(args.seconds * WORDS_PER_SECOND))
    rng = random.Random(args.seed)
    pool = [t for t in texts if abs(len(t.split()) - target) <= 1] or sorted(
        texts, key=lambda t: abs(len(t.split()) - target))[: args.batch_size]
    transcripts = [pool[rng.randrange(len(pool))] for _ in range(args.batch_size)]
    gen = torch.Generator().manual_seed(args.seed)
    n = int(args.seconds * SAMPLE_RATE)
    signal = 0.05 * torch.randn(args.batch_size, n, generator=gen)
    batch = {"signal": signal, "signal_len": torch.full((args.batch_size,), n, dtype=torch.long),
             "transcripts": transcripts}
    torch.save(batch, work / "batch.pt")
    return {"tokenizer_dir": str(tok_dir), "vocab_size": vocab, "transcripts": transcripts,
            "tokenizer_training_sentences": len(texts) + len(general)}


# ------------------------------------------------------------------------------------------------ one configuration
def worker(args) -> dict[str, Any]:
    """Build, adapt, train ``--warmup + --steps`` steps; runs in its own process (``--worker NAME``)."""
    import torch

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    from finparakeet.models.adapters import add_adapters, adapter_names
    from finparakeet.models.loading import build_model, count_parameters, load_adapter_config, load_model_config
    from finparakeet.models.step import tokenize_batch, transducer_loss

    torch.manual_seed(args.seed)
    random.seed(args.seed)  # the TDT loss draws omega (plain RNN-T loss) from Python's random
    device = torch.device(args.device)
    t0 = time.perf_counter()
    mcfg = load_model_config(MODEL_CONFIG, [f"model.tokenizer.dir={args.tokenizer_dir}"])
    model = build_model(mcfg)  # random weights, adapter-capable encoder, CPU TDT loss dispatch
    base_total = sum(p.numel() for p in model.parameters())
    file, overrides = CONFIGS[args.worker]
    summary = add_adapters(model, load_adapter_config(file, overrides), verbose=False)
    # As the recipe does: train mode (spec augment, dropout); with adapters BatchNorm stays frozen.
    model.train()
    if adapter_names(model):
        model.unfreeze_enabled_adapters()
    model.to(device)
    build_s = time.perf_counter() - t0
    trainable, total = count_parameters(model)
    params = [p for p in model.parameters() if p.requires_grad]
    frozen_requiring_grad = [n for n, p in model.named_parameters()
                             if p.requires_grad and summary.names and not any(
                                 a.split(":", 1)[1] in n for a in summary.names)]
    if frozen_requiring_grad:
        raise BenchError(f"base parameters left trainable with adapters: {frozen_requiring_grad[:5]}")
    optim_cfg = mcfg.optim
    optimizer = torch.optim.AdamW(params, lr=float(optim_cfg.lr), betas=tuple(optim_cfg.betas),
                                  weight_decay=float(optim_cfg.weight_decay))
    loss_impl = type(model.loss._loss).__name__
    if loss_impl == "DeviceDispatchTDTLoss":
        inner = model.loss._loss
        loss_impl = type(inner.cuda_loss if device.type == "cuda" else inner.cpu_loss).__name__

    batch = torch.load(args.batch_file)
    signal = batch["signal"].to(device)
    signal_len = batch["signal_len"].to(device)
    tokens, tokens_len = tokenize_batch(model, batch["transcripts"])
    tokens, tokens_len = tokens.to(device), tokens_len.to(device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    rss_before_steps = _rss_bytes()
    if device.type == "cuda":
        sync()
        torch.cuda.reset_peak_memory_stats()
    steps, losses = [], []
    with _RssSampler() as sampler:
        for i in range(args.warmup + args.steps):
            sync()
            c_start, t_start = time.process_time(), time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss = transducer_loss(model, signal.clone(), signal_len, tokens, tokens_len)  # clone: dither in place
            sync()
            t_loss = time.perf_counter()
            loss.backward()
            sync()
            t_back = time.perf_counter()
            optimizer.step()
            sync()
            t_end, c_end = time.perf_counter(), time.process_time()
            losses.append(float(loss.detach()))
            if i >= args.warmup:
                steps.append({"step_s": t_end - t_start, "cpu_s": c_end - c_start, "forward_loss_s": t_loss - t_start,
                              "backward_s": t_back - t_loss, "optimizer_s": t_end - t_back})
            print(f"[{args.worker}] step {i + 1}/{args.warmup + args.steps}"
                  f"{' (warm-up)' if i < args.warmup else ''}: {t_end - t_start:.2f} s, loss {losses[-1]:.3f}",
                  file=sys.stderr, flush=True)
    with_grad = sum(p.numel() for p in model.parameters() if p.grad is not None)
    if with_grad != trainable:
        raise BenchError(f"{with_grad:,} parameters got gradients, {trainable:,} are trainable")
    median = {k: statistics.median(s[k] for s in steps) for k in steps[0]}
    result = {
        "config": args.worker,
        "adapter": {"file": f"conf/adapter/{file}.yaml", "overrides": overrides, "names": summary.names},
        "trainable_params": trainable,
        "total_params": total,
        "base_params": base_total,
        "trainable_fraction": trainable / total,
        "params_with_grad_after_step": with_grad,
        "optimizer_state_params": sum(p.numel() for st in optimizer.state.values()
                                      for p in st.values() if torch.is_tensor(p) and p.dim() > 0),
        "seconds_per_step": median["step_s"],
        "cpu_seconds_per_step": median["cpu_s"],
        "phase_seconds_median": {k: v for k, v in median.items() if k not in ("step_s", "cpu_s")},
        "step_seconds": [s["step_s"] for s in steps],
        "losses": losses,
        "loss_impl": loss_impl,
        "build_seconds": build_s,
        "peak_rss_bytes": _max_rss_bytes(),
        "peak_rss_during_steps_bytes": sampler.peak,
        "rss_before_steps_bytes": rss_before_steps,
        "tokens_per_utterance": tokens_len.tolist(),
    }
    if device.type == "cuda":
        result["cuda_max_memory_allocated_bytes"] = torch.cuda.max_memory_allocated()
        result["cuda_max_memory_reserved_bytes"] = torch.cuda.max_memory_reserved()
    result["peak_memory_bytes"] = result.get("cuda_max_memory_allocated_bytes", result["peak_rss_bytes"])
    return result


def run_config(name: str, args, shared: dict[str, Any], work: Path) -> dict[str, Any]:
    out = work / f"{name}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--tokenizer-dir", shared["tokenizer_dir"],
           "--batch-file", str(work / "batch.pt"), "--result-file", str(out), "--device", args.device,
           "--threads", str(args.threads), "--warmup", str(args.warmup), "--steps", str(args.steps),
           "--seed", str(args.seed)]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               OMP_WAIT_POLICY="PASSIVE", TOKENIZERS_PARALLELISM="false")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    print(f"== {name}: building the 0.6B model and training {args.warmup}+{args.steps} steps (own process)",
          flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0 or not out.is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        how = f"exit status {proc.returncode}" + (" (killed: out of memory?)" if proc.returncode in (-9, 137) else "")
        return {"config": name, "error": f"{how}\n{tail}"}
    result = json.loads(out.read_text())
    result["wall_seconds"] = time.perf_counter() - t0
    return result


# -------------------------------------------------------------------------------------------------------- reporting
def verdicts(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per adapter configuration: its trainable share, its ratios to full fine-tuning, and which goals it meets."""
    out = {}
    base = results.get(BASELINE)
    for name, r in results.items():
        if name == BASELINE or "error" in r:
            continue
        v: dict[str, Any] = {"trainable_fraction": r["trainable_fraction"],
                             "met": {"trainable": r["trainable_fraction"] <= GOAL_TRAINABLE}}
        if base is not None and "error" not in base:
            v["step_time_ratio"] = r["seconds_per_step"] / base["seconds_per_step"]
            v["cpu_time_ratio"] = r["cpu_seconds_per_step"] / base["cpu_seconds_per_step"]
            v["peak_memory_ratio"] = r["peak_memory_bytes"] / base["peak_memory_bytes"]
            v["met"].update(step_time=v["step_time_ratio"] <= GOAL_RATIO,
                            peak_memory=v["peak_memory_ratio"] <= GOAL_RATIO)
        out[name] = v
    return out


def print_table(results: dict[str, dict[str, Any]], device: str) -> None:
    mem = "peak CUDA GiB" if device == "cuda" else "peak RSS GiB"
    head = (f"{'config':<10} {'trainable':>12} {'% of total':>10} {'s/step':>8} {'CPU s':>7} {'fwd+loss':>9} "
            f"{'bwd':>7} {'optim':>7} {mem:>13} {'steps RSS GiB':>13}")
    print(head)
    print("-" * len(head))
    base = results.get(BASELINE)
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<10} FAILED: {r['error'].splitlines()[0]}")
            continue
        ph = r["phase_seconds_median"]
        print(f"{name:<10} {r['trainable_params']:>12,} {100 * r['trainable_fraction']:>9.2f}% "
              f"{r['seconds_per_step']:>8.2f} {r['cpu_seconds_per_step']:>7.2f} {ph['forward_loss_s']:>9.2f} "
              f"{ph['backward_s']:>7.2f} {ph['optimizer_s']:>7.2f} {_gib(r['peak_memory_bytes']):>13} "
              f"{_gib(r['peak_rss_during_steps_bytes']):>13}")
    if base and "error" not in base:
        for name, r in results.items():
            if name != BASELINE and "error" not in r:
                print(f"{name}: step time {r['seconds_per_step'] / base['seconds_per_step']:.2f}x (CPU time "
                      f"{r['cpu_seconds_per_step'] / base['cpu_seconds_per_step']:.2f}x), peak memory "
                      f"{r['peak_memory_bytes'] / base['peak_memory_bytes']:.2f}x of full fine-tuning")


# ------------------------------------------------------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description="Adapters (linear dim 32/64) vs full fine-tuning on Parakeet-TDT-0.6B-v2's architecture "
                    "(random weights): trainable parameters, seconds per training step, peak memory.")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--batch-size", type=int, default=2, help="utterances per batch (default 2)")
    ap.add_argument("--seconds", type=float, default=5.0, help="audio length of each utterance (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed warm-up steps per configuration (default 1)")
    ap.add_argument("--steps", type=int, default=3, help="timed steps per configuration; the median is reported")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (default 1: the machine is shared; see DESIGN.md)")
    ap.add_argument("--configs", default=",".join(CONFIGS),
                    help=f"comma-separated subset of {', '.join(CONFIGS)} (run in this order)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", type=Path, default=record_path("adapters"), help="where to write the JSON record")
    # internal: one configuration in its own process
    ap.add_argument("--worker", choices=tuple(CONFIGS), help=argparse.SUPPRESS)
    ap.add_argument("--tokenizer-dir", help=argparse.SUPPRESS)
    ap.add_argument("--batch-file", help=argparse.SUPPRESS)
    ap.add_argument("--result-file", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.batch_size < 1 or args.seconds <= 0 or args.steps < 1 or args.warmup < 0 or args.threads < 1:
        ap.error("--batch-size, --steps, --threads must be >= 1, --warmup >= 0, --seconds > 0")
    args.config_list = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in args.config_list if c not in CONFIGS]
    if unknown or not args.config_list:
        ap.error(f"--configs: unknown {unknown}; choose from {', '.join(CONFIGS)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:  # child process: one configuration
        try:
            result = worker(args)
        except BenchError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        Path(args.result_file).write_text(json.dumps(result))
        return 0

    try:
        _require_modules()
        if args.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise BenchError(f"--device cuda, but torch {torch.__version__} sees no CUDA device "
                                 "(CPU-only build or no GPU); use --device cpu")
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    load_before = load_average()
    avail = _mem_available_bytes()
    if args.device == "cpu" and BASELINE in args.config_list and avail is not None and avail < 12 * 2**30:
        print(f"warning: {_gib(avail)} GiB available; full fine-tuning of 618M parameters with AdamW needs "
              f"~11+ GiB and may be killed", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="bench_adapters_"))
    t0 = time.perf_counter()
    try:
        shared = prepare(args, work)
        if shared["vocab_size"] != VOCAB_SIZE:
            print(f"warning: the tokenizer has {shared['vocab_size']} pieces, not {VOCAB_SIZE}: the decoder and "
                  "joint differ slightly in size from Parakeet's", file=sys.stderr)
        results = {}
        for name in args.config_list:  # sequentially, never in parallel: each takes the machine
            results[name] = run_config(name, args, shared, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    checks = verdicts(results)
    print()
    print_table(results, args.device)
    print()
    for name, v in checks.items():
        for goal, met in v["met"].items():
            print(f"{'PASS' if met else 'FAIL'}  {name}: {goal}")

    machine = machine_info(args.threads, args.device, load_before)
    machine["mem_available_before_bytes"] = avail
    figures = {
        "model": MODEL_CONFIG,
        "batch": {"batch_size": args.batch_size, "seconds_per_utterance": args.seconds, "audio": "gaussian noise",
                  "words_per_utterance": [len(t.split()) for t in shared["transcripts"]],
                  "tokenizer_vocab_size": shared["vocab_size"]},
        "protocol": {"warmup_steps": args.warmup, "timed_steps": args.steps, "statistic": "median",
                     "memory": "cuda_max_memory_allocated" if args.device == "cuda" else "peak_rss",
                     "seed": args.seed},
        "results": results,
        "verdicts": checks,
        "total_wall_seconds": time.perf_counter() - t0,
    }
    goal = {"trainable_fraction_max": GOAL_TRAINABLE, "step_time_ratio_max": GOAL_RATIO,
            "peak_memory_ratio_max": GOAL_RATIO}
    print(f"\nload {fmt_load(load_before)} -> {fmt_load(machine['load_average_after'])} on {os.cpu_count()} cores, "
          f"{args.threads} thread(s)")
    write_result(args.output, record("adapters", argv, machine, goal, figures))
    failed = [n for n, r in results.items() if "error" in r]
    for n in failed:
        print(f"\n{n} failed: {results[n]['error']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
