"""Attention scoring for the translator (d2l §10.1–10.3, Bahdanau et al. 2014).

Attention pooling of a query q over keys k_1 … k_T and values v_1 … v_T:

    α(q, k_i) = softmax_i(a(q, k_i)),   attention(q) = Σ_i α(q, k_i) v_i

with one of the seeds' two scoring functions

    additive:               a(q, k) = wᵥᵀ tanh(W_q q + W_k k)        (§10.3.2; Bahdanau)
    scaled dot-product:     a(q, k) = qᵀ k / √d                     (§10.3.3)

and the softmax *masked* over a source's valid length (§10.3.1 `masked_softmax`): positions at or
beyond valid_len get weight exactly 0 (their score is −inf, exp(−inf) = 0), so `<pad>` never
contributes to the context and every row of weights sums to 1.

The keys never change while one source is decoded, so `keys(K)` projects them once
(W_k k for additive, nothing for dot-product) and `weights(q, keys, valid_len)` scores one
decoding step against the projected keys: a decoding step costs one (B, T, H) tanh, not a
re-projection of the whole source.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnn_tui.models.names import ATTENTION_KINDS
from rnn_tui.quoting import quoted

__all__ = ["ATTENTION_KINDS", "AdditiveAttention", "DotProductAttention", "masked_softmax"]


def masked_softmax(scores: torch.Tensor, valid_len: torch.Tensor) -> torch.Tensor:
    """softmax over the last axis of scores (B, T) keeping only the first valid_len[b] positions
    of each row (d2l §10.3.1); the others get weight exactly 0. valid_len (B,) is clamped into
    [1, T] (a source always holds at least its <eos>), so no row is all −inf."""
    steps = scores.shape[-1]
    lengths = valid_len.to(scores.device).clamp(1, steps)
    positions = torch.arange(steps, device=scores.device)
    mask = positions[None, :] < lengths[:, None]
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)


class AdditiveAttention(nn.Module):
    """a(q, k) = wᵥᵀ tanh(W_q q + W_k k), W_q ∈ ℝ^{h×q}, W_k ∈ ℝ^{h×k}, wᵥ ∈ ℝ^h (d2l §10.3.2)."""

    def __init__(self, query_size: int, key_size: int, units: int) -> None:
        super().__init__()
        self.W_q = nn.Linear(query_size, units, bias=False)
        self.W_k = nn.Linear(key_size, units, bias=False)
        self.w_v = nn.Linear(units, 1, bias=False)

    def keys(self, K: torch.Tensor) -> torch.Tensor:
        """W_k k for every key of K (B, T, k): (B, T, h), computed once per source."""
        return self.W_k(K)

    def weights(self, q: torch.Tensor, keys: torch.Tensor, valid_len: torch.Tensor) -> torch.Tensor:
        """α (B, T) for queries q (B, q) against projected keys (B, T, h)."""
        features = torch.tanh(self.W_q(q).unsqueeze(1) + keys)
        return masked_softmax(self.w_v(features).squeeze(-1), valid_len)


class DotProductAttention(nn.Module):
    """a(q, k) = qᵀ k / √d (d2l §10.3.3). When the keys are wider than the query (a
    bidirectional encoder's 2H outputs), they are first mapped to the query's size by a
    learned W_k without bias, since a dot product needs equal sizes."""

    def __init__(self, query_size: int, key_size: int) -> None:
        super().__init__()
        self.W_k = None if key_size == query_size else nn.Linear(key_size, query_size, bias=False)
        self.scale = 1.0 / math.sqrt(query_size)

    def keys(self, K: torch.Tensor) -> torch.Tensor:
        """The keys as the scores use them (B, T, d)."""
        return K if self.W_k is None else self.W_k(K)

    def weights(self, q: torch.Tensor, keys: torch.Tensor, valid_len: torch.Tensor) -> torch.Tensor:
        """α (B, T) for queries q (B, d) against keys (B, T, d)."""
        scores = torch.bmm(keys, q.unsqueeze(-1)).squeeze(-1) * self.scale
        return masked_softmax(scores, valid_len)


def build_attention(kind: str, query_size: int, key_size: int) -> nn.Module:
    """The scoring module of `kind` ("additive" or "dot"); ValueError for another kind."""
    if kind == "additive":
        return AdditiveAttention(query_size, key_size, query_size)
    if kind == "dot":
        return DotProductAttention(query_size, key_size)
    raise ValueError(
        f"attention must be one of {', '.join(ATTENTION_KINDS[1:])} (got {quoted(kind)})"
    )
