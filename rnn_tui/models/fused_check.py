"""Whether the C loops of fused_steps agree with torch's kernels here, and which is faster.

Each loop is run on random rows (an odd width, so that the vectorised loops' tails run too, and
pre-activations up to ±30, where σ and tanh saturate) against the same equations written with
torch's kernels; a NaN must stay a NaN (a diverging run has to see it). Then a GRU step's
forward element-wise work at the book's size (batch 32, hidden 256) is timed both ways,
alternately: on a CPU where the loops are not faster, torch's kernels keep running.
"""

from __future__ import annotations

import statistics
import time

import torch

from rnn_tui.models.activations import tanh_

TOLERANCE = 1e-5
B, N = 3, 37  # the check's rows and width
TIMED_B, TIMED_N, ROUNDS, REPEATS = 32, 256, 5, 20


def ptr(x: torch.Tensor) -> int:
    return x.data_ptr()


def _close(a: torch.Tensor, b: torch.Tensor, tolerance: float = TOLERANCE) -> bool:
    return bool(torch.allclose(a, b, rtol=tolerance, atol=tolerance))


def agrees(lib) -> bool:
    """Every loop against its equations in torch, on the same random values."""
    gen = torch.Generator().manual_seed(0)

    def rand(*shape, scale=1.0):
        return torch.randn(*shape, generator=gen) * scale

    def unit(*shape):
        return torch.rand(*shape, generator=gen) * 0.98 + 0.01

    n = N
    ok = True
    # GRU forward.
    zr, H = rand(B, 2 * n, scale=10), rand(B, n)
    zr[0, 0] = 30.0
    zr[0, 1] = -30.0
    want_zr = torch.sigmoid(zr)
    want_rh = want_zr[:, n:] * H
    rh = torch.empty(B, n)
    got_zr = zr.clone()
    lib.gru_fwd_a(ptr(got_zr), ptr(H), ptr(rh), B, n)
    ok &= _close(got_zr, want_zr) and _close(rh, want_rh)
    c = rand(B, n, scale=10)
    want_c = torch.tanh(c)
    want_Hn = want_c + want_zr[:, :n] * (H - want_c)
    Hn, got_c = torch.empty(B, n), c.clone()
    lib.gru_fwd_b(ptr(got_c), ptr(H), ptr(want_zr), ptr(Hn), B, n)
    ok &= _close(got_c, want_c) and _close(Hn, want_Hn)
    # GRU backward.
    zr_act, cand = unit(B, 2 * n), rand(B, n).tanh()
    Hp, dH, dRH = rand(B, n), rand(B, n), rand(B, n)
    z, r = zr_act[:, :n], zr_act[:, n:]
    db, da = torch.empty(B, n), torch.zeros(B, 2 * n)
    lib.gru_bwd_a(ptr(dH), ptr(zr_act), ptr(cand), ptr(Hp), ptr(db), ptr(da), B, n)
    ok &= _close(db, dH * (1 - z) * (1 - cand**2))
    ok &= _close(da[:, :n], dH * (Hp - cand) * z * (1 - z))
    prev = rand(B, n)
    want_prev = prev + dH * z + dRH * r
    lib.gru_bwd_b(ptr(dRH), ptr(zr_act), ptr(Hp), ptr(dH), ptr(prev), ptr(da), B, n)
    ok &= _close(prev, want_prev) and _close(da[:, n:], dRH * Hp * r * (1 - r))
    # LSTM forward.
    gates, Cp = rand(B, 4 * n, scale=10), rand(B, n)
    o, i, f = (torch.sigmoid(gates[:, k * n : (k + 1) * n]) for k in range(3))
    ct = torch.tanh(gates[:, 3 * n :])
    want_C = f * Cp + i * ct
    got_g, C, tc, Hn = gates.clone(), torch.empty(B, n), torch.empty(B, n), torch.empty(B, n)
    lib.lstm_fwd(ptr(got_g), ptr(Cp), ptr(C), ptr(tc), ptr(Hn), B, n)
    ok &= _close(got_g, torch.cat((o, i, f, ct), 1)) and _close(C, want_C)
    ok &= _close(tc, torch.tanh(want_C)) and _close(Hn, o * torch.tanh(want_C))
    # LSTM backward.
    g = torch.cat((unit(B, 3 * n), rand(B, n).tanh()), 1)
    o, i, f, ct = (g[:, k * n : (k + 1) * n] for k in range(4))
    tc, dC, da = rand(B, n).tanh(), rand(B, n), torch.empty(B, 4 * n)
    d = dC + dH * o * (1 - tc**2)
    want_da = torch.cat(
        (dH * tc * o * (1 - o), d * ct * i * (1 - i), d * Cp * f * (1 - f), d * i * (1 - ct**2)), 1
    )
    lib.lstm_bwd(ptr(dH), ptr(g), ptr(Cp), ptr(tc), ptr(dC), ptr(da), B, n)
    ok &= _close(da, want_da) and _close(dC, d * f)
    # A NaN stays a NaN.
    nan = torch.full((1, 2 * n), float("nan"))
    lib.gru_fwd_a(ptr(nan), ptr(H), ptr(rh), 1, n)
    return bool(ok and nan.isnan().all() and chain_agrees(lib))


def chain_agrees(lib) -> bool:
    """The RNN's chain (chain_c.py) against the same steps in torch, forward and BPTT, on
    widths around the 16-column panels, batches around the 6-row tiles, one thread and more."""
    from rnn_tui.models import recurrent_chain

    gen = torch.Generator().manual_seed(1)
    ok = True
    for T, b, n, V, threads in (
        (4, 7, 37, 5, 2),
        (3, 13, 16, 3, 1),
        (3, 5, 20, 2, 3),
        (2, 1, 33, 4, 2),
    ):
        W, table = torch.randn(n, n, generator=gen) * 0.3, torch.randn(V, n, generator=gen)
        X = torch.randint(0, V, (T, b), generator=gen)
        S, E = torch.zeros(T + 1, b, n), torch.randn(T, b, n, generator=gen)
        S[0] = torch.randn(b, n, generator=gen)
        want_S = S.clone()
        for t in range(T):
            want_S[t + 1] = torch.tanh(want_S[t] @ W + table[X[t]])
        H = want_S[1:].contiguous()
        want_G = E.clone()
        want_G[-1] *= 1 - H[-1] ** 2
        for t in range(T - 1, 0, -1):
            want_G[t - 1] = (E[t - 1] + want_G[t] @ W.T) * (1 - H[t - 1] ** 2)
        got_S, got_G = S.clone(), torch.zeros(T, b, n)
        got_G[-1] = want_G[-1]
        recurrent_chain.forward(lib, got_S, W, X, table, threads)
        recurrent_chain.backward(lib, got_G, E, H, W, threads)
        ok &= _close(got_S, want_S) and _close(got_G, want_G)
    ok &= _lstm_chain_agrees(lib, gen) and _gru_chain_agrees(lib, gen)
    # A NaN stays a NaN.
    S = torch.zeros(3, 6, 16)
    S[0, 0, 0] = float("nan")
    ids = torch.zeros(2, 6, dtype=torch.long)
    recurrent_chain.forward(lib, S, torch.eye(16), ids, torch.zeros(1, 16), threads=1)
    return bool(ok and S[2, 0, 0].isnan())


def _lstm_chain_agrees(lib, gen: torch.Generator) -> bool:
    """The LSTM's chain against its equations (d2l §9.2) with torch's autograd: forward, then
    BPTT's ∂L/∂ pre-activations, ∂L/∂H_0 and ∂L/∂C_0."""
    from rnn_tui.models import recurrent_chain

    ok = True
    for T, b, n, V, threads in ((3, 7, 37, 4, 2), (2, 2, 16, 3, 1)):
        X = torch.randint(0, V, (T, b), generator=gen)
        U, W = torch.randn(V, 4 * n, generator=gen), torch.randn(n, 4 * n, generator=gen) * 0.3
        H0, C0 = (torch.randn(b, n, generator=gen).requires_grad_() for _ in range(2))
        E, dC_T = torch.randn(T, b, n, generator=gen), torch.randn(b, n, generator=gen)
        with torch.enable_grad():
            H, C, pre, want_H = H0, C0, [], []
            for t in range(T):
                a = H @ W + U[X[t]]
                a.retain_grad()
                pre.append(a)
                o, i, f = (torch.sigmoid(a[:, k * n : (k + 1) * n]) for k in range(3))
                C = f * C + i * torch.tanh(a[:, 3 * n :])
                H = o * torch.tanh(C)
                want_H.append(H)
            ((torch.stack(want_H) * E).sum() + (C * dC_T).sum()).backward()
        gates, tanh_C = torch.empty(T, b, 4 * n), torch.empty(T, b, n)
        Hs, Cs = torch.empty(T + 1, b, n), torch.empty(T + 1, b, n)
        Hs[0], Cs[0] = H0.detach(), C0.detach()
        recurrent_chain.lstm_forward(lib, gates, Hs, Cs, tanh_C, W, X, U, threads)
        dH, dC, dA = torch.zeros(T + 1, b, n), dC_T.clone(), torch.empty_like(gates)
        dH[1:] = E
        recurrent_chain.lstm_backward(lib, dH, dC, dA, gates, Cs, tanh_C, W, threads)
        ok &= _close(Hs[1:], torch.stack(want_H).detach()) and _close(Cs[-1], C.detach())
        ok &= _close(dA, torch.stack([a.grad for a in pre]), 1e-4)
        ok &= _close(dH[0], H0.grad, 1e-4) and _close(dC, C0.grad, 1e-4)
    return ok


def _gru_chain_agrees(lib, gen: torch.Generator) -> bool:
    """The GRU's chain against its equations (d2l §9.1) with torch's autograd: forward, then
    BPTT's ∂L/∂ pre-activations of [Z | R] and H̃, and ∂L/∂H_0."""
    from rnn_tui.models import recurrent_chain

    ok = True
    for T, b, n, V, threads in ((3, 7, 37, 4, 2), (2, 2, 16, 3, 1)):
        X = torch.randint(0, V, (T, b), generator=gen)
        U_zr, U_h = torch.randn(V, 2 * n, generator=gen), torch.randn(V, n, generator=gen)
        W_zr = torch.randn(n, 2 * n, generator=gen) * 0.3
        W_h = torch.randn(n, n, generator=gen) * 0.3
        H0 = torch.randn(b, n, generator=gen).requires_grad_()
        E = torch.randn(T, b, n, generator=gen)
        with torch.enable_grad():
            H, pre, want_H = H0, [], []
            for t in range(T):
                a = H @ W_zr + U_zr[X[t]]
                Z, R = torch.sigmoid(a[:, :n]), torch.sigmoid(a[:, n:])
                c = (R * H) @ W_h + U_h[X[t]]
                a.retain_grad()
                c.retain_grad()
                pre.append((a, c))
                H = Z * H + (1 - Z) * torch.tanh(c)
                want_H.append(H)
            (torch.stack(want_H) * E).sum().backward()
        ZR, cand, RH = torch.empty(T, b, 2 * n), torch.empty(T, b, n), torch.empty(T, b, n)
        Hs = torch.empty(T + 1, b, n)
        Hs[0] = H0.detach()
        recurrent_chain.gru_forward(lib, ZR, cand, RH, Hs, W_zr, W_h, X, U_zr, U_h, threads)
        dH, dA, dB = torch.zeros(T + 1, b, n), torch.empty_like(ZR), torch.empty_like(cand)
        dH[1:] = E
        recurrent_chain.gru_backward(lib, dH, dA, dB, ZR, cand, Hs, W_zr, W_h, threads)
        ok &= _close(Hs[1:], torch.stack(want_H).detach())
        ok &= _close(dA, torch.stack([a.grad for a, _ in pre]), 1e-4)
        ok &= _close(dB, torch.stack([c.grad for _, c in pre]), 1e-4)
        ok &= _close(dH[0], H0.grad, 1e-4)
    return ok


def timed(lib) -> tuple[float, float]:
    """µs a step for the GRU's forward element-wise work: the C loops, torch's kernels."""
    gen = torch.Generator().manual_seed(0)
    b, n = TIMED_B, TIMED_N
    zr0, c0, H = (torch.randn(b, k * n, generator=gen) for k in (2, 1, 1))
    zr, c, rh, Hn = torch.empty(b, 2 * n), torch.empty(b, n), torch.empty(b, n), torch.empty(b, n)

    def loops():
        lib.gru_fwd_a(ptr(zr), ptr(H), ptr(rh), b, n)
        lib.gru_fwd_b(ptr(c), ptr(H), ptr(zr), ptr(Hn), b, n)

    def kernels():
        zr.sigmoid_()
        torch.mul(zr[:, n:], H, out=rh)
        tanh_(c)
        torch.lerp(c, H, zr[:, :n], out=Hn)

    times: dict = {loops: [], kernels: []}
    for _ in range(ROUNDS):
        for way in (loops, kernels):
            for _ in range(REPEATS):
                zr.copy_(zr0)
                c.copy_(c0)
                started = time.perf_counter()
                way()
                times[way].append(time.perf_counter() - started)
    return statistics.median(times[loops]) * 1e6, statistics.median(times[kernels]) * 1e6


__all__ = ["agrees", "chain_agrees", "timed"]
