"""The help screen: the keys of the screen it was opened from, and that screen's guide."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown, Static

from rnn_tui.tui.first_layout import FirstLayoutOnce
from rnn_tui.tui.widgets.footer import AppFooter

NAVIGATION_KEYS = [
    ("tab / shift+tab", "move the focus between controls, tabs and tables"),
    ("↑ ↓ pgup pgdn home end", "move in tables, lists and scrolling panes"),
    ("← →", "switch tabs when the tab row has the focus"),
    ("enter", "apply a typed value, open a drop-down"),
    ("escape", "leave a text field (its screen's keys work again), close a drop-down or this help"),
    ("ctrl+p", "command palette: type to find screens and actions"),
]

# Over a dialog: no tables, tabs or text fields to leave, only its field and buttons.
DIALOG_KEYS = [
    ("tab / shift+tab", "move the focus between the dialog's field and buttons"),
    ("enter", "press the focused button, or answer with the typed value"),
    ("ctrl+p", "command palette: type to find screens and actions"),
]

# Textual's own defaults (focus next/previous, copy) are covered by NAVIGATION_KEYS, and so
# are the palette and the screens' "leave field" escape (listed twice, worded two ways).
_DEFAULT_ACTIONS = {
    b.action for b in (*Screen.BINDINGS, *App.BINDINGS) if isinstance(b, Binding)
} - {"quit"} | {"command_palette", "leave_field", "app.command_palette"}


def key_rows(screen: Screen) -> list[tuple[str, str]]:
    """(keys, description) for the keys active on `screen`: the app's and the screen's own, and
    those the focused widget shows in the footer. Keys for one action share a row ("1 / f2"),
    described by the first of them. Over a dialog, the app's priority keys that work there too
    (a modal screen's active bindings leave them out, yet they reach the app: f1, the screen
    keys, ctrl+q)."""
    rows: dict[tuple[int, str], tuple[list[str], str]] = {}
    app = screen.app
    active = screen.active_bindings
    actives = list(active.values())
    if screen.is_modal:
        actives += [
            ActiveBinding(app, binding, True, binding.tooltip)
            for key, binding in app._bindings
            if binding.priority
            and key not in active  # the dialog binds it too, for its footer
            and app._check_action_state(binding.action, app)
        ]
    for active in actives:
        binding = active.binding
        if binding.system or not binding.description or binding.action in _DEFAULT_ACTIONS:
            continue
        if active.node not in (screen, screen.app) and not binding.show:
            continue
        key = binding.key_display or app.get_key_display(binding)
        what = binding.description + (f" — {binding.tooltip}" if binding.tooltip else "")
        keys, _ = rows.setdefault((id(active.node), binding.action), ([], what))
        if key not in keys:
            keys.append(key)
    navigation = DIALOG_KEYS if is_dialog(screen) else NAVIGATION_KEYS
    return [(" / ".join(keys), what) for keys, what in rows.values()] + navigation


def is_dialog(screen: Screen) -> bool:
    """A question over a screen, which a screen key answers as escape would (app.py)."""
    return hasattr(screen, "LEAVE_ANSWER")


def key_table(rows: list[tuple[str, str]]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1)
    for key, what in rows:
        table.add_row(Text(key), Text(what))
    return table


class HelpScreen(FirstLayoutOnce, ModalScreen[None]):
    """Keys and a short guide, over the screen it describes; escape, ? or F1 closes it, and a
    screen key (F2…, or its digit) closes it and switches (the app's `action_show_screen`)."""

    IS_HELP = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1,q", "dismiss", "Close help"),
    ]

    def __init__(self, screen: Screen, title: str) -> None:
        super().__init__()
        # A modal screen hides the app's plain keys: the digits it lists ("2 / f3") are bound
        # here too, for its footer as for the app's (the function keys are the app's priority
        # bindings and reach it anyway).
        for spec in getattr(screen.app, "screen_specs", ()):
            digit = spec.bindings()[0]
            self._bindings.key_to_bindings.setdefault(spec.key, []).append(
                replace(digit, action=f"app.{digit.action}")
            )
        self.rows = key_rows(screen)
        self._guide = getattr(screen, "GUIDE", "")
        self._title = title
        self._about = "What this dialog asks" if is_dialog(screen) else "What this screen shows"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = f"{self._title} — help (escape closes)"
            yield Static("Keys", classes="help-heading")
            yield Static(key_table(self.rows), id="help-keys")
            yield Static(self._about, classes="help-heading")
            yield Markdown(self._guide, id="help-guide")
        # The keys that work in the help, not those of the screen beneath (they do nothing).
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()
