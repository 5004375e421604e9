"""A steady estimate of the time a run has left, from the times of its events.

Seconds per epoch are the trainer's own: its epoch events carry an ETA from the session's
seconds per minibatch × an epoch's minibatches and its time between epochs (validation,
checkpoints; pauses left out), so the two agree. Epoch times are heavy-tailed (an epoch that
writes a checkpoint can take 5× the median), so where an event has no ETA the mean of the recent
epoch durations stands in, not their median, which runs 2–6× short. Before the first epoch
ends, the current epoch's pace from its latest step (this session's minibatches only: not those
a resumed session starts after). An epoch event's ETA is shown as is; each step's estimate only
moves the shown value part of the way (exponential smoothing), and between estimates the shown
value counts down with the clock; an estimate far from it (a break in the pace) replaces it.
"""

from __future__ import annotations

import statistics
from collections import deque

ETA_WINDOW = 20  # epoch durations the mean is taken over, where events carry no ETA
ETA_SMOOTHING = 0.3  # how far one new estimate moves the shown ETA
ETA_RESET = 0.5  # an estimate this far (relative) from the shown ETA replaces it


class Eta:
    """Seconds left, as of the time `at` (event times, in seconds)."""

    def __init__(self, window: int = ETA_WINDOW) -> None:
        self.durations: deque[float] = deque(maxlen=max(1, window))
        self.epoch_began: float | None = None
        self.began_at = 0.0  # the fraction of its epoch done when the session began
        self.per_epoch: float | None = None  # the trainer's mean epoch time, from its ETA
        self.exact = False  # the next estimate is the trainer's own: shown as is
        self.value: float | None = None
        self.at: float | None = None

    def session_started(self, t: float | None, resumed: object = None, batches: int = 0) -> None:
        """A new session (or a resume) begins: time spent before it is not epoch time, nor are
        the minibatches a resumed session starts after (its start event's `resumed` batch of
        `batches`) its pace: counted in, a resume late in an epoch ran the ETA 5× short."""
        self.epoch_began = t
        batch = resumed.get("batch") if isinstance(resumed, dict) else None
        known = isinstance(batch, int | float) and batches > 0
        self.began_at = min(1.0, max(0.0, batch / batches)) if known else 0.0

    def epoch_ended(
        self, t: float, trainer_eta: float | None = None, epochs_left: float = 0
    ) -> None:
        """An epoch event at `t`, with the ETA it carries and the epochs still to train."""
        if self.epoch_began is not None and t >= self.epoch_began and not self.began_at:
            self.durations.append(t - self.epoch_began)  # a whole epoch's, not a resumed part
        self.epoch_began, self.began_at = t, 0.0
        if trainer_eta is not None and trainer_eta >= 0 and epochs_left > 0:
            self.per_epoch = trainer_eta / epochs_left
            self.exact = True

    def seconds_per_epoch(self, t: float, fraction: float) -> float | None:
        """The trainer's mean epoch time, else the mean of the recent epoch durations, else
        the current epoch's pace (`fraction` of it done)."""
        if self.per_epoch is not None:
            return self.per_epoch
        if self.durations:
            return statistics.fmean(self.durations)
        done = fraction - self.began_at  # of the epoch, in this session
        if done > 0 and self.epoch_began is not None and t > self.epoch_began:
            return (t - self.epoch_began) / done
        return None

    def update(self, t: float, epochs_left: float, fraction: float) -> None:
        """A new estimate at time `t`, with `epochs_left` to go (the current one's `fraction`
        of it done)."""
        per_epoch = self.seconds_per_epoch(t, fraction)
        if per_epoch is None:
            return
        raw = max(0.0, epochs_left * per_epoch)
        counted_down = None
        if self.value is not None and self.at is not None:
            counted_down = max(0.0, self.value - max(0.0, t - self.at))
        exact, self.exact = self.exact, False
        if counted_down is None or exact or raw == 0.0 or abs(raw - counted_down) > ETA_RESET * raw:
            # First estimate, the trainer's own, the end, or a break in the pace: start over.
            self.value = raw
        else:
            self.value = counted_down + ETA_SMOOTHING * (raw - counted_down)
        self.at = t

    def left(self, now: float, paused: bool) -> float | None:
        """Seconds left at `now`: counting down, or frozen while paused. 0 while the run is
        still at work means the estimate ran out: the UI says "finishing", not "0s"."""
        if self.value is None or self.at is None:
            return None
        if paused:
            return self.value
        return max(0.0, self.value - max(0.0, now - self.at))


__all__ = ["ETA_RESET", "ETA_SMOOTHING", "ETA_WINDOW", "Eta"]
