"""Runs whose trainer died: status.json still says running or paused (a trainer killed by
`kill -9`, the OOM killer or a power cut writes nothing more), but no process trains the run.

Such a run is shown as "died", with the time of its last event, by `rnn-tui runs`, the app's run
list and the Train screen. Whether the trainer is gone is decided by the run's lock when it has
one (RunDir.trainer_alive: a held lock is a live trainer, even after its pid was reused), else by
the pid in status.json (runs written before runs were locked). "died" is never written to
status.json: it is what a reader concludes.
"""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

from rnn_tui.runs.format import fmt_time
from rnn_tui.runs.line_tail import parse_line
from rnn_tui.runs.rundir import RunDir

ACTIVE = ("running", "paused")  # statuses that say a trainer is at work
DIED = "died"
TAIL_BYTES = 16384  # the last events of a metrics.jsonl (a step line is ~250 bytes)


def is_dead(run: RunDir, status: str, pid: object) -> bool:
    """Whether the run's status says a trainer is at work but that trainer is gone. Cheap: an
    flock probe (or a kill(pid, 0)), and only for a running or paused run."""
    return status in ACTIVE and run.trainer_alive(pid) is False


def last_event_time(metrics: Path) -> float | None:
    """The "time" of the last complete event in a metrics.jsonl, reading only its tail; None
    when there is none (or the file is no regular file: a FIFO is never opened for reading)."""
    try:
        fd = os.open(metrics, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        data = os.pread(fd, TAIL_BYTES, max(0, st.st_size - TAIL_BYTES))
    except OSError:
        return None
    finally:
        os.close(fd)
    # The first line may be cut by the tail, the last one by a writer mid-append: neither parses.
    for line in reversed(data.split(b"\n")):
        event = parse_line(line)
        stamp = event.get("time") if event is not None else None
        if isinstance(stamp, int | float) and not isinstance(stamp, bool):
            return float(stamp)
    return None


def died_message(pid: object, last_event: float | None) -> str:
    """One line: which trainer is gone and when the run last wrote an event."""
    pid_known = isinstance(pid, int) and not isinstance(pid, bool)
    who = f"the trainer (process {pid})" if pid_known else "the trainer"
    when = fmt_time(last_event, "%Y-%m-%d %H:%M:%S")
    return f"{who} is gone; last event at {when}" if when != "—" else f"{who} is gone"


def killed_note(name: str, signum: int) -> str:
    """Why a trainer this app started ended without a word: the signal that killed it, and for
    SIGKILL what sends it unasked. Two word-level LSTMs of 12 GB each on a 24 GB machine: the
    kernel's out-of-memory killer took one, and the run was only said to have died."""
    try:
        which = signal.Signals(signum).name
    except ValueError:
        which = f"signal {signum}"
    note = f"{name}: its trainer was killed by {which}"
    if signum == getattr(signal, "SIGKILL", None):
        note += (
            ", which the system sends when memory runs out: a smaller model, --batch-size or "
            "vocabulary (--min-freq) needs less"
        )
    return note


def dead_run(run: RunDir, status: dict) -> str | None:
    """The died message of a run whose status.json (`status`) says running or paused but whose
    trainer is gone, else None. The time is the last event's in metrics.jsonl, else
    status.json's "updated"."""
    state, pid = status.get("status"), status.get("pid")
    if not isinstance(state, str) or not is_dead(run, state, pid):
        return None
    last = last_event_time(run.metrics_path)
    if last is None:
        last = status.get("updated")
    return died_message(pid, last)


def first_alive(entries: list[dict]) -> dict | None:
    """The first of `entries` (list_runs() rows) whose trainer holds its run's lock: a run
    training now, not one whose liveness is unknown (no lock, no pid). An flock probe each."""
    for entry in entries:
        if entry.get("status") in ACTIVE and RunDir(entry["path"]).trainer_alive() is True:
            return entry
    return None


__all__ = [
    "ACTIVE",
    "DIED",
    "dead_run",
    "died_message",
    "first_alive",
    "is_dead",
    "last_event_time",
]
