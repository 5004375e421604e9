"""What forecasters do to a series before a model sees it, and undo after: an optional log (for
variance that grows with the level), optional first differences (for a trend), and standard
scaling — every statistic fitted on the training part only, so nothing about the held-out tail
leaks into training.

    y_t = log x_t (or x_t);  d_t = y_t − y_{t−1} (or y_t);  z_t = (d_t − μ) / σ

A model predicts z; `levels` turns predicted paths of z back into the series' own units, adding
the differences up from the last observed level when differencing is on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnn_tui.data.errors import DataError

# The largest |z| handed to the models: they compute in float32, whose range ends at 3.4e38.
Z_LIMIT = 1e30


@dataclass(frozen=True)
class SeriesTransform:
    """log → difference → scale, fitted on x[:fit_end] (see the module docstring)."""

    log: bool
    diff: bool
    mean: float
    std: float
    # Scaling was asked of a training part with no spread: centred only (std is then 1).
    flat: bool = field(default=False, compare=False)

    @classmethod
    def fit(cls, x: np.ndarray, fit_end: int, log: bool, diff: bool, scale: bool):
        """Fitted on the first `fit_end` values of `x` (the training part)."""
        x = np.asarray(x, dtype=np.float64)
        if log and not np.all(x > 0):
            raise DataError("a log transform needs every value above 0 (turn --log off)")
        with np.errstate(over="ignore", invalid="ignore"):
            part = _detrend(x[:fit_end], log, diff)
            mean, std = _moments(part) if len(part) and scale else (0.0, 1.0)
        if len(part) < 1:
            raise DataError("the training part is too short to fit the scaling on")
        if not (np.all(np.isfinite(part)) and np.isfinite(mean) and np.isfinite(std)):
            raise DataError(
                "the series' values are too large to difference or scale in float64 "
                "(rescale the column, e.g. to thousands)"
            )
        # Flat means flat relative to the values' size, before differencing: an absolute floor
        # left a series of 1e-13 · sin unscaled (the models learnt the constant it looked
        # like), and the mean of the differences (about 0) blew float rounding up to ±1.
        with np.errstate(over="ignore", invalid="ignore"):
            size = float(np.abs(_detrend(x[:fit_end], log, False)).max(initial=0.0))
        flat = scale and not std > 1e-12 * max(abs(mean), size)
        return cls(log, diff, mean, 1.0 if flat else std, flat)

    def to_dict(self) -> dict:
        return {"log": self.log, "diff": self.diff, "mean": self.mean, "std": self.std}

    def forward(self, x: np.ndarray) -> np.ndarray:
        """z for the whole series: one value shorter than x when differencing (z[i] is the
        change from x[i] to x[i + 1])."""
        with np.errstate(over="ignore", invalid="ignore"):
            z = (_detrend(np.asarray(x, dtype=np.float64), self.log, self.diff) - self.mean) / (
                self.std
            )
        if not np.all(np.isfinite(z)):
            raise DataError(
                "the series' values are too large to difference or scale in float64 "
                "(rescale the column, e.g. to thousands)"
            )
        largest = float(np.abs(z).max(initial=0))
        if largest > Z_LIMIT:
            raise DataError(self._too_large(largest))
        return z

    def _too_large(self, largest: float) -> str:
        """Why z reaching `largest` cannot be trained on: the models' float32, not float64.
        Unscaled values were blamed on differencing or scaling that had not been done."""
        if (self.mean, self.std) == (0.0, 1.0) and not self.flat:
            done = "differenced" if self.diff else "as they are"
            return (
                f"the series' values, {done}, reach {largest:.3g}: too large for the models' "
                "float32 arithmetic unscaled (--scale auto or on standardises them)"
            )
        which = "centred" if self.flat else "scaled"
        return (
            f"the {which} series reaches {largest:.3g}: its held-out values lie too far outside "
            "the training part's for the models' float32 arithmetic (rescale the column, or "
            "move the split with --n-train)"
        )

    @property
    def offset(self) -> int:
        """How many values of x come before z[0]'s target: z[i] is about x[i + offset]."""
        return 1 if self.diff else 0

    def levels(self, paths: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        """Predicted paths of z, shape (N, k), in the series' units. `anchors[n]` is the last
        observed value of x before path n (used when differencing: the changes add up from
        it)."""
        y = np.asarray(paths, dtype=np.float64) * self.std + self.mean
        if self.diff:
            base = np.log(anchors) if self.log else np.asarray(anchors, dtype=np.float64)
            y = base[:, None] + np.cumsum(y, axis=1)
        return np.exp(y) if self.log else y

    def needed(self, k: int) -> slice:
        """The columns of a k-step path that its last level depends on: all of them when
        differencing (the changes add up), else the last alone (a million starts' 64-step
        paths are 512 MB as float64)."""
        return slice(0, k) if self.diff else slice(k - 1, k)


def _moments(part: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation, computed on the values divided by the largest of them: the
    squares of values near 1e-200 underflow to 0, and the series looked flat."""
    size = float(np.abs(part).max())
    if not 0 < size < 1e-100:  # as they are where the squares cannot underflow
        return float(part.mean()), float(part.std())
    unit = part / size
    return float(unit.mean()) * size, float(unit.std()) * size


def _detrend(x: np.ndarray, log: bool, diff: bool) -> np.ndarray:
    y = np.log(x) if log else x
    return np.diff(y) if diff else y


__all__ = ["SeriesTransform"]
