"""Token-and-Duration Transducer (TDT) loss in plain PyTorch, for CPU training.

NeMo 3.0's ``loss_name: tdt`` resolves to a numba kernel that is CUDA-only, and its pure-PyTorch
reference hard-codes ``.cuda()``. This module reproduces the numba loss (values *and* gradients) with
vectorised tensor ops:

* lattice nodes ``(t, u)``; from ``(t, u)`` a blank with duration ``d >= 1`` goes to ``(t + d, u)`` and
  label ``y[u]`` with duration ``d >= 0`` goes to ``(t + d, u + 1)``; every transition weighs
  ``log_softmax(label_acts)[k] - sigma + duration_logprobs[d]``;
* a path ends with a blank landing exactly on ``t == T`` at ``u == U``; labels may not land on ``T``;
* with probability ``omega`` (one draw per call, Python's ``random`` like NeMo) the standard RNN-T loss
  on the label logits (no sigma, no duration gradient) is used instead;
* FastEmit and ``clamp`` act on the label-logit gradient and the cost is scaled by ``1 + fastemit_lambda``,
  exactly as NeMo's kernels do (so with FastEmit the returned gradient is not the cost's derivative);
* ``reduction``: ``None``/``'none'`` per utterance, ``'sum'``, ``'mean'`` (= sum / batch size, as in
  NeMo's ``_TDTNumba``; the model's ``RNNTLoss`` wrapper sets ``None`` and reduces itself).

The forward and backward recursions run over anti-diagonals ``n = t + u`` (``T + U`` steps, each vectorised
over batch and ``u``); gradients are computed in closed form from the occupancies, like the numba kernel.
"""

from __future__ import annotations

import random
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "tdt_loss",
    "TDTLossTorch",
    "DeviceDispatchTDTLoss",
    "use_cpu_tdt_loss_if_needed",
]

_NEG_INF = float("-inf")


def _transition_weights(
    logp: torch.Tensor,
    dur_logp: Optional[torch.Tensor],
    labels: torch.Tensor,
    act_lens: torch.Tensor,
    label_lens: torch.Tensor,
    blank: int,
    durations: Sequence[int],
    sigma: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-weights ``[B, T, U, D]`` of blank and label transitions, ``-inf`` where not allowed.

    ``dur_logp`` None means a plain RNN-T lattice (``durations`` must then be ``[0, 1]``).
    """
    B, T, U, _ = logp.shape
    dur = torch.as_tensor(durations, device=logp.device)
    lab = F.pad(labels[:, : U - 1], (0, 1)).clamp_min(0)  # label u is emitted from node u; pad the last node
    lp_blank = logp[..., blank] - sigma  # [B, T, U]
    lp_label = logp.gather(-1, lab[:, None, :, None].expand(B, T, U, 1)).squeeze(-1) - sigma
    if dur_logp is None:  # RNN-T: blank advances one frame, labels zero frames
        zero = torch.zeros((len(durations),), dtype=logp.dtype, device=logp.device)
        blank_w = lp_blank[..., None] + torch.where(dur == 1, zero, _NEG_INF)
        label_w = lp_label[..., None] + torch.where(dur == 0, zero, _NEG_INF)
    else:
        blank_w = lp_blank[..., None] + dur_logp
        label_w = lp_label[..., None] + dur_logp
    t = torch.arange(T, device=logp.device)
    u = torch.arange(U, device=logp.device)
    land = t[:, None] + dur[None, :]  # [T, D] frame a transition lands on
    T_b = act_lens[:, None, None, None]
    blank_ok = (dur > 0) & (land[None, :, None, :] <= T_b)  # [B, T, 1, D]
    # A blank landing on T_b is only useful at the last node; elsewhere it is a dead end (harmless but wasteful).
    label_ok = (land[None, :, None, :] < T_b) & (u[None, None, :, None] < label_lens[:, None, None, None])
    blank_w = blank_w.masked_fill(~blank_ok, _NEG_INF)
    label_w = label_w.masked_fill(~label_ok, _NEG_INF)
    return blank_w, label_w


def _skew(w: torch.Tensor, pad_front: int, pad_back: int) -> torch.Tensor:
    """``[B, T, U, D] -> [pad_front + T + U + pad_back, D, B, U]`` indexed by anti-diagonal ``n = t + u``."""
    B, T, U, D = w.shape
    N = T + U
    n = torch.arange(N, device=w.device)[:, None]
    u = torch.arange(U, device=w.device)[None, :]
    t = n - u  # [N, U]
    valid = (t >= 0) & (t < T)
    idx = t.clamp(0, T - 1)
    out = w.permute(1, 3, 0, 2)[idx, :, :, u]  # [N, U, D, B]
    out = out.masked_fill(~valid[:, :, None, None], _NEG_INF).permute(0, 2, 3, 1)  # [N, D, B, U]
    return F.pad(out, (0, 0, 0, 0, 0, 0, pad_front, pad_back), value=_NEG_INF)


def _shift_u(x: torch.Tensor, k: int) -> torch.Tensor:
    """Shift the last (u) axis by ``k`` (positive: towards larger u), filling with -inf."""
    if k > 0:
        return F.pad(x[..., :-k], (k, 0), value=_NEG_INF)
    return F.pad(x[..., -k:], (0, -k), value=_NEG_INF)


def _lattice(
    blank_w: torch.Tensor,
    label_w: torch.Tensor,
    durations: Sequence[int],
    act_lens: torch.Tensor,
    label_lens: torch.Tensor,
    need_beta: bool,
) -> tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
    """Forward (and backward) variables on the lattice ``t in [0, T], u in [0, U)``.

    Returns ``log_prob [B]``, ``alpha [B, T + 1, U]`` and ``beta [B, T + 1, U]`` (None unless ``need_beta``).
    """
    B, T, U, D = blank_w.shape
    device, dtype = blank_w.device, blank_w.dtype
    dur = torch.as_tensor(durations, device=device)
    P = int(dur.max()) + 1  # -inf padding so that n - d - 1 and n + d + 1 always index into the buffer
    N = T + 1 + U - 1  # anti-diagonals of the (T + 1) x U node grid
    ar = torch.arange(D, device=device)
    bw = _skew(blank_w, P, P + 1)
    lw = _skew(label_w, P, P + 1)

    alpha = torch.full((P + N + P, B, U), _NEG_INF, dtype=dtype, device=device)
    alpha[P, :, 0] = 0.0
    for n in range(1, N):
        src = P + n - dur  # blank: (t - d, u) lies on diagonal n - d
        blank_in = alpha[src] + bw[src, ar]  # [D, B, U]
        label_in = _shift_u(alpha[src - 1] + lw[src - 1, ar], 1)  # label: (t - d, u - 1) on n - d - 1
        alpha[P + n] = torch.logsumexp(torch.cat([blank_in, label_in]), dim=0)

    b = torch.arange(B, device=device)
    final_n = act_lens + label_lens  # terminal node (T_b, U_b) in diagonal coordinates
    log_prob = alpha[P + final_n, b, label_lens]

    tt = torch.arange(T + 1, device=device)[:, None]
    uu = torch.arange(U, device=device)[None, :]

    def unskew(x: torch.Tensor) -> torch.Tensor:  # [diagonals, B, U] -> [B, T + 1, U]
        return x[P + tt + uu, :, uu].permute(2, 0, 1)

    if not need_beta:
        return log_prob, unskew(alpha), None

    beta = torch.full((P + N + P, B, U), _NEG_INF, dtype=dtype, device=device)
    terminal = torch.full((N, B, U), _NEG_INF, dtype=dtype, device=device)
    terminal[final_n, b, label_lens] = 0.0
    for n in range(N - 1, -1, -1):
        row = P + n
        blank_out = beta[row + dur] + bw[row, ar]
        label_out = _shift_u(beta[row + dur + 1], -1) + lw[row, ar]
        beta[row] = torch.logaddexp(torch.logsumexp(torch.cat([blank_out, label_out]), dim=0), terminal[n])
    return log_prob, unskew(alpha), unskew(beta)


def _occupancies(
    blank_w: torch.Tensor,
    label_w: torch.Tensor,
    alpha: torch.Tensor,
    beta: torch.Tensor,
    log_prob: torch.Tensor,
    durations: Sequence[int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior probability ``[B, T, U, D]`` of every blank and label transition."""
    B, T, U, D = blank_w.shape
    dur = torch.as_tensor(durations, device=blank_w.device)
    beta = F.pad(beta, (0, 1, 0, int(dur.max())), value=_NEG_INF)  # room for t + d and u + 1
    land = torch.arange(T, device=blank_w.device)[:, None] + dur[None, :]  # [T, D]
    beta_blank = beta[:, land, :U].permute(0, 1, 3, 2)  # [B, T, U, D]: beta(t + d, u)
    beta_label = beta[:, land, 1:].permute(0, 1, 3, 2)  # beta(t + d, u + 1)
    # An impossible utterance (log_prob = -inf) gets zero occupancy rather than NaNs.
    lp = torch.where(torch.isfinite(log_prob), log_prob, torch.zeros_like(log_prob))[:, None, None, None]
    a = alpha[:, :T, :, None]
    occ_blank = torch.exp(a + blank_w + beta_blank - lp)
    occ_label = torch.exp(a + label_w + beta_label - lp)
    dead = ~torch.isfinite(log_prob)[:, None, None, None]
    return occ_blank.masked_fill(dead, 0.0), occ_label.masked_fill(dead, 0.0)


def _cost_and_grads(
    label_acts: torch.Tensor,
    duration_logprobs: Optional[torch.Tensor],
    labels: torch.Tensor,
    act_lens: torch.Tensor,
    label_lens: torch.Tensor,
    blank: int,
    durations: Sequence[int],
    sigma: float,
    fastemit_lambda: float,
    clamp: float,
    need_grads: bool,
) -> tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Per-utterance costs and (optionally) gradients w.r.t. label logits and duration log-probs."""
    logp = torch.log_softmax(label_acts, dim=-1)
    blank_w, label_w = _transition_weights(
        logp, duration_logprobs, labels, act_lens, label_lens, blank, durations, sigma
    )
    log_prob, alpha, beta = _lattice(blank_w, label_w, durations, act_lens, label_lens, need_grads)
    costs = -log_prob * (1.0 + fastemit_lambda)
    if not need_grads:
        return costs, None, None

    occ_blank, occ_label = _occupancies(blank_w, label_w, alpha, beta, log_prob, durations)
    ob, ol = occ_blank.sum(-1), occ_label.sum(-1)  # [B, T, U]
    # d(-log P)/d acts = p * (occ_blank + occ_label) - onehot(blank) * occ_blank - onehot(label) * occ_label;
    # FastEmit (NeMo's kernels) scales the label-transition part by (1 + lambda).
    ol_fe = ol * (1.0 + fastemit_lambda)
    grad = logp.exp() * (ob + ol_fe)[..., None]
    grad[..., blank] -= ob
    U = label_acts.shape[2]
    lab = F.pad(labels[:, : U - 1], (0, 1)).clamp_min(0)
    grad.scatter_add_(-1, lab[:, None, :, None].expand_as(ol[..., None]), -ol_fe[..., None])
    if clamp > 0:
        grad.clamp_(-clamp, clamp)
    dur_grad = None if duration_logprobs is None else -(occ_blank + occ_label)
    return costs, grad, dur_grad


class _TDTFunction(torch.autograd.Function):
    """Autograd wrapper: gradients are computed in forward (as NeMo's numba loss does) and scaled in backward."""

    @staticmethod
    def forward(
        ctx,
        label_acts,
        duration_logprobs,
        labels,
        act_lens,
        label_lens,
        blank,
        durations,
        reduction,
        fastemit_lambda,
        clamp,
        sigma,
        use_rnnt,
    ):
        need = label_acts.requires_grad or duration_logprobs.requires_grad
        # Half precision is upcast: log-space sums over long lattices lose too much in 16 bits.
        work = torch.float32 if label_acts.dtype in (torch.float16, torch.bfloat16) else label_acts.dtype
        if use_rnnt:
            costs, grad, dur_grad = _cost_and_grads(
                label_acts.to(work), None, labels, act_lens, label_lens, blank, [0, 1], 0.0,
                fastemit_lambda, clamp, need,
            )
            dur_grad = torch.zeros_like(duration_logprobs, dtype=work) if need else None
        else:
            costs, grad, dur_grad = _cost_and_grads(
                label_acts.to(work), duration_logprobs.to(work), labels, act_lens, label_lens, blank,
                durations, sigma, fastemit_lambda, clamp, need,
            )
        if reduction in ("sum", "mean"):
            costs = costs.sum().unsqueeze(-1)  # shape [1], like NeMo
            if reduction == "mean":
                B = label_acts.shape[0]
                costs = costs / B
                if need:
                    grad, dur_grad = grad / B, dur_grad / B
        if need:
            ctx.save_for_backward(grad.to(label_acts.dtype), dur_grad.to(duration_logprobs.dtype))
        else:
            ctx.save_for_backward(None, None)
        return costs.to(label_acts.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        grad, dur_grad = ctx.saved_tensors
        if grad is None:
            return (None,) * 12
        g = grad_output.reshape(-1, 1, 1, 1).to(grad)
        return grad * g, dur_grad * g, *(None,) * 10


def tdt_loss(
    acts: torch.Tensor,
    labels: torch.Tensor,
    act_lens: torch.Tensor,
    label_lens: torch.Tensor,
    blank: int,
    durations: Sequence[int],
    sigma: float = 0.0,
    omega: float = 0.0,
    fastemit_lambda: float = 0.0,
    clamp: float = -1.0,
    reduction: Optional[str] = "mean",
) -> torch.Tensor:
    """TDT loss on joint outputs ``acts [B, T, U + 1, V + 1 + len(durations)]`` (logits or log-probs).

    The trailing ``len(durations)`` outputs are duration logits; ``blank`` indexes the label part.
    Same semantics as NeMo's ``TDTLossNumba`` (see the module docstring).
    """
    if not durations or 0 not in durations or 1 not in durations:
        raise ValueError(f"TDT durations must include 0 and 1, got {list(durations)}")
    if list(durations) != sorted(durations):
        raise ValueError(f"TDT durations must be ascending, got {list(durations)}")
    if reduction not in (None, "none", "sum", "mean"):
        raise ValueError(f"reduction must be None, 'none', 'sum' or 'mean', got {reduction!r}")
    act_lens, label_lens, labels = act_lens.long(), label_lens.long(), labels.long()
    B, T, U, _ = acts.shape
    if int(act_lens.max()) > T or int(label_lens.max()) + 1 > U:
        raise ValueError(f"acts {tuple(acts.shape)} too small for act_lens max {int(act_lens.max())} "
                         f"and label_lens max {int(label_lens.max())}")
    if labels.shape[1] < U - 1:
        labels = F.pad(labels, (0, U - 1 - labels.shape[1]))
    D = len(durations)
    label_acts, duration_acts = acts[..., :-D], acts[..., -D:]
    duration_logprobs = torch.log_softmax(duration_acts, dim=-1)
    use_rnnt = omega > 0.0 and random.random() < omega  # one draw per batch, as NeMo's kernel does
    return _TDTFunction.apply(
        label_acts, duration_logprobs, labels, act_lens, label_lens, blank, list(durations),
        None if reduction == "none" else reduction, float(fastemit_lambda), float(max(clamp, 0.0)),
        float(sigma), use_rnnt,
    )


class TDTLossTorch(torch.nn.Module):
    """Drop-in for NeMo's ``TDTLossNumba`` (same constructor and ``forward`` keywords) that runs on any device."""

    def __init__(
        self,
        blank: int,
        durations: Optional[Sequence[int]] = None,
        reduction: Optional[str] = "mean",
        fastemit_lambda: float = 0.0,
        clamp: float = -1.0,
        sigma: float = 0.0,
        omega: float = 0.0,
    ):
        super().__init__()
        self.blank = blank
        self.durations = list(durations) if durations is not None else []
        self.reduction = reduction
        self.fastemit_lambda = fastemit_lambda
        self.clamp = float(clamp) if clamp > 0 else 0.0
        self.sigma = sigma
        self.omega = omega

    @classmethod
    def like(cls, numba_loss: torch.nn.Module) -> "TDTLossTorch":
        """Copy the settings of a NeMo ``TDTLossNumba`` instance."""
        return cls(
            blank=numba_loss.blank,
            durations=numba_loss.durations,
            reduction=numba_loss.reduction,
            fastemit_lambda=numba_loss.fastemit_lambda,
            clamp=numba_loss.clamp,
            sigma=numba_loss.sigma,
            omega=numba_loss.omega,
        )

    def forward(self, acts, labels, act_lens, label_lens):
        return tdt_loss(
            acts, labels, act_lens, label_lens, blank=self.blank, durations=self.durations,
            sigma=self.sigma, omega=self.omega, fastemit_lambda=self.fastemit_lambda, clamp=self.clamp,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return (f"blank={self.blank}, durations={self.durations}, sigma={self.sigma}, omega={self.omega}, "
                f"fastemit_lambda={self.fastemit_lambda}, clamp={self.clamp}")


class DeviceDispatchTDTLoss(torch.nn.Module):
    """NeMo's numba TDT loss for CUDA tensors, :class:`TDTLossTorch` for everything else.

    Dispatching per call (not once at setup) keeps it right when Lightning moves the model after setup.
    ``reduction`` is forwarded because NeMo's ``RNNTLoss`` toggles it on its ``_loss`` around each call.
    """

    def __init__(self, cuda_loss: torch.nn.Module):
        super().__init__()
        self.cuda_loss = cuda_loss
        self.cpu_loss = TDTLossTorch.like(cuda_loss)
        self.reduction = cuda_loss.reduction

    def forward(self, acts, labels, act_lens, label_lens):
        impl = self.cuda_loss if acts.is_cuda else self.cpu_loss
        impl.reduction = self.reduction
        return impl(acts=acts, labels=labels, act_lens=act_lens, label_lens=label_lens)


def use_cpu_tdt_loss_if_needed(model: torch.nn.Module) -> bool:
    """Make a NeMo TDT model trainable off-GPU; returns True if the loss was swapped.

    Replaces ``model.loss._loss`` (NeMo's CUDA-only ``TDTLossNumba``) with :class:`DeviceDispatchTDTLoss`;
    the config keeps ``loss_name: tdt``. The joint shares ``model.loss`` by reference (fused loss), so it is
    covered too. Call it again after anything that rebuilds ``model.loss`` (e.g. ``change_vocabulary``).
    """
    rnnt_loss = getattr(model, "loss", None)
    inner = getattr(rnnt_loss, "_loss", None)
    if inner is None or isinstance(inner, DeviceDispatchTDTLoss):
        return False
    if type(inner).__name__ != "TDTLossNumba":  # name check keeps numba/NeMo imports out of this module
        return False
    rnnt_loss._loss = DeviceDispatchTDTLoss(inner)
    return True
