"""How often a live run's figures are computed again: at most once every VIEW_EVERY_S, and no
more often than their cost allows (VIEW_SHARE of one core).

The Forecast screen turned a run's checkpoint into its figures after every epoch (a forward
pass over the whole series in a thread, then three plots rebuilt on the event loop). A forecast
epoch takes well under a second, so two runs training side by side redrew 2–3 times a second and
held the loop 350–600 ms in every second of the run; the Train screen's curves replot at most
every 2 s (widgets/train_curves.py PLOT_EVERY_S). The views of both runs are computed in the same
tick, so that they are drawn once; a run that ended is drawn at once.

Every 2 s was still too often for a costly view: the two taggers' held-out views (the one-way
and the two-way model over the whole held-out text, hidden 256) took 0.9 s of CPU, so the
Classify screen used a quarter of a core and the taggers trained 14 % slower than beside no app
(bench_live_cost.py --task tag). The CPU the process spent from a round's start until its views
are drawn (`done`) now sets the next round's earliest start: cost / VIEW_SHARE after it. No
round starts while the last is still being drawn, since its cost is not known until then.
"""

from __future__ import annotations

import time
from collections.abc import Callable

VIEW_EVERY_S = 2.0  # seconds between two views of one live run
VIEW_SHARE = 0.04  # of one core, at most, for live runs' views (the live view's 5 % in all)
OPEN_LIMIT_S = 120.0  # a round never said done (its drawing dropped) is closed after this


class ViewPace:
    """Whether the views of live runs may be computed again now."""

    def __init__(
        self,
        every: float = VIEW_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        *,
        share: float = VIEW_SHARE,
        cpu: Callable[[], float] = time.process_time,
    ) -> None:
        self.every = every
        self.clock = clock
        self.share = share
        self.cpu = cpu
        self._started: float | None = None
        self._cpu_at_start: float | None = None
        self._spent = 0.0  # CPU seconds of the last round of views

    def gap(self) -> float:
        """Seconds from one round's start to the next: VIEW_EVERY_S, or longer for a round that
        cost more than VIEW_SHARE of that."""
        return max(self.every, self._spent / self.share)

    @property
    def open(self) -> bool:
        """Whether the last round's views are still being computed or drawn."""
        return self._cpu_at_start is not None

    def due(self) -> bool:
        """True (and the time noted) when the previous round of live runs' views is drawn and
        `gap()` has passed since it started, or there has been none. A run that ended is not
        paced: its view starts at once."""
        now = self.clock()
        if self.open:
            # Its cost is not known yet: a costly round drawn late must not start the next
            # one at the interval of the cheap round before it.
            started = self._started if self._started is not None else now
            if now - started < OPEN_LIMIT_S:
                return False
            self.done()
        if self._started is not None and now - self._started < self.gap():
            return False
        self._started = now
        self._cpu_at_start = self.cpu()
        return True

    def done(self) -> None:
        """The round's views are computed (or failed) and drawn: what they cost paces the next
        round."""
        if self._cpu_at_start is not None:
            self._spent = max(0.0, self.cpu() - self._cpu_at_start)
            self._cpu_at_start = None


__all__ = ["OPEN_LIMIT_S", "VIEW_EVERY_S", "VIEW_SHARE", "ViewPace"]
