"""The seeds' gated recurrent unit from scratch ("门控循环单元 GRU"; d2l §9.1).

    Z_t = σ(X_t W_xz + H_{t-1} W_hz + b_z)                 update gate
    R_t = σ(X_t W_xr + H_{t-1} W_hr + b_r)                 reset gate
    H̃_t = tanh(X_t W_xh + (R_t ⊙ H_{t-1}) W_hh + b_h)      candidate hidden state
    H_t = Z_t ⊙ H_{t-1} + (1 − Z_t) ⊙ H̃_t
    O_t = H_t W_hq + b_q

X_t is one-hot, so every X_t W_x* + b_* is a row of W_x* + b_* (a one-hot row sums to 1), gathered
for all steps before the time loop. Z and
R read H_{t-1} through the same matmul H_{t-1} [W_hz | W_hr]; W_hh needs R_t first, so it stays a
second matmul. The named parameters are the seeds'; the concatenations are rebuilt on every
forward call (cheap next to T steps), so gradients reach each named parameter.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnn_tui.models.base import LanguageModel, State
from rnn_tui.models.rnn_scratch import normal, scratch_config, zeros


class GRUScratch(LanguageModel):
    """Single-layer GRU with one-hot inputs and the seeds' parameters (W_xz, W_hz, b_z, ...)."""

    model_name = "gru-scratch"

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
        XT = X.T  # time-major: each step reads a contiguous (B, ·) slice
        W_xzr, b_zr = torch.cat((self.W_xz, self.W_xr), 1), torch.cat((self.b_z, self.b_r))
        XZR = F.embedding(XT, W_xzr + b_zr)
        XH = F.embedding(XT, self.W_xh + self.b_h)
        W_hzr, W_hh = torch.cat((self.W_hz, self.W_hr), 1), self.W_hh
        H = state[0]
        outputs = []
        for XZR_t, XH_t in zip(XZR, XH):
            Z, R = torch.sigmoid(torch.addmm(XZR_t, H, W_hzr)).chunk(2, dim=1)
            H_tilde = torch.tanh(torch.addmm(XH_t, R * H, W_hh))
            # lerp(H̃, H, Z) = H̃ + Z ⊙ (H − H̃) = Z ⊙ H + (1 − Z) ⊙ H̃, in one kernel.
            H = torch.lerp(H_tilde, H, Z)
            outputs.append(H)
        logits = torch.stack(outputs, dim=1) @ self.W_hq + self.b_q
        return logits, H.unsqueeze(0)

    def config(self) -> dict:
        return scratch_config(self)
