"""The minibatch update after `l.backward()`: d2l's grad_clipping, then the optimizer's step.

    g ← min(1, θ/‖g‖) g   (clipping.py),   then   θ_p ← θ_p − η g   (optimizers.SGD)

On the CPU, where this process already runs the C loops (fused_steps: the scratch cells load
them) and the optimizer is the seeds' SGD over contiguous float32 tensors, the same update runs
as two passes of C (update_c.py): one summing the squares of the gradients, one scaling them
and updating the parameters. As torch's kernels it is a dozen dispatches, 0.58 against 0.15 ms
of a scratch RNN's 10 ms step at hidden 512 (a 2-core Xeon). The gradients are left clipped and
the norm before clipping is returned, as grad_clipping does; a NaN or inf norm reaches the
parameters the same way. Anywhere else, or with $RNN_TUI_NATIVE=off, torch's kernels run.
"""

from __future__ import annotations

import ctypes
import math

import torch

from rnn_tui.models import fused_steps
from rnn_tui.train.clipping import grad_clipping
from rnn_tui.train.optimizers import SGD


def clip_and_step(params: list, theta: float, optimizer) -> torch.Tensor:
    """Clip the gradients of `params` to norm θ, take the optimizer's step; return the norm
    before clipping (a 0-d float tensor, as grad_clipping's)."""
    lib = _loops(params, optimizer)
    if lib is None:
        norm = grad_clipping(params, theta)
        optimizer.step()
        return norm
    live = [p for p in params if p.grad is not None]
    if not live:
        return torch.zeros(())
    count, threads = len(live), torch.get_num_threads()
    grads = (ctypes.c_void_p * count)(*(p.grad.data_ptr() for p in live))
    weights = (ctypes.c_void_p * count)(*(p.data_ptr() for p in live))
    sizes = (ctypes.c_long * count)(*(p.numel() for p in live))
    norm = math.sqrt(lib.update_sum_squares(grads, sizes, count, threads))
    # θ/‖g‖ clamped at 1, as grad_clipping's: a zero norm scales by 1, an inf one by 0, and a
    # NaN stays a NaN (NaN > 1 is false).
    coef = 1.0 if norm == 0.0 else theta / norm
    if coef > 1.0:
        coef = 1.0
    lr = optimizer.param_groups[0]["lr"]
    lib.update_scale_step(grads, weights, sizes, count, coef, lr, threads)
    # Written in place behind autograd's back: their version counters move as torch's would.
    torch.autograd.graph.increment_version(live + [p.grad for p in live])
    return torch.tensor(norm, dtype=torch.float32)


def _loops(params: list, optimizer):
    """The C loops' library where the fast update applies, else None."""
    if type(optimizer) is not SGD or not fused_steps.in_use() or torch.compiler.is_compiling():
        return None
    ours = optimizer.param_groups[0]["params"]
    if len(ours) != len(params) or any(a is not b for a, b in zip(ours, params, strict=True)):
        return None
    for p in params:
        for x in (p, p.grad):
            if x is not None and (
                x.device.type != "cpu"
                or x.dtype != torch.float32
                or x.layout != torch.strided
                or not x.is_contiguous()
            ):
                return None
    return fused_steps.load().lib


__all__ = ["clip_and_step"]
