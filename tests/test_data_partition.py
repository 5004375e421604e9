"""Random sampling and sequential partitioning, checked against d2l's own loops."""

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data.errors import DataError
from rnn_tui.data.partition import (
    STRATEGIES,
    TOY_PRESET,
    batch_starts,
    iter_batches,
    min_batches,
    min_tokens,
    partition_layout,
)

SETTINGS = settings(max_examples=80, deadline=None)


# d2l's seq_data_iter_random / seq_data_iter_sequential, verbatim but for the module-level
# `random` (an rng argument here) and lists in place of torch tensors.
def d2l_seq_data_iter_random(corpus, batch_size, num_steps, rng):
    corpus = corpus[rng.randint(0, num_steps - 1) :]
    num_subseqs = (len(corpus) - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    rng.shuffle(initial_indices)

    def data(pos):
        return corpus[pos : pos + num_steps]

    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        initial_indices_per_batch = initial_indices[i : i + batch_size]
        X = [data(j) for j in initial_indices_per_batch]
        Y = [data(j + 1) for j in initial_indices_per_batch]
        yield X, Y


def d2l_seq_data_iter_sequential(corpus, batch_size, num_steps, rng):
    offset = rng.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = np.array(corpus[offset : offset + num_tokens])
    Ys = np.array(corpus[offset + 1 : offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i : i + num_steps]
        Y = Ys[:, i : i + num_steps]
        yield X.tolist(), Y.tolist()


D2L = {"random": d2l_seq_data_iter_random, "sequential": d2l_seq_data_iter_sequential}


def ours(corpus, batch_size, num_steps, strategy, seed):
    return [
        (X.tolist(), Y.tolist())
        for X, Y in iter_batches(corpus, batch_size, num_steps, strategy, seed)
    ]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("seed", range(12))
def test_toy_preset_matches_d2l(strategy, seed):
    corpus, batch_size, num_steps = (TOY_PRESET[k] for k in ("corpus", "batch_size", "num_steps"))
    expected = list(D2L[strategy](corpus, batch_size, num_steps, random.Random(seed)))
    got = ours(corpus, batch_size, num_steps, strategy, seed)
    assert got == expected


@pytest.mark.parametrize("seed", range(12))
def test_toy_preset_gives_the_seeds_three_minibatches(seed):
    # The seeds' example: 0…34 in minibatches of 2 × 5. Random sampling uses all six
    # subsequences of its offset, three minibatches of two, whatever the seed.
    corpus, batch_size, num_steps = (TOY_PRESET[k] for k in ("corpus", "batch_size", "num_steps"))
    batches = list(iter_batches(corpus, batch_size, num_steps, "random", seed))
    assert [X.shape for X, _ in batches] == [(2, 5)] * 3
    starts = sorted(int(s) for X, _ in batches for s in X[:, 0])
    assert starts == list(range(starts[0], starts[0] + 30, 5)) and 0 <= starts[0] < 5


def test_toy_preset_sequential_batches_continue_row_by_row():
    # At offset 0, sequential partitioning of the seeds' example splits 0…33 into two rows
    # (0…16, 17…33) read five tokens at a time: each minibatch continues the one before.
    corpus, batch_size, num_steps = (TOY_PRESET[k] for k in ("corpus", "batch_size", "num_steps"))
    layouts = (
        partition_layout(len(corpus), batch_size, num_steps, "sequential", s) for s in range(99)
    )
    seed = next(s for s, layout in enumerate(layouts) if layout.offset == 0)
    batches = list(iter_batches(corpus, batch_size, num_steps, "sequential", seed))
    assert [X.tolist() for X, _ in batches] == [
        [[0, 1, 2, 3, 4], [17, 18, 19, 20, 21]],
        [[5, 6, 7, 8, 9], [22, 23, 24, 25, 26]],
        [[10, 11, 12, 13, 14], [27, 28, 29, 30, 31]],
    ]


@SETTINGS
@given(
    st.integers(min_value=1, max_value=400),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=1, max_value=12),
    st.sampled_from(STRATEGIES),
    st.integers(min_value=0, max_value=2**32),
)
def test_matches_d2l_on_any_corpus_long_enough(length, batch_size, num_steps, strategy, seed):
    corpus = list(range(100, 100 + length))
    if length < min_tokens(batch_size, num_steps, strategy):
        with pytest.raises(DataError, match="corpus too short"):
            iter_batches(corpus, batch_size, num_steps, strategy, seed)
        return
    expected = list(D2L[strategy](corpus, batch_size, num_steps, random.Random(seed)))
    assert ours(corpus, batch_size, num_steps, strategy, seed) == expected


SHAPES = st.tuples(
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=1, max_value=10),
    st.integers(min_value=0, max_value=300),
    st.sampled_from(STRATEGIES),
    st.integers(min_value=0, max_value=10**6),
)


@SETTINGS
@given(SHAPES)
def test_labels_are_inputs_shifted_by_one(shape):
    batch_size, num_steps, extra, strategy, seed = shape
    n = min_tokens(batch_size, num_steps, strategy) + extra
    batches = list(iter_batches(list(range(n)), batch_size, num_steps, strategy, seed))
    assert batches
    for X, Y in batches:
        assert X.dtype == Y.dtype == np.int64
        assert X.shape == Y.shape == (batch_size, num_steps)
        assert (Y == X + 1).all()
        assert (np.diff(X, axis=1) == 1).all()


@SETTINGS
@given(SHAPES)
def test_start_invariants(shape):
    batch_size, num_steps, extra, strategy, seed = shape
    n = min_tokens(batch_size, num_steps, strategy) + extra
    starts = batch_starts(n, batch_size, num_steps, strategy, random.Random(seed))
    assert starts and all(len(batch) == batch_size for batch in starts)
    flat = [s for batch in starts for s in batch]
    # Every X has its labels inside the corpus.
    assert all(0 <= s and s + num_steps < n for s in flat)
    # Subsequences never overlap (both strategies).
    spans = sorted(flat)
    assert all(b - a >= num_steps for a, b in zip(spans, spans[1:], strict=False))
    if strategy == "random":
        # All starts sit on one grid offset, 0 ≤ offset < num_steps; unused subsequences may
        # include the first one, so the offset is the common remainder, not the smallest start.
        offset = min(flat) % num_steps
        assert all((s - offset) % num_steps == 0 for s in flat)
        assert len(flat) == batch_size * ((n - offset - 1) // num_steps // batch_size)
    else:
        # Batch i + 1 row r continues batch i row r.
        for prev, nxt in zip(starts, starts[1:], strict=False):
            assert [b - a for a, b in zip(prev, nxt, strict=True)] == [num_steps] * batch_size
        assert starts[0][0] <= num_steps


@SETTINGS
@given(SHAPES)
def test_layout_agrees_with_starts(shape):
    batch_size, num_steps, extra, strategy, seed = shape
    n = min_tokens(batch_size, num_steps, strategy) + extra
    layout = partition_layout(n, batch_size, num_steps, strategy, seed)
    assert layout.starts == batch_starts(n, batch_size, num_steps, strategy, random.Random(seed))
    assert layout.num_batches == len(layout.starts)
    assert layout.owner.shape == layout.row.shape == (n,)
    expected_owner = np.full(n, -1)
    expected_row = np.full(n, -1)
    for b, batch in enumerate(layout.starts):
        for r, s in enumerate(batch):
            expected_owner[s : s + num_steps] = b
            expected_row[s : s + num_steps] = r
    assert (layout.owner == expected_owner).all()
    assert (layout.row == expected_row).all()
    assert ((layout.owner == -1) == (layout.row == -1)).all()
    assert (layout.owner >= 0).sum() == layout.num_batches * batch_size * num_steps
    if strategy == "random":
        assert 0 <= layout.offset < num_steps
        assert all((s - layout.offset) % num_steps == 0 for batch in layout.starts for s in batch)
    else:
        assert 0 <= layout.offset == layout.starts[0][0] <= num_steps
    # The same seed gives the batches iter_batches yields.
    batches = list(iter_batches(list(range(n)), batch_size, num_steps, strategy, seed))
    assert [X[:, 0].tolist() for X, _ in batches] == layout.starts


def test_corpus_shorter_than_a_batch():
    with pytest.raises(DataError) as exc:
        iter_batches(list(range(40)), 2, 35, "random")
    assert str(exc.value) == "corpus too short: 40 tokens, random batches of 2×35 need at least 105"
    with pytest.raises(DataError, match="need at least 106"):
        partition_layout(40, 2, 35, "sequential")
    with pytest.raises(DataError, match="too short: 1 token, sequential batches of 32×35 need"):
        partition_layout(1, 32, 35, "sequential")


def test_bad_shapes():
    with pytest.raises(DataError, match="partitioning"):
        partition_layout(100, 2, 5, "shuffled")
    with pytest.raises(DataError, match="batch size"):
        partition_layout(100, 0, 5)
    with pytest.raises(DataError, match="num_steps"):
        partition_layout(100, 2, 0)
    with pytest.raises(DataError, match="flat"):
        iter_batches(np.zeros((4, 40), dtype=int), 2, 5)


def test_seed_determinism_and_variety():
    a = partition_layout(1000, 4, 10, "random", seed=1)
    b = partition_layout(1000, 4, 10, "random", seed=1)
    c = partition_layout(1000, 4, 10, "random", seed=2)
    assert a.starts == b.starts
    assert a.starts != c.starts


@settings(max_examples=100, deadline=None)
@given(
    num_tokens=st.integers(min_value=1, max_value=400),
    batch_size=st.integers(min_value=1, max_value=6),
    num_steps=st.integers(min_value=1, max_value=12),
    strategy=st.sampled_from(STRATEGIES),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_min_batches_is_the_fewest_any_seed_gives(
    num_tokens, batch_size, num_steps, strategy, seed
):
    fewest = min_batches(num_tokens, batch_size, num_steps, strategy)
    if num_tokens < min_tokens(batch_size, num_steps, strategy):
        assert fewest == 0
        return
    assert fewest >= 1
    got = len(batch_starts(num_tokens, batch_size, num_steps, strategy, random.Random(seed)))
    assert got >= fewest
    # The largest offset gives exactly `fewest`.
    largest = _LargestOffset(seed)
    assert len(batch_starts(num_tokens, batch_size, num_steps, strategy, largest)) == fewest


class _LargestOffset(random.Random):
    """A Random whose randint always draws the top of its range (the largest offset)."""

    def randint(self, a, b):
        return b
