"""Reading a file the user named, or one found on disk, without hanging or exhausting memory.

Whatever rnn-tui reads from outside — a corpus, a file of sentence pairs, a checkpoint's JSON, a
run's config.json or status.json — goes through `read_bytes`, which:

- reads regular files and pipes only: a FIFO or `<(command)` works, but a character device
  (/dev/zero, /dev/urandom), a block device or a socket is refused before a byte is read;
- never reads more than a limit (`limit` bytes; a regular file larger than it is refused from
  its size, a pipe as soon as it passes it), so /dev/zero-like streams cannot fill the memory;
- never blocks: a pipe is read without blocking, waiting at most `first_data` seconds for its
  first byte (a FIFO nobody writes to is then refused, not waited on forever) and `idle`
  seconds between two chunks, and a reader that is told to stop (`cancelled()`) stops within
  a fraction of a second — so a worker reading a FIFO never keeps the app from exiting.

Every refusal is a FileProblem whose message is one line naming the file. The default limit
for user files (DEFAULT_LIMIT, 256 MiB) can be raised with $RNN_TUI_MAX_FILE_MB or the CLI's
--max-file-mb. Of the package, only rnn_tui.quoting (how a value is quoted) is imported: this
is the lowest layer, with rnn_tui.options.
"""

from __future__ import annotations

import errno
import os
import select
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from rnn_tui.quoting import quoted, unquoted

MIB = 2**20
LIMIT_ENV = "RNN_TUI_MAX_FILE_MB"
DEFAULT_LIMIT_MB = 256
MAX_LIMIT_MB = 1_000_000  # about 1 TB: a larger limit is no limit (--max-file-mb's range too)
FIRST_DATA_S = 30.0  # a pipe's first byte may take a while (a command starting up)
IDLE_S = 60.0  # …and a slow producer may pause between chunks
_POLL_S = 0.2  # how often a wait looks at `cancelled`
WAITING_NOTICE_S = 1.0  # a pipe silent this long at first is said to be waited on
_CHUNK = 1 << 20


class FileProblem(ValueError):
    """A file cannot be read as asked; the message is one line naming it and why."""


def default_limit() -> int:
    """The size limit for user files in bytes: $RNN_TUI_MAX_FILE_MB, else 256 MiB (also when
    the variable holds no valid size: the CLI refuses that at its start, `limit_env_problem`)."""
    megabytes = _limit_env_mb()
    return int(megabytes * MIB) if megabytes is not None else DEFAULT_LIMIT_MB * MIB


def _limit_env_mb() -> int | None:
    text = os.environ.get(LIMIT_ENV, "").strip()
    if not text.isdecimal() or len(text) > len(str(MAX_LIMIT_MB)):
        return None
    megabytes = int(text)
    return megabytes if 1 <= megabytes <= MAX_LIMIT_MB else None


def limit_env_problem() -> str | None:
    """One line when $RNN_TUI_MAX_FILE_MB is set but is no size rnn-tui takes, else None: read
    silently as the default, a limit the user thought raised would refuse their file."""
    text = os.environ.get(LIMIT_ENV, "").strip()
    if not text or _limit_env_mb() is not None:
        return None
    return f"${LIMIT_ENV} must be an integer in [1, {MAX_LIMIT_MB:,}] (MiB) (got {quoted(text)})"


def set_default_limit(megabytes: int) -> None:
    """Raise (or lower) the limit for this process and the processes it starts."""
    os.environ[LIMIT_ENV] = str(int(megabytes))  # not "%g": 1,000,000 would be "1e+06"


_waiting_notice: Callable[[str], None] | None = None


def set_waiting_notice(notice: Callable[[str], None] | None) -> None:
    """Where a line goes when a pipe has sent nothing for WAITING_NOTICE_S (the CLI: its
    terminal's progress line), so that waiting up to `first_data` seconds for a FIFO's writer
    is not a silent hang; `notice("")` when that wait ends (data came, or the pipe is refused)."""
    global _waiting_notice
    _waiting_notice = notice


_this_thread = threading.local()


@contextmanager
def waiting_notice(notice: Callable[[str], None]) -> Iterator[None]:
    """`notice` in place of the process's for the reads this thread makes meanwhile: a screen
    reading a FIFO in a worker says so on its own status line, and two screens' workers
    reading at once each tell their own."""
    before = getattr(_this_thread, "notice", None)
    _this_thread.notice = notice
    try:
        yield
    finally:
        _this_thread.notice = before


def _size(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB"
    if n >= MIB:
        return f"{n / MIB:.1f} MiB"
    return f"{n:,} bytes"


def kind_of(mode: int) -> str:
    """What a file of `mode` is, in words ("a file", "a character device", …)."""
    return "a file" if stat.S_ISREG(mode) else _kind(mode)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    return "an unknown kind of file"


# What opening a path of the wrong kind as a plain file gives: a symlink refused by O_NOFOLLOW
# reads "Too many levels of symbolic links", a FIFO opened without a reader "No such device or
# address", a folder "Is a directory".
_KIND_ERRORS = {errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.ENOTDIR}


def wrong_kind(exc: OSError, path: str | os.PathLike | None) -> str:
    """ "NAME is a symbolic link, not a file (remove it)" where what stands at `path` is no
    plain file and that is why `exc` was raised; "" otherwise."""
    if path is None or exc.errno not in _KIND_ERRORS:
        return ""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return ""
    if stat.S_ISREG(mode):
        return ""
    kind = "a symbolic link" if stat.S_ISLNK(mode) else _kind(mode)
    return f"{Path(path).name} is {kind}, not a file (remove it)"


def expanded(path: str | os.PathLike) -> Path:
    """`path` with a leading ~ or ~user expanded as the shell does, and left as typed where that
    user (or the home folder) is unknown: pathlib's expanduser raises a RuntimeError there,
    which would reach the user as a traceback instead of "not found: ~nobody/x".

    A path that is not there as typed but is once unquoted (`unquoted`) is read unquoted: a file
    dragged into a terminal arrives as '/a/my file.txt', /a/my\\ file.txt or file:///a/my%20file.txt.
    """
    typed = os.fspath(path)
    found = os.path.expanduser(typed)
    if isinstance(typed, str) and not os.path.lexists(found):
        plain = unquoted(typed)
        if plain != typed and os.path.lexists(os.path.expanduser(plain)):
            return Path(os.path.expanduser(plain))
    return Path(found)


def home() -> Path | None:
    """The home folder, or None where it cannot be determined ($HOME unset, no passwd entry)."""
    found = os.path.expanduser("~")
    return None if found.startswith("~") else Path(found)


def owner_note(path: str | os.PathLike, exc: BaseException) -> str:
    """For a permission error at `path`: " (owned by NAME)" when another user owns it, so that
    "Permission denied" on someone else's run says why; "" otherwise."""
    if getattr(exc, "errno", None) not in (errno.EACCES, errno.EPERM):
        return ""
    try:
        uid = os.stat(path).st_uid
    except (OSError, ValueError):
        return ""
    if not hasattr(os, "geteuid") or uid == os.geteuid():
        return ""
    try:
        import pwd

        name = pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        name = f"user id {uid}"
    return f" (owned by {name})"


def look(path: str | os.PathLike, what: str = "path") -> os.stat_result | None:
    """The path's stat (following links), or None when nothing is there; FileProblem, one line
    naming it, when it cannot be looked at: a folder on the way without permission, a name too
    long, a loop of links. (pathlib's exists() and is_dir() raise those as a traceback.)"""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise FileProblem(f"cannot look at {what} {path}: {exc.strerror or exc}") from None
    except ValueError:  # a NUL byte in the name
        raise FileProblem(f"{what} {path!r} holds a NUL character") from None


def is_folder(st: os.stat_result | None) -> bool:
    """True for `look`'s stat of a folder."""
    return st is not None and stat.S_ISDIR(st.st_mode)


def check_file(path: str | os.PathLike, what: str = "file") -> os.stat_result:
    """The file's stat if it is a regular file or a pipe; FileProblem (one line) otherwise."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise FileProblem(f"{what} not found: {p}") from None
    except NotADirectoryError:
        raise FileProblem(f"{what} not found: {p} (a part of the path is not a folder)") from None
    except OSError as exc:
        raise FileProblem(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        return st
    kind = _kind(st.st_mode)
    # Not "a text file": what is read may be tensors, and a folder is no file of any kind.
    hint = ", not a file" if stat.S_ISDIR(st.st_mode) else ", not a file rnn-tui can read"
    raise FileProblem(f"{what} {p} is {kind}{hint}")


def read_bytes(
    path: str | os.PathLike,
    *,
    limit: int | None = None,
    what: str = "file",
    first_data: float | None = None,
    idle: float | None = None,
    cancelled: Callable[[], bool] | None = None,
    limit_hint: str = f" (raise it with --max-file-mb or ${LIMIT_ENV})",
    pipes: bool = True,
) -> bytes | bytearray:
    """The bytes of a regular file or a pipe, at most `limit` of them (default_limit()); a
    regular file's come as the bytearray they were read into (no copy).

    FileProblem (one line) for a missing file, a directory, a device or a socket, a file larger
    than the limit, a pipe with no data within `first_data` seconds (FIRST_DATA_S) or none for
    `idle` seconds (IDLE_S), or a read that was cancelled. `pipes=False` refuses pipes too:
    files rnn-tui wrote itself, such as a run's config.json, are regular files, and a FIFO
    there is not waited on."""
    limit = default_limit() if limit is None else limit
    first_data = FIRST_DATA_S if first_data is None else first_data
    idle = IDLE_S if idle is None else idle
    p = Path(path)
    st = check_file(p, what)
    if not pipes and not stat.S_ISREG(st.st_mode):
        raise FileProblem(f"{what} {p} is a pipe (FIFO), not a regular file")
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise FileProblem(
            f"{what} {p} is {_size(st.st_size)}, more than the {_size(limit)} limit{limit_hint}"
        )
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise FileProblem(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            data = _read_regular(fd, limit)
        else:
            data = _read_pipe(fd, limit, first_data, idle, cancelled, f"{what} {p}")
    except OSError as exc:
        raise FileProblem(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if data is None:
        raise FileProblem(f"{what} {p} is larger than the {_size(limit)} limit{limit_hint}")
    return data


def regular_file_problem(path: str | os.PathLike, what: str = "file") -> str:
    """Why the file at `path` is not read whole as a regular file of at most default_limit()
    bytes, in read_bytes's words ("WHAT PATH is a pipe (FIFO), not a regular file", "… is
    380.0 MiB, more than the 256.0 MiB limit (…)"); "" when it is one, or cannot be looked at."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    if not stat.S_ISREG(st.st_mode):
        return f"{what} {path} is {_kind(st.st_mode)}, not a regular file"
    limit = default_limit()
    if st.st_size > limit:
        hint = f" (raise it with --max-file-mb or ${LIMIT_ENV})"
        return f"{what} {path} is {_size(st.st_size)}, more than the {_size(limit)} limit{hint}"
    return ""


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """`path` opened for binary reading if it is a regular file; OSError otherwise.

    Opening never blocks (a FIFO with no writer would block a plain `open`), and a FIFO,
    device or socket is an OSError like a missing file, so callers that skip unreadable files
    skip these too."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"{_kind(mode)}, not a regular file", str(path))
        # O_NONBLOCK changes nothing for a regular file; cleared all the same.
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_stream(fd: int, *, limit: int | None = None, what: str = "standard input") -> bytes:
    """Everything readable from an open descriptor (standard input), at most `limit` bytes.

    Blocking reads, as `cat` does: the stream is the user's own pipe or terminal. Bounded in
    memory: more than `limit` bytes is a FileProblem, not a MemoryError. A device other than a
    terminal (`< /dev/zero`) is refused before a byte is read, as a path to one is: it read
    256 MiB of zeros first, and then named the size limit."""
    limit = default_limit() if limit is None else limit
    chunks, total = [], 0
    try:
        mode = os.fstat(fd).st_mode
        if (stat.S_ISCHR(mode) and not os.isatty(fd)) or stat.S_ISBLK(mode):
            raise FileProblem(f"{what} is {_kind(mode)}, not text (a file, a pipe or a terminal)")
        while True:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileProblem(
                    f"{what} is larger than the {_size(limit)} limit (raise it with "
                    f"--max-file-mb or ${LIMIT_ENV})"
                )
    except OSError as exc:
        raise FileProblem(f"cannot read {what}: {exc.strerror or exc}") from None


def _read_regular(fd: int, limit: int) -> bytearray | None:
    # A chunk at a time onto one growing buffer: the kernel copies with the GIL released, and
    # each append holds it about a millisecond, so a thread reading 100 MB for the app never
    # stalls its event loop. (A buffer of the file's size is zero-filled first, 60–70 ms for
    # 100 MB with the GIL held; joining the chunks at the end is one long copy.) A file can
    # grow while it is read: at most limit + 1 bytes are read.
    buf = bytearray()
    while len(buf) <= limit:
        chunk = os.read(fd, min(_CHUNK, limit + 1 - len(buf)))
        if not chunk:
            break
        buf += chunk
    return None if len(buf) > limit else buf


def _read_pipe(
    fd: int,
    limit: int,
    first_data: float,
    idle: float,
    cancelled: Callable[[], bool] | None,
    label: str,
) -> bytes | None:
    chunks, total, started = [], 0, False
    opened = time.monotonic()
    deadline = opened + first_data
    notice = getattr(_this_thread, "notice", None) or _waiting_notice
    waiting = False  # the notice is given and not taken back
    try:
        while True:
            if cancelled is not None and cancelled():
                raise FileProblem(f"stopped reading {label}")
            wait = min(_POLL_S, max(0.0, deadline - time.monotonic()))
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                if notice and not started and not waiting:
                    if time.monotonic() - opened >= WAITING_NOTICE_S:
                        waiting = True
                        notice(f"waiting for {label} to send data (at most {first_data:g} s)")
                if time.monotonic() >= deadline:
                    if not started:
                        raise FileProblem(
                            f"no data from {label} within {first_data:g} s "
                            "(is anything writing to it?)"
                        )
                    raise FileProblem(f"{label} sent nothing for {idle:g} s; giving up")
                continue
            try:
                chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    continue
                raise
            if not chunk:
                # Readable and empty: the writer closed it (a FIFO nobody opened is not
                # readable).
                return b"".join(chunks)
            if waiting:
                waiting = False
                notice("")  # the data came: the wait is over
            started = True
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                return None
            deadline = time.monotonic() + idle
    finally:
        if waiting:
            notice("")  # refused or stopped: the error line follows alone


__all__ = [
    "DEFAULT_LIMIT_MB",
    "LIMIT_ENV",
    "FileProblem",
    "check_file",
    "is_folder",
    "kind_of",
    "limit_env_problem",
    "look",
    "default_limit",
    "open_regular",
    "read_bytes",
    "read_stream",
    "regular_file_problem",
    "set_default_limit",
    "set_waiting_notice",
    "waiting_notice",
]
