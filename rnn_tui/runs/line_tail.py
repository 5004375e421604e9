"""Reading a metrics.jsonl as it grows: the complete lines appended since the last read, a piece
at a time, a half-written last line kept for the next read and an endless one skipped.

The follower of a live run (`MetricsTail`: every event) and the run list (runs/listing.py: epoch
lines only) read this way; a long run's 120 MB file is never held whole.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from rnn_tui import json_pieces
from rnn_tui.files import open_regular

HEAD_BYTES = 256
MAX_LINE_BYTES = 16 << 20  # an event is a few hundred bytes; a sample of long tokens, more


# Bytes of metrics.jsonl read at a time by a reader of a long run (~35k events).
READ_PIECE = 4 << 20


# Where an epoch line says what it is; the line around it is found by hand. Matching the whole
# line (`^[^\n]*…[^\n]*$`) backtracked over every step line: 80 ms a 4 MiB piece, in one C
# call that keeps every other thread (the app's event loop) waiting.
_EPOCH_MARK = re.compile(rb'"event"\s*:\s*"epoch"')


def epoch_lines(data: bytes, pos: int = 0) -> Iterator[bytes]:
    """Each line of `data` from `pos` (a line's start) that holds an epoch mark, once."""
    end = -1
    for match in _EPOCH_MARK.finditer(data, pos):
        if match.start() <= end:
            continue  # a second mark on a line already given
        start = data.rfind(b"\n", 0, match.start()) + 1
        end = data.find(b"\n", match.end())
        end = len(data) if end < 0 else end
        yield data[start:end]


class LineTail:
    """Incremental reader of the complete lines appended to a file (a metrics.jsonl).

    `read_lines()` returns the complete lines added since the previous call, as one block of
    bytes. A partial last line (the writer is mid-append) is kept for the next call; a line
    longer than MAX_LINE_BYTES is skipped (counted in `skipped`) as it arrives; a file that
    does not exist yet gives b""; a file that was truncated or replaced (a run directory reused)
    is read again from its start, after `reset()`. With `limit`, at most that many bytes are
    read, and `more` says whether the file had more.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.skipped = 0
        self.reset()

    def reset(self) -> None:
        self.more = False
        self._offset = 0
        self._partial = b""
        self._dropping = False  # inside a line longer than MAX_LINE_BYTES
        self._identity: tuple[int, int] | None = None
        self._head = b""

    def read_lines(self, limit: int | None = None) -> bytes:
        self.more = False
        try:
            f = open_regular(self.path)
        except OSError:
            return b""
        with f:
            st = os.fstat(f.fileno())
            identity = (st.st_dev, st.st_ino)
            # Started over when the file was truncated or replaced. A replacement may reuse the
            # inode number, so the first bytes read are compared too (the "start" event
            # carries its time, so a new run's file differs there).
            if self._offset and (
                identity != self._identity
                or st.st_size < self._offset
                or f.read(len(self._head)) != self._head
            ):
                self.reset()
            self._identity = identity
            f.seek(self._offset)
            data = f.read(-1 if limit is None else limit)
            self.more = limit is not None and self._offset + len(data) < st.st_size
        if self._offset == 0:
            self._head = data[:HEAD_BYTES]
        self._offset += len(data)
        if self._dropping:
            end = data.find(b"\n")
            data = b"" if end < 0 else data[end + 1 :]
            if end >= 0:
                self._dropping = False
                self.skipped += 1
        data = self._partial + data if self._partial else data
        end = data.rfind(b"\n") + 1
        block, self._partial = data[:end], data[end:]
        if len(self._partial) > MAX_LINE_BYTES:
            # No event is this long: the rest of the line is skipped as it arrives, not kept
            # (200 MB without a line end were held, and copied at every read).
            self._partial, self._dropping = b"", True
        return block


class MetricsTail(LineTail):
    """Incremental reader of a metrics.jsonl for the UI's timer: `read_new()` returns the events
    of the complete lines added since the previous call (LineTail); a malformed line is skipped
    and counted in `skipped`. Read with a `limit`, a long run's 120 MB of events are not parsed
    at once (they held 1.2 GB of dicts).
    """

    def read_new(self, limit: int | None = None) -> list[dict]:
        events = []
        for line in self.read_lines(limit).split(b"\n"):
            event = parse_line(line)
            if event is not None:
                events.append(event)
            elif line.strip():
                self.skipped += 1
        return events


def parse_line(line: bytes) -> dict | None:
    if not line.strip():
        return None
    try:
        obj = json_pieces.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


__all__ = [
    "HEAD_BYTES",
    "MAX_LINE_BYTES",
    "READ_PIECE",
    "LineTail",
    "MetricsTail",
    "epoch_lines",
    "parse_line",
]
