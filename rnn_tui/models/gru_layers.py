"""A stacked nn.GRU run one layer at a time over padded sequences (d2l §9.3 deep RNNs, §9.4
bidirectional RNNs, §9.7).

    H^(l) = GRU_l(dropout(H^(l−1)), h_0^(l)),   l = 1 … L,   H^(0) = X
    h_final^(l)[i] = H^(l)[i, valid_len[i] − 1]      (each row's state at its own last token)

This is what nn.GRU computes on a packed batch (pack_padded_sequence), with static shapes
instead: padding comes after a row's valid tokens, so a forward layer's outputs at
t < valid_len[i] never read it, and each layer's final state is gathered at the row's own last
token. A bidirectional layer's backward direction reads each row reversed within its own length,

    rev_i(t) = valid_len[i] − 1 − t  for t < valid_len[i],  else t,

runs forward over that, and its outputs are put back through the same permutation (it is its
own inverse); its final state is its output at the row's first token, H_bwd[i, 0] = the
reversed run's output at valid_len[i] − 1. The two directions' outputs are concatenated.

Packed batches change shape with their lengths, and their lengths must be read on the host;
this form does neither, so a whole training step can be captured in a CUDA graph
(train/step.py). The dropout between layers is F.dropout here, which a CUDA graph replays with
fresh masks; it draws other random numbers than nn.GRU's own dropout, from the same
distribution.

The layer's own parameters (weight_ih_l{l}[_reverse], weight_hh_l{l}[_reverse], bias_…) are used
as they are: a checkpoint is the same either way.
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


def _direction(rnn: nn.GRU, x: torch.Tensor, h: torch.Tensor, layer: int, suffix: str):
    """One direction of one layer: torch.gru with that direction's own weights."""
    names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if rnn.bias else ())
    weights = [getattr(rnn, f"{name}_l{layer}{suffix}") for name in names]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_COMPACTED)
        return torch.gru(x, h, weights, rnn.bias, 1, 0.0, rnn.training, False, True)


def _reversal(valid_len: torch.Tensor | None, B: int, T: int, device) -> torch.Tensor:
    """rev (B, T): each row's valid steps in reverse order, its padding where it was."""
    steps = torch.arange(T, device=device).expand(B, T)
    if valid_len is None:
        return steps.flip(1)
    lengths = valid_len.view(B, 1)
    return torch.where(steps < lengths, lengths - 1 - steps, steps)


def gru_by_layer(
    rnn: nn.GRU,
    x: torch.Tensor,
    h0: torch.Tensor | None = None,
    valid_len: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(outputs (B, T, H·directions) of the top layer, final state (L·directions, B, H),
    ordered as nn.GRU orders it) of a batch-first nn.GRU over x (B, T, D) from h0 (zeros when
    None).

    With valid_len (B,) on x's device, row i is read up to its valid_len[i] tokens (clamped
    into [1, T]): each layer's final state is its output there (a backward direction's: at the
    row's first token), and the top layer's outputs after it are 0, as pad_packed_sequence
    gives them. No value is read back to the host.
    """
    if not rnn.batch_first:
        raise ValueError("gru_by_layer runs a batch-first nn.GRU")
    B, T, _ = x.shape
    H = rnn.hidden_size
    directions = 2 if rnn.bidirectional else 1
    lengths = None if valid_len is None else valid_len.to(x.device, torch.long).clamp(1, T)
    index = None if lengths is None else (lengths - 1).view(B, 1, 1).expand(B, 1, H)
    rev = _reversal(lengths, B, T, x.device) if rnn.bidirectional else None
    finals = []
    out = x
    for layer in range(rnn.num_layers):
        if layer > 0 and rnn.dropout > 0:
            out = F.dropout(out, rnn.dropout, rnn.training)
        outputs = []
        for d, suffix in enumerate(("", "_reverse")[:directions]):
            k = layer * directions + d
            h = out.new_zeros(1, B, H) if h0 is None else h0[k : k + 1]
            inp = out if d == 0 else out.gather(1, rev.unsqueeze(-1).expand_as(out))
            y, h_last = _direction(rnn, inp, h, layer, suffix)
            if index is not None:
                h_last = y.gather(1, index).transpose(0, 1)
            if d == 1:
                y = y.gather(1, rev.unsqueeze(-1).expand_as(y))
            outputs.append(y)
            finals.append(h_last)
        out = outputs[0] if directions == 1 else torch.cat(outputs, dim=-1)
    if lengths is not None:
        steps = torch.arange(T, device=x.device)
        out = out * (steps.unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1).to(out.dtype)
    return out, torch.cat(finals, dim=0)
