"""Small questions about one run: a value to type (epochs to continue to, a new name), checked
before the dialog closes, and a yes/no before deleting."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from rnn_tui.quoting import plain
from rnn_tui.tui.first_layout import FirstLayoutOnce
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.text_field import TextField

DIALOG_CSS = """
{name} {{
    align: center middle;
}}
{name} #dialog-body {{
    width: 64;
    max-width: 100%;
    height: auto;
    padding: 1 2;
    border: thick {border};
    background: $surface;
}}
{name} #dialog-note {{
    margin: 1 0 0 0;
    color: $text-muted;
}}
{name} #dialog-error {{
    color: $text-error;
    height: auto;
}}
{name} #dialog-buttons {{
    height: auto;
    margin: 1 0 0 0;
}}
{name} #dialog-buttons Button {{
    width: 1fr;
}}
"""

# F1 is the app's priority key and reaches it over a dialog, but a modal screen's footer shows
# only its own bindings: bound here too, so the footer lists the help the dialog's text names.
HELP_KEY = Binding("f1", "app.help", "Help", tooltip="this dialog's keys and what it asks")


class AskDialog(FirstLayoutOnce, ModalScreen[str | None]):
    """A question with one text field: enter checks the text with `check` (None: fine, else
    the problem, shown under the field) and closes with it; escape closes with None."""

    DEFAULT_CSS = DIALOG_CSS.format(name="AskDialog", border="$primary")
    LEAVE_ANSWER = None  # a screen key (F2…) answers as escape does

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel"), HELP_KEY]

    GUIDE = """\
A question about one run, answered by typing: the epoch to continue it to, or its new name.

- **enter** checks the text: a problem is shown under the field and the dialog stays open; a
  good answer closes it and is acted on.
- **escape** closes it and changes nothing. A screen key (f2 … f8) does the same, then
  switches to that screen; **ctrl+q** quits.
"""

    def __init__(
        self, question: str, value: str, check: Callable[[str], str | None], note: str = ""
    ) -> None:
        super().__init__()
        self.question, self.value, self.check, self.note = question, value, check, note

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-body"):
            # A run's name may hold bytes that are not UTF-8, or control characters: shown safe.
            yield Static(plain(self.question, lines=True), id="dialog-question", markup=False)
            yield TextField(self.value, id="dialog-input", select_on_focus=True)
            yield Static("", id="dialog-error", markup=False)
            yield Static(
                plain(f"{self.note}enter: OK · escape: cancel · f1: help", lines=True),
                id="dialog-note",
                markup=False,
            )
        yield AppFooter()  # this dialog's keys, not those of the screen beneath

    @on(Input.Submitted, "#dialog-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self.check(event.value)
        if problem:
            self.query_one("#dialog-error", Static).update(plain(problem, lines=True))
            return
        self.dismiss(event.value.strip())

    def on_mount(self) -> None:
        self.app.clear_notifications()  # toasts lie over a dialog: at 80×24, over its field

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(FirstLayoutOnce, ModalScreen[bool]):
    """A yes/no question: y or the first button says yes; n, escape or the second, no."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog", border="$error")
    LEAVE_ANSWER = False  # a screen key (F2…) answers no

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
        HELP_KEY,
    ]

    GUIDE = """\
A yes/no question before a change that cannot be undone, such as deleting a run's folder.

- **y**, or the red button, says yes and does it.
- **n**, **escape** or Cancel says no and changes nothing. The focus starts on Cancel, so a
  stray enter says no. A screen key (f2 … f8) says no too, then switches to that screen;
  **ctrl+q** quits.
"""

    def __init__(self, question: str, yes: str, note: str = "") -> None:
        super().__init__()
        self.question, self.yes, self.note = question, yes, note

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-body"):
            # A run's name may hold bytes that are not UTF-8, or control characters: shown safe.
            yield Static(plain(self.question, lines=True), id="dialog-question", markup=False)
            yield Static(
                plain(f"{self.note}y: yes · n or escape: no · f1: help", lines=True),
                id="dialog-note",
                markup=False,
            )
            with Horizontal(id="dialog-buttons"):
                yield Button(self.yes, variant="error", id="dialog-yes")
                yield Button("Cancel", id="dialog-no")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#dialog-no", Button).focus()  # a stray enter cancels
        self.app.clear_notifications()  # toasts lie over a dialog: at 80×24, over its buttons

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "dialog-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
