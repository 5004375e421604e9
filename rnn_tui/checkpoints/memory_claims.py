"""Memory that trainers on this machine were promised and have not taken yet.

A trainer checks that the memory its training needs is available before it builds its model
(train/prepare.check_memory). Two trainers started close together both saw the same free memory:
two word-level LSTMs over a 1.08M-word vocabulary (about 12 GB each) each saw 21 GB free, and
the kernel killed one in its first step with nothing said. So a trainer that passes the check
leaves a claim (its process and the bytes it needs) in a folder of this user's, and the check
counts what the others' claims have yet to take: their need less their resident memory, under
a lock, so that two checks cannot both count the same free memory. A claim stops counting when
its process is gone (it is removed then) or CLAIM_S after it was made, by when a trainer has long
reached its first step's peak (a first step over a million-word vocabulary took 73 s); an
estimate above what the run takes would otherwise hold memory back for the whole run.

Linux only (/proc tells whether a claim's process is a trainer and how much it holds); elsewhere
there are no claims and the check is the free memory alone, as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rnn_tui.atomic import atomic_write_text
from rnn_tui.checkpoints.memory import rss_bytes
from rnn_tui.files import open_regular
from rnn_tui.models.memory import size_text

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

CLAIM_S = 600.0
CLAIM_LIMIT = 4096  # bytes read of a claim file
# In a trainer's command line: python -m rnn_tui train, torchrun -m rnn_tui, rnn-tui train.
MARKS = (b"rnn_tui", b"rnn-tui")


@dataclass(frozen=True)
class Claim:
    pid: int
    need: int  # bytes its training needs (training_bytes' total)
    taken: int  # bytes it holds now (resident)

    @property
    def outstanding(self) -> int:
        return max(0, self.need - self.taken)


def claims_dir() -> Path:
    """This user's claims folder under the system's temporary folder."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"rnn-tui-{uid}" / "memory-claims"


class Claims:
    """The other trainers' live claims, and this process's own to record."""

    def __init__(self, folder: Path | None, others: list[Claim]) -> None:
        self.folder, self.others = folder, others

    @property
    def outstanding(self) -> int:
        return sum(c.outstanding for c in self.others)

    def describe(self) -> str:
        """ "1 other trainer here (process 123) has yet to take 11.9 GiB", for a refusal; "" when
        none has anything left to take."""
        waiting = [c for c in self.others if c.outstanding]
        if not waiting:
            return ""
        pids = ", ".join(str(c.pid) for c in waiting[:4])
        one = len(waiting) == 1
        who, process, has = (
            ("trainer", "process", "has") if one else ("trainers", "processes", "have")
        )
        return (
            f"{len(waiting)} other {who} here ({process} {pids}) {has} yet to take "
            f"{size_text(self.outstanding)}"
        )

    def record(self, need: int) -> None:
        """Leave this process's claim of `need` bytes (a claim that cannot be written is left
        out: the check stands on the free memory alone)."""
        if self.folder is None:
            return
        claim = json.dumps({"need": int(need), "time": time.time()})
        with contextlib.suppress(OSError):
            atomic_write_text(self.folder / f"{os.getpid()}.json", claim)


def _trainer(pid: int) -> bool:
    """Whether process `pid` lives and runs rnn-tui (a reused pid is not our claimant)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            line = f.read(4096)
    except OSError:
        return False
    return any(mark in line for mark in MARKS)


def _read(path: Path, now: float) -> Claim | None:
    """The claim in `path`, None for a claim that is stale, malformed or not a trainer's (the
    file is removed then, except a malformed one, left as it is)."""
    try:
        pid = int(path.stem)
    except ValueError:
        return None
    if pid == os.getpid():
        return None
    if not _trainer(pid):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    try:
        with open_regular(path) as f:
            data = json.loads(f.read(CLAIM_LIMIT))
        need, made = data["need"], data["time"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(need, int) or isinstance(need, bool) or need < 0:
        return None
    if not isinstance(made, int | float) or not now - CLAIM_S <= made <= now + 60:
        return None
    taken = rss_bytes(pid)
    return Claim(pid, need, taken) if taken is not None else None


def _own_folder(folder: Path) -> bool:
    """Make `folder` (mode 0700) and check it is a folder of this user's, not a link."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return stat.S_ISDIR(info.st_mode) and mine


@contextlib.contextmanager
def claiming(folder: Path | None = None) -> Iterator[Claims]:
    """The other trainers' claims, with the folder's lock held until the block ends (record
    this process's claim inside it). No claims where /proc or the folder is missing."""
    folder = claims_dir() if folder is None else folder
    if fcntl is None or not os.path.isdir("/proc/self") or not _own_folder(folder):
        yield Claims(None, [])
        return
    try:
        lock = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        yield Claims(None, [])
        return
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        now = time.time()
        others = [c for p in folder.glob("*.json") if (c := _read(p, now)) is not None]
        yield Claims(folder, others)
    finally:
        os.close(lock)  # and with it the lock


__all__ = ["CLAIM_S", "Claim", "Claims", "claiming", "claims_dir"]
