"""A progress bar that repaints only when its progress changes.

Textual's ProgressBar recomputes its estimated time left once a second and repaints, whether it
shows the estimate or not: on the Train screen, a screen update a second of its own, on top of
the poll's, for as long as a run is followed (CPU that a trainer sharing the machine loses).
Every bar in the app hides the estimate (the Train header writes its own ETA), so here the
once-a-second tick does nothing unless the estimate is shown.
"""

from __future__ import annotations

from textual.widgets import ProgressBar


class StillProgressBar(ProgressBar):
    """ProgressBar whose argument-less `update()` (its once-a-second tick) is a no-op unless it
    shows the ETA."""

    def update(self, **changes) -> None:
        if not changes and not self.show_eta:
            return
        super().update(**changes)


__all__ = ["StillProgressBar"]
