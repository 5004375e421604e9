"""The seeds' long short-term memory from scratch ("长短期记忆网络 LSTM"; d2l §9.2).

    I_t = σ(X_t W_xi + H_{t-1} W_hi + b_i)                 input gate
    F_t = σ(X_t W_xf + H_{t-1} W_hf + b_f)                 forget gate
    O_t = σ(X_t W_xo + H_{t-1} W_ho + b_o)                 output gate
    C̃_t = tanh(X_t W_xc + H_{t-1} W_hc + b_c)              candidate memory cell
    C_t = F_t ⊙ C_{t-1} + I_t ⊙ C̃_t
    H_t = O_t ⊙ tanh(C_t)
    Y_t = H_t W_hq + b_q

X_t is one-hot, so X_t [W_xo | W_xi | W_xf | W_xc] + [b_o | b_i | b_f | b_c] is a row of the sum
(a one-hot row sums to 1), gathered for all steps before the time loop; the four H_{t-1} W_h*
products are one matmul with [W_ho | W_hi | W_hf | W_hc]. Per step that leaves one recurrent
matmul (through `StepMatmul`, which can prepack W_h: 105 µs a step instead of 148 µs on one
CPU, no faster on another, so the first training pass measures both, `choose_prepacking`) and
the element-wise work: one C loop where `fused_steps` has them, else a few torch kernels. Where
the first training pass measures it faster, each time loop is instead one C call a pass,
products included (`recurrent_chain`: on this project's 2-core CPU, about 30 % more tokens/s).
Backpropagation through time is written out (`LSTMRecurrence`): the per-step weight gradients
become one matmul over all steps, and the element-wise factors are computed for all steps at
once (torch's kernels) or as the loop goes (the C loop).
The named parameters are the seeds'; the concatenations are rebuilt on every forward call (cheap
next to T steps), so gradients reach each named parameter.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from rnn_tui.models import recurrent_chain
from rnn_tui.models.activations import tanh_, tanh_into
from rnn_tui.models.base import LanguageModel, State, autocast_args
from rnn_tui.models.fused_steps import loops_for
from rnn_tui.models.rnn_scratch import gather_into, normal, scratch_config, zeros
from rnn_tui.models.step_matmul import StepMatmul, mul_into, packs, weight_grad

_sigmoid_backward = torch.ops.aten.sigmoid_backward
_tanh_backward = torch.ops.aten.tanh_backward
_embedding_backward = torch.ops.aten.embedding_dense_backward


class LSTMRecurrence(torch.autograd.Function):
    """The LSTM equations for t = 1..T given the token ids X (T, B), the input table
    U = W_x + b (V, 4h, gates ordered O, I, F, C̃), whose row x_t is A_t = X_t W_x + b, H_0, C_0
    and W_h (h, 4h); returns all H_t (T, B, h) and C_T. X None: U holds every step's A_t itself,
    (T·B, 4h), row t·B + b for step t's row b (a layer that reads the states of one below).

    Backward is the seeds' BPTT through the cell (d2l §8.7 applied to §9.2), with
    dH_t = (from O_t) + dA_{t+1} W_hᵀ and dC_t = dH_t ⊙ O_t ⊙ (1 − tanh²C_t) + dC_{t+1} ⊙ F_{t+1}:
        dA_t[O] = dH_t ⊙ tanh C_t ⊙ O_t(1 − O_t)      dA_t[I] = dC_t ⊙ C̃_t ⊙ I_t(1 − I_t)
        dA_t[F] = dC_t ⊙ C_{t-1} ⊙ F_t(1 − F_t)       dA_t[C̃] = dC_t ⊙ I_t ⊙ (1 − C̃_t²)
        ∂L/∂W_h = Σ_t H_{t-1}ᵀ dA_t  (one matmul),   ∂L/∂H_0 = dA_1 W_hᵀ,   ∂L/∂C_0 = dC_1 ⊙ F_1
        ∂L/∂U[v] = Σ_{t,b: x = v} dA_t[b]
    """

    @staticmethod
    def forward(ctx, X, U, H0, C0, W_h, chain, prepack):
        """`chain=True` runs both time loops as one C call each (recurrent_chain); `prepack=False`
        keeps every product plain (the loops' measured choices)."""
        B = H0.shape[0]
        T = X.shape[0] if X is not None else U.shape[0] // B
        n4 = U.shape[1]
        n = n4 // 4
        gates = U.new_empty(T, B, n4)  # activated in place: σ(O, I, F), tanh(C̃)
        Hs = U.new_empty(T + 1, B, n)  # H_0..H_T: H_{t-1} for every step is Hs[:-1]
        Cs = U.new_empty(T + 1, B, n)
        tanh_C = U.new_empty(T, B, n)
        Hs[0], Cs[0] = H0, C0
        ctx.lib = recurrent_chain.library(W_h, T) if chain else None
        ctx.save_for_backward(X, W_h)
        ctx.saved = (gates, Hs, Cs, tanh_C)
        ctx.prepack = prepack
        ctx.vocab_size = U.shape[0]
        if ctx.lib is not None:
            ids = X if X is not None else torch.arange(T * B, device=U.device).view(T, B)
            recurrent_chain.lstm_forward(ctx.lib, gates, Hs, Cs, tanh_C, W_h, ids, U.contiguous())
            ctx.loops = None
            return Hs[1:], Cs[T].clone()
        # A gathered into the loop's buffer, then each step adds H_{t-1} W_h in place: addmm
        # with out= would copy A_t into the output before every product.
        if X is None:
            gates.view(-1, n4).copy_(U)
        else:
            gather_into(gates, U, X)
        W = StepMatmul(W_h, B, T, prepack)
        # Every step's slices made at once (unbind), not by indexing inside the loop.
        O, I, Fg, Ct = (gates[..., k * n : (k + 1) * n].unbind(0) for k in range(4))  # noqa: E741
        steps = zip(
            gates.unbind(0),
            gates[..., : 3 * n].unbind(0),
            O,
            I,
            Fg,
            Ct,
            Hs[:-1].unbind(0),
            Hs[1:].unbind(0),
            Cs[:-1].unbind(0),
            Cs[1:].unbind(0),
            tanh_C.unbind(0),
            strict=True,
        )
        loops = loops_for(gates)
        if loops is None:
            for g, oif, o, i, f, c_tilde, H, H_next, C_prev, C, tanh_c in steps:
                W.add_to(g, H)
                oif.sigmoid_()
                tanh_(c_tilde)
                torch.mul(f, C_prev, out=C).addcmul_(i, c_tilde)
                torch.mul(o, tanh_into(tanh_c, C), out=H_next)
        else:  # the step's element-wise work one C loop (fused_steps)
            for g, _, _, _, _, _, H, H_next, C_prev, C, tanh_c in steps:
                W.add_to(g, H)
                ptrs = (C_prev, C, tanh_c, H_next)
                loops.lstm_fwd(g.data_ptr(), *(x.data_ptr() for x in ptrs), B, n)
        ctx.loops = loops
        return Hs[1:], Cs[T].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, dHs, dC_T):
        X, W_h = ctx.saved_tensors
        gates, Hs, Cs, tanh_C = ctx.saved
        T, B, n4 = gates.shape
        n = n4 // 4
        dH = dHs.new_empty(T + 1, B, n)  # dH[t + 1] = ∂L/∂H_t, dH[0] = ∂L/∂H_0
        dH[0].zero_()
        dH[1:] = dHs
        dA = torch.empty_like(gates)
        dC = dC_T.clone(memory_format=torch.contiguous_format)
        if ctx.lib is not None:
            recurrent_chain.lstm_backward(ctx.lib, dH, dC, dA, gates, Cs, tanh_C, W_h)
        elif ctx.loops is None:
            _bptt(dH, dC, dA, gates, Cs, tanh_C, StepMatmul(W_h.T, B, T, ctx.prepack))
        else:
            W_h_T = StepMatmul(W_h.T, B, T, ctx.prepack)
            _fused_bptt(ctx.loops, dH, dC, dA, gates, Cs, tanh_C, W_h_T)
        rows = Hs[:-1].reshape(-1, n), dA.reshape(-1, n4)
        # What autograd ran for F.embedding's gather (deterministic on a GPU); rows in token
        # order are their own gradient, without the scatter (1.9 ms of a 28 ms 2-layer step).
        dU = None
        if ctx.needs_input_grad[1]:
            if X is None:
                dU = rows[1]
            else:
                dU = _embedding_backward(rows[1], X.reshape(-1), ctx.vocab_size, -1, False)
        dW_h = weight_grad(*rows, ctx.prepack) if ctx.needs_input_grad[4] else None
        return None, dU, dH[0], dC, dW_h, None, None


def _bptt(dH, dC, dA, gates, Cs, tanh_C, W_h_T) -> None:
    """LSTMRecurrence's time loop backwards with torch's kernels: dA, dH and dC filled in."""
    T, B, n4 = gates.shape
    n = n4 // 4
    O, I, Fg, Ct = (gates[..., k * n : (k + 1) * n] for k in range(4))  # noqa: E741
    # The factors that do not depend on the incoming gradient, for all steps at once
    # (sigmoid_backward(g, y) = g ⊙ y(1 − y), tanh_backward(g, y) = g ⊙ (1 − y²): one kernel
    # each, no temporaries).
    d_out = _sigmoid_backward(tanh_C, O)  # dA[O] = dH ⊙ d_out
    d_cell = _tanh_backward(O, tanh_C)  # dC += dH ⊙ d_cell
    d_ifc = gates.new_empty(T, B, 3, n)
    factors = (
        (_sigmoid_backward, Ct, I),
        (_sigmoid_backward, Cs[:-1], Fg),
        (_tanh_backward, I, Ct),
    )
    for k, (factor, g, y) in enumerate(factors):
        if torch.compiler.is_compiling():  # no out= into a strided view (`mul_into`)
            d_ifc[:, :, k].copy_(factor(g, y))
        else:
            factor(g, y, grad_input=d_ifc[:, :, k])
    dC_3 = dC.unsqueeze(1)  # a view: dC broadcast over the I, F, C̃ factors
    steps = zip(
        dH[1:].unbind(0),
        dH[:-1].unbind(0),
        d_out.unbind(0),
        d_cell.unbind(0),
        d_ifc.unbind(0),
        Fg.unbind(0),
        dA.unbind(0),
        dA[..., :n].unbind(0),
        dA[..., n:].view(T, B, 3, n).unbind(0),
        strict=True,
    )
    for dH_t, prev, d_o, d_c, d_3, f, da, da_o, da_ifc in reversed(list(steps)):
        mul_into(da_o, dH_t, d_o)
        dC.addcmul_(dH_t, d_c)
        mul_into(da_ifc, dC_3, d_3)
        dC.mul_(f)
        W_h_T.add_to(prev, da)


def _fused_bptt(loops, dH, dC, dA, gates, Cs, tanh_C, W_h_T) -> None:
    """The same loop with each step's element-wise work one C loop (fused_steps), which
    computes the factors of σ' and tanh' as it goes."""
    B, n = tanh_C.shape[1:]
    steps = zip(
        dH[1:].unbind(0),
        dH[:-1].unbind(0),
        gates.unbind(0),
        Cs[:-1].unbind(0),
        tanh_C.unbind(0),
        dA.unbind(0),
        strict=True,
    )
    c = dC.data_ptr()
    for dH_t, prev, g, C_prev, tanh_c, da in reversed(list(steps)):
        ptrs = (dH_t, g, C_prev, tanh_c)
        loops.lstm_bwd(*(x.data_ptr() for x in ptrs), c, da.data_ptr(), B, n)
        W_h_T.add_to(prev, da)


class LSTMScratch(LanguageModel):
    """Single-layer LSTM with one-hot inputs and the seeds' parameters (W_xi, W_hi, b_i, ...)."""

    model_name = "lstm-scratch"
    fused_steps = True  # its element-wise steps run as C loops where they can (fused_steps)

    def __init__(self, vocab_size: int, num_hiddens: int) -> None:
        super().__init__()
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        V, H = vocab_size, num_hiddens
        self.W_xi, self.W_hi, self.b_i = normal(V, H), normal(H, H), zeros(H)
        self.W_xf, self.W_hf, self.b_f = normal(V, H), normal(H, H), zeros(H)
        self.W_xo, self.W_ho, self.b_o = normal(V, H), normal(H, H), zeros(H)
        self.W_xc, self.W_hc, self.b_c = normal(V, H), normal(H, H), zeros(H)
        self.W_hq, self.b_q = normal(H, V), zeros(V)

    def begin_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """(H_0, C_0) = (0, 0), each (1, B, hidden) like a one-layer nn.LSTM state."""
        shape = (1, batch_size, self.num_hiddens)
        dtype = self._dtype()
        return (
            torch.zeros(shape, device=device, dtype=dtype),
            torch.zeros(shape, device=device, dtype=dtype),
        )

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """The LSTM equations above for t = 1..T; logits Y (B, T, V) and (H_T, C_T)."""
        if state is None:
            state = self.begin_state(X.shape[0], X.device)
        # Gates ordered O, I, F, C̃: the three sigmoids are one slice, and so are the three
        # gradients that scale with dC in backward.
        W_x = self._joined("W_x", (self.W_xo, self.W_xi, self.W_xf, self.W_xc), 1)
        W_h = self._joined("W_h", (self.W_ho, self.W_hi, self.W_hf, self.W_hc), 1)
        b = self._joined("b", (self.b_o, self.b_i, self.b_f, self.b_c))
        # Time-major ids; under bf16 autocast the loop's products run in bf16 too.
        args = autocast_args((X.T, W_x + b, state[0][0], state[1][0], W_h))
        T, B = X.shape[1], X.shape[0]
        # Prepacking is measured with torch's loops, then the C chain against the winner.
        packed = self._prepacking(LSTMRecurrence, (*args, False), W_h, T, B)
        chained = self._chaining(LSTMRecurrence.apply, args, W_h, packed, T, B)
        Hs, C = LSTMRecurrence.apply(*args, chained, packed)
        logits = (Hs @ self.W_hq + self.b_q).transpose(0, 1).contiguous()
        return logits, (Hs[-1].unsqueeze(0), C.unsqueeze(0))

    def prepacked_weights(self, num_steps: int) -> list[str]:
        n, W = self.num_hiddens, self.W_hi
        verdict = self.prepack_verdict
        if verdict is None or not verdict.packed:
            return []
        entries = 4 * n * n
        return (
            ["[W_ho | W_hi | W_hf | W_hc]"] if packs(entries, W.dtype, W.device, num_steps) else []
        )

    def config(self) -> dict:
        return scratch_config(self)
