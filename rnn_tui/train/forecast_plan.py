"""What the forecast task checks of its options and series before training, without torch: the
trainer (tasks/forecast.py) and the Forecast screen's form call the same functions, so a form
that shows no problem starts runs the trainer accepts.

`plan_split` needs only the series' length (the form checks it as fields are typed);
`plan_transform` needs its values (log of values ≤ 0, differences or scaling past float64).
"""

from __future__ import annotations

import numpy as np

from rnn_tui.data.errors import DataError
from rnn_tui.data.series_files import SINE
from rnn_tui.data.series_transform import SeriesTransform
from rnn_tui.data.timeseries import ArSplit, ar_split
from rnn_tui.train.forecast_options import parse_horizons

SINE_NOISE = 0.2  # the seeds' N(0, 0.2)


def scaled(scale: str, series: str) -> bool:
    """Whether `--scale` standardises `series` (auto: off for the seeds' sine, on otherwise)."""
    return scale == "on" or (scale == "auto" and series != SINE)


def plan_split(
    points: int,
    *,
    tau: int,
    first: str,
    diff: bool,
    n_train: int,
    horizons: str,
    sine_length: int | None = None,
    name: str = "the series",
) -> tuple[tuple[int, ...], ArSplit]:
    """(horizons, split) of a series of `points` values (`sine_length`: the sine's T, whose auto
    n_train is the seeds' 60%); ValueError (a bad --horizons) or DataError, one line, else."""
    ks = parse_horizons(horizons)
    split = ar_split(
        points,
        tau,
        first,
        diff=diff,
        n_train=n_train,
        auto_train=round(0.6 * sine_length) if sine_length is not None else None,
        name=name,
    )
    # The longest horizon's first prediction starts k steps before the first held-out label.
    min_start = split.first_label - 1 if first == "drop" else 0
    if split.first_test - ks[-1] < min_start:
        raise DataError(
            f"horizon {ks[-1]} reaches back before the series' start from its first held-out "
            f"point (at most {split.first_test - min_start} here): lower --horizons"
        )
    return ks, split


def plan_transform(
    values: np.ndarray, split: ArSplit, *, log: bool, diff: bool, scale: bool
) -> tuple[SeriesTransform, np.ndarray]:
    """The transform fitted on the training part and the transformed series z; DataError, one
    line, when the values cannot be transformed (see SeriesTransform)."""
    transform = SeriesTransform.fit(values, split.first_test + (1 if diff else 0), log, diff, scale)
    return transform, transform.forward(values)


__all__ = ["SINE_NOISE", "plan_split", "plan_transform", "scaled"]
