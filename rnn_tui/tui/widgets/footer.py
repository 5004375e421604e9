"""The app's footer: compact below 100 columns so the screen keys still fit at 80×24."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

COMPACT_BELOW = 100


class AppFooter(Footer):
    """Footer that drops its padding and the palette hint on narrow terminals (SSH sessions are
    often 80 wide)."""

    DEFAULT_CSS = """
    /* A group's label ("screens") keeps a space before the next key when compact. */
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
