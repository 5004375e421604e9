"""The app's footer: one line of keys drawn by one widget, compact below 100 columns, fitted to
the line with the help, screen and explain keys always shown.

Textual's Footer is a container of one widget per key, removed and mounted again whenever the
keys change: on the Dataset screen every tab switch (each tab's widget has its own keys) cost
two whole-screen layouts and ~75 key renders, 20–85 ms of held event loop each time. Here a
change of keys is a repaint of one line. It looks as Textual's does (the same theme variables,
padding and margins), so the keys read the same on every screen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from itertools import groupby

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.reactive import reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

COMPACT_BELOW = 100
# The app's own keys, which work on every screen: kept when the line is too narrow for all.
GLOBAL_ACTIONS = ("help", "show_screen(", "toggle_explain")
BORDER = "▏"  # left of the palette key (Textual's `vkey` border)


@dataclass(frozen=True)
class FooterKey:
    """One key as the footer shows it."""

    key: str
    display: str
    description: str
    action: str
    enabled: bool = True
    tooltip: str = ""


@dataclass(frozen=True)
class FooterUnit:
    """A key, or a group of keys with its label after them: shown or hidden together."""

    keys: tuple[FooterKey, ...]
    label: str | None = None  # a group's description
    compact_group: bool = False  # Binding.Group(compact=True): its keys drawn without gaps
    kept: bool = False  # one of the screen's FOOTER_KEPT: gives way after its other keys

    @property
    def is_global(self) -> bool:
        return any(key.action.startswith(GLOBAL_ACTIONS) for key in self.keys)


# A drawn piece: its text, which style it takes, and the key it belongs to (None: a gap).
Piece = tuple[str, str, FooterKey | None]


def footer_units(screen: Screen) -> tuple[list[FooterUnit], FooterKey | None]:
    """The screen's shown keys in line order, grouped as Textual's Footer groups them (one entry
    per action, the first binding's key; consecutive bindings of one group together), and the
    command palette's key."""
    app = screen.app
    active = screen.active_bindings
    kept_actions = getattr(screen, "FOOTER_KEPT", ())
    by_action: defaultdict[str, list[FooterKey]] = defaultdict(list)
    groups: dict[str, object] = {}
    for _, binding, enabled, tooltip in active.values():
        if not binding.show:
            continue
        key = FooterKey(
            binding.key,
            app.get_key_display(binding),
            binding.description,
            binding.action,
            enabled,
            tooltip or (binding.description if binding.group else ""),
        )
        by_action[binding.action].append(key)
        groups.setdefault(binding.action, binding.group)
    units: list[FooterUnit] = []
    for group, actions in groupby(by_action, key=groups.__getitem__):
        firsts = tuple(by_action[action][0] for action in actions)
        if group is not None and len(firsts) > 1:
            units.append(FooterUnit(firsts, group.description, group.compact))
        else:
            units.extend(FooterUnit((key,), kept=key.action in kept_actions) for key in firsts)
    palette = None
    if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
        _, binding, enabled, tooltip = active[app.COMMAND_PALETTE_BINDING]
        palette = FooterKey(
            binding.key,
            app.get_key_display(binding),
            binding.description,
            binding.action,
            enabled,
            binding.tooltip or binding.description,
        )
    return units, palette


def unit_pieces(unit: FooterUnit, compact: bool, condensed: bool = False) -> list[Piece]:
    """A unit's cells as Textual's Footer lays them out: a key ` k ` then `Description ` (wide)
    or `k Description` and a one-column margin (compact); a group's keys one column apart, its
    label and a margin after them. `condensed`: a group of three or more keys as its first and
    last, `1-7 screens` (each end still a click on its key)."""
    if condensed and unit.label is not None and len(unit.keys) > 2:
        first, last = unit.keys[0], unit.keys[-1]
        if not compact:  # ` 1-7 screens `, padded as a wide line's keys are
            return [
                (f" {first.display}", "key", first),
                ("-", "key", None),
                (f"{last.display} ", "key", last),
                (f"{unit.label} ", "label", None),
            ]
        return [
            (first.display, "key", first),
            ("-", "key", None),
            (last.display, "key", last),
            (" ", "gap", None),
            (unit.label, "label", None),
            (" ", "gap", None),
        ]
    if unit.label is None:
        (key,) = unit.keys
        if not key.description:
            return [(key.display, "key", key)] + ([(" ", "gap", None)] if compact else [])
        if compact:
            return [
                (key.display, "key", key),
                (f" {key.description}", "description", key),
                (" ", "gap", None),
            ]
        return [(f" {key.display} ", "key", key), (f"{key.description} ", "description", key)]
    pieces: list[Piece] = []
    if unit.compact_group:  # Textual's compact group: a column before it, its keys together
        pieces.append((" ", "gap", None))
        pieces.extend((key.display, "key", key) for key in unit.keys)
        pieces.append((" ", "gap", None))
    else:
        if not compact:
            pieces.append((" ", "gap", None))
        for key in unit.keys:
            pieces += [(key.display, "key", key), (" ", "gap", None)]
    return pieces + [(unit.label, "label", None), (" ", "gap", None)]


def palette_pieces(key: FooterKey, compact: bool) -> list[Piece]:
    """The palette key, docked right: a thin border, then the key drawn compact."""
    return [
        (BORDER, "border", None),
        (key.display, "key", key),
        (f" {key.description}", "description", key),
    ] + ([] if compact else [(" ", "gap", None)])


def width_of(pieces: list[Piece]) -> int:
    return sum(len(text) for text, _, _ in pieces)


def fit(units: list[FooterUnit], widths: list[int], room: int) -> list[bool]:
    """Which units show: where the line is too narrow, the screen's and the focused widget's
    keys give way from the right, those the screen keeps (FOOTER_KEPT: e.g. the key that
    shows the next plot where only one fits) last, at any width (from 100 to 109 columns they
    went first, on screens that showed one panel); the help, screen and explain keys stay (the
    help lists every key). The last unit's last column is a blank: it may go past the room."""
    shown = [True] * len(units)
    overflow = sum(widths) - 1 - room
    for kept in (False, True):
        for index in reversed(range(len(units))):
            if overflow <= 0:
                return shown
            if not units[index].is_global and kept == units[index].kept:
                shown[index] = False
                overflow -= widths[index]
    return shown


class AppFooter(Widget, can_focus=False):
    """The keys that work where the focus is, in one line. Compact (no padding, no palette
    key) below 100 columns, where SSH sessions often are; a key is run by a click."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "footer-key--key",
        "footer-key--description",
        "footer--label",
        "footer--border",
        "footer--hover",
    }
    DEFAULT_CSS = """
    AppFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer--label {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer--border {
            color: $foreground 20%;
        }
        .footer--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
    }
    """

    compact = reactive(False, toggle_class="-compact")
    show_command_palette = reactive(True)
    hover_key: reactive[FooterKey | None] = reactive(None)

    _shown: Hashable = None  # the bindings the keys were taken from (`shown_bindings`)
    _units: tuple[list[FooterUnit], FooterKey | None] = ([], None)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        """Take the screen's keys again when they differ from those drawn (a focus move that
        keeps them draws nothing). Not while the terminal has taken the app's focus away (as
        Textual's Footer): the app publishes again when it comes back."""
        if not (screen.app.app_focus and self.is_attached and screen is self.screen):
            return
        shown = shown_bindings(screen)
        if shown == self._shown:
            return
        self._shown = shown
        self._units = footer_units(screen)
        self.hover_key = None
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < COMPACT_BELOW
        self.compact = narrow
        # At 80 columns the palette (ctrl+p) is listed in the help instead of covering the
        # line's end.
        self.show_command_palette = not narrow

    def watch_hover_key(self, key: FooterKey | None) -> None:
        self.tooltip = key.tooltip if key is not None and key.tooltip else None

    def layout(self) -> tuple[list[tuple[int, list[Piece]]], list[FooterUnit]]:
        """The pieces drawn, each run of them with the column it starts at, and the units
        hidden to make the line fit."""
        units, palette = self._units
        width = self.size.width
        runs: list[tuple[int, list[Piece]]] = []
        room = width
        if palette is not None and self.show_command_palette:
            pieces = palette_pieces(palette, self.compact)
            room -= width_of(pieces)
            runs.append((room, pieces))
        unit_runs = [unit_pieces(unit, self.compact) for unit in units]
        shown = fit(units, [width_of(pieces) for pieces in unit_runs], room)
        if not all(shown):  # room for more keys: `1-7 screens`
            unit_runs = [unit_pieces(unit, self.compact, condensed=True) for unit in units]
            shown = fit(units, [width_of(pieces) for pieces in unit_runs], room)
        x, left = 0, []
        for pieces, show in zip(unit_runs, shown, strict=True):
            if show:
                left.append((x, pieces))
                x += width_of(pieces)
        hidden = [unit for unit, show in zip(units, shown, strict=True) if not show]
        return left + runs, hidden

    def keys(self) -> list[FooterKey]:
        """Every key the footer has for the screen, in line order (those that give way to fit
        included), the palette key last where it shows."""
        units, palette = self._units
        keys = [key for unit in units for key in unit.keys]
        return keys + ([palette] if palette is not None and self.show_command_palette else [])

    def shown_keys(self) -> list[tuple[int, int, FooterKey]]:
        """Each key drawn, with its first column and the column after its last."""
        spans: list[tuple[int, int, FooterKey]] = []
        for x, pieces in self.layout()[0]:
            for text, _, key in pieces:
                if key is not None and x < self.size.width:
                    if spans and spans[-1][2] is key and spans[-1][1] == x:
                        spans[-1] = (spans[-1][0], x + len(text), key)
                    else:
                        spans.append((x, x + len(text), key))
                x += len(text)
        return spans

    def key_at(self, x: int) -> FooterKey | None:
        for start, end, key in self.shown_keys():
            if start <= x < end:
                return key
        return None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        blank = Style(bgcolor=base.bgcolor)
        styles = {
            "key": self.get_component_rich_style("footer-key--key"),
            "description": self.get_component_rich_style("footer-key--description"),
            "label": self.get_component_rich_style("footer--label"),
            "border": self.get_component_rich_style("footer--border"),
            "gap": blank,
        }
        hover = self.get_component_rich_style("footer--hover")
        dim = Style(dim=True)
        segments: list[Segment] = []
        cursor = 0
        for x, pieces in self.layout()[0]:
            if x > cursor:
                segments.append(Segment(" " * (x - cursor), blank))
            elif x < cursor:  # the palette covers what runs under it
                segments = list(Strip(segments).crop(0, x))
            cursor = x
            for text, kind, key in pieces:
                style = styles[kind]
                if key is not None and key is self.hover_key:
                    style = style + Style(bgcolor=hover.bgcolor)
                if key is not None and not key.enabled:
                    style = dim + style
                segments.append(Segment(text, style))
                cursor += len(text)
        return Strip(segments).crop_extend(0, width, blank)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self.hover_key = self.key_at(event.x)

    def on_leave(self, event: events.Leave) -> None:
        self.hover_key = None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self.key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()


def shown_bindings(screen: Screen) -> tuple:
    """What the footer draws from the screen's active bindings: each shown binding's key,
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
