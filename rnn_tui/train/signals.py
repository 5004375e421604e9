"""Turn SIGINT / SIGTERM / SIGHUP into a stop request the training loop polls between batches.

The first signal only sets the flag: the loop finishes its batch, writes the `last` checkpoint,
marks the run stopped and the process exits 128 + the signal number (130, 143, 129), as shells
and Lightning report it. A second SIGINT raises KeyboardInterrupt for someone who really wants out
(the checkpoint files are written atomically, so an interrupted save cannot corrupt them).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class StopRequest(threading.Event):
    """A threading.Event saying "stop after this batch", and why: `signum` is the signal that
    asked (None for a request from the UI's control file or from code)."""

    def __init__(self) -> None:
        super().__init__()
        self.signum: int | None = None

    def request(self, signum: int | None = None) -> None:
        if not self.is_set():
            self.signum = signum
        self.set()

    @property
    def exit_code(self) -> int:
        """128 + the signal number when a signal asked, else 0 (a requested stop is a success)."""
        return 128 + self.signum if self.signum is not None else 0


@contextlib.contextmanager
def stop_on_signals(stop: StopRequest) -> Iterator[StopRequest]:
    """Within the block, STOP_SIGNALS set `stop` (main thread only: Python delivers signals
    there); the previous handlers come back afterwards, but for SIGINT once a signal stopped
    the run: the process is ending, and a Ctrl+C pressed again during its teardown raised
    KeyboardInterrupt in an atexit callback, a traceback after the run had stopped cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.request(signum)

    previous = {}
    try:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, handler)
        yield stop
    finally:
        for signum, old in previous.items():
            if signum == signal.SIGINT and stop.signum is not None:
                signal.signal(signum, signal.SIG_IGN)
                continue
            # None: the old handler was not installed from Python; the default is the best guess.
            signal.signal(signum, old if old is not None else signal.SIG_DFL)


__all__ = ["STOP_SIGNALS", "StopRequest", "stop_on_signals"]
