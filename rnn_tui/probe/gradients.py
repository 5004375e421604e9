"""Backpropagation through time, measured (d2l §8.7): how the gradient of a loss at step T reaches
each earlier hidden state, what clipping and truncation do to it, and how much each earlier input
moves a prediction.

The seeds' gradient with respect to the recurrent weights is a sum over time of products of
Jacobians:

    ∂L/∂W_hh = Σ_t (∂L/∂h_T) (Π_{j=t+1..T} ∂h_j/∂h_{j−1}) ∂h_t/∂W_hh

For a linear RNN (h_t = x_t W_xh + h_{t−1} W_hh) every Jacobian is W_hhᵀ, so
‖∂L/∂h_t‖ = ‖(∂L/∂h_T) (W_hh^{T−t})ᵀ‖: it shrinks or grows like ρ(W_hh)^{T−t}, the spectral
radius to the power of the distance — vanishing below 1, exploding above. Tanh squashes the
product further; the GRU's and LSTM's gates can keep it near 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rnn_tui.probe.cell import (
    DTYPE,
    Cell,
    ProbeError,
    Progress,
    State,
    StepWatch,
    layer_inputs,
    norm_of,
    spectral_radius,
    step,
    unroll,
)
from rnn_tui.probe.factors import Factors, Terms, bptt_factors, step_factors
from rnn_tui.probe.factors import loss_at_T as _loss
from rnn_tui.probe.factors import require_steps as _require
from rnn_tui.train.clipping import grad_clipping


@dataclass(frozen=True)
class GradientFlow:
    """‖∂L_T/∂h_t‖ for t = 1..T (index t − 1), ρ(W_hh), and for a linear cell the closed form."""

    cell: str
    norms: list[float]
    spectral_radius: float
    loss: float
    predicted: list[float] | None = None  # linear cells: ‖(∂L/∂h_T)(W_hh^{T−t})ᵀ‖


def gradient_flow(
    cell: Cell,
    xs: torch.Tensor,
    target: int | None = None,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    what: str = "gradient flow",
) -> GradientFlow:
    """Measure ‖∂L_T/∂h_t‖ by autograd over inputs xs (T, inputs); L_T as in `_loss`.
    `progress` is told how far the pass has come, as `what`: step t of T."""
    _require(xs)
    # Only ∂L/∂h_t is asked for: with the weights as leaves, backward also made every step's
    # H×H weight gradient (at T = 2,000, H = 1,024, gigabytes of temporaries). The inputs take
    # the gradient instead, so that h_1 … h_T are in a graph.
    watch = StepWatch(progress, what, len(xs))
    hs = [s["h"] for s in unroll(cell, xs.detach().clone().requires_grad_(), watch)]
    loss = _loss(cell, hs[-1], target, seed)
    grads = torch.autograd.grad(loss, hs)
    norms = overflowed([norm_of(g) for g in grads])
    predicted = None
    if cell.kind == "linear":
        predicted = linear_norms(grads[-1][0].detach(), cell.W_hh, len(hs))
    flow_loss = float(loss.detach())
    return GradientFlow(cell.kind, norms, spectral_radius(cell.W_hh), flow_loss, predicted)


def flow_of(cell: Cell, factors: Factors) -> GradientFlow:
    """The gradient flow the factors' backward pass took on its way (`gradient_flow`'s)."""
    predicted = None
    if cell.kind == "linear":
        T = len(factors.state_norms)
        predicted = linear_norms(factors.last_state_gradient[0], cell.W_hh, T)
    norms, radius = overflowed(factors.state_norms), spectral_radius(cell.W_hh)
    return GradientFlow(cell.kind, norms, radius, factors.loss, predicted)


def overflowed(norms: list[float]) -> list[float]:
    """`norms` (t = 1..T) with a NaN that follows an overflow, going back in time, as inf:
    past float64 an entry becomes inf and the next product's inf · 0 makes NaNs, so a norm of
    1e310 read as "nan" beside the 1e300 before it."""
    out = list(norms)
    for t in range(len(out) - 2, -1, -1):
        if math.isnan(out[t]) and (math.isinf(out[t + 1]) or out[t + 1] >= 1e300):
            out[t] = math.inf
    return out


def linear_norms(g_T: torch.Tensor, W_hh: torch.Tensor, T: int) -> list[float]:
    """The closed form for a linear cell: g_t = g_T (W_hh^{T−t})ᵀ, i.e. g_{t−1} = g_t W_hhᵀ,
    as norms for t = 1..T."""
    norms, g = [], g_T.detach().to(DTYPE)
    W_t = W_hh.detach().T
    for _ in range(T):
        norms.append(norm_of(g))
        g = g @ W_t
    return overflowed(norms[::-1])


# -- clipping ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clipping:
    """The gradient norm before and after g ← min(1, θ/‖g‖) g, and the cosine between them."""

    theta: float
    before: float
    after: float
    cosine: float


def clipping(
    cell: Cell,
    xs: torch.Tensor,
    theta: float,
    target: int | None = None,
    progress: Progress | None = None,
    factors: Factors | None = None,
) -> Clipping:
    """Clip the cell's full gradient of L_T with the trainer's own grad_clipping. The gradient
    comes from its factors (factors.py; `factors` when already found for these inputs): one
    product per weight instead of a full weight gradient added up at every step."""
    _require(xs)
    if not theta > 0:
        raise ProbeError(f"theta must be above 0, got {theta}")
    if factors is None:
        factors = step_factors(cell, xs, target, StepWatch(progress, "clipping", len(xs)))
    found = factors.gradients()
    params = []
    for family in ("W_x", "W_h", "b", "b_hh"):
        for gate, weight in getattr(cell, family).items():
            # A concise layer's merged bias is torch's b_ih and b_hh, each with this gradient:
            # counted once, the norm was not the one its trainer clipped (2.384 against 2.448).
            twice = family == "b" and cell.two_biases and gate not in cell.b_hh
            for _ in range(2 if twice else 1):
                param = weight.detach().clone()
                param.grad = found[family][gate].reshape(weight.shape).clone()
                params.append(param)
    raw = torch.cat([p.grad.flatten() for p in params]).clone()
    before = float(grad_clipping(params, theta))
    clipped = torch.cat([p.grad.flatten() for p in params])
    if not math.isfinite(before):
        # An overflowed gradient has no direction to keep, nor a norm after: θ/inf scales it
        # to zeros and NaNs, and "after 0.0" read as if clipping had worked.
        return Clipping(theta, before, math.nan, math.nan)
    # Each side as a unit vector: a tiny θ's squares underflow, and "‖g‖ 5.385 → 0" was shown.
    after, length = norm_of(clipped), norm_of(raw)
    cosine = float((raw / length) @ (clipped / after)) if length > 0 and after > 0 else 1.0
    return Clipping(theta, before, after, cosine)


# -- truncation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Truncation:
    """∂L_T/∂W_hh split into its per-step terms (the sum over t above), and the gradient with
    BPTT truncated after τ steps: the terms older than τ are exactly what it drops."""

    tau: int
    term_norms: list[float]  # ‖term t‖ for t = 1..T
    full_norm: float
    truncated_norm: float
    relative_difference: float  # ‖full − truncated‖ / ‖full‖


def bptt_terms(cell: Cell, xs: torch.Tensor, target: int | None = None) -> torch.Tensor:
    """The terms of ∂L_T/∂W_hh, one per step (T, H, H); their sum is the full gradient."""
    return bptt_factors(cell, xs, target).dense()


def _replace(cell: Cell, gate: str, W: torch.Tensor) -> Cell:
    return Cell(
        cell.kind, cell.W_x, {**cell.W_h, gate: W}, cell.b, cell.b_hh, cell.W_hq, cell.b_q,
        cell.embedding, cell.below,
    )  # fmt: skip


def truncated_gradient(
    cell: Cell,
    xs: torch.Tensor,
    tau: int,
    target: int | None = None,
    watch: StepWatch | None = None,
    seed: int = 0,
    start: State | None = None,
):
    """∂L_T/∂W_hh with the state detached τ steps before the end (d2l's truncated BPTT); L_T
    as `_loss` with `seed`. `start`: the state (h, c) after the first T − τ steps when already
    known (factors.py keeps it), else they run here, without a graph."""
    xs = layer_inputs(cell, xs)
    gate = "c" if cell.kind == "lstm" else "h"
    W = cell.W_h[gate].detach().clone().requires_grad_()
    live = _replace(cell, gate, W)
    cut = len(xs) - tau  # the graph before this step is cut
    if start is None:
        h = torch.zeros(1, cell.hidden, dtype=DTYPE)
        c = torch.zeros(1, cell.hidden, dtype=DTYPE) if cell.kind == "lstm" else None
        with torch.no_grad():
            for t, x in enumerate(xs[:cut], 1):
                values = step(cell, x.unsqueeze(0), h, c)
                h, c = values["h"], values.get("c")
                if watch is not None:
                    watch(t, h)
    else:
        h, c = start
    for t, x in enumerate(xs[cut:], cut + 1):
        values = step(live, x.unsqueeze(0), h, c)
        h, c = values["h"], values.get("c")
        if watch is not None:
            watch(t, h)
    _loss(cell, h, target, seed).backward()
    return W.grad if W.grad is not None else torch.zeros_like(W)


def truncation(
    cell: Cell,
    xs: torch.Tensor,
    tau: int,
    target: int | None = None,
    progress: Progress | None = None,
    factors: Factors | None = None,
    seed: int = 0,
) -> Truncation:
    """The per-step terms, and how far truncating after τ steps moves the gradient (L_T as
    `_loss` with `seed`). `factors`: those of these inputs and loss when already found, kept
    with their state τ steps before the end (step_factors's `keep_state_at`)."""
    _require(xs)
    if not 1 <= tau:
        raise ProbeError(f"tau must be at least 1, got {tau}")
    kept = min(tau, len(xs))
    if factors is None:
        watch = StepWatch(progress, "BPTT terms", len(xs))
        factors = step_factors(cell, xs, target, watch, seed, keep_state_at=len(xs) - kept)
    terms = factors.recurrent["c" if cell.kind == "lstm" else "h"]
    full = terms.total()
    watch = StepWatch(progress, f"BPTT truncated after τ = {kept}", len(xs))
    cut = truncated_gradient(cell, xs, kept, target, watch, seed, factors.kept_state)
    norm = float(full.norm())
    # What truncation drops is the older terms' sum (an empty sum when τ ≥ T, so exactly 0):
    # full − cut would leave rounding noise such as "5.29e-14 %" where nothing was dropped.
    dropped = terms.total(0, len(xs) - kept)
    if not math.isfinite(norm):
        difference = math.nan
    else:
        difference = float(dropped.norm()) / norm if norm > 0 else 0.0
    return Truncation(tau, terms.norms(), norm, float(cut.norm()), difference)


# -- connectivity -----------------------------------------------------------------------------


def connectivity(
    cell: Cell, tokens: list[int], position: int, progress: Progress | None = None
) -> list[float]:
    """‖∂ log P(x_{p+1} | x_1..x_p) / ∂ x_s‖ for s = 1..p (p = `position`, 1-based): how much
    each earlier input moves the prediction after x_p (of the next token when there is one,
    else of the most probable). Needs a cell with a read-out (a language model's). `progress`
    is told of each step forward and back (a caller stops a pass it no longer wants by raising
    from it: at 1,000 tokens of a stacked LSTM a pass takes seconds)."""
    if cell.W_hq is None:
        raise ProbeError("connectivity needs a trained language model (a checkpoint)")
    if not 1 <= position <= len(tokens):
        raise ProbeError(f"position must be in [1, {len(tokens)}], got {position}")
    xs = cell.encode(tokens[:position]).requires_grad_()
    h = unroll(cell, xs, StepWatch(progress, "connectivity", position))[-1]["h"]
    log_probs = torch.log_softmax(h @ cell.W_hq + cell.b_q, dim=-1)[0]
    target = tokens[position] if position < len(tokens) else int(log_probs.argmax())
    log_probs[target].backward()
    return [norm_of(g) for g in xs.grad]


def decay_rate(norms: list[float]) -> float | None:
    """The geometric mean factor per step back in time, (‖g_1‖/‖g_T‖)^{1/(T−1)}: below 1 the
    gradient vanishes going back, above 1 it explodes; ρ(W_hh) for a linear cell, whose norms
    follow ρ^{T−t} (d2l §8.7). It is the g_1/g_T shown beside it, per step. Between the first
    and last norms that are positive and finite where some underflowed or overflowed; None
    without two of them."""
    kept = [(t, n) for t, n in enumerate(norms) if n > 0 and math.isfinite(n)]
    if len(kept) < 2:
        return None
    (first_t, first), (last_t, last) = kept[0], kept[-1]
    # In logs: a ratio of 1e-300 to 1e300 overflows as a float.
    return math.exp((math.log(first) - math.log(last)) / (last_t - first_t))


__all__ = [
    "Clipping",
    "GradientFlow",
    "Terms",
    "Truncation",
    "bptt_factors",
    "bptt_terms",
    "clipping",
    "connectivity",
    "decay_rate",
    "flow_of",
    "gradient_flow",
    "linear_norms",
    "truncated_gradient",
    "truncation",
]
