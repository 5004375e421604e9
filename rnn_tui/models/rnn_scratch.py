"""The seeds' RNN from scratch ("循环神经网络的从零开始实现"; d2l §8.5).

    H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)
    O_t = H_t W_hq + b_q

X_t is the one-hot row of token x_t. On a CPU where prepacked products measured faster at the
first training pass (`choose_prepacking`), for a vocabulary of characters (V ≤ h / 5), the
step is the seeds' concatenated product [H_{t-1}, X_t] [W_hh; W_xh] + b_h (d2l §8.4),
prepacked, with tanh applied as oneDNN writes it; elsewhere X_t W_xh + b_h is row x_t of
W_xh + b_h (a one-hot row sums to 1), gathered for all steps before the time loop
(`F.embedding(X, W_xh + b_h)`, equal to `one_hot(X) @ W_xh + b_h`), and only H_{t-1} W_hh is
computed step by step. The output layer is one matmul over all steps after the loop.
Backpropagation through time is written out (`TanhRecurrence`), so that the T per-step
gradients of W_hh become one matmul. Where the first training pass measures it faster, the
whole pass runs as `ChainedRNN` instead: each time loop (forward, BPTT) one C call, products,
input rows, tanh and the logits included, the output layer's gradient folded into BPTT's
products and ∂L/∂W_hq into ∂L/∂W_hh's (`recurrent_chain`: at hidden 512, a pass 13.9 ms
against 20.0 ms in torch).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from rnn_tui.models import recurrent_chain
from rnn_tui.models.activations import tanh_
from rnn_tui.models.base import LanguageModel, State, autocast_args
from rnn_tui.models.step_matmul import StepMatmul, packs, weight_grad

_tanh_backward = torch.ops.aten.tanh_backward
_linear_pointwise = torch.ops.mkldnn._linear_pointwise
_embedding_backward = torch.ops.aten.embedding_dense_backward
CONCAT_RATIO = 5  # the concatenated product while 5·V ≤ h (`_concatenates`)


def normal(*shape: int) -> nn.Parameter:
    """A weight drawn from N(0, 0.01²), as the seeds' `get_params` initialises every matrix."""
    return nn.Parameter(torch.randn(shape) * 0.01)


def zeros(*shape: int) -> nn.Parameter:
    """A bias initialised to zero, as in the seeds' `get_params`."""
    return nn.Parameter(torch.zeros(shape))


class TanhRecurrence(torch.autograd.Function):
    """H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h) for t = 1..T, X given as token ids (T, B).

    Forward, where the recurrent product is prepacked and V is small (`_concatenates`): the
    seeds' own concatenation (d2l §8.4: X_t W_xh + H_{t-1} W_hh = [H_{t-1}, X_t] [W_hh; W_xh]),
    one product per step with the bias and tanh applied by oneDNN as it writes the result, so no
    separate pass over H_t adds X_t W_xh + b_h or takes the tanh. Elsewhere (word vocabularies,
    a GPU, float64, autocast): X_t W_xh + b_h is one row gather for all steps, and each step
    adds H_{t-1} W_hh in place (W_hh prepacked where `StepMatmul` packs it).

    Backward is the seeds' backpropagation through time ("通过时间反向传播", d2l §8.7), with
    G_t = ∂L/∂(X_t W_xh + H_{t-1} W_hh + b_h):
        ∂L/∂H_t = (gradient from O_t) + G_{t+1} W_hhᵀ,   G_t = ∂L/∂H_t ⊙ (1 − H_t²)
        ∂L/∂H_0 = G_1 W_hhᵀ,   ∂L/∂W_hh = Σ_t H_{t-1}ᵀ G_t,
        ∂L/∂W_xh = Σ_t X_tᵀ G_t (row x_t of it gets G_t's row),   ∂L/∂b_h = Σ_t Σ_rows G_t
    Autograd would compute and add up H_{t-1}ᵀ G_t step by step (T thin matmuls and T additions
    of an h × h matrix); the sum is one matmul over all steps here. Same values, less time.
    The T products with W_hhᵀ reuse one weight: `StepMatmul` prepacks it.
    """

    @staticmethod
    def forward(ctx, X, H0, W_hh, W_xh, b_h, prepack):
        """`prepack=False` keeps every product plain (the loop's measured choice)."""
        T, B = X.shape
        # S holds H_0..H_T (T + 1, B, h), so that BPTT's ∂L/∂W_hh is one product over its
        # first T rows, H_0's term included.
        if prepack and _concatenates(W_hh, W_xh, T):
            S = _concat_steps(X, H0, W_hh, W_xh, b_h)
        else:
            # Input terms gathered once, then each step adds H_{t-1} W_hh in place: addmm with
            # out= would copy the input term into the output before every product.
            S = W_hh.new_empty(T + 1, B, W_hh.shape[0])
            S[0] = H0
            gather_into(S[1:], W_xh + b_h, X)
            W = StepMatmul(W_hh, B, T, prepack)
            H = H0
            for H_t in S[1:].unbind(0):
                H = tanh_(W.add_to(H_t, H))
        ctx.save_for_backward(X, W_hh, S)
        ctx.vocab_size = W_xh.shape[0]
        ctx.prepack = prepack
        return S[1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, dHs: torch.Tensor):
        X, W_hh, S = ctx.saved_tensors
        Hs = S[1:]
        T, B = Hs.shape[:2]
        n = Hs.shape[-1]
        G, W_T = _bptt(dHs, Hs, W_hh, ctx.prepack)
        dH0 = W_T(G[0]) if ctx.needs_input_grad[1] else None
        rows = G.view(-1, n)
        dW_hh = dW_xh = db_h = None
        if ctx.needs_input_grad[2]:
            dW_hh = weight_grad(S[:-1].reshape(-1, n), rows, ctx.prepack)
        if ctx.needs_input_grad[3]:
            # What autograd ran for the gather before (deterministic on a GPU, unlike index_add_).
            dW_xh = _embedding_backward(rows, X.reshape(-1), ctx.vocab_size, -1, False)
        if ctx.needs_input_grad[4]:
            db_h = rows.sum(0)
        return None, dH0, dW_hh, dW_xh, db_h, None


class ChainedRNN(torch.autograd.Function):
    """The whole pass, states and outputs, with each time loop one C call (recurrent_chain):

        H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h),   O_t = H_t W_hq + b_q

    The forward's chain forms O_{t-1} at step t, from the states finished the step before,
    written batch-major as the loss reads them.
    Its BPTT (d2l §8.7) takes the output layer's gradient inside each step's product, since
    ∂L/∂H_t = ∂L/∂O_t W_hqᵀ + G_{t+1} W_hhᵀ = [G_{t+1}, ∂L/∂O_t] [W_hhᵀ; W_hqᵀ], and both weight
    gradients are one product over all steps, rows Z_t = [G_{t+1}, ∂L/∂O_t] for t = 0..T
    (G_{T+1} = 0, ∂L/∂O_0 = 0):

        [∂L/∂W_hh | ∂L/∂W_hq] = Σ_t H_tᵀ Z_t

    (formed as two products, each over the steps whose rows are not zeros). ∂L/∂W_xh (row x_t
    gets G_t) and ∂L/∂b_h = Σ G_t are summed by the chain's call. At hidden
    512 that saves the output layer's three thin products (K or N = V), two passes over G, a
    read of ∂L/∂H_t and the logits' transposition. Returns the logits (B, T, V) and H_T."""

    @staticmethod
    def forward(ctx, X, H0, W_hh, W_xh, b_h, W_hq, b_q, lib):
        T, B = X.shape
        n = W_hh.shape[0]
        S = W_hh.new_empty(T + 1, B, n)
        S[0] = H0
        # The logits, batch-major as the loss reads them, formed by the chain step by step.
        # (Copied, never a view: at B = T = 1 `contiguous()` would hand back b_q itself.)
        logits = b_q.expand(B, T, W_hq.shape[1]).clone(memory_format=torch.contiguous_format)
        recurrent_chain.forward(lib, S, W_hh, X, W_xh + b_h, W_hq, logits)
        ctx.save_for_backward(X, W_hh, W_hq, S)
        ctx.vocab_size, ctx.lib = W_xh.shape[0], lib
        ctx.set_materialize_grads(False)
        return logits, S[-1]

    @staticmethod
    @once_differentiable
    def backward(ctx, dO, dH_T):
        X, W_hh, W_hq, S = ctx.saved_tensors
        T, B = X.shape
        n, V = W_hq.shape
        Z = S.new_empty(T + 1, B, n + V)
        if dO is None:
            Z[1:, :, n:] = 0
        else:
            Z[1:, :, n:] = dO.transpose(0, 1)
        E = None
        if dH_T is not None:  # the final state's own gradient, where a loss reads it
            E = S.new_zeros(T, B, n)
            E[-1] = dH_T
        dW_xh, db_h = W_hh.new_zeros(ctx.vocab_size, n), W_hh.new_zeros(n)
        recurrent_chain.backward(ctx.lib, Z, S[1:], (W_hh.T, W_hq.T), X, dW_xh, db_h, E)
        # Two products, not one sliced: each gradient comes out contiguous, as autograd keeps
        # it without a copy (hidden 512: 2.33 against 2.63 ms with the slices' copies). Each
        # over the T steps whose rows are not zeros: H_0..H_{T-1} with G_1..G_T, H_1..H_T with
        # ∂L/∂O_1..T. The thin one, V columns, as its transpose: 0.23 against 0.37 ms, the copy
        # included.
        rows = Z.view(-1, n + V)
        dW_hh = S[:T].view(-1, n).T @ rows[: T * B, :n]
        dW_hq = (rows[B:, n:].T @ S[1:].view(-1, n)).T.contiguous()
        dH0 = Z[0, :, :n] @ W_hh.T if ctx.needs_input_grad[1] else None
        db_q = None if dO is None else dO.sum((0, 1))
        return None, dH0, dW_hh, dW_xh, db_h, dW_hq, db_q, None


def rnn_pass(X, H0, W_hh, W_xh, b_h, W_hq, b_q, chain: bool, prepack: bool):
    """The logits (B, T, V) and H_T of a pass over X (T, B): in the C chains where `chain` and
    eligible (ChainedRNN), else TanhRecurrence and one output product over all steps."""
    lib = recurrent_chain.library(W_hh, X.shape[0]) if chain else None
    if lib is not None:
        return ChainedRNN.apply(X, H0, W_hh, W_xh, b_h, W_hq, b_q, lib)
    Hs = TanhRecurrence.apply(X, H0, W_hh, W_xh, b_h, prepack)
    return (Hs @ W_hq + b_q).transpose(0, 1).contiguous(), Hs[-1]


def _bptt(dHs: torch.Tensor, Hs: torch.Tensor, W_hh: torch.Tensor, prepack: bool):
    """G_t for t = T..1 with torch's kernels: 1 − H_t² for all steps in one kernel, then per
    step one product added in place and one multiplication,
    G_t = (∂L/∂H_t from O_t + G_{t+1} W_hhᵀ) ⊙ (1 − H_t²). Returns G and the product by W_hhᵀ."""
    T, B = Hs.shape[:2]
    W_T = StepMatmul(W_hh.T, B, T, prepack)
    D = _tanh_backward(torch.ones((), dtype=Hs.dtype, device=Hs.device).expand_as(Hs), Hs)
    G = dHs.clone(memory_format=torch.contiguous_format)
    Gs, Ds = G.unbind(0), D.unbind(0)
    Gs[-1].mul_(Ds[-1])
    for t in range(T - 1, 0, -1):
        W_T.add_to(Gs[t - 1], Gs[t]).mul_(Ds[t - 1])
    return G, W_T


def gather_into(out: torch.Tensor, table: torch.Tensor, X: torch.Tensor) -> None:
    """out[t, b] = table[X[t, b]], written into `out`: a scratch cell's input terms X_t W_x + b
    for all steps (F.embedding without a buffer of its own, so that the time loop adds its
    products into them in place without first copying a whole (T, B, ·) buffer). torch.compile
    cannot trace out= into a view: there, the gathered rows are copied in."""
    if torch.compiler.is_compiling():
        out.copy_(F.embedding(X, table))
    else:
        torch.index_select(table, 0, X.reshape(-1), out=out.view(-1, table.shape[1]))


def _concatenates(W_hh: torch.Tensor, W_xh: torch.Tensor, steps: int) -> bool:
    """Whether the forward runs as the concatenated product: where W_hh is prepacked and the
    one-hot part of a row is at most a fifth of it. The product's cost grows with h + V, the
    gather's does not: measured per training step at hidden 512, the concatenation wins by 4–10 %
    up to V ≈ 100 (characters) and loses from V ≈ 128 (22 % at 1,500, 14 % at 4,580: words);
    at hidden 1024 it wins to V = 128 and loses at 256."""
    h, V = W_hh.shape[0], W_xh.shape[0]
    return V * CONCAT_RATIO <= h and packs(W_hh.numel(), W_hh.dtype, W_hh.device, steps)


def _concat_steps(X, H0, W_hh, W_xh, b_h) -> torch.Tensor:
    """All H_t by the concatenated product (TanhRecurrence's forward, prepacked): row t of a
    buffer holds [H_{t-1}, one_hot(x_t)]; step t writes H_t into row t + 1. Returns H_0..H_T
    as a view (T + 1, B, h) of the buffer."""
    T, B = X.shape
    h, V = W_hh.shape[0], W_xh.shape[0]
    Z = W_hh.new_empty(T + 1, B, h + V)
    # Only the one-hot part needs zeros (the steps write every H_t): zeroing all of it was
    # 0.45 ms of a 9 ms training step at hidden 512.
    Z[..., h:].zero_()
    Z[:T, :, h:].scatter_(2, X.unsqueeze(-1), 1.0)
    Z[0, :, :h] = H0
    # oneDNN's linear takes the weight as (out, in): [W_hh; W_xh]ᵀ = [W_hhᵀ, W_xhᵀ], reordered
    # once a forward pass.
    packed = torch.ops.mkldnn._reorder_linear_weight(torch.cat((W_hh.T, W_xh.T), 1), B)
    rows, states = Z.unbind(0), Z[..., :h].unbind(0)
    for t in range(T):
        states[t + 1].copy_(_linear_pointwise(rows[t], packed, b_h, "tanh", [], ""))
    return Z[..., :h]


class RNNScratch(LanguageModel):
    """Single-layer RNN with one-hot inputs and the seeds' parameters W_xh, W_hh, b_h, W_hq, b_q."""

    model_name = "rnn-scratch"

    def __init__(self, vocab_size: int, num_hiddens: int) -> None:
        super().__init__()
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        V, H = vocab_size, num_hiddens
        self.W_xh, self.W_hh, self.b_h = normal(V, H), normal(H, H), zeros(H)
        self.W_hq, self.b_q = normal(H, V), zeros(V)

    def begin_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """H_0 = 0, shaped (1, B, hidden) like a one-layer nn.RNN state."""
        return torch.zeros(1, batch_size, self.num_hiddens, device=device, dtype=self._dtype())

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h), O_t = H_t W_hq + b_q for t = 1..T."""
        if state is None:
            state = self.begin_state(X.shape[0], X.device)
        # Time-major (T, B, hidden): each step reads and writes one slice.
        args = autocast_args((X.T, state[0], self.W_hh, self.W_xh, self.b_h))
        T, B = X.shape[1], X.shape[0]
        # Prepacking is measured with torch's loops, then the C chains against the winner.
        packed = self._prepacking(TanhRecurrence, args, self.W_hh, T, B)
        outputs = autocast_args((self.W_hq, self.b_q))
        chained = self._chaining(rnn_pass, (*args, *outputs), self.W_hh, packed, T, B)
        logits, H_T = rnn_pass(*args, *outputs, chained, packed)
        return logits, H_T.unsqueeze(0)

    def prepacked_weights(self, num_steps: int) -> list[str]:
        W = self.W_hh
        verdict = self.prepack_verdict
        if verdict is None or not verdict.packed:
            return []
        if not packs(W.numel(), W.dtype, W.device, num_steps):
            return []
        if not _concatenates(W, self.W_xh, num_steps):
            return ["W_hh", "W_hhᵀ"]
        return ["[W_hh; W_xh] with b_h and tanh fused", "W_hhᵀ"]

    def config(self) -> dict:
        return scratch_config(self)


def scratch_config(model: LanguageModel) -> dict:
    """The registry config of a scratch model: one layer, one direction, one-hot, no dropout."""
    return {
        "model": model.model_name,
        "vocab_size": model.vocab_size,
        "hidden": model.num_hiddens,
        "layers": 1,
        "dropout": 0.0,
        "bidirectional": False,
        "embed": 0,
    }
