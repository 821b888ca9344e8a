"""The CPU TDT loss against a brute-force sum over every lattice path (values and gradients) and, for its RNN-T
branch, NeMo's numba RNN-T loss on the CPU."""

from __future__ import annotations

import random

import pytest
import torch

from finparakeet.models.tdt_loss import TDTLossTorch, tdt_loss

DURS = [0, 1, 2, 3]


def brute_force(acts, labels, act_lens, label_lens, blank, durations, sigma=0.0, rnnt=False):
    """-log P per utterance by enumerating all paths, plus each label-emission node's posterior.

    Written independently of the implementation: a depth-first walk over explicit transitions.
    """
    D = len(durations)
    costs, occupancies = [], []
    for b in range(acts.shape[0]):
        T, Ub = int(act_lens[b]), int(label_lens[b])
        lp = torch.log_softmax(acts[b, ..., :-D], -1)
        dp = torch.log_softmax(acts[b, ..., -D:], -1)
        paths = []

        def walk(t, u, logw, emits):
            if t == T:  # only a blank lands here; success only with every label emitted
                if u == Ub:
                    paths.append((logw, emits))
                return
            for i, d in enumerate(durations):
                if rnnt:  # standard RNN-T: blank moves one frame, labels none; no sigma, no durations
                    w_blank = lp[t, u, blank] if d == 1 else None
                    w_label = lp[t, u, labels[b, u]] if d == 0 and u < Ub else None
                else:
                    w_blank = lp[t, u, blank] - sigma + dp[t, u, i] if d > 0 else None
                    w_label = lp[t, u, labels[b, u]] - sigma + dp[t, u, i] if u < Ub else None
                if w_blank is not None and t + d <= T:
                    walk(t + d, u, logw + w_blank, emits)
                if w_label is not None and t + d < T:
                    walk(t + d, u + 1, logw + w_label, emits + [(t, u)])

        walk(0, 0, torch.zeros((), dtype=acts.dtype), [])
        logws = torch.stack([p[0] for p in paths])
        logp = torch.logsumexp(logws, 0)
        occ = torch.zeros(acts.shape[1:3], dtype=acts.dtype)
        for post, (_, emits) in zip(torch.exp(logws - logp).detach(), paths):
            for t, u in emits:
                occ[t, u] += post
        costs.append(-logp)
        occupancies.append(occ)
    return torch.stack(costs), torch.stack(occupancies)


def make_batch(B=3, T=5, U=3, V=4, durations=DURS, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    acts = torch.randn(B, T, U + 1, V + len(durations), generator=g, dtype=dtype, requires_grad=True)
    labels = torch.randint(0, V - 1, (B, U), generator=g)  # blank = V - 1 never in labels
    act_lens = torch.tensor([T, T - 2, T - 1][:B])
    label_lens = torch.tensor([U, 1, 2][:B])
    return acts, labels, act_lens, label_lens, V - 1


@pytest.mark.parametrize("sigma", [0.0, 0.05])
@pytest.mark.parametrize("durations", [[0, 1], [0, 1, 2, 3], [0, 1, 2, 3, 4]])
def test_matches_brute_force_values_and_gradients(sigma, durations):
    acts, labels, act_lens, label_lens, blank = make_batch(durations=durations)
    ref, _ = brute_force(acts, labels, act_lens, label_lens, blank, durations, sigma)
    got = tdt_loss(acts, labels, act_lens, label_lens, blank, durations, sigma=sigma, reduction=None)
    torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-10)
    (g_ref,) = torch.autograd.grad(ref.sum(), acts)
    (g_got,) = torch.autograd.grad(got.sum(), acts)
    torch.testing.assert_close(g_got, g_ref, rtol=1e-9, atol=1e-10)
    # Padding frames/labels beyond each utterance's lengths get no gradient.
    assert g_got[1, int(act_lens[1]):].abs().max() == 0


def test_sigma_changes_the_loss():
    acts, labels, act_lens, label_lens, blank = make_batch()
    a = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, sigma=0.0, reduction=None)
    b = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, sigma=0.1, reduction=None)
    # Every path has exactly (number of transitions) * sigma more cost; paths differ in length, so > 0.
    assert torch.all(b > a + 0.1)


def test_gradcheck_float64():
    acts, labels, act_lens, label_lens, blank = make_batch(B=2, T=3, U=2, V=3, durations=[0, 1, 2])

    def f(x):
        return tdt_loss(x, labels, act_lens[:2], label_lens[:2], blank, [0, 1, 2], sigma=0.05, reduction=None)

    assert torch.autograd.gradcheck(f, (acts,), eps=1e-6, atol=1e-7)


def test_omega_one_is_standard_rnnt_without_duration_gradient():
    acts, labels, act_lens, label_lens, blank = make_batch()
    ref, _ = brute_force(acts, labels, act_lens, label_lens, blank, DURS, rnnt=True)
    got = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, sigma=0.05, omega=1.0, reduction=None)
    torch.testing.assert_close(got, ref)
    (g_ref,) = torch.autograd.grad(ref.sum(), acts)
    (g_got,) = torch.autograd.grad(got.sum(), acts)
    torch.testing.assert_close(g_got, g_ref)
    assert g_got[..., -len(DURS):].abs().max() == 0


def test_omega_samples_rnnt_per_call():
    acts, labels, act_lens, label_lens, blank = make_batch()
    tdt = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, reduction="sum")
    rnnt = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, omega=1.0, reduction="sum")
    random.seed(0)
    seen = [tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, omega=0.5, reduction="sum") for _ in range(40)]
    n_rnnt = sum(bool(torch.isclose(s, rnnt)) for s in seen)
    n_tdt = sum(bool(torch.isclose(s, tdt)) for s in seen)
    assert n_rnnt + n_tdt == 40 and 8 < n_rnnt < 32


def test_fastemit_matches_nemo_convention():
    """NeMo: cost * (1 + lambda); the label-emission part of the logit gradient scaled by (1 + lambda)."""
    lam = 0.3
    acts, labels, act_lens, label_lens, blank = make_batch()
    ref, occ = brute_force(acts, labels, act_lens, label_lens, blank, DURS, sigma=0.05)
    got = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, sigma=0.05, fastemit_lambda=lam,
                   reduction=None)
    torch.testing.assert_close(got, ref * (1 + lam))
    # Expected gradient: d(-log P) + lam * d(-sum_{t,u} occ_label(t,u) * log p(y_u | t, u)), occ held fixed.
    lp = torch.log_softmax(acts[..., : -len(DURS)], -1)
    lab = torch.nn.functional.pad(labels, (0, 1))[:, None, :, None].expand(-1, acts.shape[1], -1, 1)
    surrogate = -(occ * lp.gather(-1, lab).squeeze(-1)).sum()
    (g_ref,) = torch.autograd.grad(ref.sum() + lam * surrogate, acts)
    (g_got,) = torch.autograd.grad(got.sum(), acts)
    torch.testing.assert_close(g_got, g_ref)


@pytest.mark.parametrize("reduction", [None, "sum", "mean"])
def test_reductions_follow_nemo(reduction):
    acts, labels, act_lens, label_lens, blank = make_batch()
    per_utt = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, reduction=None)
    (g_none,) = torch.autograd.grad(per_utt.sum(), acts)
    got = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, reduction=reduction)
    (g,) = torch.autograd.grad(got.sum(), acts)
    scale = 1 / 3 if reduction == "mean" else 1.0
    if reduction is None:
        assert got.shape == (3,)
    else:
        assert got.shape == (1,)  # NeMo's numba loss returns a 1-element vector
        torch.testing.assert_close(got[0], per_utt.sum() * scale)
    torch.testing.assert_close(g, g_none * scale)


def test_clamp_bounds_gradient():
    acts, labels, act_lens, label_lens, blank = make_batch()
    loss = tdt_loss(acts * 5, labels, act_lens, label_lens, blank, DURS, clamp=0.05, reduction="sum")
    (g,) = torch.autograd.grad(loss, acts)
    assert 0.24 < g[..., : -len(DURS)].abs().max() <= 0.25 + 1e-12  # clamp 0.05, times 5 from acts * 5


def test_padding_does_not_change_the_loss():
    acts, labels, act_lens, label_lens, blank = make_batch()
    base = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, reduction=None)
    padded = torch.nn.functional.pad(acts.detach(), (0, 0, 0, 2, 0, 3), value=7.0)
    lab = torch.nn.functional.pad(labels, (0, 2), value=1)
    torch.testing.assert_close(tdt_loss(padded, lab, act_lens, label_lens, blank, DURS, reduction=None),
                               base.detach())


def test_module_through_nemo_rnnt_loss_wrapper():
    """The model calls NeMo's RNNTLoss, which forces our module's reduction to None and reduces itself."""
    from nemo.collections.asr.losses.rnnt import RNNTLoss

    acts, labels, act_lens, label_lens, blank = make_batch(dtype=torch.float32)
    wrapper = RNNTLoss(num_classes=blank, reduction="mean_volume", loss_name="tdt",
                       loss_kwargs={"durations": DURS, "sigma": 0.05})
    wrapper._loss = TDTLossTorch.like(wrapper._loss)
    per_utt = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, sigma=0.05, reduction=None)
    got = wrapper(log_probs=acts, targets=labels, input_lengths=act_lens, target_lengths=label_lens)
    torch.testing.assert_close(got, per_utt.sum() / label_lens.sum())
    assert wrapper._loss.reduction == "none"  # NeMo builds it with 'none' and restores it after each call


def test_half_precision_runs_in_float32():
    acts, labels, act_lens, label_lens, blank = make_batch(dtype=torch.float32)
    ref = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, reduction=None)
    x = acts.detach().to(torch.bfloat16).requires_grad_()
    got = tdt_loss(x, labels, act_lens, label_lens, blank, DURS, reduction=None)
    got.sum().backward()
    assert got.dtype == torch.bfloat16 and torch.isfinite(x.grad.float()).all()
    torch.testing.assert_close(got.float(), ref.detach(), rtol=2e-2, atol=5e-2)


def test_rejects_bad_durations():
    acts, labels, act_lens, label_lens, blank = make_batch()
    with pytest.raises(ValueError, match="include 0 and 1"):
        tdt_loss(acts, labels, act_lens, label_lens, blank, [1, 2, 3, 4])


@pytest.mark.parametrize("reduction", [None, "sum"])
def test_omega_one_matches_nemo_numba_rnnt_on_cpu(reduction):
    """NeMo's numba RNN-T loss runs on the CPU (its TDT loss does not): with omega = 1 ours must equal it."""
    pytest.importorskip("numba")
    from nemo.collections.asr.parts.numba.rnnt_loss import RNNTLossNumba

    acts, labels, act_lens, label_lens, blank = make_batch(B=3, T=7, U=4, V=6, seed=3, dtype=torch.float32)
    label_acts = acts[..., : -len(DURS)].detach().clone().requires_grad_(True)
    ref = RNNTLossNumba(blank=blank, reduction="none" if reduction is None else reduction)(
        acts=label_acts, labels=labels, act_lens=act_lens.long(), label_lens=label_lens.long())
    got = tdt_loss(acts, labels, act_lens, label_lens, blank, DURS, omega=1.0, reduction=reduction)
    torch.testing.assert_close(got.reshape(-1), ref.reshape(-1), rtol=1e-5, atol=1e-5)
    (g_ref,) = torch.autograd.grad(ref.sum(), label_acts)
    (g_got,) = torch.autograd.grad(got.sum(), acts)
    torch.testing.assert_close(g_got[..., : -len(DURS)], g_ref, rtol=1e-4, atol=1e-5)
