"""A read-only list of tokens that Python's garbage collector does not walk.

A collection that includes a list visits every item, reading each string's header: for a
million distinct tokens scattered over memory that is ~0.05 s per list, with the GIL held
(measured: 2.3M shuffled strings, 0.1 s). A 100 MB corpus of raw words has 2.3M distinct
tokens, and the Dataset screen keeps three tables of them (first-seen order, by frequency,
`idx_to_token`): its event loop stalled for every collection that included them. A numpy
array of objects holds the same strings but is not tracked by the collector (strings form no
reference cycles), so a `TokenList` costs a collection nothing.

It is built and copied a piece at a time: one C call over millions of strings (each touched
for its reference count) would itself hold the GIL for a tenth of a second. Between pieces it
hands the GIL over (`let_others_run`).
"""

from __future__ import annotations

import itertools
import operator
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

PIECE = 1 << 16  # items handled per C call


def let_others_run() -> None:
    """Let a thread that waits for the GIL (the app's event loop) take it, between two pieces of
    work that each hold it for a few milliseconds. Pieces alone are not enough: the numpy calls
    between them release the GIL for microseconds and take it straight back, and CPython counts
    each such re-take as a switch, so a waiting thread's timer never asks for the GIL and it can
    wait out the whole loop (190 ms for one search of 4.8M tokens, measured). A zero sleep gives
    it the GIL (gaps of 8 ms in the same search)."""
    time.sleep(0)


class TokenList(Sequence[str]):
    """An immutable sequence of tokens that compares equal to a list of the same tokens."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[str] = (), size: int | None = None) -> None:
        """The tokens of `items` (of `size` items, which an iterator without a length needs to
        be read a piece at a time). A 1-D numpy array of objects is taken as is."""
        if isinstance(items, TokenList):
            self._items: np.ndarray = items._items
            return
        if isinstance(items, np.ndarray) and items.dtype == object and items.ndim == 1:
            self._items = items  # taken as is, not copied
            return
        if size is None:
            items = items if isinstance(items, Sequence | dict) else list(items)
            size = len(items)  # type: ignore[arg-type]
        out = np.empty(size, dtype=object)
        source = iter(items)
        for start in range(0, size, PIECE):
            count = min(PIECE, size - start)
            # fromiter, not a list: numpy would read a list of tuples as a 2-D array.
            out[start : start + count] = np.fromiter(source, dtype=object, count=count)
            let_others_run()
        self._items = out

    @classmethod
    def _wrap(cls, items: np.ndarray) -> TokenList:
        new = cls.__new__(cls)
        new._items = items
        return new

    @classmethod
    def concat(cls, head: Sequence[str], tail: TokenList) -> TokenList:
        """`head` (a few tokens) followed by `tail`."""
        out = np.empty(len(head) + len(tail), dtype=object)
        out[: len(head)] = np.fromiter(head, dtype=object, count=len(head))
        for start in range(0, len(tail), PIECE):
            out[len(head) + start : len(head) + start + PIECE] = tail._items[start : start + PIECE]
            let_others_run()
        return cls._wrap(out)

    def take(self, positions: np.ndarray, head: Sequence[str] = ()) -> TokenList:
        """`head` (a few tokens), then the tokens at `positions` (an integer array), in that
        order."""
        positions = np.asarray(positions, dtype=np.intp)
        out = np.empty(len(head) + len(positions), dtype=object)
        out[: len(head)] = np.fromiter(head, dtype=object, count=len(head))
        for start in range(0, len(positions), PIECE):
            at = len(head) + start
            out[at : at + PIECE] = self._items[positions[start : start + PIECE]]
            let_others_run()
        return self._wrap(out)

    def pick(self, positions: np.ndarray) -> list[str]:
        """`[self[i] for i in positions]` for an integer array of positions."""
        out: list[str] = []
        for start in range(0, len(positions), PIECE):
            out += self._items[np.asarray(positions[start : start + PIECE], np.intp)].tolist()
            let_others_run()
        return out

    def find(self, token: str) -> int:
        """The first index of `token`, or -1."""
        for start in range(0, len(self), PIECE):
            found = np.flatnonzero(self._items[start : start + PIECE] == token)
            if len(found):
                return start + int(found[0])
            let_others_run()
        return -1

    def tolist(self) -> list[str]:
        return self.pick(np.arange(len(self)))

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:  # int -> str, slice -> TokenList (a view)
        if isinstance(index, slice):
            return self._wrap(self._items[index])
        return self._items[operator.index(index)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TokenList):
            other = other._items
        elif not isinstance(other, list | tuple):
            return NotImplemented
        if len(other) != len(self):
            return False
        pieces = (range(start, start + PIECE) for start in range(0, len(self), PIECE))
        return all(
            all(map(operator.eq, self._items[p.start : p.stop], other[p.start : p.stop]))
            for p in pieces
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head = ", ".join(map(repr, itertools.islice(self._items, 5)))
        more = f", … {len(self):,} tokens" if len(self) > 5 else ""
        return f"TokenList([{head}{more}])"


__all__ = ["TokenList", "let_others_run"]
