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


# Past a million, a perplexity's digits say nothing (a diverged run's has 300 of them, and they
# broke tables and headers): it is written with an exponent.
FIXED_UNDER = 1e6


def fmt_perplexity(value: float, digits: int = 2) -> str:
    """`value` with `digits` decimals ("17.82"), or 4 significant digits with an exponent
    from FIXED_UNDER on ("3.803e+295")."""
    if math.isfinite(value) and abs(value) >= FIXED_UNDER:
        return f"{value:.3e}"
    return f"{value:.{digits}f}"


def fmt_overflowed(loss: float) -> str:
    """A perplexity too large for a float, written as the power of e it is ("e^807.9")."""
    return f"e^{loss:.4g}"


def best_text(best: float | None, epoch: int | None, vocab_size: int, what: str, ran: bool) -> str:
    """A run's best perplexity as its finished line ends ("; best val ppl 4.560 (epoch 38)"),
    saying when it is worse than a uniform guess (which scores the vocabulary's size) or when
    no epoch's was finite: a learner should hear the run diverged, not only read a number."""
    advice = "(try a smaller --lr or --clip)"
    if not best:
        return f"; no epoch's perplexity was finite: the run diverged {advice}" if ran else ""
    text = f"; best {what} ppl {fmt_perplexity(best, 3)} (epoch {epoch})"
    if best > vocab_size:
        text += f", worse than a uniform guess over its {vocab_size:,} tokens {advice}"
    return text


__all__ = ["FIXED_UNDER", "best_text", "fmt_overflowed", "fmt_perplexity", "perplexity"]
