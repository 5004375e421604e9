"""Perplexity, the seeds' measure of a language model ("语言模型", d2l §8.4):

    PPL = exp(−1/n Σ_t log P(x_t | x_{t−1}, …, x_1)) = exp(mean cross-entropy per token)

1 is a perfect model; a uniform guess over V tokens scores V.
"""

from __future__ import annotations

import math


def perplexity(mean_loss: float) -> float:
    """exp(mean loss per token); inf when the loss is too large to exponentiate (or inf), NaN
    for a NaN loss (the trainer stops before reporting one)."""
    if math.isnan(mean_loss):
        return math.nan
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf


__all__ = ["perplexity"]
