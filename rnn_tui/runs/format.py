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


# A first step this long is said: a 57M-parameter word model's took 8.7 s on two cores (timed
# in C and in torch first), a compilation can take a minute, and tokens/s shows "—" meanwhile.
FIRST_STEP_NOTE_S = 1.0
FIRST_STEP_WORK = {"CUDA graph": "capturing the step", "compiled": "compiling the step"}


def fmt_first_step(seconds: float | None, step_path: str | None) -> str:
    """ "first step: 8s" ("compiling the step: 40s" on that path) while a session's first
    step is slow to come (Snapshot.first_step_s); "" otherwise."""
    if seconds is None or seconds < FIRST_STEP_NOTE_S:
        return ""
    how = (step_path or "").split(" · ", 1)[0]  # the path planned, until confirmed
    return f"{FIRST_STEP_WORK.get(how, 'first step')}: {fmt_duration(seconds)}"


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


def fmt_file_name(value: object) -> str:
    """A file's name without its folders (a run saves the absolute path; the title row has
    room for the name), a bundled corpus's name as it is."""
    text = str(value)
    if text.startswith(("/dev/", "/proc/")):
        return text  # a pipe (/dev/fd/63): its name alone says nothing
    return text.rstrip("/").rsplit("/", 1)[-1] or text


def fmt_pairs(cfg: dict) -> str:
    """Where a seq2seq run's pairs come from and how many: "fra-eng 61.9k+6.88k pairs"."""
    source = fmt_file_name(cfg.get("pairs") or "?")
    train, val = cfg.get("train_pairs"), cfg.get("val_pairs")
    if isinstance(train, int) and isinstance(val, int):
        held = f"+{fmt_count(val)}" if val else ""
        return f"{source} {fmt_count(train)}{held} pairs"
    return source
