"""What part of a plot's data is drawn: decimation to the columns there are, and the zoomed and
panned view (the x range kept inside the data; the points just outside it kept, so a line runs to
the edges).
"""

from __future__ import annotations

import numpy as np


def decimate(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """About `buckets` points: each of `buckets` / 2 equal-width x intervals drawn by its lowest
    and highest y, at its first and last x (in the order the interval runs: a falling stretch
    from its highest), so the line spans every value the interval holds. Means flattened what
    matters: the seeds' noisy sine drew as a clean one and a gradient norm's spikes vanished.
    Empty intervals are dropped; x out of order (none of the plots here) falls back to means."""
    if len(x) <= buckets or buckets < 2:
        return x, y
    lo, hi = float(x.min()), float(x.max())
    if hi == lo:  # one x: its lowest and highest y
        return np.array([lo, lo]), np.array([float(y.min()), float(y.max())])
    if np.any(np.diff(x) < 0):
        return _means(x, y, buckets, lo, hi)
    pairs = buckets // 2
    edges = np.searchsorted(x, lo + (hi - lo) * np.arange(pairs) / pairs, side="left")
    starts = np.unique(edges)  # an empty interval starts where the next does
    ends = np.append(starts[1:], len(x)) - 1
    low = np.minimum.reduceat(y, starts)
    high = np.maximum.reduceat(y, starts)
    falling = y[starts] > y[ends]
    out_x = np.column_stack([x[starts], x[ends]]).ravel()
    out_y = np.column_stack([np.where(falling, high, low), np.where(falling, low, high)]).ravel()
    single = np.column_stack([np.zeros(len(starts), bool), starts == ends]).ravel()
    return out_x[~single], out_y[~single]  # an interval of one point draws it once


def _means(
    x: np.ndarray, y: np.ndarray, buckets: int, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of x and y in each of `buckets` equal-width x intervals (empty ones dropped)."""
    which = np.minimum(((x - lo) / (hi - lo) * buckets).astype(np.int64), buckets - 1)
    counts = np.bincount(which, minlength=buckets)
    keep = counts > 0
    mean_x = np.bincount(which, weights=x, minlength=buckets)[keep] / counts[keep]
    mean_y = np.bincount(which, weights=y, minlength=buckets)[keep] / counts[keep]
    return mean_x, mean_y


def zoomed(view: tuple[float, float], factor: float, at: float) -> tuple[float, float]:
    """`view` scaled by `factor` around the point `at` (which stays where it is on screen)."""
    lo, hi = view
    return at - (at - lo) * factor, at + (hi - at) * factor


def clamped(view: tuple[float, float], bounds: tuple[float, float]) -> tuple[float, float] | None:
    """`view` moved back inside `bounds` (same width), or None when it covers all of them."""
    lo, hi = view
    b_lo, b_hi = bounds
    width = hi - lo
    if width >= b_hi - b_lo:
        return None
    if lo < b_lo:
        lo, hi = b_lo, b_lo + width
    if hi > b_hi:
        lo, hi = b_hi - width, b_hi
    return lo, hi


# A span this small against the values is no variation but rounding: decimation's means of a
# constant loss differ in their last digits, and plotext then labelled its axis
# 5.633264859517507, 5.633264859517484, … and squeezed the plot beside the labels.
FLAT = 1e-9


def is_flat(lo: float, hi: float) -> bool:
    """Whether the range [lo, hi] is a single value up to rounding (lo = hi included)."""
    # A floor for values near 0, where a span of a few subnormals would overflow 1/(hi − lo).
    return not hi - lo > FLAT * max(abs(lo), abs(hi), 1e-280)


def apart(lo: float, hi: float) -> tuple[float, float]:
    """Axis limits lo < hi: a view of a flat series (every y the same) would set lo = hi, and
    plotext divides by hi − lo. Limits that meet, up to rounding (`is_flat`), are widened by 5 %
    of the value (or 0.5 at 0) around their middle."""
    if not is_flat(lo, hi):
        return lo, hi
    middle = (lo + hi) / 2
    pad = abs(middle) * 0.05 or 0.5
    return middle - pad, middle + pad


def visible(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The points with x in [lo, hi], plus the nearest one outside on each side (so the line
    runs to the edges of the view)."""
    inside = np.flatnonzero((x >= lo) & (x <= hi))
    before = np.flatnonzero(x < lo)
    after = np.flatnonzero(x > hi)
    keep = np.concatenate([before[-1:], inside, after[:1]]).astype(np.int64)
    keep.sort()
    return x[keep], y[keep]


View = tuple[float, float] | None  # a plot's x or y view (plot units); None: all of the data


def any_inside(x: np.ndarray, y: np.ndarray, x_view: View, y_view: View) -> bool:
    """Whether a point of the series lies inside the view (True without one)."""
    inside = np.ones(len(x), dtype=bool)
    for values, view in ((x, x_view), (y, y_view)):
        if view is not None:
            lo, hi = apart(*view)
            inside &= (values >= lo) & (values <= hi)
    return bool(inside.any())


def spans_view(x: np.ndarray, y: np.ndarray, x_view: View, y_view: View) -> bool:
    """Whether the series' x and y ranges both meet the view's (True without one)."""
    for values, view in ((x, x_view), (y, y_view)):
        if view is not None and len(values):
            lo, hi = apart(*view)
            if float(values.max()) < lo or float(values.min()) > hi:
                return False
    return True


__all__ = [
    "FLAT",
    "View",
    "any_inside",
    "apart",
    "clamped",
    "decimate",
    "is_flat",
    "spans_view",
    "visible",
    "zoomed",
]
