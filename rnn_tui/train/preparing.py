"""What a trainer reports while it prepares its data, before the first epoch: tokenizing an
uncached 100 MB corpus takes 5-30 s, and a command (or the app watching its log) that showed
nothing meanwhile looked hung. The command line installs a callback for the length of the
trainer's construction; a task hands `progress_for(name)` to the loader that takes the time.
A context variable, so that every task keeps its one constructor signature."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# (file name, done, total[, verb]); the verb is "tokenizing" unless said ("reading" a series);
# done == total: tokenized.
Report = Callable[..., None]
_REPORT: ContextVar[Report | None] = ContextVar("rnn_tui_preparing", default=None)


@contextmanager
def reporting(report: Report) -> Iterator[None]:
    """Send the preparation's progress to `report` for the duration."""
    token = _REPORT.set(report)
    try:
        yield
    finally:
        _REPORT.reset(token)


def progress_for(name: str, verb: str = "tokenizing") -> Callable[[int, int], None] | None:
    """A (done, total) callback for tokenizing (or `verb`) the file `name`, or None when nobody
    listens."""
    report = _REPORT.get()
    if report is None:
        return None
    if verb == "tokenizing":
        return lambda done, total: report(name, done, total)
    return lambda done, total: report(name, done, total, verb)


__all__ = ["Report", "progress_for", "reporting"]
