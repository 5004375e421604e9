"""What a trainer tells as it goes: events appended to metrics.jsonl, the status in
status.json, both also handed to the caller's `on_event` (the CLI's report, a benchmark).

A write the disk refuses is RunWriteError (write_errors.py); a run directory taken from under
the trainer (removed or replaced: RunDir.lost) is RunLost, checked before every write so that
nothing rebuilds a run without its config.json and lock. The status a run ends on is kept for
the summary even when it cannot be written.
"""

from __future__ import annotations

from collections.abc import Callable

from rnn_tui.train.task import RunSink
from rnn_tui.train.write_errors import RunLost, RunWriteError, writing


class RunRecorder:
    """Mixed into the Trainer: its writes of events and status."""

    run_dir: RunSink
    on_event: Callable[[dict], None] | None
    status: str
    message: str

    def _check_ours(self) -> None:
        """RunLost when the run directory is no longer this trainer's (RunDir.lost)."""
        if lost := self.run_dir.lost():
            raise RunLost(lost)

    def emit(self, event: str, **fields) -> None:
        self._check_ours()
        with writing("metrics.jsonl"):
            self.run_dir.log(event, **fields)
        if self.on_event is not None:
            self.on_event({"event": event, **fields})

    def _set_status(self, status: str, message: str = "", **fields) -> None:
        self._check_ours()
        with writing("status.json"):
            self.run_dir.set_status(status, message, **fields)
        self._report_status(status, message, **fields)

    def _report_status(self, status: str, message: str, **fields) -> None:
        """The status kept for the summary and told to the caller (written or not)."""
        self.status, self.message = status, message
        if self.on_event is not None:
            self.on_event({"event": "status", "status": status, "message": message, **fields})

    def _end_status(self, status: str, message: str) -> None:
        """The status a run ends on after an error: kept for the summary even when the disk
        refuses to record it (the error may be that very disk; the caller reports the message)."""
        try:
            self._set_status(status, message)
        except (RunWriteError, RunLost):
            self._report_status(status, message)


__all__ = ["RunRecorder"]
