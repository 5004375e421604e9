"""tanh in place for the scratch cells' time loops (H̃_t of the GRU, C̃_t and tanh C_t of the LSTM,
H_t of the RNN where its product is not fused with tanh).

torch's CPU tanh computes about 2 ns an element on this project's machine: 11 µs for the GRU's
32×256 candidate with two threads, 18 µs with one, where its sigmoid takes 2.3 µs. numpy's
float32 tanh (SIMD, no threads) takes 1.6 µs, and both are within 6e-8 of float64's tanh
(benchmarks/README.md). A loop of 35 steps calls it once or twice a step, forward only: the
backward pass reads the saved tanh through tanh_backward, which is arithmetic.

numpy works on the tensor's own memory, so this is for CPU float32/float64 tensors outside
autograd (the cells' Functions) and outside torch.compile, which traces torch ops only;
everywhere else — a GPU, bf16, a compiled forward — it is torch's `tanh_`.
"""

from __future__ import annotations

import numpy as np
import torch

_NUMPY_DTYPES = (torch.float32, torch.float64)


def numpy_tanh_applies(x: torch.Tensor) -> bool:
    """Whether `tanh_` takes numpy's tanh for `x`."""
    return (
        x.device.type == "cpu"
        and x.dtype in _NUMPY_DTYPES
        and not x.requires_grad
        and not torch.compiler.is_compiling()
    )


def tanh_(x: torch.Tensor) -> torch.Tensor:
    """x ← tanh(x), in place; returns x."""
    if numpy_tanh_applies(x):
        a = x.numpy()
        np.tanh(a, out=a)
        return x
    return x.tanh_()


def tanh_into(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """out ← tanh(x); returns out."""
    if numpy_tanh_applies(x) and numpy_tanh_applies(out) and out.dtype == x.dtype:
        np.tanh(x.numpy(), out=out.numpy())
        return out
    return torch.tanh(x, out=out)


__all__ = ["numpy_tanh_applies", "tanh_", "tanh_into"]
