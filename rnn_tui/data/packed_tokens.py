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
HEAD_BYTES = 1 << 12  # a token up to this long is decoded to measure it (char_length)
COUNT_BYTES = 1 << 20  # bytes char_length counts at once
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
        start, end = self._span(index)
        return self._blob[start:end].decode("utf-8", "surrogatepass")

    def head(self, i: int, chars: int) -> str:
        """Token i's first `chars` characters, decoding at most 4 × `chars` bytes: a table row
        shows a few dozen characters of a token that can be a whole 100 MB file without spaces,
        whose decoding held the event loop ~50 ms a row."""
        start, end = self._span(i)
        if end - start > 4 * chars:
            end = start + 4 * chars
            while self._blob[end] & 0xC0 == 0x80:  # not inside a character
                end -= 1
        return self._blob[start:end].decode("utf-8", "surrogatepass")[:chars]

    def char_length(self, i: int) -> int:
        """len(self[i]) without decoding it: its bytes but the continuation ones (0x80-0xBF),
        counted a million at a time (~30 ms for 100 MB, in blocks of ~1 ms)."""
        start, end = self._span(i)
        if end - start <= HEAD_BYTES:
            return len(self._blob[start:end].decode("utf-8", "surrogatepass"))
        data = np.frombuffer(self._blob, dtype=np.uint8, count=end - start, offset=start)
        inside = 0
        for at in range(0, len(data), COUNT_BYTES):
            block = data[at : at + COUNT_BYTES]
            inside += int(np.count_nonzero(block >= 0x80)) - int(np.count_nonzero(block >= 0xC0))
        return len(data) - inside

    def same(self, i: int, other: PackedTokens, j: int) -> bool:
        """self[i] == other[j], by their bytes, GATHER_BYTES at a time (no decoding, and no
        long hold of the GIL, for a token of a whole 100 MB file)."""
        start, end = self._span(i)
        other_start, other_end = other._span(j)
        if end - start != other_end - other_start:
            return False
        for at in range(0, end - start, GATHER_BYTES):
            size = min(GATHER_BYTES, end - start - at)
            mine = self._blob[start + at : start + at + size]
            if mine != other._blob[other_start + at : other_start + at + size]:
                return False
        return True

    def _span(self, i: int) -> tuple[int, int]:
        i = operator.index(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("token index out of range")
        return self._start(i), int(self._ends[i])

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
            at, before = len(head) + start, len(blob)
            nuls = gather(data, firsts, lasts - firsts, blob)
            ends[at : at + len(nuls)] = nuls + before
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
        return bytes(memoryview(self._blob)[begin:end])  # one copy (a bytearray's slice is two)

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


def gather(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, blob: bytearray
) -> np.ndarray:
    """Append the byte runs data[start:start+length] to `blob`, each followed by a NUL byte,
    and give the offset of each NUL from where they begin. An index is made for each byte (8
    bytes), a group of runs of GATHER_BYTES at a time; a longer run is copied as slices (a
    Vocab of lines of 2,700 bytes took 1.4 GB of indices for a piece of 65,536 of them)."""
    sizes = lengths + 1
    nuls = np.cumsum(sizes) - 1
    for group in byte_groups(sizes, GATHER_BYTES):
        if group.stop - group.start == 1 and sizes[group.start] > GATHER_BYTES:
            start, length = int(starts[group.start]), int(lengths[group.start])
            append_bytes(blob, data[start : start + length])
            blob.append(0)
            continue
        offsets = np.cumsum(sizes[group]) - sizes[group]
        place = np.arange(int(offsets[-1] + sizes[group][-1]), dtype=np.int64)
        place -= np.repeat(offsets, sizes[group])
        positions = np.repeat(starts[group], sizes[group]) + place
        # The byte after each run may lie past the data's end: clipped, then made the NUL.
        out = data[np.minimum(positions, len(data) - 1)] if len(data) else place.astype(np.uint8)
        out[offsets + lengths[group]] = 0
        blob += memoryview(out)
    return nuls


def same_token(a: Sequence[str], i: int, b: Sequence[str], j: int) -> bool:
    """a[i] == b[j], by their bytes where both are packed."""
    if isinstance(a, PackedTokens) and isinstance(b, PackedTokens):
        return a.same(i, b, j)
    return a[i] == b[j]


def append_bytes(blob: bytearray, data: np.ndarray) -> None:
    """`blob += data` (bytes in an array) GATHER_BYTES at a time: one copy of a token of a
    whole 100 MB file held the GIL, and so the app's event loop, ~50 ms."""
    for start in range(0, len(data), GATHER_BYTES):
        blob += memoryview(data[start : start + GATHER_BYTES])  # an array's += is numpy's


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
