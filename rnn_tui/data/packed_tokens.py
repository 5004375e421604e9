"""Millions of distinct tokens held as one UTF-8 blob, for reading a few of them back.

A str object costs ~50 bytes beyond its characters, and a list or TokenList 8 more for the
pointer: `rnn-tui stats` on 100 MB of 6.6M distinct words held 400 MB of them while it counted
the n-grams, which are counted on ids and need the tokens only to print the top rows. Packed,
the same tokens take a byte a character and 8 bytes an offset (~90 MB), and the strings' memory
goes back to the system before the n-gram counters take theirs.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnn_tui.data.token_list import PIECE, let_others_run

# Ends each token in the blob. No token holds it: a text with a NUL is refused as binary
# (rnn_tui.data.decoding), and `packed` checks anyway.
_END = "\0"


class PackedTokens(Sequence[str]):
    """A read-only sequence of tokens stored as UTF-8 bytes, each followed by a NUL byte."""

    __slots__ = ("_blob", "_ends")

    def __init__(self, blob: bytes | bytearray, ends: np.ndarray) -> None:
        self._blob = blob
        self._ends = ends  # the offset of each token's NUL byte in `blob`

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: Any) -> Any:  # int -> str, slice -> list
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = operator.index(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("token index out of range")
        start = int(self._ends[i - 1]) + 1 if i else 0
        return self._blob[start : int(self._ends[i])].decode("utf-8", "surrogatepass")

    def utf8(self, start: int, stop: int) -> bytes:
        """Tokens start..stop-1 as their UTF-8 bytes, each followed by a NUL byte."""
        begin = int(self._ends[start - 1]) + 1 if start else 0
        end = int(self._ends[stop - 1]) + 1 if stop > start else begin
        return bytes(self._blob[begin:end])

    def __repr__(self) -> str:
        return f"PackedTokens({len(self):,} tokens, {len(self._blob):,} bytes)"


def packed(tokens: Sequence[str]) -> Sequence[str]:
    """`tokens` as PackedTokens (a piece at a time: each C call is short, and the blob and
    offsets are written in place, never copied whole beside the tokens), or `tokens` itself
    should one of them hold a NUL."""
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


__all__ = ["PackedTokens", "packed"]
