"""The recurrent product X W of a time loop, for one W that every step of the loop reuses.

A scratch cell's time loop is T small matrix products with the same weight (H_{t-1} W_hh in the
forward pass, G_t W_hhᵀ in backpropagation through time, d2l §8.7). A plain CPU matmul lays W
out for its kernel again on every call; with batch 32 that repacking is a large share of each
product. oneDNN can reorder W once into its own blocked layout ("prepacking", as torch's
compiler does for frozen weights), and each step then only multiplies. On this project's 2-core
machine, in a chain of 35 dependent products (benchmarks/README.md): 32×512 · 512×512 takes
97 µs prepacked against 130 µs, the LSTM's 32×256 · 256×1024 105 µs against 148 µs.

The same products, summed in another order: results agree with torch.mm to float32 rounding
(tests/test_step_matmul.py), not bit for bit. Prepacking is used for float32 on a CPU with
oneDNN, outside autocast and torch.compile, when the loop is long enough and the weight large
enough to repay the reordering; everywhere else — a GPU, float64, bf16 autocast, a compiled
forward, one-step generation — the plain product runs, as before.
"""

from __future__ import annotations

import functools

import torch

# The reorder costs about one product, so a loop of fewer steps than this keeps the plain one.
MIN_USES = 4
# Below this many weights the reorder is not repaid within a loop of 35 steps (32×256 · 256×512:
# 65 µs prepacked against 73 µs, for a reorder of 133 µs).
MIN_WEIGHTS = 256 * 1024


@functools.cache
def prepacking_available() -> bool:
    """Whether this torch build multiplies with prepacked oneDNN weights correctly.

    Checked once, on a small product (plain, and with bias and tanh fused) against torch.mm:
    a build without the ops, or one whose ops fail, keeps the plain path rather than failing a
    run.
    """
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        gen = torch.Generator().manual_seed(0)
        X = torch.randn(3, 8, generator=gen)
        W = torch.randn(8, 5, generator=gen)
        b = torch.randn(5, generator=gen)
        packed = torch.ops.mkldnn._reorder_linear_weight(W.T.contiguous(), 3)
        product = torch.ops.mkldnn._linear_pointwise(X, packed, None, "none", [], "")
        # The scratch RNN's step: bias and tanh applied as the product is written.
        fused = torch.ops.mkldnn._linear_pointwise(X, packed, b, "tanh", [], "")
    except (RuntimeError, AttributeError, NotImplementedError):  # ops missing or unsupported
        return False
    return bool(
        torch.allclose(product, X @ W, atol=1e-5)
        and torch.allclose(fused, torch.tanh(X @ W + b), atol=1e-5)
    )


def packs(entries: int, dtype: torch.dtype, device: torch.device | str, uses: int) -> bool:
    """Whether `uses` products with a weight of `entries` entries go through a prepacked copy."""
    return (
        uses >= MIN_USES
        and entries >= MIN_WEIGHTS
        and torch.device(device).type == "cpu"
        and dtype == torch.float32
        and not torch.is_autocast_enabled("cpu")
        # torch.compile traces the loop into its own kernels and cannot lower these ops.
        and not torch.compiler.is_compiling()
        and prepacking_available()
    )


class StepMatmul:
    """X W for a fixed W (in, out) and many X of `rows` rows: `uses` products are coming."""

    def __init__(self, W: torch.Tensor, rows: int, uses: int) -> None:
        self.W = W
        self.packed = None
        if packs(W.numel(), W.dtype, W.device, uses):
            # oneDNN's linear takes the weight as (out, in), like nn.Linear.
            self.packed = torch.ops.mkldnn._reorder_linear_weight(W.T.contiguous(), rows)

    def __call__(self, X: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """X W, into `out` when given, else a new tensor."""
        if self.packed is None:
            return torch.mm(X, self.W, out=out) if out is not None else X @ self.W
        product = torch.ops.mkldnn._linear_pointwise(X, self.packed, None, "none", [], "")
        return out.copy_(product) if out is not None else product

    def add_to(self, out: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        """out += X W, in place; returns out."""
        if self.packed is None:
            return out.addmm_(X, self.W)
        return out.add_(self(X))


__all__ = ["MIN_USES", "MIN_WEIGHTS", "StepMatmul", "packs", "prepacking_available"]
