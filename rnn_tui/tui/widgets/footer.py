"""The app's footer: compact below 100 columns so the screen keys still fit at 80×24."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

COMPACT_BELOW = 100


class AppFooter(Footer):
    """Footer that drops its padding on narrow terminals (SSH sessions are often 80 wide)."""

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
