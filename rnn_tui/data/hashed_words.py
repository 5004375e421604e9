"""First-seen numbering of millions of distinct words by their hashes, in numpy arrays.

A dict of words costs ~120 bytes a word beyond the word itself (its slot, and an int object
for the id): a 100 MB file of nearly all-distinct words (11M of them: a log of ids, numbers,
hashes) took 1.7 GB to number that way. Here each known word's 64-bit hash sits in a sorted
array beside its id, 12 bytes a word, and a chunk of words is numbered by a few numpy calls:
hash, `searchsorted` among the known hashes, `unique` over the new ones (ids in the order they
first occur), one merge into the sorted arrays. The known hashes are two sorted runs: the new
ones are merged into a recent run, and it into the main one only once it holds an eighth as
many (RECENT_SHARE): merging every chunk into millions of hashes cost the Dataset screen's small
chunks 4.4 s of np.insert on a 100 MB file of 10.5M distinct words.

Two different words with the same hash would share an id. So every id handed out is checked
against the word it stands for (an elementwise comparison), and any mismatch raises
`HashCollision`: the caller numbers the text again with dicts (with 64-bit hashes, a text of
11M distinct words has about one chance in 300,000 of needing that).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rnn_tui.data.token_list import PIECE, TokenList, let_others_run

hash_of: Callable[[object], int] = hash  # the word hash (a test makes it collide)
_SPREAD = np.uint64(0x9E3779B97F4A7C15)  # 2⁶⁴/φ: mixes a word's length into its hash
RECENT_SHARE = 8  # the recent run is merged into the main one past 1/RECENT_SHARE of its size
MERGE_BLOCK = 1 << 20  # known hashes moved up at once by a merge
# The words by id: those it starts from, then pages of 2²⁰ (8 MB of pointers). A table grown by
# doubling made one array of twice the words at a time, filled with None in one C call that
# held the GIL (24M slots: 70-130 ms, a stall of the Dataset screen's event loop).
PAGE_BITS = 20


class HashCollision(Exception):
    """Two distinct words share a hash: number them with dicts instead."""


def _hashes(words: Sequence, encoded: bool = False) -> np.ndarray:
    """The words' hashes, a piece at a time (each call holds the GIL for a millisecond).

    Python hashes a string's stored bytes, and stores one character in 1, 2 or 4 bytes, so
    "IV" (49 56) and "噉" (U+5649: 49 56) share a hash (found in a Wikipedia dump); the length
    is mixed in to keep such pairs apart. `encoded`: the words are bytes, whose hash is of
    their very bytes, and nothing is mixed in (14M words: 0.4 s less)."""
    out = np.empty(len(words), dtype=np.uint64)
    for start in range(0, len(words), PIECE):
        piece = words[start : start + PIECE]
        hashes = np.fromiter(map(hash_of, piece), np.int64, len(piece)).view(np.uint64)
        if encoded:
            out[start : start + len(piece)] = hashes
        else:
            lengths = np.fromiter(map(len, piece), np.uint64, len(piece))
            out[start : start + len(piece)] = hashes ^ (lengths * _SPREAD)
        let_others_run()
    return out


def _objects(words: Sequence) -> np.ndarray:
    """`words` as an array of objects, a piece at a time."""
    out = np.empty(len(words), dtype=object)
    for start in range(0, len(words), PIECE):
        piece = words[start : start + PIECE]
        out[start : start + len(piece)] = np.fromiter(piece, dtype=object, count=len(piece))
    return out


def all_distinct(words: Sequence) -> bool:
    """Whether no word occurs twice: hashes sorted and compared (12 bytes a word; a set of
    11M words took 512 MB), the few words whose hashes repeat compared as words."""
    hashes = _hashes(words)
    order = np.argsort(hashes)
    hashes = hashes[order]
    same = np.flatnonzero(hashes[1:] == hashes[:-1])
    suspects = np.unique(np.concatenate((order[same], order[same + 1]))).tolist()
    return len({words[i] for i in suspects}) == len(suspects)


def first_unique(
    values: np.ndarray, stable: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`np.unique(values, return_index=True, return_inverse=True)` for 1-D integers: the
    distinct values sorted, where each first occurs, and each value's place among them.

    numpy's own takes a stable sort to find first occurrences; here an unstable one (numpy's
    vectorised sort, about 3.5x faster on a million Python hashes) and the least position of
    each run of equal values: 0.06 s against 0.17 s a million words. A text's words as their
    own bytes (rnn_tui.data.byte_words) are the other way round: `stable`, 0.09 s against 0.23
    s for the 1.5M words of 8 MB of English."""
    order = np.argsort(values, kind="stable" if stable else None)
    ordered = values[order]
    starts_run = np.empty(len(values), dtype=bool)
    starts_run[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_run[1:])
    starts = np.flatnonzero(starts_run)
    first = np.minimum.reduceat(order, starts) if len(starts) else order[:0]
    inverse = np.empty(len(values), dtype=np.intp)
    inverse[order] = np.cumsum(starts_run) - 1
    return ordered[starts], first, inverse


def in_order_of(keys: np.ndarray, items: np.ndarray, size: int) -> np.ndarray:
    """`items` sorted by their distinct `keys`, each in [0, size): one scatter and one gather
    where a stable argsort of the keys took ten times as long."""
    slots = np.full(size, -1, dtype=np.int64)
    slots[keys] = np.arange(len(keys))
    return items[slots[slots >= 0]]


class SortedKeys:
    """64-bit keys → ids, as two sorted runs (module docstring): a main one and a recent one
    that new keys are merged into, and it into the main one past 1/RECENT_SHARE of its size."""

    def __init__(self, keys: np.ndarray | None = None, ids: np.ndarray | None = None) -> None:
        empty = np.zeros(0, dtype=np.uint64)
        keys = empty if keys is None else keys
        order = np.argsort(keys)  # equal keys raise below: no tie for a stable sort to keep
        self._keys = keys[order]
        self._key_ids = (order if ids is None else ids[order]).astype(np.uint32)
        self._recent = empty
        self._recent_ids = np.zeros(0, dtype=np.uint32)
        if len(self._keys) > 1 and bool((self._keys[1:] == self._keys[:-1]).any()):
            raise HashCollision

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For sorted distinct `keys`: the id of each (where known), which are known, and
        where each would go in the recent run (for `add`). Sorted needles walk the known keys
        in order (unsorted, each search misses the cache: 6x slower)."""
        found = np.empty(len(keys), dtype=np.int64)
        known = np.zeros(len(keys), dtype=bool)
        slots = np.zeros(len(keys), dtype=np.intp)
        for run, run_ids in ((self._keys, self._key_ids), (self._recent, self._recent_ids)):
            slots = np.searchsorted(run, keys)  # the last run's: where new ones go in it
            if len(run):
                hit = run[np.minimum(slots, len(run) - 1)] == keys
                found[hit] = run_ids[slots[hit]]
                known |= hit
        return found, known, slots

    def add(self, slots: np.ndarray, keys: np.ndarray, ids: np.ndarray) -> None:
        """Sorted new `keys` with their `ids`, at their `slots` (`find`'s) in the recent run."""
        self._recent = np.insert(self._recent, slots, keys)
        self._recent_ids = np.insert(self._recent_ids, slots, ids.astype(np.uint32))
        if RECENT_SHARE * len(self._recent) > len(self._keys):
            self._merge_recent()

    def number(
        self, keys: np.ndarray, first: np.ndarray, where: np.ndarray, size: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The ids of a chunk given as `first_unique`'s (its distinct keys, where each first
        occurs, each position's place among them): known keys keep theirs, new ones are added
        with size, size + 1, ... in the order the chunk first holds them. Also where each new
        one was taken from (None if none is new)."""
        found, known, slots = self.find(keys)
        order = np.flatnonzero(~known)  # the new keys, in key order (for the merge)
        if not len(order):
            return found[where.reshape(-1)], None
        new = in_order_of(first[order], order, len(where))
        found[new] = np.arange(size, size + len(new))
        self.add(slots[order], keys[order], found[order])
        return found[where.reshape(-1)], first[new]

    def clear(self) -> None:
        self._keys = self._recent = np.zeros(0, dtype=np.uint64)
        self._key_ids = self._recent_ids = np.zeros(0, dtype=np.uint32)

    def _merge_recent(self) -> None:
        """`np.insert` of the recent run into the main one, in place: the main arrays are
        lengthened (realloc, which for big arrays remaps their pages, no copy), then each
        known hash moves up by the number of recent ones that go at or before it, a block at
        a time from the top (a block's destinations lie at or above its own places, and above
        every block still to move), and the recent ones fill the gaps. np.insert made new
        arrays beside the old, the peak of a scan's memory (14M words: ~170 MB)."""
        n, k = len(self._keys), len(self._recent)
        slots = np.searchsorted(self._keys, self._recent)
        for run in (self._keys, self._key_ids):
            run.resize(n + k, refcheck=False)  # no view of a run is ever kept
        for top in range(n, 0, -MERGE_BLOCK):
            low = max(0, top - MERGE_BLOCK)
            before, upto = np.searchsorted(slots, [low, top])
            # Recent hashes at or before each known position low..top-1.
            shift = np.bincount(slots[before:upto] - low, minlength=top - low).cumsum()
            shift += before + np.arange(low, top)
            self._keys[shift] = self._keys[low:top].copy()
            self._key_ids[shift] = self._key_ids[low:top].copy()
            let_others_run()
        places = slots + np.arange(k)
        self._keys[places] = self._recent
        self._key_ids[places] = self._recent_ids
        self._recent = np.zeros(0, dtype=np.uint64)
        self._recent_ids = np.zeros(0, dtype=np.uint32)


class HashedWords:
    """Words → first-seen ids through sorted hashes, starting from `words` (ids 0..n-1);
    `encoded`: every word is bytes (each word is always hashed the same way either way)."""

    def __init__(self, words: np.ndarray, encoded: bool = False) -> None:
        self._encoded = encoded
        # Sorted hashes of the known words, each beside its id.
        self._keys = SortedKeys(_hashes(words, encoded))
        self._pages = [words]  # the words by id (PAGE_BITS); capacity beyond `_size` is None
        self._size = len(words)

    def __len__(self) -> int:
        return self._size

    def ids(self, words: Sequence) -> np.ndarray:
        """The first-seen ids of a chunk of `words` (new words get the next ids in the order
        they first occur); HashCollision when a hash stands for two words."""
        count = len(words)
        if not count:
            return np.zeros(0, dtype=np.int64)
        given = _objects(words)
        unique = first_unique(_hashes(given, self._encoded))
        # `taken`: where each new word was taken from (its own word, not compared).
        ids, taken = self._keys.number(*unique, self._size)
        if taken is not None:
            self._append(given[taken])
        self._check(given, ids, taken)
        return ids

    def _append(self, words: np.ndarray) -> None:
        if self._size + len(words) > 1 << 32:
            raise HashCollision  # ids past uint32: the dicts (and their error) handle that
        done = 0
        while done < len(words):
            beyond = self._size - len(self._pages[0])  # the first page is full from the start
            page, place = 1 + (beyond >> PAGE_BITS), beyond & ((1 << PAGE_BITS) - 1)
            if page == len(self._pages):
                self._pages.append(np.full(1 << PAGE_BITS, None, dtype=object))
            piece = words[done : done + min(PIECE, (1 << PAGE_BITS) - place)]
            self._pages[page][place : place + len(piece)] = piece
            done += len(piece)
            self._size += len(piece)
            let_others_run()

    def _stored(self, ids: np.ndarray) -> np.ndarray:
        """The words of `ids` (a piece of them), gathered page by page."""
        if len(self._pages) == 1:
            return self._pages[0][ids]
        beyond = ids - len(self._pages[0])
        later = beyond >= 0
        page = np.where(later, 1 + (beyond >> PAGE_BITS), 0)
        place = np.where(later, beyond & ((1 << PAGE_BITS) - 1), ids)
        out = np.empty(len(ids), dtype=object)
        for number in np.unique(page).tolist():
            chosen = page == number
            out[chosen] = self._pages[number][place[chosen]]
        return out

    def _check(self, given: np.ndarray, ids: np.ndarray, taken: np.ndarray | None) -> None:
        """HashCollision unless each id's word is the word it was given for; the positions
        `taken` hold the very words their new ids were made from and are not compared (in a
        text of nearly all-distinct words, most of its positions)."""
        if taken is not None:
            rest = np.ones(len(ids), dtype=bool)
            rest[taken] = False
            where = np.flatnonzero(rest)
            given, ids = given[where], ids[where]
        for start in range(0, len(ids), PIECE):
            if (self._stored(ids[start : start + PIECE]) != given[start : start + PIECE]).any():
                raise HashCollision
            let_others_run()

    def tokens(self, decode: Callable | None = None) -> TokenList:
        """The words by id (each passed through `decode`), the index emptied as it goes: each
        piece's words leave their page as they are copied (decoded, their encoded forms are
        freed then: the two forms of millions of words never coexist), a page at a time."""
        # The hashes go first: decoding makes each word's new form before it frees the old
        # (a str takes 16 bytes more than its bytes), the moment of a scan's highest memory.
        self._keys.clear()
        pages, self._pages = self._pages, [np.zeros(0, dtype=object)]
        size, self._size = self._size, 0
        out = np.empty(size, dtype=object)
        at = 0
        while pages:
            page = pages.pop(0)
            used = min(len(page), size - at)
            for start in range(0, used, PIECE):
                piece = page[start : min(start + PIECE, used)]
                if decode is not None:
                    piece = np.fromiter(map(decode, piece), dtype=object, count=len(piece))
                out[at + start : at + start + len(piece)] = piece
                page[start : start + len(piece)] = None
                let_others_run()
            at += used
            del page
        return TokenList(out)


__all__ = [
    "HashCollision",
    "HashedWords",
    "SortedKeys",
    "all_distinct",
    "first_unique",
    "hash_of",
    "in_order_of",
]
