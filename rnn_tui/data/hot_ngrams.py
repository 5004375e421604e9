"""The n-grams of the most frequent tokens counted in a dense table; only the rest are sorted.

d2l *Language Models* counts n-gram frequencies; rnn_tui.data.ngram_counts packs each n-gram
of ids below V into the code a·V^(n-1) + … and counts a dense table while Vⁿ is small, else
sorts the codes. A character vocabulary of thousands (enwik8's ~5,400 characters) puts Vⁿ past
the dense table's limit, so every one of 100M codes was sorted, in chunks merged one into the
next: 10.5 s of `stats`' 16 on such a file. Yet ~90 % of its n-grams are made of its most
frequent few hundred characters only. Those "hot" n-grams are counted by one bincount a chunk
into a table of at most HOT_CELLS cells (ranks among the K most frequent ids in base K + 1,
the digit K for any other id: (K + 1)ⁿ ≤ HOT_CELLS);
the others are packed and sorted as before, and the two sets of codes, disjoint, are merged at
the end. The result is the sorted codes and counts the sort alone gives.
"""

from __future__ import annotations

import numpy as np

from rnn_tui.data.sorted_runs import count_dtype

HOT_CELLS = 1 << 20  # cells of the dense table of hot n-grams (8 MB of counts)


def hot_size(base: int, n: int) -> int:
    """K, the number of most frequent ids whose n-grams go to the dense table: the largest
    with (K + 1)ⁿ ≤ HOT_CELLS (the table has a digit more, K, for an id that is not hot), at
    most `base`; 0 where fewer than 2 would."""
    k = max(0, int(round(max(int(HOT_CELLS), 0) ** (1 / n))))
    while k > 0 and (k + 1) ** n > HOT_CELLS:
        k -= 1
    k = min(k, int(base))
    return k if k >= 2 else 0


class HotNgrams:
    """Counts the n-grams of `ids` (values below `base`) whose every id is among the K most
    frequent (`hot_size`), chunk by chunk, and hands back the codes of the others. `unigrams`:
    each id's count, where the caller has them (a scan does), else counted here. Any K ids
    give the same counts; the most frequent leave the fewest to sort."""

    def __init__(
        self,
        ids: np.ndarray,
        base: int,
        n: int,
        k: int,
        chunk: int,
        unigrams: np.ndarray | None = None,
    ) -> None:
        self.base, self.n, self.k = int(base), n, k
        if unigrams is not None and len(unigrams) == self.base:
            uni = np.asarray(unigrams, dtype=np.int64)
        else:
            uni = np.zeros(self.base, dtype=np.int64)
            for start in range(0, len(ids), chunk):  # a chunk at a time: bincount widens to intp
                piece = np.asarray(ids[start : start + chunk])
                uni += np.bincount(piece, minlength=self.base)[: self.base]
        self.hot = np.argsort(-uni, kind="stable")[:k]  # the K most frequent, ties by id
        del uni
        # 4 bytes an id ((K + 1)ⁿ ≤ HOT_CELLS: the ranks and the cells fit), K: not hot.
        self.rank = np.full(self.base, k, dtype=np.int32)
        self.rank[self.hot] = np.arange(k, dtype=np.int32)
        self.table = np.zeros((k + 1) ** n, dtype=np.int64)

    def cold_codes(self, ids: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Counts the hot n-grams starting at positions start..stop-1 and returns the packed
        codes (uint64, a·V^(n-1) + …) of the others, in position order."""
        n, k, size = self.n, self.k, stop - start
        window = np.asarray(ids[start : stop + n - 1])
        ranks = self.rank[window]
        # Every n-gram's cell, in base K + 1 (contiguous passes, no gathers: picking the hot
        # positions out first took twice as long); a cell with a digit K is cold, left unread.
        dense = ranks[:size].copy()
        for i in range(1, n):
            dense *= k + 1
            dense += ranks[i : i + size]
        self.table += np.bincount(dense, minlength=len(self.table))
        del dense
        cold = ranks[:size] == k
        for i in range(1, n):
            cold |= ranks[i : i + size] == k
        del ranks
        cold = np.flatnonzero(cold)
        codes = window[cold].astype(np.uint64)
        mult = np.uint64(self.base)
        for i in range(1, n):
            codes *= mult
            codes += window[cold + i]
        return codes

    def merged_with(
        self, codes: np.ndarray, counts: np.ndarray, total: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The hot n-grams counted, as sorted packed codes, merged with the cold ones' sorted
        `codes` and `counts` (no code is in both: a cold n-gram has an id that is not hot), the
        counts sized for a stream of `total` n-grams as the cold ones are."""
        n, k = self.n, self.k
        digits = [
            (np.arange(len(self.table)) // (k + 1) ** (n - 1 - i)) % (k + 1) for i in range(n)
        ]
        hot = self.table > 0
        for digit in digits:
            hot &= digit < k  # the cells of cold n-grams were counted too, and are dropped
        cells = np.flatnonzero(hot)
        found = self.table[cells]
        hot_codes = np.zeros(len(cells), dtype=np.uint64)
        mult = np.uint64(self.base)
        for i, digit in enumerate(digits):  # each rank back to its id, at its place in the code
            hot_codes += self.hot[digit[cells]].astype(np.uint64) * mult ** np.uint64(n - 1 - i)
        order = np.argsort(hot_codes)
        hot_codes, found = hot_codes[order], found[order].astype(count_dtype(total))
        if not len(codes):
            return hot_codes, found
        at = np.searchsorted(codes, hot_codes) + np.arange(len(hot_codes))
        merged = np.empty(len(codes) + len(hot_codes), dtype=np.uint64)
        merged_counts = np.empty(len(merged), dtype=count_dtype(total))
        cold = np.ones(len(merged), dtype=bool)
        cold[at] = False
        merged[at], merged_counts[at] = hot_codes, found
        merged[cold], merged_counts[cold] = codes, counts
        return merged, merged_counts


__all__ = ["HOT_CELLS", "HotNgrams", "hot_size"]
