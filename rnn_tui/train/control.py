"""Steering a run between minibatches: pause, resume and stop requests.

The app writes them to the run directory's control.json; signals (signals.py) set the same stop
flag. The engine asks `poll()` between minibatches — a stat of control.json at most every
CONTROL_POLL_S — and, while paused, waits here without training, polling for resume or stop.

Under torchrun `pending_command` is a collective (distributed.py `Distributed.agreed`): every
rank gets rank 0's request and the agreed stop flag, so the engine polls only where every rank
polls (forced, at the ranks' agreement points), and the ranks pause and leave a pause together,
still answering each other at every poll of the pause.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

CONTROL_POLL_S = 0.25  # how often the loop stats control.json
PAUSE_POLL_S = 0.2


class RunControl:
    """The stop flag and the control-file requests of one training session.

    `set_status(status, message)` reports "paused" / "running"; `where()` says where the run
    is ("epoch 3/50") for those messages.
    """

    def __init__(
        self,
        pending_command: Callable[[], str | None],
        stop: threading.Event,
        set_status: Callable[[str, str], None],
        where: Callable[[], str],
    ) -> None:
        self.pending_command = pending_command
        self.stop = stop
        self.set_status = set_status
        self.where = where
        self.reason: str | None = None  # "requested" once the control file asked for a stop
        self.next_poll = 0.0

    def due(self) -> bool:
        return time.perf_counter() >= self.next_poll

    def poll(self, force: bool = False) -> float:
        """Obey a command in control.json; return the seconds spent paused."""
        now = time.perf_counter()
        if not force and now < self.next_poll:
            return 0.0
        self.next_poll = now + CONTROL_POLL_S
        command = self.pending_command()
        if command == "stop":
            self.request_stop()
        elif command == "pause":
            return self._pause()
        return 0.0

    def request_stop(self) -> None:
        self.reason = "requested"
        request = getattr(self.stop, "request", None)
        if callable(request):
            request(None)
        else:
            self.stop.set()

    def _pause(self) -> float:
        started = time.perf_counter()
        self.set_status("paused", f"paused in {self.where()}")
        while True:
            # Left only on what a poll returned, the stop flag included: under torchrun that is
            # what every rank got alike (a signal may reach one rank between two polls).
            command = self.pending_command()
            if command == "stop":
                self.request_stop()
            if self.stop.is_set():
                break
            if command == "resume":
                self.set_status("running", self.where())
                break
            self.stop.wait(PAUSE_POLL_S)
        return time.perf_counter() - started


__all__ = ["CONTROL_POLL_S", "PAUSE_POLL_S", "RunControl"]
