"""How far forecasts are from what happened, in the series' own units:

    MSE = mean (x̂ − x)²      RMSE = √MSE      MAPE = 100 · mean |x̂ − x| / |x|

MAPE is undefined when some true value is 0 (None then); it reads well for a series far from 0
such as passenger counts, and badly for one around 0 such as the seeds' sine.
"""

from __future__ import annotations

import math

import numpy as np

from rnn_tui.data.series_baselines import naive_forecast, seasonal_naive_forecast


def forecast_errors(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float | None]:
    """{"mse", "rmse", "mape"} of `predicted` against `actual` (same shape, at least one)."""
    p = np.asarray(predicted, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if p.shape != a.shape or p.size == 0:
        raise ValueError(f"forecasts {p.shape} and actual values {a.shape} do not match")
    mse = float(np.mean((p - a) ** 2))
    mape = None if np.any(a == 0) else float(100 * np.mean(np.abs(p - a) / np.abs(a)))
    return {"mse": mse, "rmse": math.sqrt(mse), "mape": mape}


def winner(rmse_by_name: dict[str, float | None]) -> str | None:
    """The name with the lowest finite RMSE (None when there is none)."""
    finite = {k: v for k, v in rmse_by_name.items() if v is not None and math.isfinite(v)}
    return min(finite, key=finite.__getitem__) if finite else None


def baseline_errors(
    x: np.ndarray, targets: np.ndarray, horizons, period: int | None
) -> dict[str, dict[int, dict]]:
    """{"naive": {k: errors}, "seasonal_naive": {k: errors}} of the baselines' k-step forecasts
    of x[targets]; seasonal naive only where a whole season of history precedes every target."""
    out: dict[str, dict[int, dict]] = {"naive": {}, "seasonal_naive": {}}
    actual = np.asarray(x, dtype=np.float64)[targets]
    for k in horizons:
        out["naive"][k] = forecast_errors(naive_forecast(x, targets, k), actual)
        if period and targets[0] - period * -(-k // period) >= 0:
            predicted = seasonal_naive_forecast(x, targets, k, period)
            out["seasonal_naive"][k] = forecast_errors(predicted, actual)
    return out


__all__ = ["baseline_errors", "forecast_errors", "winner"]
