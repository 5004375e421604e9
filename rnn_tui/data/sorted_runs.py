"""Runs of equal values in sorted integer codes, counted in place and block by block: the
counting half of d2l *Language Models*' n-gram frequencies (rnn_tui.data.ngram_counts packs the
n-grams into codes and finds the top k).

Every step works on blocks of RUN_BLOCK values and writes into arrays of the exact size, so
counting tens of millions of codes needs no temporaries their size: about 12 bytes an n-gram
where nearly all are distinct (a 100 MB file of CJK characters), where flat numpy passes took
about 50.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RUN_BLOCK = 1 << 22  # sorted codes compacted, and counts binned, this many at once
KTH_CAP = 1 << 12  # counts below this are found by a histogram when picking the top k


def count_dtype(total: int) -> type:
    """Counts of a stream of `total` n-grams: 4 bytes each while they fit (half the memory of a
    sort of tens of millions of distinct n-grams)."""
    return np.int32 if total < 1 << 31 else np.int64


def run_lengths(fresh: np.ndarray, total: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of `fresh` (sorted in place) and how often each occurs (counts sized for
    a stream of `total` n-grams, when a chunk's are merged into a stream's).

    The distinct values are moved to the front of `fresh` block by block and returned as a view
    of it (a copy where they are few), so beyond the codes themselves this costs only the
    counts: for 33M n-grams, nearly all distinct (a 100 MB file of CJK characters), 0.13 GB
    where flat numpy temporaries (boundaries, starts, values, differences) took 1.1 GB."""
    m = len(fresh)
    if not m:
        return fresh, np.zeros(0, dtype=count_dtype(total))
    fresh.sort()
    block = max(1, int(RUN_BLOCK))
    distinct = 1
    for start in range(1, m, block):
        stop = min(start + block, m)
        distinct += int(np.count_nonzero(fresh[start:stop] != fresh[start - 1 : stop - 1]))
    counts = np.empty(distinct, dtype=count_dtype(max(m, total)))
    written, pending, previous = 0, -1, None  # pending: the run whose end is not yet seen
    for start in range(0, m, block):
        stop = min(start + block, m)
        chunk = fresh[start:stop]
        new = np.empty(len(chunk), dtype=bool)
        new[0] = previous is None or chunk[0] != previous
        np.not_equal(chunk[1:], chunk[:-1], out=new[1:])
        previous = chunk[-1].copy()  # before the writes below can reach it
        starts = np.flatnonzero(new)
        if not len(starts):
            continue
        if pending >= 0:
            counts[written - 1] = start + int(starts[0]) - pending
        values = chunk[starts]  # a copy: written at or before `start`, never past `stop`
        fresh[written : written + len(starts)] = values
        counts[written : written + len(starts) - 1] = np.diff(starts)
        written += len(starts)
        pending = start + int(starts[-1])
    counts[written - 1] = m - pending
    # Few distinct: a copy, so that the caller's buffer of all m codes can be freed.
    return (fresh[:written].copy() if written <= m // 4 else fresh[:written]), counts


def merge_counts(
    codes: np.ndarray, counts: np.ndarray, fresh: np.ndarray, total: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct codes with counts, updated with one chunk's codes (of a stream of
    `total`)."""
    values, found = run_lengths(fresh, total)
    if not len(codes):
        return values, found
    pos = np.searchsorted(codes, values)
    hit = pos < len(codes)
    hit[hit] = codes[pos[hit]] == values[hit]
    counts[pos[hit]] += found[hit]
    miss = ~hit
    if miss.any():
        # The new codes go where searchsorted put them, shifted by the new ones before them;
        # the old ones fill the rest in order (a linear merge: np.insert is twice as slow).
        fresh_at = pos[miss] + np.arange(int(miss.sum()))
        old = np.ones(len(codes) + len(fresh_at), dtype=bool)
        old[fresh_at] = False
        merged, merged_counts = np.empty(len(old), codes.dtype), np.empty(len(old), counts.dtype)
        merged[fresh_at], merged_counts[fresh_at] = values[miss], found[miss]
        merged[old], merged_counts[old] = codes, counts
        codes, counts = merged, merged_counts
    return codes, counts


def counts_at_ranks(counts: np.ndarray, ranks: np.ndarray | Sequence[int]) -> np.ndarray:
    """The values of `counts` sorted descending, at the 1-based `ranks` (each ≤ len), without
    sorting them: n-gram counts are mostly tiny and repeat millions of times, so a histogram of
    the counts below a cap places every rank there, and only the counts at or above the cap
    (few: they sum to at most the stream's length) are sorted. Block by block, so no copy of
    `counts` is made (np.partition slows down ~10× on such repeats and np.sort copies)."""
    cap = max(1, int(KTH_CAP))
    hist = np.zeros(cap + 1, dtype=np.int64)
    block = max(1, int(RUN_BLOCK))
    for start in range(0, len(counts), block):
        capped = np.minimum(counts[start : start + block], cap)
        hist += np.bincount(capped, minlength=cap + 1)
    big = np.sort(counts[counts >= cap])[::-1]
    ranks = np.asarray(ranks, dtype=np.int64)
    out = np.empty(len(ranks), dtype=np.int64)
    in_big = ranks <= len(big)
    out[in_big] = big[ranks[in_big] - 1]
    # Below the cap: the rank-r value is the largest c with r counts in [c, cap), found on the
    # reversed cumulative histogram, which rises as c falls.
    rising = np.cumsum(hist[:cap][::-1])
    out[~in_big] = cap - 1 - np.searchsorted(rising, ranks[~in_big] - len(big), side="left")
    return out


def kth_largest(counts: np.ndarray, k: int) -> int:
    """The k-th largest of `counts` (1 ≤ k ≤ len)."""
    return int(counts_at_ranks(counts, [k])[0])


def prefix_counts(
    codes: np.ndarray, counts: np.ndarray, mult, extra: int
) -> tuple[np.ndarray, np.ndarray]:
    """The (n−1)-gram prefixes of sorted n-gram `codes` (code // V, sorted too) with their
    counts summed, plus one occurrence of the prefix code `extra` (the stream's last (n−1)-gram,
    which starts no n-gram). Block by block into arrays of the exact size: no temporaries the
    size of `codes`."""
    block, d = max(1, int(RUN_BLOCK)), len(codes)
    distinct, previous = 0, None
    for start in range(0, d, block):
        prefix = codes[start : start + block] // mult
        distinct += int(np.count_nonzero(prefix[1:] != prefix[:-1]))
        distinct += int(previous is None or prefix[0] != previous)
        previous = prefix[-1]
    at = int(np.searchsorted(codes, np.uint64(extra) * mult))
    present = at < d and int(codes[at] // mult) == extra
    out_codes = np.empty(distinct + (not present), dtype=codes.dtype)
    out_counts = np.empty(len(out_codes), dtype=counts.dtype)
    written, previous = 0, None
    for start in range(0, d, block):
        prefix, part = codes[start : start + block] // mult, counts[start : start + block]
        new = np.empty(len(prefix), dtype=bool)
        new[0] = previous is None or prefix[0] != previous
        np.not_equal(prefix[1:], prefix[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        if not new[0]:  # the block begins inside the previous block's last run
            out_counts[written - 1] += part[: starts[0] if len(starts) else len(part)].sum()
        if len(starts):
            out_codes[written : written + len(starts)] = prefix[starts]
            out_counts[written : written + len(starts)] = np.add.reduceat(part, starts)
            written += len(starts)
        previous = prefix[-1]
    place = int(np.searchsorted(out_codes[:written], np.uint64(extra)))
    if present:
        out_counts[place] += 1
        return out_codes, out_counts
    for stop in range(written, place, -block):  # one slot up, from the end, a block at a time
        begin = max(place, stop - block)
        out_codes[begin + 1 : stop + 1] = out_codes[begin:stop]
        out_counts[begin + 1 : stop + 1] = out_counts[begin:stop]
    out_codes[place], out_counts[place] = extra, 1
    return out_codes, out_counts


__all__ = [
    "KTH_CAP",
    "RUN_BLOCK",
    "count_dtype",
    "counts_at_ranks",
    "kth_largest",
    "merge_counts",
    "prefix_counts",
    "run_lengths",
]
