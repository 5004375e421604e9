"""The seeds' RNN from scratch ("循环神经网络的从零开始实现"; d2l §8.5).

    H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)
    O_t = H_t W_hq + b_q

X_t is the one-hot row of token x_t, so X_t W_xh + b_h is row x_t of W_xh + b_h (a one-hot row
sums to 1): the input term of every time step is one row gather (`F.embedding(X, W_xh + b_h)`,
equal to `one_hot(X) @ W_xh + b_h`), done before the time loop; only H_{t-1} W_hh has to be
computed step by step. The output layer is one
matmul over all steps after the loop. Backpropagation through time is written out
(`TanhRecurrence`), so that the T per-step gradients of W_hh become one matmul.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from rnn_tui.models.base import LanguageModel, State
from rnn_tui.models.step_matmul import StepMatmul, packs

_tanh_backward = torch.ops.aten.tanh_backward


def normal(*shape: int) -> nn.Parameter:
    """A weight drawn from N(0, 0.01²), as the seeds' `get_params` initialises every matrix."""
    return nn.Parameter(torch.randn(shape) * 0.01)


def zeros(*shape: int) -> nn.Parameter:
    """A bias initialised to zero, as in the seeds' `get_params`."""
    return nn.Parameter(torch.zeros(shape))


class TanhRecurrence(torch.autograd.Function):
    """H_t = tanh(A_t + H_{t-1} W_hh) for t = 1..T, with A_t = X_t W_xh + b_h given (T, B, h).

    Backward is the seeds' backpropagation through time ("通过时间反向传播", d2l §8.7), with
    G_t = ∂L/∂(A_t + H_{t-1} W_hh):
        ∂L/∂H_t = (gradient from O_t) + G_{t+1} W_hhᵀ,   G_t = ∂L/∂H_t ⊙ (1 − H_t²)
        ∂L/∂A_t = G_t,   ∂L/∂H_0 = G_1 W_hhᵀ,   ∂L/∂W_hh = Σ_t H_{t-1}ᵀ G_t
    Autograd would compute and add up H_{t-1}ᵀ G_t step by step (T thin matmuls and T additions
    of an h × h matrix); the sum is one matmul over all steps here. Same values, less time.
    The T products with W_hh (and the T with W_hhᵀ) reuse one weight: `StepMatmul` prepacks it.
    """

    @staticmethod
    def forward(ctx, A: torch.Tensor, H0: torch.Tensor, W_hh: torch.Tensor) -> torch.Tensor:
        T, B = A.shape[:2]
        # A copied once, then each step adds H_{t-1} W_hh in place: addmm with out= would copy
        # A_t into the output before every product.
        Hs = A.clone()
        W = StepMatmul(W_hh, B, T)
        H = H0
        for H_t in Hs.unbind(0):
            H = W.add_to(H_t, H).tanh_()
        ctx.save_for_backward(H0, W_hh, Hs)
        return Hs

    @staticmethod
    @once_differentiable
    def backward(ctx, dHs: torch.Tensor):
        H0, W_hh, Hs = ctx.saved_tensors
        T, B = Hs.shape[:2]
        W_T = StepMatmul(W_hh.T, B, T)
        # 1 − H_t² for all steps in one kernel; then per step one product added in place and
        # one multiplication: G_t = (∂L/∂H_t from O_t + G_{t+1} W_hhᵀ) ⊙ (1 − H_t²).
        D = _tanh_backward(torch.ones((), dtype=Hs.dtype, device=Hs.device).expand_as(Hs), Hs)
        G = dHs.clone(memory_format=torch.contiguous_format)
        Gs, Ds = G.unbind(0), D.unbind(0)
        Gs[-1].mul_(Ds[-1])
        for t in range(T - 1, 0, -1):
            W_T.add_to(Gs[t - 1], Gs[t]).mul_(Ds[t - 1])
        dH0 = W_T(G[0]) if ctx.needs_input_grad[1] else None
        dW_hh = None
        if ctx.needs_input_grad[2]:
            n = Hs.shape[-1]
            dW_hh = torch.addmm(H0.T @ G[0], Hs[:-1].reshape(-1, n).T, G[1:].reshape(-1, n))
        return G, dH0, dW_hh


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
        # Time-major (T, B, hidden): each step reads and writes a contiguous slice.
        A = F.embedding(X.T, self.W_xh + self.b_h)
        Hs = TanhRecurrence.apply(A, state[0], self.W_hh)
        logits = (Hs @ self.W_hq + self.b_q).transpose(0, 1).contiguous()
        return logits, Hs[-1].unsqueeze(0)

    def prepacked_weights(self, num_steps: int) -> list[str]:
        W = self.W_hh
        return ["W_hh"] if packs(W.numel(), W.dtype, W.device, num_steps) else []

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
