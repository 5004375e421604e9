"""The x axis of a run's curves: epochs (as logged), optimisation steps, or wall time.

Every series is logged against its epoch position; a run's clock series (runs/follow.py) map
epoch positions to the global step and to the seconds of training at each logged event, so
any curve moves onto another axis by interpolation, without logging it twice.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

X_AXES = ("epoch", "step", "time")
CLOCKS = {"step": "clock_step", "time": "clock_time"}
MINUTES_FROM_S = 120.0  # a wall-time axis counts minutes once the longest run passes this


def to_axis(
    x: np.ndarray, axis: str, series: Mapping[str, tuple[np.ndarray, np.ndarray]]
) -> np.ndarray | None:
    """`x` (epoch positions) on `axis`, read off the run's clock in `series`; None when the run
    logged no such clock (an old run without steps or times)."""
    if axis == "epoch":
        return np.asarray(x, dtype=float)
    clock_x, clock_y = series.get(CLOCKS[axis], (np.zeros(0), np.zeros(0)))
    if len(clock_x) == 0:
        return None
    order = np.argsort(clock_x, kind="stable")
    clock_x, clock_y = np.asarray(clock_x)[order], np.asarray(clock_y)[order]
    if len(clock_x) == 1:
        # One logged event: its epoch position is its step (or time); scale the rest by it.
        rate = clock_y[0] / clock_x[0] if clock_x[0] else 0.0
        return np.asarray(x, dtype=float) * rate
    # Before the first event, extrapolate from 0 (epoch 0 is step 0 and time 0).
    return np.interp(x, np.concatenate([[0.0], clock_x]), np.concatenate([[0.0], clock_y]))


def axis_label(axis: str, minutes: bool = False) -> str:
    """The axis title: "epoch", "step", "wall time (s)" or "wall time (min)"."""
    if axis == "time":
        return "wall time (min)" if minutes else "wall time (s)"
    return axis


def next_axis(axis: str) -> str:
    """The axis after `axis` in X_AXES, cyclically."""
    return X_AXES[(X_AXES.index(axis) + 1) % len(X_AXES)] if axis in X_AXES else X_AXES[0]


__all__ = ["MINUTES_FROM_S", "X_AXES", "axis_label", "next_axis", "to_axis"]
