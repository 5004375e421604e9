"""The honest non-neural forecasts a model must beat on the same held-out points, as the smoothed
trigram is for the language models:

    naive            x̂_{t+k} = x_t                          (the last value seen)
    seasonal naive   x̂_{t+k} = x_{t+k−m⌈k/m⌉}               (the same season, last period seen)

and the season length m, given or found: the lag in [2, n/3] at which the autocorrelation of the
training part (differenced, so a trend does not hide the season) has its highest peak, if that
peak is above 0.3 — otherwise the series has no season to speak of and there is no seasonal
baseline.
"""

from __future__ import annotations

import numpy as np

ACF_THRESHOLD = 0.3


def naive_forecast(x: np.ndarray, targets: np.ndarray, k: int) -> np.ndarray:
    """x̂ at each index in `targets`, made k steps ahead: x[target − k]."""
    return np.asarray(x, dtype=np.float64)[np.asarray(targets) - k]


def seasonal_naive_forecast(x: np.ndarray, targets: np.ndarray, k: int, period: int) -> np.ndarray:
    """x̂ at each index in `targets`, made k steps ahead with season length `period`."""
    back = period * -(-k // period)  # m·⌈k/m⌉: the latest same-season value already seen
    return np.asarray(x, dtype=np.float64)[np.asarray(targets) - back]


def detect_period(x: np.ndarray) -> int | None:
    """The season length of `x` (see the module docstring), or None."""
    d = np.diff(np.asarray(x, dtype=np.float64))
    n = len(d)
    if n < 8:
        return None
    d = d - d.mean()
    denominator = float(d @ d)
    if denominator <= 0:
        return None
    best, best_acf = None, ACF_THRESHOLD
    for lag in range(2, n // 3 + 1):
        acf = float(d[:-lag] @ d[lag:]) / denominator
        if acf > best_acf:
            best, best_acf = lag, acf
    return best


__all__ = ["detect_period", "naive_forecast", "seasonal_naive_forecast"]
