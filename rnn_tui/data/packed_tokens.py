"""Millions of distinct tokens held as one UTF-8 blob, for reading a few of them back.

A str object costs ~50 bytes beyond its characters, and a list or TokenList 8 more for the
pointer: `rnn-tui stats` on 100 MB of 6.6M distinct words held 400 MB of them while it counted
the n-grams, which are counted on ids and need the tokens only to print the top rows. Packed,
the same tokens take a byte a character and 8 bytes an offset (~90 MB), and the strings' memory
goes back to the system before the n-gram counters take theirs.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rnn_tui.data.token_list import PIECE, TokenList, let_others_run

GATHER_BYTES = 1 << 22  # bytes gathered by an index each at once (8 bytes an index)
# Bytes `find` searches per call: the blob of 17.6M distinct words searched whole for `<unk>`
# (not there: to its end) held the GIL for ~50 ms, twice as the Dataset screen built the Vocab.
FIND_BYTES = 1 << 23
# Ends each token in the blob. No token holds it: a text with a NUL is refused as binary
# (rnn_tui.data.decoding), and `packed` checks anyway.
_END = "\0"


class PackedTokens(Sequence[str]):
    """A read-only sequence of tokens stored as UTF-8 bytes, each followed by a NUL byte. A
    slice is a view of the same bytes; `take` gathers tokens into a new one."""

    __slots__ = ("_blob", "_ends", "_begin")

    def __init__(self, blob: bytes | bytearray, ends: np.ndarray, begin: int = 0) -> None:
        self._blob = blob
        self._ends = ends  # the offset of each token's NUL byte in `blob`
        self._begin = begin  # where the first token starts in `blob`

    def __len__(self) -> int:
        return len(self._ends)

    def _start(self, i: int) -> int:
        return int(self._ends[i - 1]) + 1 if i else self._begin

    def __getitem__(self, index: Any) -> Any:  # int -> str, slice -> PackedTokens
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            stop = max(start, stop)
            return PackedTokens(self._blob, self._ends[start:stop], self._start(start))
        i = operator.index(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("token index out of range")
        return self._blob[self._start(i) : int(self._ends[i])].decode("utf-8", "surrogatepass")

    def strings(self, start: int, stop: int) -> list[str]:
        """`list(self[start:stop])` by one decode and split of their bytes: a token at a time
        took ~1 µs each (the cache's JSON of 17.6M tokens that need escapes: 16 s)."""
        if stop <= start:
            return []
        return self.utf8(start, stop)[:-1].decode("utf-8", "surrogatepass").split(_END)

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), PIECE):
            yield from self.strings(start, min(start + PIECE, len(self)))

    def tolist(self) -> list[str]:
        return list(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        if len(other) != len(self):
            return False
        return all(
            self.strings(start, min(start + PIECE, len(self))) == list(other[start : start + PIECE])
            for start in range(0, len(self), PIECE)
        )

    __hash__ = None  # type: ignore[assignment]

    def find(self, token: str) -> int:
        """The first index of `token`, or -1 (its bytes between two NULs, or first)."""
        if _END in token:  # no packed token holds one, and its bytes could span two
            return -1
        data = token.encode("utf-8", "surrogatepass") + b"\0"
        end = int(self._ends[-1]) + 1 if len(self) else self._begin
        if self._blob.startswith(data, self._begin):
            return 0
        needle, start, window = b"\0" + data, self._begin, max(1, int(FIND_BYTES))
        while start < end:  # a window at a time: the GIL is handed over between them
            # A match starting in [start, start + window) lies whole before `stop`.
            at = self._blob.find(needle, start, min(start + window + len(needle) - 1, end))
            if at >= 0:
                return int(np.searchsorted(self._ends, at)) + 1
            start += window
        return -1

    def take(self, positions: np.ndarray, head: Sequence[str] = ()) -> PackedTokens:
        """`head` (a few tokens), then the tokens at `positions` (an integer array), packed."""
        positions = np.asarray(positions, dtype=np.int64)
        blob = bytearray((_END.join(head) + _END).encode("utf-8", "surrogatepass") if head else b"")
        ends = np.empty(len(head) + len(positions), dtype=np.int64)
        ends[: len(head)] = np.flatnonzero(np.frombuffer(bytes(blob), dtype=np.uint8) == 0)
        data = np.frombuffer(self._blob, dtype=np.uint8)
        for start in range(0, len(positions), PIECE):
            chosen = positions[start : start + PIECE]
            lasts = self._ends[chosen]
            firsts = np.where(chosen > 0, self._ends[np.maximum(chosen - 1, 0)] + 1, self._begin)
            piece, nuls = gather(data, firsts, lasts - firsts)
            at = len(head) + start
            ends[at : at + len(nuls)] = nuls + len(blob)
            blob += piece
            let_others_run()
        del data
        return PackedTokens(blob, ends)

    def pick(self, positions: np.ndarray) -> list[str]:
        """`[self[i] for i in positions]` for an integer array: gathered, then decoded at once."""
        return self.take(np.asarray(positions)).strings(0, len(positions))

    def token_list(self) -> TokenList:
        """The tokens as a TokenList of str, decoded a piece at a time."""
        out = np.empty(len(self), dtype=object)
        for start in range(0, len(self), PIECE):
            piece = self.strings(start, min(start + PIECE, len(self)))
            out[start : start + len(piece)] = np.fromiter(piece, dtype=object, count=len(piece))
            let_others_run()
        return TokenList(out)

    def utf8(self, start: int, stop: int) -> bytes:
        """Tokens start..stop-1 as their UTF-8 bytes, each followed by a NUL byte."""
        begin = self._start(start)
        end = int(self._ends[stop - 1]) + 1 if stop > start else begin
        return bytes(self._blob[begin:end])

    def utf8_view(self) -> memoryview:
        """Every token's UTF-8 bytes, each followed by a NUL byte, without a copy."""
        end = int(self._ends[-1]) + 1 if len(self) else self._begin
        return memoryview(self._blob)[self._begin : end]

    def __repr__(self) -> str:
        return f"PackedTokens({len(self):,} tokens, {len(self._blob):,} bytes)"


def byte_groups(lengths: np.ndarray, limit: int) -> Iterator[slice]:
    """Slices of consecutive runs of `lengths` of about `limit` bytes in all (a longer one
    alone)."""
    ends = np.cumsum(lengths)
    start = 0
    while start < len(lengths):
        before = int(ends[start - 1]) if start else 0
        stop = int(np.searchsorted(ends, before + limit, side="right"))
        stop = max(stop, start + 1)
        yield slice(start, stop)
        start = stop


def gather(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[bytes, np.ndarray]:
    """The byte runs data[start:start+length], each followed by a NUL byte, as one bytes
    object, and the offset of each NUL in it. An index is made for each byte (8 bytes), a
    group of runs of GATHER_BYTES at a time; a longer run is copied as a slice (a Vocab of
    lines of 2,700 bytes took 1.4 GB of indices for a piece of 65,536 of them)."""
    sizes = lengths + 1
    nuls = np.cumsum(sizes) - 1
    parts = []
    for group in byte_groups(sizes, GATHER_BYTES):
        if group.stop - group.start == 1 and sizes[group.start] > GATHER_BYTES:
            start, length = int(starts[group.start]), int(lengths[group.start])
            parts.append(data[start : start + length].tobytes() + b"\0")
            continue
        offsets = np.cumsum(sizes[group]) - sizes[group]
        place = np.arange(int(offsets[-1] + sizes[group][-1]), dtype=np.int64)
        place -= np.repeat(offsets, sizes[group])
        positions = np.repeat(starts[group], sizes[group]) + place
        # The byte after each run may lie past the data's end: clipped, then made the NUL.
        out = data[np.minimum(positions, len(data) - 1)] if len(data) else place.astype(np.uint8)
        out[offsets + lengths[group]] = 0
        parts.append(out.tobytes())
    return b"".join(parts), nuls


def packed(tokens: Sequence[str]) -> Sequence[str]:
    """`tokens` as PackedTokens (a piece at a time: each C call is short, and the blob and
    offsets are written in place, never copied whole beside the tokens), or `tokens` itself
    should one of them hold a NUL."""
    if isinstance(tokens, PackedTokens):
        return tokens
    blob = bytearray()
    ends = np.empty(len(tokens), dtype=np.int64)
    for start in range(0, len(tokens), PIECE):
        piece = tokens[start : start + PIECE]
        data = (_END.join(piece) + _END).encode("utf-8", "surrogatepass")
        found = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0)
        if len(found) != len(piece):
            return tokens
        ends[start : start + len(piece)] = found + len(blob)
        blob += data
        let_others_run()
    return PackedTokens(blob, ends)


__all__ = ["GATHER_BYTES", "PackedTokens", "byte_groups", "gather", "packed"]
