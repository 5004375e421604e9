"""How runs are written for people: durations, counts, metrics, BLEU, times, folders and text read
from a run folder (the Train screen's header, run list and notices; `rnn-tui runs`)."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

from rnn_tui.metrics.perplexity import FIXED_UNDER


def fmt_duration(seconds: float | None) -> str:
    """45s, 3m20s, 1h02m; "—" when unknown."""
    if seconds is None:
        return "—"
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def fmt_count(value: float | None) -> str:
    """950, 12.3k, 4.56M; "—" when unknown."""
    if value is None:
        return "—"
    # Rounded to its 3 digits first: 999.6 is 1k, not "1e+03" (and 999,600 is 1M).
    value = float(f"{value:.3g}")
    for unit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= unit:
            scaled = value / unit
            return f"{scaled:.3g}{suffix}" if abs(scaled) < 1000 else f"{scaled:,.0f}{suffix}"
    return f"{value:.3g}"


def fmt_number(value: float | None) -> str:
    """4 significant digits (a perplexity of 11.96, a loss of 2.472), whole numbers up to a
    million (1,234,567), then an exponent (a diverged run's 3.803e+295, not 296 digits); "—"
    when unknown."""
    if value is None:
        return "—"
    if abs(value) < 1000:
        return f"{value:.4g}"
    return f"{value:,.0f}" if abs(value) < FIXED_UNDER else f"{value:.3e}"


def fmt_mape(value: float | None) -> str:
    """A MAPE in percent without its sign: one decimal (12.3), two significant digits below 0.1
    (a near-perfect forecast's 7e-05 read 0.0, and two such "tied"), an exponent from a
    million on (a diverged one's 2.089e+14 took 18 digits); "—" when unknown or not finite."""
    if value is None or not math.isfinite(value):
        return "—"
    if abs(value) >= FIXED_UNDER:
        return f"{value:.3e}"
    return f"{value:.1f}" if value == 0 or abs(value) >= 0.1 else f"{value:.2g}"


def fmt_bleu(value: float | None) -> str:
    """BLEU on sacreBLEU's 0–100 scale with one decimal; "—" when unknown."""
    return "—" if value is None else f"{value:.1f}"


def fmt_time(stamp: object, spec: str = "%Y-%m-%d %H:%M") -> str:
    """A unix time as local time (`spec`); "—" when it is not a usable time (missing, not a
    number, or beyond what the platform's calendar can write, as a far-future mtime is)."""
    if not isinstance(stamp, int | float) or isinstance(stamp, bool) or not stamp:
        return "—"
    try:
        return datetime.fromtimestamp(stamp).strftime(spec)
    except (OverflowError, OSError, ValueError):
        return "—"


def fmt_folder(path: Path) -> str:
    """A folder relative to the working directory when it lies under it, else as given."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))  # "." for the directory itself
    except ValueError:
        return str(path)
