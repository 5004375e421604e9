"""Exponential moving average of a noisy curve, as TensorBoard's and W&B's smoothing slider draw
it: s_t = w·s_{t−1} + (1 − w)·y_t, debiased by 1 − w^t so the first points are not pulled
towards 0 (the smoothed curve starts at the first value, as Adam's moment estimates do).
"""

from __future__ import annotations

import numpy as np

MAX_WEIGHT = 0.99  # a weight of 1 would never move from the first point


def ema(values, weight: float) -> np.ndarray:
    """The debiased EMA of `values` with smoothing weight `weight` in [0, MAX_WEIGHT]; weight 0
    returns the values unchanged. Non-finite values are skipped (the average carries on)."""
    if not 0.0 <= weight <= MAX_WEIGHT:
        raise ValueError(f"smoothing weight must be in [0, {MAX_WEIGHT}] (got {weight!r})")
    y = np.asarray(values, dtype=float)
    if weight == 0.0 or len(y) == 0:
        return y.copy()
    out = np.empty_like(y)
    last, count = 0.0, 0
    for i, value in enumerate(y):
        if np.isfinite(value):
            last = weight * last + (1.0 - weight) * value
            count += 1
        out[i] = last / (1.0 - weight**count) if count else np.nan
    return out


__all__ = ["MAX_WEIGHT", "ema"]
