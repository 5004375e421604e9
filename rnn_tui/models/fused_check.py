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
    from rnn_tui.models.chain_check import chain_agrees  # it calls the chains' wrappers

    return bool(ok and nan.isnan().all() and chain_agrees(lib))


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


__all__ = ["agrees", "timed"]
