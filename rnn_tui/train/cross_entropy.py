"""The language model's loss: the mean cross-entropy of its logits at the next tokens (d2l §8.5).

    l = (1/N) Σ_i −log softmax(O_i)_{y_i}

`F.cross_entropy`, or on the CPU, where this process already runs the C loops (fused_steps: the
scratch cells load them), the same loss and gradient as two C loops (models/loss_c.py): with
a character vocabulary torch's kernels spend 0.3 ms of a scratch RNN's 10 ms step on rows of 28
(a 2-core Xeon). Equal to torch's to float32 rounding; a NaN logit gives a NaN loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from rnn_tui.models import fused_steps


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of `logits` (N, V) at `targets` (N,) token ids, as F.cross_entropy."""
    lib = _loops(logits, targets)
    if lib is None:
        return F.cross_entropy(logits, targets)
    low, high = torch.aminmax(targets)  # the C loops index rows unchecked
    if int(low) < 0 or int(high) >= logits.shape[1]:
        raise IndexError(f"target out of bounds for {logits.shape[1]} classes")
    return _CrossEntropy.apply(logits, targets, lib)


class _CrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, targets, lib):
        N, V = logits.shape
        lse = logits.new_empty(N)
        loss = lib.ce_forward(logits.data_ptr(), targets.data_ptr(), lse.data_ptr(), N, V)
        ctx.save_for_backward(logits, targets, lse)
        ctx.lib = lib
        return logits.new_tensor(loss)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        logits, targets, lse = ctx.saved_tensors
        N, V = logits.shape
        d = torch.empty_like(logits)
        scale = float(grad) / N
        ctx.lib.ce_backward(
            logits.data_ptr(), targets.data_ptr(), lse.data_ptr(), d.data_ptr(), N, V, scale
        )
        return d, None, None


def _loops(logits: torch.Tensor, targets: torch.Tensor):
    """The C loops' library where they apply, else None."""
    if (
        logits.dim() != 2
        or targets.shape != logits.shape[:1]
        or logits.shape[0] == 0
        or targets.dtype != torch.int64
        or targets.device.type != "cpu"
        or not targets.is_contiguous()
        or not fused_steps.in_use()
    ):
        return None
    return fused_steps.loops_for(logits) if logits.is_contiguous() else None


__all__ = ["cross_entropy"]
