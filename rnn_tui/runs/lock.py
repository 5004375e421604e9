"""The lock that says a trainer is at work in a run directory: an flock on DIR/trainer.lock.

A trainer takes it exclusively before it writes anything and holds it until it exits. The kernel
releases an flock when its process ends, however it ends (kill -9, a crash, the OOM killer), so
there is no stale lock to clean up, and a held lock means a live trainer even when the pid in
status.json has since been reused by another program. The holder writes its pid into the file
for the message that refuses a second trainer.

A follower asks whether the lock is held by taking it shared for an instant. A trainer claiming
the run at that very instant would see it taken, so a claim retries for a moment before giving
up: a follower's hold lasts microseconds, a trainer's the whole run.

No flock (Windows): `acquire` holds nothing and `held` knows nothing, so callers fall back to the
pid in status.json.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

CLAIM_WAIT_S = 0.5  # how long a claim retries a lock held for an instant
_RETRY_S = 0.02
# O_NONBLOCK: a FIFO planted under the lock's name must not hang the open; O_NOFOLLOW: a
# symlink must not send the write elsewhere.
_FLAGS = os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class LockTaken(Exception):
    """Another process holds the lock; `pid` is the holder's, when it wrote one."""

    def __init__(self, pid: int | None):
        super().__init__(pid)
        self.pid = pid


def _holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def _open(path: Path, flags: int) -> int:
    """An fd of the regular file `path` (OSError otherwise, ENOTSUP-like for a non-file)."""
    fd = os.open(path, flags | _FLAGS, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path.name} is not a regular file")
    return fd


def acquire(path: Path, wait: float = CLAIM_WAIT_S) -> int | None:
    """Take the lock at `path` exclusively (creating the file) and write this pid into it;
    returns the fd that holds it (close it to release), None where there is no flock.
    LockTaken when another process holds it; OSError when the file cannot be made or written."""
    fd = _open(path, os.O_RDWR | os.O_CREAT)
    if fcntl is None:
        os.close(fd)
        return None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTaken(_holder(fd)) from None
                time.sleep(_RETRY_S)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def held(path: Path) -> bool | None:
    """Whether a process holds the lock at `path` right now: None when there is no lock file
    (or no flock here) to tell, so the caller decides from something else."""
    if fcntl is None:
        return None
    try:
        fd = _open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(fd)  # also ends the instant's shared hold
    return False


def holder(path: Path) -> int | None:
    """The pid the lock's holder wrote into the file at `path`, if it can be read."""
    try:
        fd = _open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return _holder(fd)
    finally:
        os.close(fd)


def process_alive(pid: object) -> bool | None:
    """Whether the process `pid` (from status.json) still exists: None when `pid` is not a
    usable process id, so callers decide what an unknown trainer means for them."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


__all__ = ["CLAIM_WAIT_S", "LockTaken", "acquire", "held", "holder", "process_alive"]
