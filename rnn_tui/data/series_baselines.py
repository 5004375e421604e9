"""The honest non-neural forecasts a model must beat on the same held-out points, as the smoothed
trigram is for the language models:

    naive            x̂_{t+k} = x_t                          (the last value seen)
    seasonal naive   x̂_{t+k} = x_{t+k−m⌈k/m⌉}               (the same season, last period seen)

and the season length m, given or found: the lag in [2, n/3] where the autocorrelation of the
training part (differenced, so a trend does not hide the season) has its highest peak — a local
maximum, higher than the lags beside it — if that peak is above both 0.3 and the noise band
2/√n (Bartlett's, for a series without autocorrelation). Otherwise the series has no season to
speak of and there is no seasonal baseline. A smooth series without a season decays from lag 1
on: its largest value at lags ≥ 2 is at lag 2, which is no peak.
"""

from __future__ import annotations

import math

import numpy as np

ACF_THRESHOLD = 0.3
NOISE_BAND = 2.0  # ≈ 1.96: a white-noise autocorrelation stays within ±2/√n 95% of the time


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
    top = n // 3  # the longest season looked for; its right neighbour, top + 1, is < n
    threshold = max(ACF_THRESHOLD, NOISE_BAND / math.sqrt(n))

    def exact(lag: int) -> float:
        return float(d[:-lag] @ d[lag:]) / denominator

    if n <= EXACT_UP_TO:
        acf = [math.nan] + [exact(lag) for lag in range(1, top + 2)]  # indexed by lag
        peaks = [
            m
            for m in range(2, top + 1)
            if acf[m] > acf[m - 1] and acf[m] >= acf[m + 1] and acf[m] > threshold
        ]
        # The highest; the first of equal peaks, as a loop with `>` keeps.
        return min(peaks, key=lambda m: (-acf[m], m)) if peaks else None
    # One dot product per lag is O(n²): 16 s for a million points. The FFT gives every lag's
    # Σ d_t d_{t+lag} at once (Wiener–Khinchin); the peaks near its top are then checked with
    # exact values, so the answer is the exact loop's.
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(d, size)
    rough = np.fft.irfft(spectrum * np.conj(spectrum), size)[: top + 2] / denominator
    m = np.arange(2, top + 1)
    near_peak = (rough[m] > rough[m - 1] - FFT_SLACK) & (rough[m] >= rough[m + 1] - FFT_SLACK)
    candidates = m[near_peak & (rough[m] > threshold - FFT_SLACK)]
    best, best_value = None, -math.inf
    for lag in sorted(candidates.tolist(), key=lambda lag: (-rough[lag], lag)):
        if rough[lag] < best_value - 2 * FFT_SLACK:
            break  # no later candidate can be higher
        value = exact(lag)
        peak = value > exact(lag - 1) and value >= exact(lag + 1) and value > threshold
        if peak and (value > best_value or (value == best_value and lag < best)):
            best, best_value = lag, value
    return best


EXACT_UP_TO = 4096  # points up to which every lag is one dot product (the seeds' series)
FFT_SLACK = 1e-6  # far above the FFT's rounding in a normalised autocorrelation (≤ 1)


__all__ = ["detect_period", "naive_forecast", "seasonal_naive_forecast"]
