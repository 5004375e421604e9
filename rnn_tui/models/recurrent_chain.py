"""The scratch RNN's time loops as one C call each (chain_c.py): when, and how to call them.

A pass of the scratch RNN runs two chains of T dependent steps with one weight (d2l §8.5, §8.7):

    forward   H_t = tanh(X_t W_xh + b_h + H_{t-1} W_hh)
    BPTT      G_t = (∂L/∂H_t from O_t + G_{t+1} W_hhᵀ) ⊙ (1 − H_t²)

`forward` and `backward` run each chain in one call to the C loops' library: W laid out once
(`pack`), torch's threads kept in one parallel region for all T steps. Whether that is faster
than torch's own loop (a matmul and an element-wise kernel a step, prepacked or plain) is a
property of the CPU, so the first training pass of each loop shape measures both
(`step_matmul.measured_choice`) and the faster runs for the rest of the process; a resumed run
keeps its first session's choice. Eligible where the C loops are (`fused_steps.loops_for`: a
CPU, float32, outside autocast and torch.compile) for loops of at least MIN_USES steps with a
recurrent weight of at least MIN_WEIGHTS entries, as for prepacking: smaller ones are not worth
a measurement. The same sums in another order: equal to torch's to float32 rounding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnn_tui.models import fused_steps
from rnn_tui.models.step_matmul import MIN_USES, MIN_WEIGHTS, Verdict

PANEL = 16  # columns a panel, as chain_c's NR


def pack(W: torch.Tensor) -> torch.Tensor:
    """W (K, N) as ⌈N/16⌉ panels of 16 columns, (P, K, 16), contiguous; the last panel's
    missing columns are zeros."""
    K, N = W.shape
    P = -(-N // PANEL)
    if P * PANEL != N:
        W = F.pad(W, (0, P * PANEL - N))
    return W.reshape(K, P, PANEL).transpose(0, 1).contiguous()


def library(W_hh: torch.Tensor, steps: int):
    """The C loops' library where a chain with the weight W_hh over `steps` steps may run,
    else None."""
    if steps < MIN_USES or W_hh.numel() < MIN_WEIGHTS:
        return None
    return fused_steps.loops_for(W_hh)


def threads() -> int:
    """Threads a chain splits its columns over: torch's, where the library has OpenMP."""
    lib = fused_steps.load().lib
    if lib is None or lib.chain_threads() <= 1:
        return 1
    return torch.get_num_threads()


def forward(lib, S: torch.Tensor, W_hh: torch.Tensor) -> None:
    """S (T + 1, B, h), contiguous: S[0] = H_0 and S[t] = X_t W_xh + b_h on entry;
    S[t] = H_t = tanh(S[t] + H_{t-1} W_hh) on return."""
    _check(S, W_hh)
    T, B, n = S.shape[0] - 1, S.shape[1], S.shape[2]
    W = pack(W_hh)  # kept alive across the call
    lib.rnn_chain(S.data_ptr(), None, W.data_ptr(), T, 0, 1, B, n, 0, threads())


def backward(lib, G: torch.Tensor, D: torch.Tensor, W_hh: torch.Tensor) -> None:
    """G (T, B, h), contiguous, holds ∂L/∂H_t from the outputs with G[T-1] already multiplied
    by D[T-1]; D = 1 − H_t². On return G[t] = (G[t] + G[t+1] W_hhᵀ) ⊙ D[t] for t = T-2..0."""
    _check(G, W_hh)
    if D.shape != G.shape or not D.is_contiguous() or D.dtype != G.dtype:
        raise ValueError("D must be a contiguous tensor shaped like G")
    T, B, n = G.shape
    W = pack(W_hh.T)
    lib.rnn_chain(G.data_ptr(), D.data_ptr(), W.data_ptr(), T - 1, T - 1, -1, B, n, 1, threads())


def _check(Y: torch.Tensor, W: torch.Tensor) -> None:
    # The C code trusts every pointer and size: a wrong one would read or write out of bounds.
    n = Y.shape[-1]
    if (
        Y.dim() != 3
        or not Y.is_contiguous()
        or Y.dtype != torch.float32
        or W.dtype != torch.float32
        or Y.device.type != "cpu"
        or W.shape != (n, n)
    ):
        raise ValueError("a chain needs contiguous CPU float32 rows (T, B, n) and an n × n weight")


def note(verdict: Verdict, measured_now: bool) -> str:
    """One line for a run's path notes: where the time loop ran, and the times behind it."""
    if verdict.kept:
        times = "as the run's first session measured"
    else:
        when = f"at the first step in {verdict.trial_s:.2f} s" if measured_now else "earlier"
        times = (
            f"measured {when}: a pass {verdict.packed_ms:.1f} ms in C, "
            f"{verdict.plain_ms:.1f} ms in torch"
        )
    if verdict.packed:
        count = threads()
        plural = "s" if count != 1 else ""
        return f"time loop one C call a pass, {count} thread{plural} ({times})"
    return f"time loop in torch, faster here ({times})"


__all__ = ["PANEL", "backward", "forward", "library", "note", "pack", "threads"]
