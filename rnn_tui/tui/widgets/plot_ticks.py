"""Tick positions and labels for the app's plots: round values, not plotext's 7.0, 253.8, 500.5.

On a log axis the plot holds log10 of the data (plotext 5 would re-apply its log on every
build), so these work in log10 units and label the ticks with the real values (1, 10, 100, 1k).
"""

from __future__ import annotations

import math

# Columns a plot's y tick labels and axis take at most ("1,257k┤", "0.2610┤") and a space each
# side of the title: plotext centres the title on the canvas right of them, and draws no title
# at all where it would not fit (at 80 columns "gradient norm (before clipping) (3/4, v: next)"
# left its plot untitled).
TITLE_MARGIN = 11


def fit_title(title: str, width: int) -> str:
    """`title` cut to what a plot `width` columns wide shows, its end kept when it is a bracketed
    note ("(3/4, v: next)", "(0: all)"): "gradient norm (befo… (3/4, v: next)"."""
    room = width - TITLE_MARGIN
    if len(title) <= room or room < 2:
        return title
    head, sep, note = title.rpartition(" (")
    if sep and title.endswith(")") and len(note) + 3 < room:
        return f"{head[: room - len(note) - 3]}… ({note}"
    return title[: room - 1] + "…"


def format_power(exponent: int) -> str:
    """Tick label for 10**exponent in a few characters: 1, 10, 100, 1000, 10k, … 100G, and
    0.1 … 0.0001 below 1; past those 1e+12, 1e-05 (a gradient's norms span 10^-162 to 10^154,
    and 10^33 written out in G was 34 characters that squeezed the plot away)."""
    if exponent > 11:
        return f"1e+{exponent}"
    if exponent < -4:  # written, not computed: 10.0**-330 is 0
        return f"1e-{-exponent:02d}"
    if exponent < 0:
        return f"{10.0**exponent:g}"
    value = 10**exponent
    for unit, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if value >= 10 * unit or (unit > 10**3 and value >= unit):
            return f"{value // unit}{suffix}"
    return str(value)


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Positions (log10 units) and labels of the decades covering [lo, hi] (log10 units): at
    least two, so the limits they set never meet (every count 1 is lo = hi = 0, and plotext
    divides by hi − lo)."""
    first = math.floor(lo)
    last = max(math.ceil(hi), first + 1)
    exponents = list(range(first, last + 1))
    return [float(e) for e in exponents], [format_power(e) for e in exponents]


def log_axis_ticks(lo: float, hi: float, room: int) -> tuple[list[float], list[str]]:
    """Every k-th decade over [lo, hi] (log10 units), k the least that keeps to `room` labels
    (at least 2): evenly spaced, the first and last of them the limits (the axis gains k − 1
    decades at most, above or below: 1 among the ticks where they allow). Indices spread "as
    evenly as whole steps allow" skipped one decade here and two there (1M, 10k, 1000, 10, …
    1e-10, 1e-11, 1e-13). Labelled alike: all as powers (1e+06 … 1e-14) where any must be."""
    first = math.floor(lo)
    last = max(math.ceil(hi), first + 1)  # two at least: limits that never meet
    span, most = last - first, max(2, room)
    step = max(1, math.ceil(span / (most - 1)))
    count = math.ceil(span / step)
    slack = count * step - span  # decades the axis gains below `first`
    top = next((last + o for o in range(slack + 1) if (last + o) % step == 0), last)
    exponents = [top - i * step for i in range(count + 1)][::-1]
    return [float(e) for e in exponents], power_labels(exponents)


def power_labels(exponents: list[int]) -> list[str]:
    """format_power of each, or, where that writes any of them as a power (1e-13), all of them
    so (1e+06, 1e+00): an axis that read 1M, 1000, 0.0001, 1e-06 changed its form halfway."""
    labels = [format_power(e) for e in exponents]
    if any("e" in label for label in labels):
        labels = [f"1e{e:+03d}" for e in exponents]
    return labels


_NICE_STEPS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0))


def nice_log_ticks(lo: float, hi: float, most: int = 6) -> tuple[list[float], list[str]]:
    """Ticks inside [lo, hi] (log10 units), labelled with the real values: decades over a wide
    range, else 1-2-5 values (finer when narrower): a perplexity axis from 4 to 30 gets 5, 10,
    20."""
    if hi < lo:
        lo, hi = hi, lo
    # Within float64's 10^±308: a diverged run's perplexity near e^709, padded, overflowed.
    lo, hi = min(max(lo, -300.0), 300.0), min(max(hi, -300.0), 300.0)
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
    labels = [value_label(v) for v in values]
    exponents = [round(math.log10(v)) for v in values]
    if any("e" in label for label in labels) and values == [10.0**e for e in exponents]:
        labels = [f"1e{e:+03d}" for e in exponents]  # alike: 1e+12 over 1e+06, not over 1M
    return [math.log10(v) for v in values], labels


def value_label(value: float) -> str:
    """A tick value in at most about five characters: 0.05, 20, 150, 1.5k, 20k, 3M (not 1e+03);
    from 10^12 on, 2e+15 (as format_power writes them: not 2e+06G)."""
    if value >= 1e12:
        return f"{value:.2g}"
    for unit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= unit:
            return f"{value / unit:.3g}{suffix}"
    return f"{value:.3g}"


def axis_label(value: float) -> str:
    """A round tick value as written (0.5, 250, 2000), shortened from 10,000 on (10k, 1.5M)."""
    return f"{value:g}" if abs(value) < 10_000 else value_label(value)


def axis_labels(ticks: list[float]) -> list[str]:
    """`axis_label` of each tick, with more digits where that makes two labels the same: ticks
    1e-6 apart on a series near 5 all read "5"."""
    labels = [axis_label(t) for t in ticks]
    for digits in (8, 10, 12, 15):
        if len(set(labels)) == len(labels):
            break
        labels = [f"{t:.{digits}g}" for t in ticks]
    return labels


def nice_ticks(lo: float, hi: float, most: int = 7) -> list[float]:
    """Round tick values inside [lo, hi] (steps of 1, 2, 2.5 or 5 × 10^k), at most `most` of
    them: 0, 250, 500, 750 rather than plotext's 7.0, 253.8, 500.5. Where the round steps
    that keep to `most` leave fewer than two ticks in range (-0.94 … 0.93 with two), the next
    finer step is taken (-0.5, 0, 0.5): a label is never a raw end such as 0.930763."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(1, most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    steps = [m * p for p in (power / 10, power, power * 10) for m in (1, 2, 2.5, 5)]
    coarse = sorted(step for step in steps if step >= raw)
    fine = sorted((step for step in steps if step < raw), reverse=True)
    for step in coarse[:1] + fine:
        first = math.ceil(lo / step) * step
        digits = max(0, 1 - math.floor(math.log10(step)))
        ticks = [round(first + i * step, digits) for i in range(int((hi - first) // step) + 1)]
        ticks = [t for t in ticks if lo <= t <= hi]
        if len(ticks) >= 2:
            every = max(1, math.ceil((len(ticks) - 1) / max(1, most - 1)))
            return ticks[::every]  # a finer step's ticks, thinned evenly to `most`
    return [lo, hi]  # a range narrower than a hundredth of the step asked for


__all__ = [
    "axis_label",
    "format_power",
    "log_axis_ticks",
    "log_ticks",
    "nice_log_ticks",
    "nice_ticks",
    "power_labels",
    "value_label",
]
