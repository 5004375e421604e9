"""Bounded plot series: a curve of any length kept as at most `capacity` averaged points.

The plot redraws every point on the UI thread (≈ 6 µs a point), so a run of a million steps
must not become a million points: consecutive points are averaged into buckets whose size
doubles whenever the buckets would exceed the capacity (≈ two points per plot column).
"""

from __future__ import annotations

import math

import numpy as np

from rnn_tui.quoting import plain, quoted

MAX_NOTES = 4  # an event's remarks kept (a task writes one or two at its start)
DEFAULT_CAPACITY = 512  # points kept per series: two per column of a 256-column plot


class BoundedSeries:
    """(x, y) points averaged into at most `capacity` buckets of equal size.

    Every bucket but the last holds `per_bucket` consecutive points; when the buckets would
    exceed `capacity`, neighbours merge pairwise and `per_bucket` doubles. Non-finite points
    are not kept (a NaN loss is reported through the run's status, not drawn).
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        if capacity < 2:
            raise ValueError(f"capacity must be at least 2, got {capacity}")
        self.capacity = capacity
        self.per_bucket = 1
        self.count = 0  # finite points appended
        self._sx: list[float] = []
        self._sy: list[float] = []
        self._n: list[int] = []

    def __len__(self) -> int:
        return len(self._n)

    def append(self, x: float, y: float) -> bool:
        """Add one point; False (nothing kept) when x or y is not a finite number."""
        if not (is_number(x) and is_number(y)):
            return False
        x, y = float(x), float(y)
        self.count += 1
        if self._n and self._n[-1] < self.per_bucket:
            self._sx[-1] += x
            self._sy[-1] += y
            self._n[-1] += 1
            return True
        self._sx.append(x)
        self._sy.append(y)
        self._n.append(1)
        if len(self._n) > self.capacity:
            self._merge_pairs()
        return True

    def rewind(self, x: float) -> None:
        """Forget the points past `x` (a resumed run trains them again). A bucket goes whole
        when its mean lies past `x`: the points before it in that bucket are not told apart."""
        while self._n and self._sx[-1] / self._n[-1] > x:
            self.count -= self._n.pop()
            self._sx.pop()
            self._sy.pop()

    def _merge_pairs(self) -> None:
        # Before an append every bucket but the last was full, so after the merge every bucket
        # but the last holds exactly 2 * per_bucket points and the last keeps filling.
        self._sx = [sum(self._sx[i : i + 2]) for i in range(0, len(self._sx), 2)]
        self._sy = [sum(self._sy[i : i + 2]) for i in range(0, len(self._sy), 2)]
        self._n = [sum(self._n[i : i + 2]) for i in range(0, len(self._n), 2)]
        self.per_bucket *= 2

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The bucket means as float arrays (x, y)."""
        n = np.asarray(self._n, dtype=float)
        if not len(n):
            return np.zeros(0), np.zeros(0)
        return np.asarray(self._sx) / n, np.asarray(self._sy) / n


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def number(value: object) -> float | None:
    return float(value) if is_number(value) else None


MAX_EPOCHS = 10**9  # past any run's epochs (1,000,000 at most)
# An epoch event's scores: (lowest, highest, the summary's field, which of two is better). A
# perplexity is exp(a cross-entropy), so at least 1; BLEU is in [0, 100], macro-F1 in [0, 1].
SCORES = {
    "val_ppl": (1.0, math.inf, "best_val_ppl", min),
    "bleu": (0.0, 100.0, "best_bleu", max),
    "rmse": (0.0, math.inf, "best_rmse", min),
    "macro_f1": (0.0, 1.0, "best_macro_f1", max),
}


def event_text(value: object) -> str:
    """A string read from a run as plain one-line text; "" when it is no string."""
    return plain(value) if isinstance(value, str) else ""


def int_or_none(value: object) -> int | None:
    return int(value) if is_number(value) else None


def event_notes(event: dict, told: tuple[str, ...] = (), key: str = "notes") -> tuple[str, ...]:
    """An event's `key` ("notes") as plain one-line texts, less those in `told`; MAX_NOTES at
    most."""
    notes = event.get(key)
    notes = [plain(n) for n in notes if isinstance(n, str)] if isinstance(notes, list) else []
    return tuple(n for n in notes if n not in told)[:MAX_NOTES]


def epoch_problem(event: dict) -> str | None:
    """Why an epoch event read from disk is not one a trainer could have written, else None:
    its epoch must be a whole number from 1, each score absent, null, not finite (a diverged
    epoch) or a number in its range. An edited `"val_ppl": -5` was listed as the run's best."""
    epoch = event.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= MAX_EPOCHS:
        return f'"epoch" is {quoted(epoch)}, not a whole number from 1'
    for key, (low, high, _, _) in SCORES.items():
        value = event.get(key)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            continue
        if not is_number(value) or not low <= value <= high:
            wanted = f"at least {low:g}" if high == math.inf else f"in [{low:g}, {high:g}]"
            return f'"{key}" is {quoted(value)}, not a number {wanted}'
    return None


def sound_epoch(event: dict) -> bool:
    """Whether an epoch event read from disk is one a trainer could have written
    (epoch_problem says why not)."""
    return epoch_problem(event) is None


__all__ = [
    "DEFAULT_CAPACITY",
    "SCORES",
    "BoundedSeries",
    "epoch_problem",
    "is_number",
    "number",
    "sound_epoch",
]
