"""The gradient of a loss at step T with respect to a cell's weights, as sums over time of
factors (d2l §8.7): every weight multiplies something at every step, so its gradient is

    ∂L_T/∂W = Σ_t u_tᵀ δ_t

with u_t what W multiplies at step t (x_t for W_x·, h_{t−1} for W_h·) and δ_t the gradient
reaching that product. One backward pass that catches the δ_t (a zero added to each product
and to each gate's pre-activation) gives every weight's gradient as one matrix product of
T·H factors, and the per-step terms of ∂L_T/∂W_hh for truncation. Autograd with the weights as
leaves adds a full H×4H outer product into each weight's gradient at every step instead: at
5,000 steps of a 1,024-unit LSTM, 42 s of a 111 s report.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnn_tui.probe.cell import (
    DTYPE,
    Cell,
    ProbeError,
    State,
    StepWatch,
    layer_inputs,
    norm_of,
    step,
)


def loss_at_T(cell: Cell, h_T: torch.Tensor, target: int | None, seed: int) -> torch.Tensor:
    """The loss at step T: the cross-entropy of `target` under the cell's read-out, or for a
    cell without one ⟨v, h_T⟩ with a fixed random unit vector v (any direction shows the flow)."""
    if cell.W_hq is not None and target is not None:
        logits = h_T @ cell.W_hq + cell.b_q
        return F.cross_entropy(logits, torch.tensor([target]))
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(cell.hidden, generator=g, dtype=DTYPE)
    return (h_T[0] * v / v.norm()).sum()


def require_steps(xs: torch.Tensor) -> None:
    if xs.ndim != 2 or len(xs) == 0:
        raise ProbeError("the sequence is empty: give at least one token")


@dataclass(frozen=True)
class Terms:
    """The terms of ∂L_T/∂W for one weight, one per step, by their factors: term_t = u_tᵀ δ_t.
    One sequence (batch 1), so each term is an outer product: ‖term_t‖ = ‖u_t‖ ‖δ_t‖, and a sum
    of terms is one product — T·H numbers where the terms themselves are T·H² (a 1,024-unit
    LSTM's W_hh over 5,000 steps: 42 GB)."""

    inputs: torch.Tensor  # u_t, (T, inputs of W)
    deltas: torch.Tensor  # δ_t, (T, H)

    def norms(self) -> list[float]:
        """‖term_t‖ for t = 1..T."""
        return (self.inputs.norm(dim=1) * self.deltas.norm(dim=1)).tolist()

    def total(self, first: int = 0, stop: int | None = None) -> torch.Tensor:
        """Σ term_t over the steps [first, stop) (0-based), shaped as W."""
        return self.inputs[first:stop].T @ self.deltas[first:stop]

    def dense(self) -> torch.Tensor:
        """Every term, (T, inputs of W, H)."""
        return self.inputs[:, :, None] * self.deltas[:, None, :]


@dataclass(frozen=True)
class Factors:
    """Per gate g, the terms of W_h[g] (`recurrent`: u_t is what W_h[g] multiplies, δ_t the
    gradient reaching the product) and of W_x[g] (`input`: u_t = x_t, δ_t the gradient reaching
    the gate's pre-activation, which b[g] gets too). b_hh[g] sits beside the recurrent product
    (inside the reset gate for torch's GRU), so it gets the recurrent δ_t."""

    recurrent: dict[str, Terms]
    input: dict[str, Terms]
    loss: float  # L_T
    state_norms: list[float]  # ‖∂L_T/∂h_t‖ for t = 1..T: the gradient flow, from the same pass
    last_state_gradient: torch.Tensor  # ∂L_T/∂h_T, (1, H)
    kept_state: State | None = None  # (h, c) after `keep_state_at` steps, detached

    def gradients(self) -> dict[str, dict[str, torch.Tensor]]:
        """∂L_T/∂ each weight, by family ("W_x", "W_h", "b", "b_hh") and gate."""
        return {
            "W_x": {g: terms.total() for g, terms in self.input.items()},
            "W_h": {g: terms.total() for g, terms in self.recurrent.items()},
            "b": {g: terms.deltas.sum(0) for g, terms in self.input.items()},
            "b_hh": {g: terms.deltas.sum(0) for g, terms in self.recurrent.items()},
        }


def step_factors(
    cell: Cell,
    xs: torch.Tensor,
    target: int | None = None,
    watch: StepWatch | None = None,
    seed: int = 0,
    keep_state_at: int | None = None,
) -> Factors:
    """The factors of every weight's gradient of L_T (see Factors; L_T as `loss_at_T` with
    `seed`), from one backward pass: a zero added to each recurrent product and to each gate's
    pre-activation catches the gradient δ_t reaching it, and what each product multiplies is
    kept. A hook on each h_t takes ‖∂L_T/∂h_t‖ on the way back. The state after
    `keep_state_at` steps is kept, detached (where a truncated pass starts)."""
    require_steps(xs)
    xs = layer_inputs(cell, xs)
    products: dict[str, list[torch.Tensor]] = {}
    recurrent_catches: dict[str, list[torch.Tensor]] = {}
    input_catches: dict[str, list[torch.Tensor]] = {}

    def caught(catches: list[torch.Tensor], out: torch.Tensor) -> torch.Tensor:
        catch = torch.zeros_like(out, requires_grad=True)
        catches.append(catch)
        return out + catch

    def product(g: str, u: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
        products.setdefault(g, []).append(u.detach())
        return caught(recurrent_catches.setdefault(g, []), u @ W.detach())

    # A gate's pre-activation gets the recurrent product's δ_t wherever that product is one
    # of its addends; only torch's GRU candidate, r ⊙ (h W_hh + b_hn), needs a catch of its own.
    own_catch = {"h"} if cell.kind == "gru" and "h" in cell.b_hh else set()

    def pre(g: str, a: torch.Tensor) -> torch.Tensor:
        return caught(input_catches.setdefault(g, []), a) if g in own_catch else a

    state_norms = [0.0] * len(xs)
    last: list[torch.Tensor] = []

    def state_gradient(t: int):
        def seen(grad: torch.Tensor) -> None:
            state_norms[t - 1] = norm_of(grad)
            if t == len(xs):
                last.append(grad.detach().clone())

        return seen

    h = torch.zeros(1, cell.hidden, dtype=DTYPE)
    c = torch.zeros(1, cell.hidden, dtype=DTYPE) if cell.kind == "lstm" else None
    kept = None
    for t, x in enumerate(xs, 1):
        if t - 1 == keep_state_at:
            kept = (h.detach(), c.detach() if c is not None else None)
        values = step(cell, x.unsqueeze(0), h, c, product, pre)
        h, c = values["h"], values.get("c")
        h.register_hook(state_gradient(t))
        if watch is not None:
            watch(t, h)
    gates = list(products)
    catches = [k for g in gates for k in (*recurrent_catches[g], *input_catches.get(g, ()))]
    loss = loss_at_T(cell, h, target, seed)
    found = torch.autograd.grad(loss, catches, allow_unused=True)
    deltas = iter(torch.zeros_like(k) if d is None else d for d, k in zip(found, catches))
    recurrent, inputs = {}, {}
    multiplied: dict[tuple[int, int], torch.Tensor] = {}  # most gates' u_t are the same h_{t−1}
    for g in gates:
        steps = range(len(products[g]))
        same = (products[g][0].data_ptr(), products[g][-1].data_ptr())
        if same not in multiplied:
            multiplied[same] = torch.cat(products[g])
        recurrent[g] = Terms(multiplied[same], torch.cat([next(deltas) for _ in steps]))
        if g in own_catch:
            inputs[g] = Terms(xs, torch.cat([next(deltas) for _ in steps]))
        else:
            inputs[g] = Terms(xs, recurrent[g].deltas)
    return Factors(recurrent, inputs, float(loss.detach()), state_norms, last[0], kept)


def bptt_factors(
    cell: Cell, xs: torch.Tensor, target: int | None = None, watch: StepWatch | None = None
) -> Terms:
    """The terms of ∂L_T/∂W_hh (W_h of the candidate: the cell state's for an LSTM)."""
    return step_factors(cell, xs, target, watch).recurrent["c" if cell.kind == "lstm" else "h"]


__all__ = ["Factors", "Terms", "bptt_factors", "loss_at_T", "require_steps", "step_factors"]
