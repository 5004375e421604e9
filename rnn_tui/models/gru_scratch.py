"""The seeds' gated recurrent unit from scratch ("门控循环单元 GRU"; d2l §9.1).

    Z_t = σ(X_t W_xz + H_{t-1} W_hz + b_z)                 update gate
    R_t = σ(X_t W_xr + H_{t-1} W_hr + b_r)                 reset gate
    H̃_t = tanh(X_t W_xh + (R_t ⊙ H_{t-1}) W_hh + b_h)      candidate hidden state
    H_t = Z_t ⊙ H_{t-1} + (1 − Z_t) ⊙ H̃_t
    O_t = H_t W_hq + b_q

X_t is one-hot, so every X_t W_x* + b_* is a row of W_x* + b_* (a one-hot row sums to 1), gathered
for all steps before the time loop. Z and R read H_{t-1} through the same matmul
H_{t-1} [W_hz | W_hr]; W_hh needs R_t first, so it stays a second matmul. Backpropagation through
time is written out (`GRURecurrence`): the weight gradients become one matmul each over all
steps, and the factors that do not depend on the incoming gradient are computed for all steps at
once; the per-step products go through `StepMatmul` (prepacked when that pays), and the
element-wise work between two products is one C loop where `fused_steps` has them. Where the
first training pass measures it faster, each time loop is instead one C call a pass, products
included (`recurrent_chain`; at hidden 256, 13.3 ms a pass against 19.0 ms). The named
parameters are the seeds'; the concatenations are rebuilt on every forward call
(cheap next to T steps), so gradients reach each named parameter.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from rnn_tui.models import recurrent_chain
from rnn_tui.models.activations import tanh_
from rnn_tui.models.base import LanguageModel, State, autocast_args
from rnn_tui.models.fused_steps import loops_for
from rnn_tui.models.rnn_scratch import gather_into, normal, scratch_config, zeros
from rnn_tui.models.step_matmul import StepMatmul, mul_into, packs, weight_grad

_sigmoid_backward = torch.ops.aten.sigmoid_backward
_tanh_backward = torch.ops.aten.tanh_backward
_embedding_backward = torch.ops.aten.embedding_dense_backward


class GRURecurrence(torch.autograd.Function):
    """The GRU equations for t = 1..T given the token ids X (T, B), the input tables
    U_zr = [W_xz | W_xr] + [b_z | b_r] (V, 2h) and U_h = W_xh + b_h (V, h), whose rows x_t are
    A_t = X_t [W_xz | W_xr] + [b_z | b_r] and B_t = X_t W_xh + b_h, H_0, W_hzr = [W_hz | W_hr]
    and W_hh; returns all H_t.

    Backward is the seeds' BPTT through the cell (d2l §8.7 applied to §9.1), with dH_t the
    gradient reaching H_t (from O_t and from step t+1):
        dB_t = dH_t ⊙ (1 − Z_t) ⊙ (1 − H̃_t²)            (candidate, before tanh)
        dA_t[Z] = dH_t ⊙ (H_{t-1} − H̃_t) ⊙ Z_t(1 − Z_t)
        dA_t[R] = (dB_t W_hhᵀ) ⊙ H_{t-1} ⊙ R_t(1 − R_t)
        dH_{t-1} += dH_t ⊙ Z_t + (dB_t W_hhᵀ) ⊙ R_t + dA_t W_hzrᵀ
        ∂L/∂W_hzr = Σ_t H_{t-1}ᵀ dA_t,   ∂L/∂W_hh = Σ_t (R_t ⊙ H_{t-1})ᵀ dB_t   (one matmul each)
        ∂L/∂U_zr[v] = Σ_{t,b: x = v} dA_t[b],   ∂L/∂U_h[v] = Σ_{t,b: x = v} dB_t[b]
    """

    @staticmethod
    def forward(ctx, X, U_zr, U_h, H0, W_hzr, W_hh, chain, prepack):
        """`chain=True` runs both time loops as one C call each (recurrent_chain); `prepack=False`
        keeps every product plain (the loops' measured choices)."""
        T, B = X.shape
        n2 = U_zr.shape[1]
        n = n2 // 2
        ZR = U_zr.new_empty(T, B, n2)
        cand = U_h.new_empty(T, B, n)  # H̃_t
        RH = torch.empty_like(cand)  # R_t ⊙ H_{t-1}
        Hs = U_h.new_empty(T + 1, B, n)  # H_0..H_T
        Hs[0] = H0
        ctx.lib = recurrent_chain.library(W_hzr, T) if chain else None
        ctx.loops = None
        ctx.save_for_backward(X, W_hzr, W_hh)
        ctx.saved = (ZR, cand, RH, Hs)
        ctx.prepack = prepack
        ctx.vocab_size = U_zr.shape[0]
        if ctx.lib is not None:
            tables = (U_zr.contiguous(), U_h.contiguous())
            recurrent_chain.gru_forward(ctx.lib, ZR, cand, RH, Hs, W_hzr, W_hh, X, *tables)
            return Hs[1:]
        # The input terms gathered into the loop's buffers, then each step adds its recurrent
        # product in place: addmm with out= would copy the input term into the output first.
        gather_into(ZR, U_zr, X)
        gather_into(cand, U_h, X)
        W_zr, W_h = StepMatmul(W_hzr, B, T, prepack), StepMatmul(W_hh, B, T, prepack)
        # Every step's slices made at once (unbind), not by indexing inside the loop.
        steps = zip(
            ZR.unbind(0),
            ZR[..., :n].unbind(0),
            ZR[..., n:].unbind(0),
            RH.unbind(0),
            cand.unbind(0),
            Hs[:-1].unbind(0),
            Hs[1:].unbind(0),
            strict=True,
        )
        loops = loops_for(ZR)
        if loops is None:
            for zr, z, r, rh, h, H, H_next in steps:
                W_zr.add_to(zr, H).sigmoid_()
                torch.mul(r, H, out=rh)
                tanh_(W_h.add_to(h, rh))
                # lerp(H̃, H, Z) = Z ⊙ H + (1 − Z) ⊙ H̃, in one kernel.
                torch.lerp(h, H, z, out=H_next)
        else:  # each gap between two products one C loop (fused_steps)
            for zr, _, _, rh, h, H, H_next in steps:
                W_zr.add_to(zr, H)
                loops.gru_fwd_a(zr.data_ptr(), H.data_ptr(), rh.data_ptr(), B, n)
                W_h.add_to(h, rh)
                loops.gru_fwd_b(h.data_ptr(), H.data_ptr(), zr.data_ptr(), H_next.data_ptr(), B, n)
        ctx.loops = loops
        return Hs[1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, dHs):
        X, W_hzr, W_hh = ctx.saved_tensors
        ZR, cand, RH, Hs = ctx.saved
        T, B, n2 = ZR.shape
        n = n2 // 2
        H_prev = Hs[:-1]
        dH = dHs.new_empty(T + 1, B, n)  # dH[t + 1] = ∂L/∂H_t, dH[0] = ∂L/∂H_0
        dH[0].zero_()
        dH[1:] = dHs
        dA, dB = torch.empty_like(ZR), torch.empty_like(cand)
        if ctx.lib is not None:
            recurrent_chain.gru_backward(ctx.lib, dH, dA, dB, ZR, cand, Hs, W_hzr, W_hh)
        else:
            W_hh_T = StepMatmul(W_hh.T, B, T, ctx.prepack)
            W_hzr_T = StepMatmul(W_hzr.T, B, T, ctx.prepack)
            dRH = dH.new_empty(B, n)
            if ctx.loops is not None:
                _fused_bptt(ctx.loops, dH, ZR, cand, H_prev, dA, dB, dRH, W_hh_T, W_hzr_T)
            else:
                _bptt(dH, ZR, cand, H_prev, dA, dB, dRH, W_hh_T, W_hzr_T)
        rows, packed, needs = H_prev.reshape(-1, n), ctx.prepack, ctx.needs_input_grad
        ids, V = X.reshape(-1), ctx.vocab_size
        # What autograd ran for F.embedding's gather (deterministic on a GPU).
        dU_zr = _embedding_backward(dA.view(-1, n2), ids, V, -1, False) if needs[1] else None
        dU_h = _embedding_backward(dB.view(-1, n), ids, V, -1, False) if needs[2] else None
        dW_hzr = weight_grad(rows, dA.reshape(-1, n2), packed) if needs[4] else None
        dW_hh = weight_grad(RH.reshape(-1, n), dB.view(-1, n), packed) if needs[5] else None
        return None, dU_zr, dU_h, dH[0], dW_hzr, dW_hh, None, None


def _bptt(dH, ZR, cand, H_prev, dA, dB, dRH, W_hh_T, W_hzr_T) -> None:
    """GRURecurrence's time loop backwards with torch's kernels: dA, dB and dH filled in."""
    n = cand.shape[-1]
    Z, R = ZR[..., :n], ZR[..., n:]
    # The factors that do not depend on the incoming gradient, for all steps at once.
    # (tanh_backward(g, y) = g ⊙ (1 − y²), sigmoid_backward(g, y) = g ⊙ y(1 − y): one kernel
    # each.)
    d_cand = _tanh_backward(1 - Z, cand)
    d_z = _sigmoid_backward(H_prev - cand, Z)
    d_r = _sigmoid_backward(H_prev, R)
    steps = zip(
        dH[1:].unbind(0),
        dH[:-1].unbind(0),
        d_cand.unbind(0),
        d_z.unbind(0),
        d_r.unbind(0),
        Z.unbind(0),
        R.unbind(0),
        dA.unbind(0),
        dA[..., :n].unbind(0),
        dA[..., n:].unbind(0),
        dB.unbind(0),
        strict=True,
    )
    for dH_t, prev, dc, dz, dr, z, r, da, da_z, da_r, db in reversed(list(steps)):
        torch.mul(dH_t, dc, out=db)
        mul_into(da_z, dH_t, dz)  # dA's Z and R halves: strided slices
        W_hh_T(db, out=dRH)
        mul_into(da_r, dRH, dr)
        W_hzr_T.add_to(prev.addcmul_(dH_t, z).addcmul_(dRH, r), da)


def _fused_bptt(loops, dH, ZR, cand, H_prev, dA, dB, dRH, W_hh_T, W_hzr_T) -> None:
    """The same loop with each gap between two products one C loop (fused_steps), which
    computes the factors of σ' and tanh' as it goes."""
    B, n = cand.shape[1:]
    steps = zip(
        dH[1:].unbind(0),
        dH[:-1].unbind(0),
        ZR.unbind(0),
        cand.unbind(0),
        H_prev.unbind(0),
        dA.unbind(0),
        dB.unbind(0),
        strict=True,
    )
    g = dRH.data_ptr()
    for dH_t, prev, zr, c, h, da, db in reversed(list(steps)):
        dh, z, a = dH_t.data_ptr(), zr.data_ptr(), da.data_ptr()
        loops.gru_bwd_a(dh, z, c.data_ptr(), h.data_ptr(), db.data_ptr(), a, B, n)
        W_hh_T(db, out=dRH)
        loops.gru_bwd_b(g, z, h.data_ptr(), dh, prev.data_ptr(), a, B, n)
        W_hzr_T.add_to(prev, da)


class GRUScratch(LanguageModel):
    """Single-layer GRU with one-hot inputs and the seeds' parameters (W_xz, W_hz, b_z, ...)."""

    model_name = "gru-scratch"
    fused_steps = True  # its element-wise steps run as C loops where they can (fused_steps)

    def __init__(self, vocab_size: int, num_hiddens: int) -> None:
        super().__init__()
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        V, H = vocab_size, num_hiddens
        self.W_xz, self.W_hz, self.b_z = normal(V, H), normal(H, H), zeros(H)
        self.W_xr, self.W_hr, self.b_r = normal(V, H), normal(H, H), zeros(H)
        self.W_xh, self.W_hh, self.b_h = normal(V, H), normal(H, H), zeros(H)
        self.W_hq, self.b_q = normal(H, V), zeros(V)

    def begin_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """H_0 = 0, shaped (1, B, hidden) like a one-layer nn.GRU state."""
        return torch.zeros(1, batch_size, self.num_hiddens, device=device, dtype=self._dtype())

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """The GRU equations above for t = 1..T; logits O (B, T, V) and H_T."""
        if state is None:
            state = self.begin_state(X.shape[0], X.device)
        W_xzr = self._joined("W_xzr", (self.W_xz, self.W_xr), 1)
        b_zr = self._joined("b_zr", (self.b_z, self.b_r))
        W_hzr = self._joined("W_hzr", (self.W_hz, self.W_hr), 1)
        # Time-major ids: each step reads a contiguous (B, ·) slice.
        args = (X.T, W_xzr + b_zr, self.W_xh + self.b_h, state[0], W_hzr, self.W_hh)
        args = autocast_args(args)  # bf16: the loop's products too, not only the output's
        # W_hzr is the larger weight: where it is too small to pack, neither is packed (nor
        # chained). Prepacking is measured with torch's loops, then the C chain against the winner.
        T, B = X.shape[1], X.shape[0]
        packed = self._prepacking(GRURecurrence, (*args, False), W_hzr, T, B)
        chained = self._chaining(GRURecurrence.apply, args, W_hzr, packed, T, B)
        Hs = GRURecurrence.apply(*args, chained, packed)
        logits = (Hs @ self.W_hq + self.b_q).transpose(0, 1).contiguous()
        return logits, Hs[-1].unsqueeze(0)

    def prepacked_weights(self, num_steps: int) -> list[str]:
        n, W = self.num_hiddens, self.W_hh
        verdict = self.prepack_verdict
        if verdict is None or not verdict.packed:
            return []
        weights = (("[W_hz | W_hr]", 2 * n * n), ("W_hh", n * n))
        return [name for name, entries in weights if packs(entries, W.dtype, W.device, num_steps)]

    def config(self) -> dict:
        return scratch_config(self)
