"""The seeds' next step after the fixed context: a decoder with Bahdanau attention (d2l §10.4).

The plain decoder (seq2seq.py) squeezes the whole source into one context c, the encoder's final
state. Here every decoding step t looks back at every source position instead:

    q_t = s_{t−1}^(L)                                   the decoder's top-layer state
    α_t = masked_softmax(a(q_t, h_1 … h_T))             weights over the source (attention.py)
    c_t = Σ_i α_{t,i} h_i                               the context of this step
    s_t = GRU([embedding(y_{t−1}); c_t], s_{t−1}),  o_t = W s_t^(L) + b

h_i are the encoder's outputs (its top layer at every source step; both directions for a
bidirectional encoder), which are both the keys and the values. The state starts from the
encoder's final state, as in the plain decoder. Because c_t depends on s_{t−1}, the decoder
runs one step at a time even under teacher forcing; the keys are projected once per source.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from rnn_tui.models.attention import build_attention
from rnn_tui.models.gru_layers import gru_by_layer

__all__ = ["AttentionDecoder", "AttentionState"]


class AttentionState(NamedTuple):
    """What the attention decoder carries between steps, one row per sequence (N rows):
    its GRU state (layers, N, H), the encoder's outputs as values (N, T, D), the keys as the
    scoring uses them (N, T, ·), the source's valid lengths (N,), and the attention weights of
    the last step (N, T) — zeros before the first."""

    hidden: torch.Tensor
    values: torch.Tensor
    keys: torch.Tensor
    valid_len: torch.Tensor
    weights: torch.Tensor

    def select(self, index: torch.Tensor) -> AttentionState:
        """The rows `index` (M,) (beam search keeps the surviving hypotheses' states)."""
        return AttentionState(
            self.hidden.index_select(1, index),
            *(part.index_select(0, index) for part in self[1:]),
        )


class AttentionDecoder(nn.Module):
    """Embedding → attention over the source → GRU over [embedding; context] → Linear(H→V)."""

    def __init__(
        self,
        vocab_size: int,
        embed: int,
        hidden: int,
        layers: int,
        dropout: float,
        attention: str,
        value_size: int,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed)
        self.attention = build_attention(attention, hidden, value_size)
        self.rnn = nn.GRU(
            embed + value_size, hidden, num_layers=layers, dropout=dropout, batch_first=True
        )
        self.dense = nn.Linear(hidden, vocab_size)

    def init_state(
        self, enc_outputs: torch.Tensor, enc_state: torch.Tensor, valid_len: torch.Tensor
    ) -> AttentionState:
        """The state before the first step: the encoder's final state and its outputs."""
        lengths = valid_len.to(enc_outputs.device)
        weights = enc_outputs.new_zeros(enc_outputs.shape[:2])
        keys = self.attention.keys(enc_outputs)
        return AttentionState(enc_state, enc_outputs, keys, lengths, weights)

    def forward(
        self,
        Y: torch.Tensor,
        state: AttentionState,
        keep_weights: bool = False,
        layerwise: bool = False,
    ) -> tuple[torch.Tensor, AttentionState] | tuple[torch.Tensor, AttentionState, torch.Tensor]:
        """Logits (B, T′, V) for inputs Y (B, T′) and the state after the last step; with
        keep_weights, also every step's attention weights (B, T′, T). layerwise: the GRU one
        layer at a time (gru_layers.py), as a CUDA graph captures it."""
        run = (lambda x, h: gru_by_layer(self.rnn, x, h)) if layerwise else self.rnn
        embedded = self.embedding(Y)
        hidden, weights = state.hidden, state.weights
        outputs, every = [], []
        for t in range(Y.shape[1]):
            weights = self.attention.weights(hidden[-1], state.keys, state.valid_len)
            context = torch.bmm(weights.unsqueeze(1), state.values)  # (B, 1, D)
            step_input = torch.cat((embedded[:, t : t + 1], context), dim=-1)
            out, hidden = run(step_input, hidden)
            outputs.append(out)
            if keep_weights:
                every.append(weights)
        logits = self.dense(torch.cat(outputs, dim=1))
        state = AttentionState(hidden, state.values, state.keys, state.valid_len, weights)
        if keep_weights:
            return logits, state, torch.stack(every, dim=1)
        return logits, state
