"""The app's footer: compact below 100 columns, fitted to one line with the help, screen and
explain keys always shown, and rebuilt only when what it shows changes."""

from __future__ import annotations

from collections.abc import Hashable

from textual import events
from textual._styles_cache import StylesCache
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

COMPACT_BELOW = 100
# The app's own keys, which work on every screen: kept when the line is too narrow for all.
GLOBAL_ACTIONS = ("help", "show_screen(", "toggle_explain")


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

    async def recompose(self) -> None:
        await super().recompose()
        self._drop_removed_keys()
        self.call_after_refresh(self._fit)

    def _drop_removed_keys(self) -> None:
        """Let the keys a rebuild removed be freed. Textual's `data_bind` lists each key in the
        footer's watchers of `compact` and drops the removed ones only when `compact` next
        changes, so until a resize across 100 columns every rebuild kept its old keys alive
        (about 14 a Dataset tab switch, with their styles and render caches: 2,300 objects that
        every full collection walked again). And a Textual cache of background styles (1,024
        entries, keyed by each widget's render cache) kept those caches and their lines."""
        for watchers in getattr(self, "__watchers", {}).values():
            watchers[:] = [(node, callback) for node, callback in watchers if not node._closing]
        StylesCache.get_inner_outer.cache_clear()

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < COMPACT_BELOW
        self.compact = narrow
        # At 80 columns the palette (ctrl+p) is listed in the help instead of covering the
        # line's end.
        palette_changed = self.show_command_palette == narrow
        self.show_command_palette = not narrow
        if palette_changed and self._bindings_ready and self.is_attached:
            # The palette key is added or dropped only by a rebuild (then fitted).
            self._shown = shown_bindings(self.screen), self.show_command_palette
            self.call_after_refresh(self.recompose)
            return
        for widget in self.children:
            widget.display = True  # measured again at the new width
        self.call_after_refresh(self._fit)

    def _fit(self, tries: int = 3) -> None:
        """Where the keys overflow the line (a screen with many keys at 80 columns), hide the
        screen's and the focused widget's keys from the right until it fits. The help, screen
        and explain keys stay: the help lists every key. Measured on the laid-out keys (each
        unit's own width, so a layout still pending elsewhere does not matter)."""
        if not self.is_attached:
            return
        units = footer_units(self)
        if not all(unit.laid_out for unit in units):
            if tries:
                self.call_after_refresh(self._fit, tries - 1)
            return
        room = self.size.width
        for palette in self.query(".-command-palette"):
            if palette.display:
                room -= palette.outer_size.width
        # The last key's last column is blank (its margin, or its description's padding): it
        # may go under the palette key or past the edge.
        overflow = sum(unit.width for unit in units) - 1 - room
        for unit in reversed(units):
            if overflow <= 0:
                break
            if not unit.is_global:
                unit.hide()
                overflow -= unit.width


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


class FooterUnit:
    """A key of the footer, or a group of keys with its label: shown or hidden together."""

    def __init__(self, widgets: list[Widget]) -> None:
        self.widgets = widgets
        keys = [w for w in widgets if isinstance(w, FooterKey)]
        keys += [key for w in widgets if isinstance(w, KeyGroup) for key in w.query(FooterKey)]
        self.is_global = any(key.action.startswith(GLOBAL_ACTIONS) for key in keys)
        # Columns taken in the line: the widgets and their margins (the footer's own children
        # have right margins only, so no two margins meet and collapse).
        self.width = sum(
            w.region.width + w.styles.margin.left + w.styles.margin.right for w in widgets
        )
        self.laid_out = all(w.region.width for w in widgets)

    def hide(self) -> None:
        for widget in self.widgets:
            widget.display = False


def footer_units(footer: Footer) -> list[FooterUnit]:
    """The footer's shown keys in line order, a group and the label after it as one unit (the
    palette key, docked right, is not one)."""
    units: list[list[Widget]] = []
    for widget in footer.children:
        if not widget.display or widget.has_class("-command-palette"):
            continue
        if isinstance(widget, FooterLabel) and units and isinstance(units[-1][-1], KeyGroup):
            units[-1].append(widget)
        else:
            units.append([widget])
    return [FooterUnit(widgets) for widgets in units]
