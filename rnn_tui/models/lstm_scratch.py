"""The seeds' long short-term memory from scratch ("长短期记忆网络 LSTM"; d2l §9.2).

    I_t = σ(X_t W_xi + H_{t-1} W_hi + b_i)                 input gate
    F_t = σ(X_t W_xf + H_{t-1} W_hf + b_f)                 forget gate
    O_t = σ(X_t W_xo + H_{t-1} W_ho + b_o)                 output gate
    C̃_t = tanh(X_t W_xc + H_{t-1} W_hc + b_c)              candidate memory cell
    C_t = F_t ⊙ C_{t-1} + I_t ⊙ C̃_t
    H_t = O_t ⊙ tanh(C_t)
    Y_t = H_t W_hq + b_q

X_t is one-hot, so X_t [W_xi | W_xf | W_xo | W_xc] + [b_i | b_f | b_o | b_c] is a row of the sum
(a one-hot row sums to 1), gathered for all steps before the time loop; the four H_{t-1} W_h*
products are one matmul with [W_hi | W_hf | W_ho | W_hc].
The named parameters are the seeds'; the concatenations are rebuilt on every forward call (cheap
next to T steps), so gradients reach each named parameter.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnn_tui.models.base import LanguageModel, State
from rnn_tui.models.rnn_scratch import normal, scratch_config, zeros


class LSTMScratch(LanguageModel):
    """Single-layer LSTM with one-hot inputs and the seeds' parameters (W_xi, W_hi, b_i, ...)."""

    model_name = "lstm-scratch"

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
        W_x = torch.cat((self.W_xi, self.W_xf, self.W_xo, self.W_xc), 1)
        W_h = torch.cat((self.W_hi, self.W_hf, self.W_ho, self.W_hc), 1)
        b = torch.cat((self.b_i, self.b_f, self.b_o, self.b_c))
        XW = F.embedding(X.T, W_x + b)  # (T, B, 4·hidden), time-major
        n = self.num_hiddens
        H, C = state[0][0], state[1][0]
        outputs = []
        for XW_t in XW:
            gates = torch.addmm(XW_t, H, W_h)
            I_t, F_t, O_t = torch.sigmoid(gates[:, : 3 * n]).chunk(3, dim=1)
            C_tilde = torch.tanh(gates[:, 3 * n :])
            C = torch.addcmul(F_t * C, I_t, C_tilde)
            H = O_t * torch.tanh(C)
            outputs.append(H)
        logits = torch.stack(outputs, dim=1) @ self.W_hq + self.b_q
        return logits, (H.unsqueeze(0), C.unsqueeze(0))

    def config(self) -> dict:
        return scratch_config(self)
