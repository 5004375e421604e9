"""The recurrent product X W of a time loop, for one W that every step of the loop reuses.

A scratch cell's time loop is T small matrix products with the same weight (H_{t-1} W_hh in the
forward pass, G_t W_hhᵀ in backpropagation through time, d2l §8.7). A plain CPU matmul lays W
out for its kernel again on every call; with batch 32 that repacking is a large share of each
product. oneDNN can reorder W once into its own blocked layout ("prepacking", as torch's
compiler does for frozen weights), and each step then only multiplies. On this project's 2-core
machine, in a chain of 35 dependent products (benchmarks/README.md): 32×512 · 512×512 takes
97 µs prepacked against 130 µs, the LSTM's 32×256 · 256×1024 105 µs against 148 µs.

The same products, summed in another order: results agree with torch.mm to float32 rounding
(tests/test_step_matmul.py), not bit for bit. Prepacking is eligible for float32 on a CPU with
oneDNN, outside autocast and torch.compile, when the loop is long enough and the weight large
enough to repay the reordering; everywhere else — a GPU, float64, bf16 autocast, a compiled
forward, one-step generation — the plain product runs, as before.

Whether it pays is a property of the CPU, so it is measured, not assumed (`measured_choice`):
on another 2-core machine (an AMD EPYC with AVX2) the same prepacked loops made the scratch
RNN's forward and backward pass 13–20 % *slower* (26.2–28.1 ms against 23.1–23.7 ms plain)
and its training 14 % slower, the LSTM's no faster. The first training pass of each loop
shape times both ways, alternately, and the faster one runs for the rest of the process; the
run's path notes give the two times. The all-steps weight gradients of a prepacked loop go
through oneDNN as well (`weight_grad`), so the measured choice covers them too. `mul_into` is
the loops' other shared product, element-wise into a slice of a buffer, written so that
torch.compile can trace it.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import torch

from rnn_tui.models import fused_steps

# The reorder costs about one product, so a loop of fewer steps than this keeps the plain one.
MIN_USES = 4
# Below this many weights the choice is not even measured: the plain product. Whether a weight
# this size repays its reorder depends on the CPU, which the measured choice settles: on an
# AVX-512 EPYC the GRU's book size (hidden 256: [W_hz | W_hr] 256 × 512, W_hh 256 × 256) ran its
# recurrence's pass in 11.6 ms prepacked against 12.9 plain.
MIN_WEIGHTS = 64 * 1024


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


@functools.cache
def weight_grads_available() -> bool:
    """Whether this torch build computes a weight's gradient through oneDNN correctly (checked
    once on a small one against torch.mm, like `prepacking_available`)."""
    if not prepacking_available():
        return False
    try:
        gen = torch.Generator().manual_seed(0)
        A, B = torch.randn(6, 4, generator=gen), torch.randn(6, 3, generator=gen)
        grad = _onednn_weight_grad(A, B)
    except (RuntimeError, AttributeError, NotImplementedError):
        return False
    return bool(grad.shape == (4, 3) and torch.allclose(grad, A.T @ B, atol=1e-5))


def _onednn_weight_grad(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    # Aᵀ B as oneDNN's linear Y = X Wᵀ with X = Aᵀ and W = Bᵀ, both passed as transposed views:
    # oneDNN reads the strides, so nothing is copied. (Its linear backward-weights needs both
    # converted to its own tensors first, 120 µs each for a GRU's rows inside the trainer; the
    # trainer's epochs ran 1.3–4.8 % faster without those copies.)
    return torch.ops.mkldnn._linear_pointwise(A.T, B.T, None, "none", [], "")


def weight_grad(A: torch.Tensor, B: torch.Tensor, onednn: bool) -> torch.Tensor:
    """Aᵀ B for A (M, n) and B (M, m), M = all steps' rows: a recurrent weight's
    gradient Σ_t A_tᵀ B_t as one product (d2l §8.7's ∂L/∂W_hh = Σ_t G_tᵀ H_{t-1}, transposed).

    `onednn` (the loop's measured choice, with its prepacked products) takes it through oneDNN:
    on an AVX-512 EPYC, 512×1120 · 1120×512 took 1.37 ms there against 2.72 ms in MKL, whose
    kernels on that CPU run at AVX2 width. The same sum in another order:
    equal to float32 rounding. Elsewhere (a GPU, float64, autocast) the plain product, as before.
    """
    eligible = (
        onednn
        and A.device.type == "cpu"
        and A.dtype == B.dtype == torch.float32
        and not torch.is_autocast_enabled("cpu")
        and not torch.compiler.is_compiling()
        and weight_grads_available()
    )
    if not eligible:
        return A.T @ B
    return _onednn_weight_grad(A, B)  # oneDNN reads strided rows as they are


class StepMatmul:
    """X W for a fixed W (in, out) and many X of `rows` rows: `uses` products are coming.
    `allowed=False` keeps the plain product (the loop's measured choice, `measured_choice`),
    by a row-major copy of W where W is a transposed view (BPTT's W_hᵀ)."""

    def __init__(self, W: torch.Tensor, rows: int, uses: int, allowed: bool = True) -> None:
        self.W = W
        self.packed = None
        if allowed and packs(W.numel(), W.dtype, W.device, uses):
            # oneDNN's linear takes the weight as (out, in), like nn.Linear.
            self.packed = torch.ops.mkldnn._reorder_linear_weight(W.T.contiguous(), rows)
        elif uses >= MIN_USES and W.device.type == "cpu" and not W.is_contiguous():
            # BPTT multiplies by W_hᵀ, a transposed view: measured on a 2-core AMD EPYC, MKL
            # takes it 5–24 % longer a product (32×1024 · 1024×256: 217 against 165 µs) than
            # the same values laid out row by row, and the copy costs about one product.
            self.W = W.contiguous()

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


def mul_into(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """out = a ⊙ b, written into `out` (a scratch cell's BPTT fills slices of one buffer).
    torch.compile cannot trace out= into a strided view and would break its graph at every
    step, so while compiling the product is copied in instead: the same values."""
    if torch.compiler.is_compiling():
        return out.copy_(a * b)
    return torch.mul(a, b, out=out)


# Passes timed each way after one warm-up pass each; the median decides.
TRIAL_ROUNDS = 5
# Fewer once the trial has taken this long: a word model over 147k words passed in 2-3 s
# each way, and its first step took 35 s alone (31 s of it this trial) and 40 s beside the
# app, which showed nothing meanwhile and whose stop waited for it. A pass that long is timed
# well enough once.
TRIAL_BUDGET_S = 2.0


@dataclass(frozen=True)
class Verdict:
    """The measured choice for one loop shape: prepacked or plain, and the median pass times."""

    packed: bool
    packed_ms: float
    plain_ms: float
    trial_s: float  # what measuring cost, at the first training pass
    kept: bool = False  # a resumed run's earlier choice, not measured in this process
    forced: bool = False  # asked for by $RNN_TUI_NATIVE=on, not measured

    def note(self, measured_now: bool = True) -> str:
        """The times behind the choice, for the run's path notes."""
        if self.kept:
            return "as the run's first session measured"
        when = f"at the first step in {self.trial_s:.2f} s" if measured_now else "earlier"
        return (
            f"measured {when}: a pass {self.packed_ms:.1f} ms prepacked, "
            f"{self.plain_ms:.1f} ms plain"
        )


_verdicts: dict[Hashable, Verdict] = {}
_measuring_s = [0.0]  # all trials' time in this process (`measuring_seconds`)


def measuring_seconds() -> float:
    """Seconds this process has spent measuring (a trainer leaves them out of tokens/s)."""
    return _measuring_s[0]


def measured_choice(key: Hashable, trial: Callable[[bool], None]) -> Verdict | None:
    """Whether the loop identified by `key` (its cell and shapes) runs prepacked.

    The first time a key is seen with gradients enabled (a training pass), `trial(packed)` —
    one forward and backward pass of the loop on copies, which must change nothing the run
    keeps — runs both ways: one warm-up each, then TRIAL_ROUNDS alternating rounds, or fewer
    once TRIAL_BUDGET_S have passed (none where the warm-up took that long: it is then the
    measurement); the smaller median wins for the rest of the process. Without gradients
    (evaluation, generation) an unseen key is not measured and gets None: the plain product.
    """
    verdict = _verdicts.get(key)
    if verdict is not None or not torch.is_grad_enabled():
        return verdict
    started, setup = time.perf_counter(), fused_steps.setup_seconds()
    times: dict[bool, list[float]] = {True: [], False: []}
    warm: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(TRIAL_ROUNDS + 1):
        for packed in (True, False):
            t0, s0 = time.perf_counter(), fused_steps.setup_seconds()
            trial(packed)
            # Round 0 warms both up (allocations, first reorders); setting the C loops up
            # (a build, the load check) is not the pass's own time.
            taken = time.perf_counter() - t0 - (fused_steps.setup_seconds() - s0)
            (times if round_ else warm)[packed].append(taken)
        spent = time.perf_counter() - started - (fused_steps.setup_seconds() - setup)
        if spent >= TRIAL_BUDGET_S:
            times = times if round_ else warm  # passes this long: the warm-up decides
            break
    packed_s, plain_s = statistics.median(times[True]), statistics.median(times[False])
    verdict = Verdict(
        packed=packed_s < plain_s,
        packed_ms=packed_s * 1e3,
        plain_ms=plain_s * 1e3,
        # A first pass that sets the C loops up (a build, the load check: seconds) does so in
        # the warm-up round. The run leaves that out of tokens/s as the loops' setup already;
        # counted here too, it was left out twice and a short first epoch read 0 tokens/s.
        trial_s=time.perf_counter() - started - (fused_steps.setup_seconds() - setup),
    )
    _verdicts[key] = verdict
    _measuring_s[0] += verdict.trial_s
    return verdict


def untimed_choice(key: Hashable) -> Verdict | None:
    """`measured_choice` without the trial, for a way asked for outright ($RNN_TUI_NATIVE=on):
    the first training pass of `key` settles it as chosen, and evaluation still meets None
    for a key no training pass has seen."""
    verdict = _verdicts.get(key)
    if verdict is None and torch.is_grad_enabled():
        verdict = _verdicts[key] = Verdict(True, 0.0, 0.0, 0.0, forced=True)
    return verdict


def choose_prepacking(
    key: Hashable,
    function: type[torch.autograd.Function],
    args: tuple,
    eligible: bool,
    preset: bool | None = None,
) -> Verdict | None:
    """The measured choice for a recurrence `function.apply(*args, packed)` (a scratch cell's
    autograd Function, whose last argument says whether its loops may prepack); None where
    prepacking is not eligible (`packs`) or not measured. A `preset` (a resumed run's earlier
    choice) is kept without measuring."""
    return choose_measured(key, function.apply, args, eligible, preset)


def choose_measured(
    key: Hashable,
    apply: Callable[..., torch.Tensor | tuple],
    args: tuple,
    eligible: bool,
    preset: bool | None = None,
) -> Verdict | None:
    """The measured choice between two ways of one recurrence, `apply(*args, True)` and
    `apply(*args, False)` (the same values either way); None where not eligible or not
    measured, `preset` kept where given. The trial runs on detached copies of `args` with the
    same requires_grad, and a constant incoming gradient: it updates nothing, accumulates no
    parameter gradient and draws no random numbers."""
    if not eligible:
        return None
    if preset is not None:
        return Verdict(packed=preset, packed_ms=0.0, plain_ms=0.0, trial_s=0.0, kept=True)

    def trial(chosen: bool) -> None:
        leaves = [
            a.detach().requires_grad_(a.requires_grad) if isinstance(a, torch.Tensor) else a
            for a in args
        ]
        with torch.enable_grad():
            outputs = apply(*leaves, chosen)
            outputs = outputs if isinstance(outputs, tuple) else (outputs,)
            outputs = [o for o in outputs if o.requires_grad]
            if outputs:
                torch.autograd.backward(outputs, [torch.full_like(o, 1e-4) for o in outputs])

    return measured_choice(key, trial)


__all__ = [
    "MIN_USES",
    "MIN_WEIGHTS",
    "TRIAL_BUDGET_S",
    "TRIAL_ROUNDS",
    "StepMatmul",
    "Verdict",
    "choose_measured",
    "choose_prepacking",
    "measured_choice",
    "measuring_seconds",
    "mul_into",
    "packs",
    "prepacking_available",
    "untimed_choice",
    "weight_grad",
    "weight_grads_available",
]
