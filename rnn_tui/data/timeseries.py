"""The seeds' synthetic series and its autoregressive features (d2l "Sequence Models").

x_t = sin(0.01 t) + ε_t, ε_t ~ N(0, 0.2), t = 1..1000; features are the τ = 4 previous values.
"""

from __future__ import annotations

import numpy as np

from rnn_tui.data.errors import DataError


def sine_series(T: int = 1000, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(t, x) as float32 arrays of length T: t = 1..T, x_t = sin(0.01 t) + N(0, noise).

    `noise` is the standard deviation (d2l's torch.normal(0, 0.2, (T,))); the draws come from
    numpy's default_rng(seed), so a seed always gives the same series.
    """
    if T < 1:
        raise DataError(f"series length T must be at least 1, got {T}")
    if not noise >= 0:
        raise DataError(f"noise must be 0 or more, got {noise}")
    t = np.arange(1, T + 1, dtype=np.float64)
    x = np.sin(0.01 * t) + np.random.default_rng(seed).normal(0.0, noise, T)
    return t.astype(np.float32), x.astype(np.float32)


FIRST_POSITIONS = ("drop", "pad")


def ar_features(x: np.ndarray, tau: int = 4, first: str = "drop") -> tuple[np.ndarray, np.ndarray]:
    """d2l's autoregressive pairs: features[:, i] = x[i : T - tau + i] (shape (T - tau, tau)),
    labels = x[tau:] (shape (T - tau,)); features[i] = x[i .. i + tau - 1] predicts x[i + tau].

    The first τ values have fewer than τ predecessors: `first="drop"` leaves them out (the
    book's choice), `first="pad"` keeps them as labels with zeros for the missing history
    (shape (T, tau): features[i] = x[i - tau .. i - 1], zero where the index is negative)."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise DataError(f"the series must be one-dimensional, got shape {x.shape}")
    if first not in FIRST_POSITIONS:
        raise DataError(f"first must be drop or pad, got {first!r}")
    if tau < 1:
        raise DataError(f"tau must be at least 1, got {tau}")
    if first == "pad":
        x = np.concatenate((np.zeros(tau, dtype=x.dtype), x))
    T = len(x)
    if T <= tau:
        raise DataError(f"series too short: {T} values, tau = {tau} needs at least {tau + 1}")
    features = np.zeros((T - tau, tau), dtype=x.dtype)
    for i in range(tau):
        features[:, i] = x[i : T - tau + i]
    return features, x[tau:].copy()
