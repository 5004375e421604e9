"""First-seen numbering of words (d2l's `Vocab` counts them in this order), in one dict or many.

One dict is the fastest index: a defaultdict whose factory counts up gives a word the next id
the first time it is looked up, and a C-level itemgetter looks up a whole piece of words.
But a dict grows by rebuilding its whole table in one C call that holds the GIL: 0.17 s at
1.4M words and 0.75 s at 2.8M (measured), and a raw 100 MB text has 2.3M distinct words.
For a thread working beside the app's event loop (the Dataset screen) the words are spread
over SHARDS plain dicts by their hash: each is a sixteenth of the size, so is each rebuild,
and plain dicts of strings to ints are not tracked by the garbage collector (a defaultdict,
a subclass, is, and every full collection walks all its entries). It costs about twice the
time of one dict (a scan of a 100 MB file takes 2–4 s longer).

A piece of words is looked up shard by shard, which hands out provisional ids in shard order;
the words new in the piece are then renumbered in the order they first occur, so the ids are
those one dict gives.

Past HASHED_FROM distinct words (`number`), the index moves them into sorted hash arrays
(rnn_tui.data.hashed_words), which hold a word's id in 12 bytes instead of a dict's ~120:
numbering a 100 MB file of 11M distinct words peaked at 1.4 GB instead of 1.7. Text with fewer
distinct words (a 100 MB Wikipedia dump has 2.3M) stays in dicts, the fastest way to number it.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from operator import itemgetter

import numpy as np

from rnn_tui.data.hashed_words import HashedWords
from rnn_tui.data.token_list import TokenList

SHARDS = 16  # dicts of a sharded index; a word's shard is its hash's low bits
WORD_PIECE = 1 << 15  # words looked up in the dicts per call
HASHED_FROM = 3 << 20  # distinct words past which `number` moves to hash arrays


class FirstSeenIndex:
    """Words → first-seen ids, in one dict, or (`sharded`) in SHARDS dicts; with `hashing`,
    `number` moves a vocabulary of millions into hash arrays (it may then raise
    HashCollision: number the words again without hashing); `encoded`: all are bytes."""

    def __init__(self, sharded: bool = False, hashing: bool = True, encoded: bool = False) -> None:
        self.sharded = sharded
        self.hashing = hashing
        self.encoded = encoded  # the words are bytes (clean words): hashed as they are
        self._hashed: HashedWords | None = None
        self._dict: defaultdict = defaultdict(itertools.count().__next__)
        self._shards: list[dict] = [{} for _ in range(SHARDS if sharded else 0)]
        self._final = np.zeros(0, dtype=np.int64)  # sharded: provisional id → first-seen id
        self._size = 0

    def __len__(self) -> int:
        if self._hashed is not None:
            return len(self._hashed)
        return self._size if self.sharded else len(self._dict)

    def number(self, words: Sequence) -> np.ndarray:
        """The first-seen ids of a chunk of `words`, of any length (`ids` a piece at a time, so
        each C call holds the GIL for a few milliseconds; past HASHED_FROM words, hashed)."""
        ids = np.empty(len(words), dtype=np.int64)
        start = 0
        while start < len(words) and self._hashed is None:
            piece = words[start : start + WORD_PIECE]
            ids[start : start + len(piece)] = self.ids(piece)
            start += len(piece)
            if self.hashing and len(self) >= HASHED_FROM:
                self._hashed = HashedWords(self.tokens()._items, self.encoded)
                self._final = np.zeros(0, dtype=np.int64)
        if start < len(words) and self._hashed is not None:
            ids[start:] = self._hashed.ids(words[start:])
        return ids

    def ids(self, words: Sequence) -> np.ndarray:
        """The first-seen ids of `words` (a few tens of thousands: each C call is short)."""
        if self._hashed is not None:
            return self._hashed.ids(words)
        count = len(words)
        if not count:
            return np.zeros(0, dtype=np.int64)
        if self.sharded:
            # itemgetter of one position gives the item, not a tuple: a lone word goes twice.
            return self._sharded_ids(words if count > 1 else [words[0]] * 2)[:count]
        found = itemgetter(*words)(self._dict) if count > 1 else (self._dict[words[0]],)
        return np.fromiter(found, np.int64, count)

    def _sharded_ids(self, words: Sequence) -> np.ndarray:
        count = len(words)
        shard = (np.fromiter(map(hash, words), np.int64, count) & (SHARDS - 1)).astype(np.uint8)
        order = np.argsort(shard, kind="stable")
        bounds = np.searchsorted(shard[order], np.arange(SHARDS + 1)).tolist()
        by_shard = itemgetter(*order.tolist())(words)  # count ≥ 2: a tuple
        provisional = np.empty(count, dtype=np.int64)
        before = size = self._size
        for k, index in enumerate(self._shards):
            lo, hi = bounds[k], bounds[k + 1]
            if hi == lo:
                continue
            chosen = by_shard[lo:hi]
            found = np.fromiter(map(index.get, chosen, itertools.repeat(-1)), np.int64, hi - lo)
            miss = np.flatnonzero(found < 0).tolist()
            if miss:
                # New words get provisional ids in the order this shard meets them.
                missed = [chosen[j] for j in miss]
                fresh = dict.fromkeys(missed)
                index.update(zip(fresh, range(size, size + len(fresh))))
                size += len(fresh)
                found[miss] = np.fromiter(map(index.__getitem__, missed), np.int64, len(miss))
            provisional[order[lo:hi]] = found
        if size > before:
            self._renumber(provisional, before, size)
        return self._final[provisional]

    def _renumber(self, provisional: np.ndarray, before: int, after: int) -> None:
        """First-seen ids before..after-1 for the provisional ids new in this piece (which are
        before..after-1 too), in the order the piece first holds them."""
        new = provisional >= before
        fresh, first = np.unique(provisional[new], return_index=True)
        if len(self._final) < after:
            grown = np.zeros(max(after, 2 * len(self._final)), dtype=np.int64)
            grown[: len(self._final)] = self._final
            self._final = grown
        self._final[fresh[np.argsort(first)]] = np.arange(before, after)
        self._size = after

    def tokens(self, decode: Callable | None = None) -> TokenList:
        """The words by first-seen id (each passed through `decode` if given). The index is
        emptied as it goes."""
        if self._hashed is not None:
            hashed, self._hashed = self._hashed, None
            return hashed.tokens(decode)
        if not self.sharded:
            size = len(self._dict)
            tokens = TokenList(map(decode, self._dict) if decode else self._dict, size)
            self._dict.clear()
            return tokens
        out = np.empty(self._size, dtype=object)
        for index in self._shards:
            size = len(index)
            keys = map(decode, index) if decode else iter(index)
            words = np.fromiter(keys, dtype=object, count=size)
            ids = np.fromiter(index.values(), dtype=np.int64, count=size)
            out[self._final[ids]] = words
            index.clear()  # a shard at a time: freeing millions of entries holds the GIL
        return TokenList(out)


__all__ = ["HASHED_FROM", "SHARDS", "WORD_PIECE", "FirstSeenIndex"]
