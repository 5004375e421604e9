"""The question asked when quitting while a run this app started is still training."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import ClassVar, Literal

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from rnn_tui.runs.process import TrainProcess
from rnn_tui.runs.rundir import RunError
from rnn_tui.tui.first_layout import FirstLayoutOnce
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.run_dialogs import HELP_KEY

QuitChoice = Literal["stop", "leave", "cancel"]


class QuitRunDialog(FirstLayoutOnce, ModalScreen[QuitChoice]):
    """Stop the run (checkpoint, then exit) / Leave it running / Cancel."""

    DEFAULT_CSS = """
    QuitRunDialog {
        align: center middle;
    }
    QuitRunDialog #quit-body {
        width: 60;
        max-width: 100%;
        height: auto;
        padding: 1 2;
        border: thick $error;
        background: $surface;
    }
    QuitRunDialog #quit-note {
        margin: 1 0;
        color: $text-muted;
    }
    QuitRunDialog #quit-buttons {
        height: auto;
    }
    QuitRunDialog #quit-buttons Button {
        width: 100%;
    }
    """

    LEAVE_ANSWER: QuitChoice = "cancel"  # a screen key (F2…) answers as escape does
    ASKS_QUIT = True  # ctrl+q does nothing more while this is asked (app.check_action)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "choose('cancel')", "Cancel"),
        Binding("s", "choose('stop')", "Stop", tooltip="stop the run: checkpoint, then quit"),
        Binding("l", "choose('leave')", "Leave running", tooltip="quit, the run keeps training"),
        HELP_KEY,
    ]

    GUIDE = """\
Quitting while a run this app started is still training.

- **s** stops it: the trainer saves a checkpoint, then the app quits.
- **l** leaves it running and quits: it keeps training on its own; reopen it from the Train
  screen's run list (o) to follow it again.
- **escape**, Cancel or a screen key (f2 … f8) keeps the app open and the run training.
"""

    def __init__(self, run_name: str, count: int = 1) -> None:
        """`run_name`: the run's folder name (several listed, `count` of them)."""
        super().__init__()
        self.run_name = run_name
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-body"):
            yield Static(
                f"The run {self.run_name} is still training. Quit anyway?"
                if self.count == 1
                else f"The runs {self.run_name} are still training. Quit anyway?",
                id="quit-question",
                markup=False,
            )
            yield Static(
                "A run left running keeps training; reopen it from the run list (o).\n"
                "Keys: s stop · l leave running · escape cancel · f1 help",
                id="quit-note",
                markup=False,
            )
            with Vertical(id="quit-buttons"):
                yield Button(
                    "Stop the run (checkpoint, then exit)"
                    if self.count == 1
                    else "Stop the runs (checkpoints, then exit)",
                    id="quit-stop",
                    variant="error",
                )
                yield Button(
                    "Leave it running" if self.count == 1 else "Leave them running",
                    id="quit-leave",
                    variant="primary",
                )
                yield Button("Cancel", id="quit-cancel")
        yield AppFooter()  # this dialog's keys, not those of the screen beneath

    def on_mount(self) -> None:
        self.query_one("#quit-cancel", Button).focus()
        self.app.clear_notifications()  # toasts lie over a dialog: at 80×24, over its buttons

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        choice = (event.button.id or "quit-cancel").removeprefix("quit-")
        self.dismiss(choice)  # type: ignore[arg-type]

    def action_choose(self, choice: QuitChoice) -> None:
        self.dismiss(choice)


def confirm_quit(app: App, process: TrainProcess | Sequence[TrainProcess | None] | None) -> bool:
    """While a trainer this app started (`process`, or any of several) is alive, ask whether to
    stop it or leave it running, then quit or not as answered; True: the question took over the
    quit."""
    several = process if isinstance(process, Sequence) else [process]
    alive = [p for p in several if p is not None and p.alive]
    if not alive:
        return False
    if not isinstance(app.screen, QuitRunDialog):
        paths = [p.path.name for p in alive]
        names = paths[0] if len(paths) == 1 else ", ".join(paths[:-1]) + " and " + paths[-1]
        app.push_screen(QuitRunDialog(names, len(alive)), partial(_answered, app, alive))
    return True


def _answered(app: App, alive: list[TrainProcess], choice: QuitChoice | None) -> None:
    if choice == "stop":
        for process in alive:
            try:
                process.request("stop")
            except RunError:
                process.terminate()
    if choice in ("stop", "leave"):
        app.exit()
