"""The app's footer: compact below 100 columns so the screen keys still fit at 80×24, and
rebuilt only when what it shows changes."""

from __future__ import annotations

from collections.abc import Hashable

from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

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

    _shown: Hashable = None  # what the last rebuild showed (`shown_bindings`)

    def bindings_changed(self, screen: Screen) -> None:
        """Textual's Footer rebuilds all its keys whenever the focus moves (each new key
        restyled three times): 50–190 ms of a Tab between the Train form's fields, where the
        keys shown stay the same. Rebuilt only when they differ."""
        shown = shown_bindings(screen), self.show_command_palette
        if self._bindings_ready and shown == self._shown:
            return
        super().bindings_changed(screen)
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._shown = shown  # what Textual's rebuild (just scheduled) will show

    def compose(self) -> ComposeResult:
        """Textual's keys, those bound to the footer's compact setting born with it. A bound
        FooterKey starts compact and only then takes the footer's value, restyling itself on
        each change: two restyles per key of a wide footer, 25–30 ms of every rebuild (a tab
        switch on the Dataset screen). The palette key is not bound: it stays as Textual
        makes it."""
        for widget in super().compose():
            bound = getattr(widget, "_reactive_connect", None) or {}  # what data_bind set
            if isinstance(widget, FooterKey) and "compact" in bound:
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < COMPACT_BELOW
        self.compact = narrow
        # At 80 columns the screen's keys, the help and the screen keys take the whole line; the
        # palette (ctrl+p) is listed in the help instead of covering the line's end.
        self.show_command_palette = not narrow


def shown_bindings(screen: Screen) -> tuple:
    """What a Footer draws from the screen's active bindings: each shown binding's key,
    action, description, group, tooltip and whether it is enabled."""
    return tuple(
        (
            key,
            binding.action,
            binding.description,
            binding.key_display,
            binding.group,
            enabled,
            tooltip,
        )
        for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
        if binding.show
    )
