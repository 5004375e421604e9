"""Gradient clipping, the seeds' way ("循环神经网络的从零开始实现", d2l §8.5):

    g ← min(1, θ / ‖g‖) g

where g is the gradient of *all* parameters concatenated and ‖g‖ its L2 norm. The norm before
clipping is returned so the trainer can report it. Everything stays on the device: no `.item()`,
no `if norm > θ` on the host (the seeds' version synchronises there every minibatch), so a CUDA
loop never waits for the GPU here.

Why not `torch.nn.utils.clip_grad_norm_(params, θ, foreach=True)`: it computes the same norm and
the same clipped gradients (to the last bit on every model here), with more Python work per
call; measured side by side in one process it is 1.06–1.65× slower on the trainer's models
(`python benchmarks/bench_clip.py`, benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


@torch.no_grad()
def grad_clipping(params: Iterable[torch.nn.Parameter], theta: float) -> torch.Tensor:
    """Scale the gradients of `params` in place by min(1, θ/‖g‖); return ‖g‖ before clipping.

    The result is a 0-d float tensor on the gradients' device (0 when no parameter has a
    gradient). A zero norm leaves the gradients as they are (θ/0 = inf, clamped to 1); a NaN or
    inf norm propagates into the gradients, and the trainer catches it in the loss.
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    # One fused kernel per dtype/device group for the per-tensor norms, one for the scaling.
    norms = torch._foreach_norm(grads)
    norm = torch.linalg.vector_norm(torch.stack(norms))
    coef = torch.clamp(theta / norm, max=1.0)
    torch._foreach_mul_(grads, coef)
    return norm


__all__ = ["grad_clipping"]
