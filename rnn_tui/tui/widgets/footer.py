"""The app's footer: compact below 100 columns so the screen keys still fit at 80×24."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

COMPACT_BELOW = 100


class AppFooter(Footer):
    """Footer that drops its padding and the palette hint on narrow terminals (SSH sessions are
    often 80 wide)."""

    DEFAULT_CSS = """
    /* Compact: one space between a group's keys and around it ("? Help 1 2 3 4 screens e"),
    where Textual leaves two before the group and none after its label. */
    AppFooter.-compact FooterKey.-grouped {
        margin: 0 1 0 0;
    }
    AppFooter.-compact FooterLabel {
        margin: 0 1 0 0;
    }
    """

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < COMPACT_BELOW
        self.compact = narrow
        # At 80 columns the screen's keys, the help and the screen keys take the whole line; the
        # palette (ctrl+p) is listed in the help instead of covering the line's end.
        self.show_command_palette = not narrow
