"""A stacked nn.GRU run one layer at a time over padded sequences (d2l §9.3 deep RNNs, §9.7).

    H^(l) = GRU_l(dropout(H^(l−1)), h_0^(l)),   l = 1 … L,   H^(0) = X
    h_final^(l)[i] = H^(l)[i, valid_len[i] − 1]      (each row's state at its own last token)

This is what nn.GRU computes on a packed batch (pack_padded_sequence), with static shapes
instead: padding comes after a row's valid tokens, so a unidirectional layer's outputs at
t < valid_len[i] never read it, and each layer's final state is gathered at the row's own last
token. Packed batches change shape with their lengths, and their lengths must be read on the
host; this form does neither, so a whole training step can be captured in a CUDA graph
(train/step.py). The dropout between layers is F.dropout here, which a CUDA graph replays with
fresh masks; it draws other random numbers than nn.GRU's own dropout, from the same
distribution.

The layer's own parameters (weight_ih_l{l}, weight_hh_l{l}, bias_ih_l{l}, bias_hh_l{l}) are
used as they are: a checkpoint is the same either way.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["gru_by_layer"]

# cuDNN copies one layer's weights out of the module's flattened buffer on each call (a copy a
# CUDA graph captures once), and says so every time.
_COMPACTED = "RNN module weights are not part of single contiguous chunk"


def gru_by_layer(
    rnn: nn.GRU,
    x: torch.Tensor,
    h0: torch.Tensor | None = None,
    valid_len: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(outputs (B, T, H) of the top layer, final state (L, B, H)) of a unidirectional,
    batch-first nn.GRU over x (B, T, D) from h0 (L, B, H) (zeros when None).

    With valid_len (B,) on x's device, row i is read up to its valid_len[i] tokens (clamped
    into [1, T]): each layer's final state is its output there, and the top layer's outputs
    after it are 0, as pad_packed_sequence gives them. No value is read back to the host.
    """
    if rnn.bidirectional or not rnn.batch_first:
        raise ValueError("gru_by_layer runs a unidirectional, batch-first nn.GRU")
    B, T, _ = x.shape
    H = rnn.hidden_size
    index = None
    if valid_len is not None:
        last = valid_len.to(x.device, torch.long).clamp(1, T) - 1
        index = last.view(B, 1, 1).expand(B, 1, H)
    finals = []
    out = x
    for layer in range(rnn.num_layers):
        if layer > 0 and rnn.dropout > 0:
            out = F.dropout(out, rnn.dropout, rnn.training)
        weights = [getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")]
        if rnn.bias:
            weights += [getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")]
        h = out.new_zeros(1, B, H) if h0 is None else h0[layer : layer + 1]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_COMPACTED)
            out, h_last = torch.gru(out, h, weights, rnn.bias, 1, 0.0, rnn.training, False, True)
        if index is not None:
            h_last = out.gather(1, index).transpose(0, 1)
        finals.append(h_last)
    if index is not None:
        steps = torch.arange(T, device=x.device)
        out = out * (steps.unsqueeze(0) <= index[:, 0, :1]).unsqueeze(-1).to(out.dtype)
    return out, torch.cat(finals, dim=0)
