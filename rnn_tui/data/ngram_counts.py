"""Top n-grams of a token-id array, counted chunk by chunk (d2l *Language Models*' n-gram
frequencies, for streams far too long for a Counter of tuples).

Each n-gram of ids (a, b, c) becomes one integer a·V² + b·V + c. When Vⁿ is small (character
tokens) the integers index a dense table of counts (np.bincount); otherwise they are sorted,
all at once (up to SORT_ALL_LIMIT n-grams, or past it where they are mostly distinct; else
chunk by chunk, merged into sorted running arrays), and the runs of equal codes counted in
place (rnn_tui.data.sorted_runs): about 12 bytes an n-gram where nearly all are distinct. Where Vⁿ
does not fit in 64 bits (millions of distinct tokens) a prefix is replaced by its rank among the
distinct prefixes before the next id is packed (`ranked_codes`). Either way every n-gram
also keeps the position of its first occurrence, so the result is exactly
`count_ngrams(tokens, n).most_common(k)`: count descending, ties in first-seen order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rnn_tui.data.errors import DataError
from rnn_tui.data.hot_ngrams import HotNgrams, hot_size
from rnn_tui.data.sorted_runs import kth_largest, merge_counts, prefix_counts, run_lengths
from rnn_tui.data.vocab import count_order

DENSE_LIMIT = 1 << 24  # Vⁿ up to this: a dense table of counts
CHUNK_TOKENS = 1 << 22  # n-grams handled at once
# n-grams looked through at once for the first positions of the top k: each chunk's distinct
# codes are sorted (np.unique, ~25 bytes a code), and the first chunk usually holds them all.
FIRST_CHUNK = 1 << 20
SORT_ALL_LIMIT = 1 << 26  # up to this many sparse n-grams: one sort (past it, if mostly distinct)
TIE_SET_LIMIT = 1 << 12  # up to this many n-grams tied at the k-th count: looked up as a set


def _codes(ids: np.ndarray, start: int, stop: int, n: int, dtype, base) -> np.ndarray:
    """The packed codes of the n-grams starting at positions start..stop-1."""
    window = np.asarray(ids[start : stop + n - 1])
    codes = window[: stop - start].astype(dtype)
    for i in range(1, n):
        codes *= base
        codes += window[i : i + stop - start]
    return codes


def ranked_codes(ids: np.ndarray, base: int, n: int) -> np.ndarray:
    """Codes of all n-grams of `ids` when Vⁿ ≥ 2⁶⁴ (millions of distinct tokens): the prefix
    a·V + b as before, but where one more factor of V would overflow, the prefix is first
    replaced by its rank among the distinct prefixes. Ranks keep their order, so the codes
    still sort as the n-grams do (first-seen ties are broken by position elsewhere), and they
    stay below (number of n-grams)·V."""
    ids = np.asarray(ids)
    m = len(ids) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64)
    mult = np.uint64(max(int(base), 1))
    codes = ids[:m].astype(np.uint64)
    bound = max(int(base), 1)  # every code is below this
    for i in range(1, n):
        if bound * int(mult) >= 1 << 64:
            codes, bound = _ranks(codes)
            if bound * int(mult) >= 1 << 64:  # ids fit in 32 bits: only past 2³² n-grams
                raise DataError(f"{base:,} distinct tokens are too many to count {n}-grams of")
        codes *= mult
        codes += ids[i : i + m]
        bound *= int(mult)
    return codes


def _ranks(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Each code's rank among the distinct codes (0 = the smallest), written over `codes`, and
    how many there are.
    np.unique(return_inverse=True) gives the same in about the same time (3.5 s for 15M codes
    here) but holds the GIL for 0.2–0.26 s at a time, which stalls the app's event loop; an
    argsort, a comparison and a cumulative sum release it. A stable argsort (a merge sort that
    takes the runs it finds): a stream's codes are far from random, first-seen ids growing
    along it, and it took 1.7 s where numpy's default took 3.4 (a Wikipedia dump's 15M
    bigrams; 0.07 s against 0.78 for 11M distinct ids)."""
    order = np.argsort(codes, kind="stable")
    ranks = codes[order]  # the codes in order, then their ranks in that order
    step = np.zeros(len(codes), dtype=bool)  # 1 byte a code, where the 8-byte one took 8
    np.not_equal(ranks[1:], ranks[:-1], out=step[1:])
    np.cumsum(step, out=ranks)
    del step
    codes[order] = ranks  # in place: the caller's codes are its own, and replaced by these
    return codes, int(ranks[-1]) + 1


def _members(codes: np.ndarray, few: np.ndarray) -> np.ndarray:
    """Which of `codes` are in `few` (sorted, small): a binary search each, where np.isin sorts
    the chunk and the set together (about 200 MB for a chunk of 4M codes)."""
    if not len(few):
        return np.zeros(len(codes), dtype=bool)
    at = np.searchsorted(few, codes)
    np.minimum(at, len(few) - 1, out=at)
    return few[at] == codes


def _first_positions(
    codes_at: Callable[[int, int], np.ndarray],
    m: int,
    chunk: int,
    every: np.ndarray,
    ties: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    wanted: int,
) -> dict[int, int]:
    """First positions of all codes in `every` (few, sorted) and of the first `wanted` tied codes
    to occur, scanning the stream in order (`codes_at(start, stop)`: the codes of the n-grams at
    those positions) and stopping once they are found. `ties(codes)` gives the tied codes among
    a chunk's, distinct, with the index of each one's first occurrence."""
    first: dict[int, int] = {}
    missing, taken = len(every), 0
    for start in range(0, m, chunk):
        if missing == 0 and taken >= wanted:
            break
        codes = codes_at(start, min(start + chunk, m))
        if missing:
            where = np.flatnonzero(_members(codes, every))
            values, idx = np.unique(codes[where], return_index=True)
            for code, at in zip(values.tolist(), where[idx].tolist(), strict=True):
                if code not in first:
                    first[code] = start + at
                    missing -= 1
        if taken < wanted:
            values, idx = ties(codes)
            for j in np.argsort(idx, kind="stable").tolist():
                code = int(values[j])
                if code in first:  # taken in an earlier chunk
                    continue
                first[code] = start + int(idx[j])
                taken += 1
                if taken == wanted:
                    break
    return first


def _packing(base: int, n: int) -> tuple[int, bool, type, object]:
    size = max(int(base), 1) ** n
    dense = size <= DENSE_LIMIT
    dtype = np.int64 if dense else np.uint64
    return size, dense, dtype, dtype(max(int(base), 1))


def _sorts_all(ids: np.ndarray, m: int, n: int, dtype, mult, chunk: int) -> bool:
    """Whether the m sparse n-gram codes are counted in one sort rather than merged chunk by
    chunk: up to SORT_ALL_LIMIT always (quicker), and past it where the first chunk's n-grams
    are mostly distinct. Merging keeps ~25 bytes per distinct code and passes over them all
    at every chunk (252 MB of CJK: 28.2 s, 2.37 GB); one sort keeps ~12 bytes per n-gram."""
    if m <= 0:
        return False
    if m <= SORT_ALL_LIMIT:
        return True
    sample = _codes(ids, 0, min(chunk, m), n, dtype, mult)
    sample.sort()
    distinct = 1 + int(np.count_nonzero(sample[1:] != sample[:-1]))
    return 2 * distinct > len(sample)


def count_ngram_codes(
    ids: np.ndarray,
    base: int,
    n: int,
    chunk: int | None = None,
    cancelled: Callable[[], bool] | None = None,
    unigrams: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct n-gram of `ids` (values below `base`, Vⁿ < 2⁶⁴) as its packed code, in
    ascending code order, with its count (the Zipf series is the counts sorted). Where Vⁿ ≥
    2⁶⁴ the codes are `ranked_codes`, all counted in one sort. `unigrams`: each id's count, if
    known (which ids' n-grams go to the dense table of hot_ngrams.py; else counted there)."""
    if n < 1:
        raise DataError(f"n-gram order must be a whole number ≥ 1, got {n!r}")
    size, dense, dtype, mult = _packing(base, n)
    if size >= 1 << 64:
        return run_lengths(ranked_codes(ids, base, n))
    m = len(ids) - n + 1
    chunk = max(1, int(chunk or CHUNK_TOKENS))
    table = np.zeros(size if dense else 0, dtype=np.int64)
    codes = np.zeros(0, dtype=np.uint64)
    if not dense and _sorts_all(ids, m, n, dtype, mult, chunk):
        every = _codes(ids, 0, m, n, dtype, mult)
        return run_lengths(every)
    # Merged chunk by chunk: the n-grams of the most frequent ids go to a dense table first.
    k = 0 if dense or m <= 0 else hot_size(base, n)
    hot = HotNgrams(ids, base, n, k, chunk, unigrams) if k else None
    for start in range(0, max(m, 0), chunk):
        if cancelled is not None and cancelled():
            raise DataError("stopped counting n-grams")
        stop = min(start + chunk, m)
        if hot is not None:
            fresh = hot.cold_codes(ids, start, stop)
        else:
            fresh = _codes(ids, start, stop, n, dtype, mult)
        if dense:
            table += np.bincount(fresh, minlength=size)
        else:
            codes, table = merge_counts(codes, table, fresh, m)
    if dense:
        codes = np.flatnonzero(table)
        table = table[codes]
    elif hot is not None:
        codes, table = hot.merged_with(codes, table, m)
    return codes, table


def top_of_counts(
    ids: np.ndarray,
    base: int,
    n: int,
    k: int,
    codes: np.ndarray,
    counts: np.ndarray,
    chunk: int | None = None,
    ranked: np.ndarray | None = None,
) -> list[tuple[int, int]]:
    """The top k of `count_ngram_codes`' result as (first position, count): all counts above the
    k-th largest, then the earliest of those equal to it, ordered by count then position.
    `ranked`: the `ranked_codes` the counts were made of, where Vⁿ ≥ 2⁶⁴ (else made here)."""
    m = len(ids) - n + 1
    if m <= 0 or k <= 0 or not len(counts):
        return []
    size, _, dtype, mult = _packing(base, n)
    if size >= 1 << 64:
        # As count_ngram_codes numbered them.
        every_code = ranked_codes(ids, base, n) if ranked is None else ranked

        def codes_at(start: int, stop: int) -> np.ndarray:
            return every_code[start:stop]
    else:

        def codes_at(start: int, stop: int) -> np.ndarray:
            return _codes(ids, start, stop, n, dtype, mult)

    kth = kth_largest(counts, k) if len(counts) > k else int(counts.min())
    above = counts > kth  # fewer than k
    every = codes[above]
    tied = int(np.count_nonzero(counts == kth))
    if tied <= TIE_SET_LIMIT:
        some = codes[counts == kth]

        def ties(chunk_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            where = np.flatnonzero(_members(chunk_codes, some))
            values, idx = np.unique(chunk_codes[where], return_index=True)
            return values, where[idx]
    else:
        # Many ties (count 1 or 2 among millions of n-grams): no copy of them all; each chunk's
        # distinct codes, sorted, are looked up in `codes` (sorted keys search quickly), and the
        # first chunk almost always holds the few wanted.
        def ties(chunk_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            values, idx = np.unique(chunk_codes, return_index=True)
            tie = counts[np.searchsorted(codes, values)] == kth
            return values[tie], idx[tie]

    # No more tied codes are wanted than there are: with fewer than k distinct n-grams (one
    # 100 MB run of a single character), wanting k read the whole stream again for ties that
    # are not there (6.5 s of 11 for `stats`).
    wanted = min(k - len(every), tied)
    first = _first_positions(codes_at, m, max(1, int(chunk or FIRST_CHUNK)), every, ties, wanted)
    lookup = dict(zip(every.tolist(), counts[above].tolist(), strict=True))
    rows = [(pos, lookup.get(code, int(kth))) for code, pos in first.items()]
    rows.sort(key=lambda row: (-row[1], row[0]))
    return rows[:k]


def top_ngram_positions(
    ids: np.ndarray,
    base: int,
    n: int,
    k: int,
    chunk: int | None = None,
    cancelled: Callable[[], bool] | None = None,
    unigrams: np.ndarray | None = None,
) -> list[tuple[int, int]]:
    """The k most frequent n-grams of `ids` (values below `base`) as (first position, count),
    count descending, ties in first-seen order: ids[first : first + n] is the n-gram.

    A first pass counts every n-gram; a second finds the first positions of the few that can
    be in the top k (all counts above the k-th largest, the earliest of those equal to it)."""
    if n < 1:
        raise DataError(f"n-gram order must be a whole number ≥ 1, got {n!r}")
    if len(ids) - n + 1 <= 0 or k <= 0:
        return []
    return counts_and_top(ids, base, n, k, chunk, cancelled, unigrams)[1]


def counts_and_top(
    ids: np.ndarray,
    base: int,
    n: int,
    k: int,
    chunk: int | None = None,
    cancelled: Callable[[], bool] | None = None,
    unigrams: np.ndarray | None = None,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """`count_ngram_codes`' counts (the Zipf series, unsorted) and `top_of_counts`' rows
    (`unigrams`: each id's count, if known)."""
    if _packing(base, n)[0] >= 1 << 64:
        # Ranked once, kept in stream order for the first positions, counted on a sorted copy:
        # ranking again for the second pass held both beside the counts (~130 MB more for
        # 11M distinct words) and took as long again.
        ranked = ranked_codes(ids, base, n)
        codes, counts = run_lengths(ranked.copy())
        return counts, top_of_counts(ids, base, n, k, codes, counts, chunk, ranked)
    codes, counts = count_ngram_codes(ids, base, n, chunk, cancelled, unigrams)
    return counts, top_of_counts(ids, base, n, k, codes, counts, chunk)


def _bigrams_from_trigrams(ids: np.ndarray, base: int) -> dict | None:
    """Bigram and trigram counts from one sort: the trigram codes sorted, divided by V, are the
    bigram codes sorted (all bigrams but the last, added after). None when that does not
    apply (dense tables, or more n-grams than one sort takes)."""
    size2, dense2, _, mult = _packing(base, 2)
    size3, dense3, _, _ = _packing(base, 3)
    m = len(ids) - 2
    if dense2 or dense3 or size3 >= 1 << 64:
        return None
    if not _sorts_all(ids, m, 3, np.uint64, mult, CHUNK_TOKENS):
        return None
    codes3, counts3 = run_lengths(_codes(ids, 0, m, 3, np.uint64, mult))
    last = int(ids[-2]) * base + int(ids[-1])
    return {2: prefix_counts(codes3, counts3, mult, last), 3: (codes3, counts3)}


def top_ngrams_of_ids(
    ids: np.ndarray,
    tokens: Sequence[str],
    orders: Sequence[int] = (1, 2, 3),
    k: int = 10,
    chunk: int | None = None,
    cancelled: Callable[[], bool] | None = None,
    counts: np.ndarray | None = None,
) -> dict[int, list[tuple[tuple[str, ...], int]]]:
    """`top_ngrams_by_order(flat, orders, k)` for a stream given as one-to-one ids, where
    tokens[i] is the token of id i. `counts` (each id's count) may be given when the ids number
    the tokens in first-seen order (rnn_tui.data.token_array): unigrams then need no pass."""
    if k < 0:
        raise DataError(f"k must be 0 or more, got {k}")
    out = {}
    both = _bigrams_from_trigrams(ids, len(tokens)) if {2, 3} <= set(orders) and k else None
    for n in orders:
        if n == 1 and counts is not None:
            # First-seen ids: id order is first-occurrence order.
            top = [(i, int(counts[i])) for i in count_order(np.asarray(counts))[:k].tolist()]
            out[n] = [((tokens[i],), c) for i, c in top]
            continue
        if both is not None and n in both:
            top = top_of_counts(ids, len(tokens), n, k, *both[n], chunk)
        else:
            top = top_ngram_positions(ids, len(tokens), n, k, chunk, cancelled, counts)
        out[n] = [
            (tuple(tokens[i] for i in np.asarray(ids[p : p + n]).tolist()), c) for p, c in top
        ]
    return out


__all__ = [
    "CHUNK_TOKENS",
    "DENSE_LIMIT",
    "count_ngram_codes",
    "counts_and_top",
    "top_ngram_positions",
    "top_ngrams_of_ids",
    "top_of_counts",
]
