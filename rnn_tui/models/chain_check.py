"""Whether the time-loop chains of the C loops (chain_c.py) compute the cells' equations here.

Run at load (`fused_check.agrees`), on a few small shapes around the chains' 16-column panels
and their tiles (6 rows of one panel; 8 rows of one or two where AVX-512 is built), with one thread
and more: the RNN's forward and BPTT against the same steps in
torch, the LSTM's and GRU's against their equations (d2l §9.2, §9.1) under torch's autograd
(`lstm_equations`, `gru_equations`, which the tests use too). Random values come from the
check's own generator: a run's random numbers are untouched.
"""

from __future__ import annotations

import torch

from rnn_tui.models import recurrent_chain
from rnn_tui.models.fused_check import TOLERANCE

# Batches split by rows between two threads: 8 and 9 rows (whole tiles, the rest shared), and
# 8 and 16 (in whole tiles).
ROWS = ((2, 17, 40, 3, 2), (2, 24, 40, 3, 2))


def _close(a: torch.Tensor, b: torch.Tensor, tolerance: float = TOLERANCE) -> bool:
    return bool(torch.allclose(a, b, rtol=tolerance, atol=tolerance))


def lstm_equations(X, U, H0, C0, W):
    """The LSTM (d2l §9.2, gates ordered O, I, F, C̃) step by step in torch: all H_t (T, B, h),
    C_T and each step's pre-activations H_{t-1} W + U[x_t], kept for their gradients."""
    n = H0.shape[1]
    H, C, pre, Hs = H0, C0, [], []
    for t in range(X.shape[0]):
        a = H @ W + U[X[t]]
        a.retain_grad()
        pre.append(a)
        o, i, f = (torch.sigmoid(a[:, k * n : (k + 1) * n]) for k in range(3))
        C = f * C + i * torch.tanh(a[:, 3 * n :])
        H = o * torch.tanh(C)
        Hs.append(H)
    return torch.stack(Hs), C, pre


def gru_equations(X, U_zr, U_h, H0, W_zr, W_h):
    """The GRU (d2l §9.1) step by step in torch: all H_t (T, B, h) and each step's
    pre-activations of [Z | R] and of H̃, kept for their gradients."""
    n = H0.shape[1]
    H, pre_zr, pre_h, Hs = H0, [], [], []
    for t in range(X.shape[0]):
        a = H @ W_zr + U_zr[X[t]]
        Z, R = torch.sigmoid(a[:, :n]), torch.sigmoid(a[:, n:])
        c = (R * H) @ W_h + U_h[X[t]]
        a.retain_grad()
        c.retain_grad()
        pre_zr.append(a)
        pre_h.append(c)
        H = Z * H + (1 - Z) * torch.tanh(c)
        Hs.append(H)
    return torch.stack(Hs), pre_zr, pre_h


def rnn_equations(X, table, H0, W, W_q):
    """The RNN (d2l §8.5) step by step in torch: all H_t (T, B, h), the outputs H_t W_q and each
    step's pre-activations H_{t-1} W + table[x_t], kept for their gradients."""
    H, pre, Hs = H0, [], []
    for t in range(X.shape[0]):
        a = H @ W + table[X[t]]
        a.retain_grad()
        pre.append(a)
        H = torch.tanh(a)
        Hs.append(H)
    Hs = torch.stack(Hs)
    return Hs, Hs @ W_q, pre


def torch_gru_equations(X, U, H0, W, b_hn):
    """nn.GRU's equations (gru_chain_c.py, gates ordered r, z, n) step by step in torch: all
    H_t (T, B, h) and each step's input-side pre-activations U[x_t] + [a_r, a_z, 0] and the
    recurrent n block H_{t-1} W_n + b_hn, kept for their gradients."""
    n = H0.shape[1]
    H, pre, rec, Hs = H0, [], [], []
    for t in range(X.shape[0]):
        a = H @ W
        u = U[X[t]] + torch.cat((a[:, : 2 * n], torch.zeros_like(a[:, 2 * n :])), 1)
        hn = a[:, 2 * n :] + b_hn
        u.retain_grad()
        hn.retain_grad()
        pre.append(u)
        rec.append(hn)
        r, z = torch.sigmoid(u[:, :n]), torch.sigmoid(u[:, n : 2 * n])
        H = (1 - z) * torch.tanh(u[:, 2 * n :] + r * hn) + z * H
        Hs.append(H)
    return torch.stack(Hs), pre, rec


def chain_agrees(lib) -> bool:
    """The RNN's chains (chain_c.py) against its equations with torch's autograd, forward (the
    outputs H_t W_q + b_q included) and BPTT (the outputs' gradient folded in, ∂L/∂ of the
    input table and its sum), on widths around the 16-column panels, batches around the 6- and
    8-row tiles, one thread and more, the batch split by columns and by rows."""
    gen = torch.Generator().manual_seed(1)
    ok = True
    for T, b, n, V, threads in (
        (4, 7, 37, 5, 2),
        (3, 13, 16, 3, 1),
        (3, 5, 20, 2, 3),
        (2, 1, 33, 4, 2),
        (2, 9, 48, 3, 1),
        *ROWS,
    ):
        W, W_q = torch.randn(n, n, generator=gen) * 0.3, torch.randn(n, V, generator=gen)
        table = torch.randn(V, n, generator=gen).requires_grad_()
        X = torch.randint(0, V, (T, b), generator=gen)
        H0 = torch.randn(b, n, generator=gen)
        dO, E = torch.randn(T, b, V, generator=gen), torch.randn(T, b, n, generator=gen)
        with torch.enable_grad():
            Hs, outputs, pre = rnn_equations(X, table, H0, W, W_q)
            # The same gradients as backward([outputs, Hs], [dO, E]), from a scalar: given
            # gradient tensors, torch imports sympy (0.4-0.8 s, with the GIL) on first use, and
            # this check runs at a model's first forward, in the app's worker too.
            ((outputs * dO).sum() + (Hs * E).sum()).backward()
        S, b_q = torch.empty(T + 1, b, n), torch.randn(V, generator=gen)
        S[0] = H0
        logits = b_q.expand(b, T, V).clone(memory_format=torch.contiguous_format)
        recurrent_chain.forward(lib, S, W, X, table.detach(), W_q, logits, threads)
        ok &= _close(logits, (outputs.detach() + b_q).transpose(0, 1))
        Z = torch.zeros(T + 1, b, n + V)
        Z[1:, :, n:] = dO
        H = S[1:].contiguous()
        G = torch.stack([a.grad for a in pre])
        for own_sums in (True, False):  # BPTT's sums as it goes, or after (split by rows)
            Z[:, :, :n], d_table, d_sum = 0, torch.zeros(V, n), torch.zeros(n)
            recurrent_chain.backward(
                lib, Z, H, (W.T, W_q.T), X, d_table, d_sum, E, threads, own_sums
            )
            ok &= _close(H, Hs.detach()) and _close(Z[:T, :, :n], G)
            ok &= _close(d_table, table.grad) and _close(d_sum, G.sum((0, 1)))
    ok &= _lstm_agrees(lib, gen) and _gru_agrees(lib, gen) and _torch_gru_agrees(lib, gen)
    # A NaN stays a NaN.
    S = torch.zeros(3, 6, 16)
    S[0, 0, 0] = float("nan")
    ids = torch.zeros(2, 6, dtype=torch.long)
    recurrent_chain.forward(lib, S, torch.eye(16), ids, torch.zeros(1, 16), threads=1)
    return bool(ok and S[2, 0, 0].isnan())


def _lstm_agrees(lib, gen: torch.Generator) -> bool:
    """The LSTM's chain against its equations (d2l §9.2) with torch's autograd: forward, then
    BPTT's ∂L/∂ pre-activations, ∂L/∂H_0 and ∂L/∂C_0."""
    ok = True
    for T, b, n, V, threads in ((3, 7, 37, 4, 2), (2, 2, 16, 3, 1), (2, 9, 48, 3, 1), *ROWS):
        X = torch.randint(0, V, (T, b), generator=gen)
        U, W = torch.randn(V, 4 * n, generator=gen), torch.randn(n, 4 * n, generator=gen) * 0.3
        H0, C0 = (torch.randn(b, n, generator=gen).requires_grad_() for _ in range(2))
        E, dC_T = torch.randn(T, b, n, generator=gen), torch.randn(b, n, generator=gen)
        with torch.enable_grad():
            want_H, C, pre = lstm_equations(X, U, H0, C0, W)
            ((want_H * E).sum() + (C * dC_T).sum()).backward()
        gates, tanh_C = torch.empty(T, b, 4 * n), torch.empty(T, b, n)
        Hs, Cs = torch.empty(T + 1, b, n), torch.empty(T + 1, b, n)
        Hs[0], Cs[0] = H0.detach(), C0.detach()
        recurrent_chain.lstm_forward(lib, gates, Hs, Cs, tanh_C, W, X, U, threads)
        dH, dC, dA = torch.zeros(T + 1, b, n), dC_T.clone(), torch.empty_like(gates)
        dH[1:] = E
        recurrent_chain.lstm_backward(lib, dH, dC, dA, gates, Cs, tanh_C, W, threads)
        ok &= _close(Hs[1:], want_H.detach()) and _close(Cs[-1], C.detach())
        ok &= _close(dA, torch.stack([a.grad for a in pre]), 1e-4)
        ok &= _close(dH[0], H0.grad, 1e-4) and _close(dC, C0.grad, 1e-4)
    return ok


def _gru_agrees(lib, gen: torch.Generator) -> bool:
    """The GRU's chain against its equations (d2l §9.1) with torch's autograd: forward, then
    BPTT's ∂L/∂ pre-activations of [Z | R] and H̃, and ∂L/∂H_0."""
    ok = True
    for T, b, n, V, threads in ((3, 7, 37, 4, 2), (2, 2, 16, 3, 1), (2, 9, 48, 3, 1), *ROWS):
        X = torch.randint(0, V, (T, b), generator=gen)
        U_zr, U_h = torch.randn(V, 2 * n, generator=gen), torch.randn(V, n, generator=gen)
        W_zr = torch.randn(n, 2 * n, generator=gen) * 0.3
        W_h = torch.randn(n, n, generator=gen) * 0.3
        H0 = torch.randn(b, n, generator=gen).requires_grad_()
        E = torch.randn(T, b, n, generator=gen)
        with torch.enable_grad():
            want_H, pre_zr, pre_h = gru_equations(X, U_zr, U_h, H0, W_zr, W_h)
            (want_H * E).sum().backward()
        ZR, cand, RH = torch.empty(T, b, 2 * n), torch.empty(T, b, n), torch.empty(T, b, n)
        Hs = torch.empty(T + 1, b, n)
        Hs[0] = H0.detach()
        recurrent_chain.gru_forward(lib, ZR, cand, RH, Hs, W_zr, W_h, X, U_zr, U_h, threads)
        dH, dA, dB = torch.zeros(T + 1, b, n), torch.empty_like(ZR), torch.empty_like(cand)
        dH[1:] = E
        recurrent_chain.gru_backward(lib, dH, dA, dB, ZR, cand, Hs, W_zr, W_h, threads)
        ok &= _close(Hs[1:], want_H.detach())
        ok &= _close(dA, torch.stack([a.grad for a in pre_zr]), 1e-4)
        ok &= _close(dB, torch.stack([c.grad for c in pre_h]), 1e-4)
        ok &= _close(dH[0], H0.grad, 1e-4)
    return ok


def _torch_gru_agrees(lib, gen: torch.Generator) -> bool:
    """nn.GRU's chain against its equations with torch's autograd: forward, then BPTT's
    ∂L/∂ input-side pre-activations (dA), the recurrent side's (dR: its n block
    ∂L/∂(H_{t-1} W_n + b_hn)) and ∂L/∂H_0."""
    ok = True
    for T, b, n, V, threads in ((3, 7, 37, 4, 2), (2, 2, 16, 3, 1), (2, 9, 48, 3, 1), *ROWS):
        X = torch.randint(0, V, (T, b), generator=gen)
        U, W = torch.randn(V, 3 * n, generator=gen), torch.randn(n, 3 * n, generator=gen) * 0.3
        b_hn = torch.randn(n, generator=gen)
        H0 = torch.randn(b, n, generator=gen).requires_grad_()
        E = torch.randn(T, b, n, generator=gen)
        with torch.enable_grad():
            want_H, pre, rec = torch_gru_equations(X, U, H0, W, b_hn)
            (want_H * E).sum().backward()
        gates, HN, Hs = torch.empty(T, b, 3 * n), torch.empty(T, b, n), torch.empty(T + 1, b, n)
        Hs[0] = H0.detach()
        recurrent_chain.torch_gru_forward(lib, gates, HN, Hs, W, X, U, b_hn, threads)
        dH, dA, dR = torch.zeros(T + 1, b, n), torch.empty_like(gates), torch.empty_like(gates)
        dH[1:] = E
        recurrent_chain.torch_gru_backward(lib, dH, dA, dR, gates, HN, Hs, W, threads)
        dA_want = torch.stack([u.grad for u in pre])
        dR_want = torch.cat((dA_want[..., : 2 * n], torch.stack([q.grad for q in rec])), 2)
        ok &= _close(Hs[1:], want_H.detach())
        ok &= _close(dA, dA_want, 1e-4) and _close(dR, dR_want, 1e-4)
        ok &= _close(dH[0], H0.grad, 1e-4)
    return ok


__all__ = ["chain_agrees", "gru_equations", "lstm_equations", "torch_gru_equations"]
