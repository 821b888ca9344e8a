"""Check: our PyTorch TDT loss (``finparakeet.models.tdt_loss``) against NeMo's numba TDT loss on a GPU.

    python bench/check_tdt_loss_gpu.py [--cases 24] [--seed 0] [--repeat 20]
                                       [--output bench/results/check_tdt_loss_gpu.json]

Needs a CUDA GPU (NeMo's ``TDTLossNumba`` is CUDA-only; that is why the project has its own loss for CPU training).
For random problems (batch, frames, labels, vocabulary, durations, sigma, FastEmit, clamp, reductions drawn per case)
it computes, from the same logits:

* NeMo's ``TDTLossNumba`` on CUDA (float32, the way NeMo trains);
* ``TDTLossTorch`` on the CPU in float64 (the reference: what CPU training computes, without float32 rounding);
* ``TDTLossTorch`` on CUDA in float32 (it runs on any device);

and reports the largest absolute and relative differences of the losses and of the gradients w.r.t. the logits.
It passes when every difference is within float32 tolerance (rtol 1e-4 on losses, atol 1e-4 on gradients scaled by
the largest gradient). It also times forward + backward of both CUDA implementations on a Parakeet-sized batch
(median of ``--repeat`` runs after warm-up).

NeMo's numba loss is imported from the installed NeMo; on a machine with NeMo's files but not its dependencies (the
lent GPU machine) ``--nemo-root DIR`` (the folder holding ``nemo/``) imports only the numba loss package, with stub
parent packages so NeMo's heavy ``__init__`` files are not run.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import random
import statistics
import sys
import time
import types
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from finparakeet.models.tdt_loss import TDTLossTorch  # noqa: E402

LOSS_RTOL = 1e-4
GRAD_ATOL = 1e-4  # relative to the largest gradient magnitude of the case


def import_numba_tdt(nemo_root: str | None):
    """NeMo's ``TDTLossNumba``: from the installed NeMo, or from ``nemo_root/nemo`` with stub parent packages."""
    if nemo_root:
        root = Path(nemo_root)
        for name in ("nemo", "nemo.collections", "nemo.collections.asr", "nemo.collections.asr.parts"):
            pkg = types.ModuleType(name)
            pkg.__path__ = [str(root / name.replace(".", "/"))]
            sys.modules[name] = pkg
        utils = types.ModuleType("nemo.utils")
        utils.logging = logging.getLogger("nemo")
        sys.modules["nemo.utils"] = utils
    from nemo.collections.asr.parts.numba.rnnt_loss import TDTLossNumba

    return TDTLossNumba


def random_case(rng: random.Random) -> dict[str, Any]:
    durations = rng.choice([[0, 1], [0, 1, 2], [0, 1, 2, 3, 4], [0, 2, 4, 6], [0, 1, 3, 5, 8]])
    if 1 not in durations:
        durations = sorted(set(durations) | {1})
    B = rng.randint(1, 6)
    T = rng.randint(1, 40)
    U = rng.randint(1, 12)
    return {
        "B": B, "T": T, "U": U, "V": rng.choice([3, 8, 33, 129]), "durations": durations,
        "sigma": rng.choice([0.0, 0.05]), "fastemit_lambda": rng.choice([0.0, 0.0, 1e-3]),
        "clamp": rng.choice([-1.0, -1.0, 0.5]), "reduction": rng.choice(["mean", "sum", None]),
        "blank_last": rng.random() < 0.7,
    }


def make_inputs(case: dict[str, Any], gen: torch.Generator):
    B, T, U, V, D = case["B"], case["T"], case["U"], case["V"], len(case["durations"])
    act_lens = torch.randint(max(1, T // 2), T + 1, (B,), generator=gen)
    act_lens[0] = T
    label_lens = torch.randint(0, U + 1, (B,), generator=gen)
    label_lens[0] = U
    blank = V if case["blank_last"] else 0
    low = 0 if case["blank_last"] else 1
    labels = torch.randint(low, low + V, (B, U), generator=gen)
    acts = torch.randn(B, T, U + 1, V + 1 + D, generator=gen) * 2.0
    return acts, labels.long(), act_lens.long(), label_lens.long(), blank  # int64: NeMo checks


def loss_and_grad(loss_fn, acts, labels, act_lens, label_lens):
    x = acts.detach().clone().requires_grad_(True)
    loss = loss_fn(acts=x, labels=labels, act_lens=act_lens, label_lens=label_lens)
    loss.sum().backward()
    return loss.detach().double().cpu().reshape(-1), x.grad.detach().double().cpu()


def compare(a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    diff = (a - b).abs()
    scale = max(float(b.abs().max()), 1e-12)
    return {"max_abs": float(diff.max()) if diff.numel() else 0.0,
            "max_rel": float((diff / b.abs().clamp_min(1e-6)).max()) if diff.numel() else 0.0,
            "max_abs_over_scale": float(diff.max()) / scale if diff.numel() else 0.0}


def check_case(TDTLossNumba, case: dict[str, Any], seed: int) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(seed)
    acts, labels, act_lens, label_lens, blank = make_inputs(case, gen)
    kw = {"blank": blank, "durations": case["durations"], "reduction": case["reduction"],
          "fastemit_lambda": case["fastemit_lambda"], "clamp": case["clamp"], "sigma": case["sigma"], "omega": 0.0}
    numba = TDTLossNumba(**kw)
    ours = TDTLossTorch.like(numba)
    cuda = torch.device("cuda")
    n_loss, n_grad = loss_and_grad(numba, acts.cuda(), labels.cuda(), act_lens.cuda(), label_lens.cuda())
    r_loss, r_grad = loss_and_grad(ours, acts.double(), labels, act_lens, label_lens)
    g_loss, g_grad = loss_and_grad(ours, acts.to(cuda), labels.to(cuda), act_lens.to(cuda), label_lens.to(cuda))
    out = {**case, "seed": seed,
           "numba_vs_cpu64": {"loss": compare(n_loss, r_loss), "grad": compare(n_grad, r_grad)},
           "torch_cuda_vs_cpu64": {"loss": compare(g_loss, r_loss), "grad": compare(g_grad, r_grad)},
           "loss_numba": n_loss.tolist()[:6], "loss_cpu64": r_loss.tolist()[:6]}
    out["ok"] = all(out[k]["loss"]["max_rel"] <= LOSS_RTOL and out[k]["grad"]["max_abs_over_scale"] <= GRAD_ATOL
                    for k in ("numba_vs_cpu64", "torch_cuda_vs_cpu64"))
    return out


def time_cuda(loss_fn, acts, labels, act_lens, label_lens, repeat: int) -> float:
    times = []
    for i in range(repeat + 3):
        x = acts.detach().clone().requires_grad_(True)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss_fn(acts=x, labels=labels, act_lens=act_lens, label_lens=label_lens).sum().backward()
        torch.cuda.synchronize()
        if i >= 3:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def timing(TDTLossNumba, repeat: int) -> dict[str, Any]:
    """Forward + backward on a Parakeet-sized batch: 8 x 10 s of audio (125 frames at 80 ms), 60 tokens, V=1024."""
    B, T, U, V, durations = 8, 125, 60, 1024, [0, 1, 2, 3, 4]
    gen = torch.Generator().manual_seed(0)
    acts = torch.randn(B, T, U + 1, V + 1 + len(durations), generator=gen).cuda()
    labels = torch.randint(0, V, (B, U), generator=gen).cuda()
    act_lens = torch.full((B,), T, dtype=torch.int64).cuda()
    label_lens = torch.full((B,), U, dtype=torch.int64).cuda()
    numba = TDTLossNumba(blank=V, durations=durations, reduction="mean", sigma=0.05)
    ours = TDTLossTorch.like(numba)
    t_numba = time_cuda(numba, acts, labels, act_lens, label_lens, repeat)
    t_ours = time_cuda(ours, acts, labels, act_lens, label_lens, repeat)
    return {"shape": [B, T, U + 1, V + 1 + len(durations)], "numba_ms": round(t_numba * 1e3, 2),
            "torch_ms": round(t_ours * 1e3, 2), "torch_over_numba": round(t_ours / t_numba, 2), "repeat": repeat}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--nemo-root", default=None, help="folder holding nemo/ (imports only the numba loss)")
    ap.add_argument("--output", default=str(REPO / "bench" / "results" / "check_tdt_loss_gpu.json"))
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("check_tdt_loss_gpu: no CUDA GPU here; NeMo's numba TDT loss runs only on CUDA. Nothing checked.")
        return 2
    TDTLossNumba = import_numba_tdt(args.nemo_root)
    rng = random.Random(args.seed)
    results = []
    for i in range(args.cases):
        case = random_case(rng)
        res = check_case(TDTLossNumba, case, args.seed * 1000 + i)
        results.append(res)
        print(f"case {i:2d} B={case['B']} T={case['T']:2d} U={case['U']:2d} V={case['V']:3d} "
              f"durations={case['durations']} sigma={case['sigma']} fastemit={case['fastemit_lambda']} "
              f"clamp={case['clamp']} reduction={case['reduction']}: "
              f"numba vs ours(cpu f64) loss rel {res['numba_vs_cpu64']['loss']['max_rel']:.1e} "
              f"grad {res['numba_vs_cpu64']['grad']['max_abs_over_scale']:.1e}; "
              f"ours(cuda f32) loss rel {res['torch_cuda_vs_cpu64']['loss']['max_rel']:.1e} "
              f"grad {res['torch_cuda_vs_cpu64']['grad']['max_abs_over_scale']:.1e} "
              f"{'ok' if res['ok'] else 'MISMATCH'}", flush=True)
    speed = timing(TDTLossNumba, args.repeat)
    worst = {k: {part: max(r[k][part]["max_rel" if part == "loss" else "max_abs_over_scale"] for r in results)
                 for part in ("loss", "grad")} for k in ("numba_vs_cpu64", "torch_cuda_vs_cpu64")}
    summary = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "python": platform.python_version(),
               "cases": len(results), "passed": sum(r["ok"] for r in results), "worst": worst,
               "tolerance": {"loss_rtol": LOSS_RTOL, "grad_atol_over_scale": GRAD_ATOL}, "timing": speed,
               "results": results}
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"\n{summary['passed']}/{summary['cases']} cases agree on {summary['device']} "
          f"(worst numba vs ours: loss rel {worst['numba_vs_cpu64']['loss']:.1e}, "
          f"grad {worst['numba_vs_cpu64']['grad']:.1e})")
    print(f"forward+backward {speed['shape']}: numba {speed['numba_ms']} ms, ours {speed['torch_ms']} ms "
          f"({speed['torch_over_numba']}x)")
    print(f"wrote {out}")
    return 0 if summary["passed"] == summary["cases"] else 1


if __name__ == "__main__":
    sys.exit(main())
