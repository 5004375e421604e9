"""How often a live run's figures are computed again: at most once every VIEW_EVERY_S.

The Forecast screen turned a run's checkpoint into its figures after every epoch (a forward
pass over the whole series in a thread, then three plots rebuilt on the event loop). A forecast
epoch takes well under a second, so two runs training side by side redrew 2–3 times a second and
held the loop 350–600 ms in every second of the run; the Train screen's curves replot at most
every 2 s (widgets/train_curves.py PLOT_EVERY_S). The views of both runs are computed in the same
tick, so that they are drawn once; a run that ended is drawn at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

VIEW_EVERY_S = 2.0  # seconds between two views of one live run


class ViewPace:
    """Whether the views of live runs may be computed again now."""

    def __init__(
        self, every: float = VIEW_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.every = every
        self.clock = clock
        self._started: float | None = None

    def due(self) -> bool:
        """True (and the time noted) when VIEW_EVERY_S have passed since the previous views of
        live runs started, or none has. A run that ended is not paced: its view starts at once."""
        now = self.clock()
        if self._started is not None and now - self._started < self.every:
            return False
        self._started = now
        return True


__all__ = ["VIEW_EVERY_S", "ViewPace"]
