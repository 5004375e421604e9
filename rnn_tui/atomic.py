"""Crash-safe writes: a reader sees the old file or the new one, never half of either.

The recipe (docs/architecture.md, "The run directory"): write a temporary file in the same folder,
flush and fsync it, `os.replace` it over the target, then fsync the folder so the rename itself
survives a power cut. A rename without the fsyncs can still lose the file on a crash.

It sits below every layer (with `files` and `options`): run directories, checkpoints and the
token cache of `data` all write through it. No torch here.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    """The process's umask: read from /proc (Linux), else set and put back at once (the only
    portable way, done once, at import)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# New files get the permissions an ordinary `open(..., "w")` gives them, the user's umask
# applied (077 keeps checkpoints private); mkstemp alone would leave them owner-only (0o600).
_NEW_FILE_MODE = 0o666 & ~_umask()


def fsync_dir(folder: str | os.PathLike) -> None:
    """Flush a folder's entries (a rename or a new file) to disk; a no-op where the platform
    cannot open a folder (Windows) or fsync it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Replace `path` with what `write` writes to the open binary file it is given, atomically;
    on any failure (of `write` too) the old file is left as it was and the temporary file is
    removed."""
    path = Path(path)
    folder = path.parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):
                mode = path.stat().st_mode & 0o777 if path.exists() else _NEW_FILE_MODE
                os.fchmod(f.fileno(), mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """`atomic_write` of `data`."""
    atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """`atomic_write_bytes` of `text` encoded as UTF-8 (newlines written as given)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def finite(obj):
    """`obj` with every float that is NaN or infinite as None, in its dicts, lists and tuples
    (as lists): JSON has no NaN, and a diverged forecast's errors wrote `NaN`, which strict
    readers (and rnn-tui's own) refuse."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: finite(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(value) for value in obj]
    return obj


def json_text(obj, **options) -> str:
    """json.dumps of `obj` with NaN and infinities written as null (see `finite`); the common
    case, with none, is one pass."""
    try:
        return json.dumps(obj, allow_nan=False, **options)
    except ValueError:
        return json.dumps(finite(obj), allow_nan=False, **options)


def dumps_json(obj) -> str:
    """The JSON text rnn-tui writes for a whole file: indent 2, keys in insertion order,
    non-ASCII kept readable, NaN and infinities as null, a trailing newline."""
    return json_text(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    """Write `obj` as JSON (see `dumps_json`) atomically."""
    atomic_write_text(path, dumps_json(obj))


def _last_byte(f) -> bytes | None:
    """The last byte of the open file `f`, None when it is empty or cannot seek."""
    try:
        end = f.seek(0, os.SEEK_END)
        if not end:
            return None
        f.seek(end - 1)
        return f.read(1)
    except OSError:
        return None


def append_jsonl(path: str | os.PathLike, obj) -> None:
    """Append `obj` as one JSON line and fsync, so an event a reader has seen survives a crash.

    `json.dumps` without indent escapes newlines inside strings, so the record is exactly one
    line; it is written with a single `write` call of the whole line, after a newline where
    the file's last line has none.
    """
    line = (json_text(obj, ensure_ascii=False) + "\n").encode("utf-8")
    with open(path, "ab+") as f:
        if _last_byte(f) not in (None, b"\n"):
            # A line cut short (a crash or a full disk mid-write) is ended first: this record
            # joined to it would be lost with it.
            line = b"\n" + line
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


__all__ = [
    "append_jsonl",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "dumps_json",
    "finite",
    "fsync_dir",
    "json_text",
]
