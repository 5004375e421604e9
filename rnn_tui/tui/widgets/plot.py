"""A small line plot on textual-plotext that every screen reuses (Zipf curves, training curves).

Two things plotext 5 gets wrong for us are handled here once:
- its log scale re-applies log10 to the stored data on every build, so we take log10 ourselves
  and label the ticks with the real values (1, 10, 100, 1000);
- the whole plot is rebuilt on every render (≈ 6 µs a point), so each series is decimated to
  about two points per column (braille has two sub-columns per cell) before it reaches plotext.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from textual import events
from textual_plotext import PlotextPlot

POINTS_PER_COLUMN = 2


@dataclass(frozen=True)
class Series:
    """One labelled curve: x and y in data units (the plot takes logs where asked)."""

    label: str
    x: Sequence[float] | np.ndarray
    y: Sequence[float] | np.ndarray
    color: str | None = None  # a plotext colour name ("cyan+", "orange", …); None: plotext's cycle


def decimate(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of x and y in each of `buckets` equal-width x intervals (empty ones dropped)."""
    if len(x) <= buckets or buckets < 1:
        return x, y
    lo, hi = float(x.min()), float(x.max())
    if hi == lo:
        return x[:1], y[:1]
    which = np.minimum(((x - lo) / (hi - lo) * buckets).astype(np.int64), buckets - 1)
    counts = np.bincount(which, minlength=buckets)
    keep = counts > 0
    mean_x = np.bincount(which, weights=x, minlength=buckets)[keep] / counts[keep]
    mean_y = np.bincount(which, weights=y, minlength=buckets)[keep] / counts[keep]
    return mean_x, mean_y


def format_power(exponent: int) -> str:
    """Tick label for 10**exponent: 1, 10, 100, 1000, 10k, 100k, 1M, … (0.1, 0.01 below 1)."""
    if exponent < 0:
        return f"{10.0**exponent:g}"
    value = 10**exponent
    for unit, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if value >= 10 * unit or (unit > 10**3 and value >= unit):
            return f"{value // unit}{suffix}"
    return str(value)


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Positions (log10 units) and labels of the decades covering [lo, hi] (log10 units)."""
    first, last = math.floor(lo), math.ceil(hi)
    exponents = list(range(first, last + 1)) or [first]
    return [float(e) for e in exponents], [format_power(e) for e in exponents]


_NICE_STEPS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0))


def nice_log_ticks(lo: float, hi: float, most: int = 6) -> tuple[list[float], list[str]]:
    """Ticks inside [lo, hi] (log10 units), labelled with the real values: decades over a wide
    range, else 1-2-5 values (finer when narrower): a perplexity axis from 4 to 30 gets 5, 10,
    20."""
    if hi < lo:
        lo, hi = hi, lo
    values: list[float] = []
    for steps in _NICE_STEPS[0 if hi - lo >= 1.5 else 1 :]:
        values = [
            m * 10.0**e
            for e in range(math.floor(lo) - 1, math.ceil(hi) + 1)
            for m in steps
            if lo <= math.log10(m * 10.0**e) <= hi
        ]
        if len(values) >= 2:
            break
    if len(values) < 2:
        values = [10.0**lo, 10.0**hi] if hi > lo else [10.0**lo]
    while len(values) > most:
        values = values[::2]
    return [math.log10(v) for v in values], [f"{v:.3g}" for v in values]


def nice_ticks(lo: float, hi: float, most: int = 7) -> list[float]:
    """Round tick values inside [lo, hi] (steps of 1, 2 or 5 × 10^k), at most `most` of them:
    0, 250, 500, 750 rather than plotext's 7.0, 253.8, 500.5."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(1, most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    digits = max(0, 1 - math.floor(math.log10(step)))
    ticks = [round(first + i * step, digits) for i in range(int((hi - first) // step) + 1)]
    ticks = [t for t in ticks if lo <= t <= hi]
    # A range narrower than one round step: its two ends.
    return ticks if len(ticks) >= 2 else [lo, hi]


class LinePlot(PlotextPlot):
    """Labelled line series with optional log10 axes, replotted on data change and resize."""

    def __init__(
        self,
        *,
        title: str = "",
        xlabel: str = "",
        ylabel: str = "",
        logx: bool = False,
        logy: bool = False,
        tight: bool = False,
        nice_x: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`tight`: log axes span the data (padded) with 1-2-5 ticks instead of whole decades
        (for values within a decade or two, such as perplexities); `nice_x`: a linear x axis
        gets round tick values (time steps)."""
        super().__init__(id=id, classes=classes)
        self.plot_title = title
        self.xlabel = xlabel
        self.ylabel = ylabel
        self.logx = logx
        self.logy = logy
        self.tight = tight
        self.nice_x = nice_x
        self._series: list[tuple[str, np.ndarray, np.ndarray, str | None]] = []

    def set_series(self, series: Sequence[Series]) -> None:
        """Replace every curve; values ≤ 0 are dropped on a log axis."""
        prepared = []
        for s in series:
            x = np.asarray(s.x, dtype=float)
            y = np.asarray(s.y, dtype=float)
            keep = np.isfinite(x) & np.isfinite(y)
            if self.logx:
                keep &= x > 0
            if self.logy:
                keep &= y > 0
            x, y = x[keep], y[keep]
            prepared.append(
                (
                    s.label,
                    np.log10(x) if self.logx else x,
                    np.log10(y) if self.logy else y,
                    s.color,
                )
            )
        self._series = prepared
        self.replot()

    @property
    def num_points(self) -> int:
        """Points handed to plotext at the current width (what one render costs)."""
        return sum(len(x) for x in self._decimated()[1])

    def _decimated(self) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
        buckets = max(8, self.size.width * POINTS_PER_COLUMN)
        labels, xs, ys = [], [], []
        for label, x, y, _ in self._series:
            dx, dy = decimate(x, y, buckets)
            labels.append(label)
            xs.append(dx)
            ys.append(dy)
        return labels, xs, ys

    def replot(self) -> None:
        """Rebuild plotext's data from the stored series, then repaint this widget."""
        plt = self.plt
        plt.clear_data()
        plt.title(self.plot_title)
        plt.xlabel(self.xlabel)
        plt.ylabel(self.ylabel)
        labels, xs, ys = self._decimated()
        colors = [color for *_, color in self._series]
        nonempty = [
            (lab, x, y, color)
            for lab, x, y, color in zip(labels, xs, ys, colors, strict=True)
            if len(x)
        ]
        for label, x, y, color in nonempty:
            extra = {"color": color} if color else {}
            plt.plot(x.tolist(), y.tolist(), label=label, marker="braille", **extra)
        if nonempty:
            all_x = np.concatenate([x for _, x, _, _ in nonempty])
            all_y = np.concatenate([y for _, _, y, _ in nonempty])
            if self.logx:
                room = max(2, self.size.width // 8)  # a label is up to 5 characters and a gap
                self._log_axis(plt.xticks, plt.xlim, float(all_x.min()), float(all_x.max()), room)
            elif self.nice_x:
                ticks = nice_ticks(float(all_x.min()), float(all_x.max()))
                plt.xticks(ticks, [f"{t:g}" for t in ticks])
            if self.logy:
                room = max(2, (self.size.height - 4) // 2)  # rows left by title and x axis
                self._log_axis(plt.yticks, plt.ylim, float(all_y.min()), float(all_y.max()), room)
        self.refresh()

    def _log_axis(self, set_ticks, set_limits, lo: float, hi: float, room: int) -> None:
        """Decade ticks (1-2-5 when `tight`), at most `room` labels."""
        if self.tight:
            pad = max(0.02, (hi - lo) * 0.05)
            ticks, tick_labels = nice_log_ticks(lo - pad, hi + pad)
            set_ticks(ticks, tick_labels)
            set_limits(lo - pad, hi + pad)
            return
        # Limits on the decades, so the first and last tick label are drawn.
        ticks, tick_labels = log_ticks(lo, hi)
        set_limits(ticks[0], ticks[-1])
        # More decades than rows for labels: plotext would pick which labels survive, and its
        # pick changes from one process to the next; every k-th decade is the same every time.
        step = math.ceil(len(ticks) / room)
        set_ticks(ticks[::step], tick_labels[::step])

    def on_resize(self, event: events.Resize) -> None:
        # The number of points kept depends on the width.
        self.replot()
