"""A run the disk refuses to write: one line naming the file and why, never a traceback.

A full disk, a file system remounted read-only or an I/O error is no bug of rnn-tui: the engine
wraps each of its writes (`writing("metrics.jsonl")`), and a refused write ends the run "failed"
with a message such as "disk full while writing metrics.jsonl: the last checkpoint is kept".
Checkpoints are written atomically, so the one on disk is the previous complete one.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_CAUSES = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EIO: "input/output error",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


class RunWriteError(Exception):
    """Writing `what` (a file of the run directory) failed with `cause` (an OSError)."""

    def __init__(self, what: str, cause: OSError):
        self.what = what
        self.cause = cause
        reason = _CAUSES.get(cause.errno) or cause.strerror or str(cause) or type(cause).__name__
        super().__init__(f"{reason} while writing {what}")


@contextmanager
def writing(what: str) -> Iterator[None]:
    """Turn an OSError raised inside into RunWriteError naming `what`."""
    try:
        yield
    except OSError as exc:
        raise RunWriteError(what, exc) from exc


class RunLost(Exception):
    """The run directory was taken from under the trainer (RunDir.lost says how): nothing more
    is written to it, not even the status."""


def failure_message(error: RunWriteError, checkpoints: Path) -> str:
    """The run's failed message: the error and what is left to resume from."""
    saved = any((checkpoints / f"{name}.json").exists() for name in ("last", "best"))
    kept = "the last checkpoint is kept" if saved else "no checkpoint was saved yet"
    return f"{error}: {kept}"


__all__ = ["RunLost", "RunWriteError", "failure_message", "writing"]
