"""A costly widget's first draw waits for a screen update after the one that shows it.

Showing a Dataset tab for the first time lays out and draws every widget in it in one screen
update: the n-grams tab's three tables (8–16 ms each) and its Zipf plot (plotext, 25–38 ms) on
top of the layout held the event loop 100–150 ms, the Pairs tab's tables and histogram as long.
Drawn blank in that update and for real in later ones, the costly widgets get updates of their
own, and a key pressed meanwhile is handled in between. Tables wait one update, plots two: the
costlier part comes last, alone.
"""

from __future__ import annotations

from typing import ClassVar


class FirstDrawLater:
    """Mixin for a widget: `_first_draw_waits()` at the top of its render says whether to draw
    blank this time (its first draw, the real one scheduled `FIRST_DRAW_UPDATES` later)."""

    FIRST_DRAW_UPDATES = 1
    # Off: every widget draws in the update that shows it, as Textual's do. A harness that
    # reads a widget's lines right after showing it turns it off (tests/conftest.py).
    deferring: ClassVar[bool] = True
    _first_draw_done = False
    _first_draw_pending = False

    def _first_draw_waits(self) -> bool:
        if self._first_draw_done or not FirstDrawLater.deferring:
            return False
        if not self._first_draw_pending:
            self._first_draw_pending = True
            self.call_after_refresh(self._first_draw_after, self.FIRST_DRAW_UPDATES)  # type: ignore[attr-defined]
        return True

    def _first_draw_after(self, updates: int) -> None:
        if updates > 1:
            self.call_after_refresh(self._first_draw_after, updates - 1)  # type: ignore[attr-defined]
            return
        self._first_draw_done = True
        self.refresh()  # type: ignore[attr-defined]


__all__ = ["FirstDrawLater"]
