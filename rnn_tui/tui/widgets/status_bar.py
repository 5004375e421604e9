"""A console's status line: what it is doing or has done, and a progress bar while it works.

Busy, the text turns the warning colour and the bar shows (indeterminate until a total is
known); idle, the bar hides and the text says how the last job ended.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from rnn_tui.tui.widgets.progress import StillProgressBar


class StatusBar(Horizontal):
    """Status text and progress bar; their ids are PREFIX-status and PREFIX-progress. `wrap`
    lets a long text take a second line instead of being cut."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
    }
    StatusBar.-wrap {
        height: auto;
        max-height: 2;
    }
    StatusBar > .status-text {
        width: 1fr;
        padding: 0 1;
        color: $text-accent;
    }
    StatusBar.-wrap > .status-text {
        height: auto;
    }
    StatusBar > .status-text.-busy {
        color: $text-warning;
    }
    StatusBar > ProgressBar {
        display: none;
        width: auto;
    }
    """

    def __init__(self, prefix: str, *, wrap: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="-wrap" if wrap else None)
        self._prefix = prefix

    def compose(self) -> ComposeResult:
        yield Static("", id=f"{self._prefix}-status", classes="status-text", markup=False)
        yield StillProgressBar(total=None, show_eta=False, id=f"{self._prefix}-progress")

    @property
    def text(self) -> str:
        """The status line's text."""
        return str(self.query_one(".status-text", Static).render())

    @text.setter
    def text(self, text: str) -> None:
        self.query_one(".status-text", Static).update(text)

    @property
    def busy(self) -> bool:
        return self.query_one(".status-text").has_class("-busy")

    def set_busy(self, busy: bool, total: int | None = None) -> None:
        """Show the bar (from 0 of `total`; None: indeterminate) and the busy colour, or hide
        both."""
        progress = self.query_one(ProgressBar)
        progress.display = busy
        if busy:
            progress.update(total=total, progress=0)
        self.query_one(".status-text").set_class(busy, "-busy")

    def advance(self, progress: float) -> None:
        """Move the bar to `progress` (of the total given to set_busy)."""
        self.query_one(ProgressBar).update(progress=progress)


__all__ = ["StatusBar"]
