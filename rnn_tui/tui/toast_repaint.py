"""A toast's place repainted when it goes.

Textual's compositor keeps a map of where every widget is drawn; a layout that only scrolls
(a scroll to the end of the toast rack as a toast is shown, a run list scrolled) marks that map
stale, to be rebuilt at its next use. When a toast expires, its removal is that next use: the
map is rebuilt without the toast, so the layout that follows finds nothing changed where it was
drawn and never repaints there: its text stayed over the Forecast screen's plots until a resize.
The map is brought up to date here while the toast is still on the screen, just before its
removal; the layout after it then sees the toast gone and repaints its place.
"""

from __future__ import annotations

from textual.app import ScreenStackError
from textual.css.query import NoMatches
from textual.errors import NoWidget
from textual.notifications import Notification
from textual.widgets._toast import ToastRack


class ToastPlaceRepainted:
    """Mixed into the app, ahead of Textual's App in the bases."""

    def _unnotify(self, notification: Notification, refresh: bool = True) -> None:
        # Called by the toast as it expires or is clicked, just before it removes itself.
        try:
            screen = self.screen  # type: ignore[attr-defined]
            screen.find_widget(screen.get_child_by_type(ToastRack))  # the map, toast included
        except (ScreenStackError, NoMatches, NoWidget):
            pass  # no screen or no rack shown: nothing drawn to clear
        super()._unnotify(notification, refresh)  # type: ignore[misc]


__all__ = ["ToastPlaceRepainted"]
