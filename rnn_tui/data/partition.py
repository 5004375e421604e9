"""Minibatches of a long sequence: random sampling and sequential partitioning
(d2l "Language Models", `seq_data_iter_random` and `seq_data_iter_sequential`).

The same `random.Random` draws as d2l's functions (which use the module-level `random`):
random sampling draws offset = randint(0, num_steps - 1) then shuffles the subsequence starts;
sequential partitioning draws offset = randint(0, num_steps). Y is always X shifted by one token.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from rnn_tui.data.errors import DataError
from rnn_tui.data.kinds import STRATEGIES

# The seeds' toy example: a 35-token sequence in minibatches of 2 × 5.
TOY_PRESET = dict(corpus=list(range(35)), batch_size=2, num_steps=5)


def min_tokens(batch_size: int, num_steps: int, strategy: str = "random") -> int:
    """The shortest corpus that yields at least one minibatch whatever offset is drawn.

    random: the largest offset is num_steps - 1, leaving num_tokens - num_steps + 1 tokens whose
    (len - 1) // num_steps subsequences must fill a batch: num_tokens ≥ (batch_size + 1)·num_steps.
    sequential: the largest offset is num_steps, and each of the batch_size rows needs num_steps
    tokens plus the label shift: num_tokens ≥ (batch_size + 1)·num_steps + 1.
    """
    _check_shape(batch_size, num_steps, strategy)
    extra = 0 if strategy == "random" else 1
    return (batch_size + 1) * num_steps + extra


def min_batches(num_tokens: int, batch_size: int, num_steps: int, strategy: str = "random") -> int:
    """The number of minibatches an epoch yields for the LARGEST offset, i.e. the fewest any seed
    gives (0 if the corpus is too short). A trainer that takes this many from every epoch keeps
    the epoch length constant although the random offset changes it by one now and then.
    """
    _check_shape(batch_size, num_steps, strategy)
    if strategy == "random":
        offset = num_steps - 1
        return max(0, (num_tokens - offset - 1) // num_steps // batch_size)
    offset = num_steps
    row_len = max(0, (num_tokens - offset - 1) // batch_size)
    return row_len // num_steps


def _check_shape(batch_size: int, num_steps: int, strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise DataError(f"unknown partitioning {strategy!r} (choose from {', '.join(STRATEGIES)})")
    if batch_size < 1:
        raise DataError(f"batch size must be at least 1, got {batch_size}")
    if num_steps < 1:
        raise DataError(f"num_steps must be at least 1, got {num_steps}")


def _check_length(num_tokens: int, batch_size: int, num_steps: int, strategy: str) -> None:
    need = min_tokens(batch_size, num_steps, strategy)
    if num_tokens < need:
        raise DataError(
            f"corpus too short: {num_tokens:,} token{'' if num_tokens == 1 else 's'}, {strategy} "
            f"batches of {batch_size}×{num_steps} need at least {need:,}"
        )


def _random_starts(
    num_tokens: int, batch_size: int, num_steps: int, rng: random.Random
) -> tuple[int, list[list[int]]]:
    # d2l seq_data_iter_random, on positions instead of values.
    offset = rng.randint(0, num_steps - 1)
    num_subseqs = (num_tokens - offset - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    rng.shuffle(initial_indices)
    num_batches = num_subseqs // batch_size
    starts = [
        [offset + j for j in initial_indices[i : i + batch_size]]
        for i in range(0, batch_size * num_batches, batch_size)
    ]
    return offset, starts


def _sequential_starts(
    num_tokens: int, batch_size: int, num_steps: int, rng: random.Random
) -> tuple[int, list[list[int]]]:
    # d2l seq_data_iter_sequential: corpus[offset : offset + used] reshaped to batch_size rows.
    offset = rng.randint(0, num_steps)
    used = ((num_tokens - offset - 1) // batch_size) * batch_size
    row_len = used // batch_size
    num_batches = row_len // num_steps
    starts = [
        [offset + r * row_len + i * num_steps for r in range(batch_size)]
        for i in range(num_batches)
    ]
    return offset, starts


def _starts_with_offset(
    num_tokens: int, batch_size: int, num_steps: int, strategy: str, rng: random.Random
) -> tuple[int, list[list[int]]]:
    _check_shape(batch_size, num_steps, strategy)
    _check_length(num_tokens, batch_size, num_steps, strategy)
    if strategy == "random":
        return _random_starts(num_tokens, batch_size, num_steps, rng)
    return _sequential_starts(num_tokens, batch_size, num_steps, rng)


def batch_starts(
    num_tokens: int, batch_size: int, num_steps: int, strategy: str, rng: random.Random
) -> list[list[int]]:
    """For each minibatch, the corpus position where each row's X starts (Y starts one later).

    random (d2l seq_data_iter_random): non-overlapping subsequences of num_steps tokens from a
    random offset in [0, num_steps - 1], their starts shuffled, (len - offset - 1) // num_steps of
    them, batch_size per minibatch.
    sequential (d2l seq_data_iter_sequential): offset in [0, num_steps]; the
    ((len - offset - 1) // batch_size) · batch_size tokens after it are cut into batch_size rows of
    L tokens; batch i row r starts at offset + r·L + i·num_steps, so batch i + 1 continues batch i.
    Raises DataError when the corpus is shorter than `min_tokens`.
    """
    return _starts_with_offset(num_tokens, batch_size, num_steps, strategy, rng)[1]


def iter_batches(
    ids: Sequence[int] | np.ndarray,
    batch_size: int,
    num_steps: int,
    strategy: str = "random",
    seed: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Minibatches (X, Y) of int64 arrays shaped (batch_size, num_steps), Y = X shifted by one.

    Validation happens at the call, before the first batch is asked for.
    """
    corpus = np.asarray(ids, dtype=np.int64)
    if corpus.ndim != 1:
        raise DataError(f"token ids must be a flat sequence, got shape {corpus.shape}")
    starts = batch_starts(len(corpus), batch_size, num_steps, strategy, random.Random(seed))
    steps = np.arange(num_steps)
    return _batches(corpus, starts, steps)


def _batches(
    corpus: np.ndarray, starts: list[list[int]], steps: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for batch in starts:
        index = np.asarray(batch, dtype=np.int64)[:, None] + steps
        yield corpus[index], corpus[index + 1]


@dataclass(eq=False)
class Layout:
    """Where every minibatch row sits in the corpus, for drawing the partition."""

    strategy: str
    batch_size: int
    num_steps: int
    num_tokens: int
    offset: int
    starts: list[list[int]]  # as batch_starts
    owner: np.ndarray  # (num_tokens,): batch index whose X covers the position, -1 if unused
    row: np.ndarray  # (num_tokens,): row within that batch, -1 if unused

    @property
    def num_batches(self) -> int:
        return len(self.starts)


def partition_layout(
    num_tokens: int,
    batch_size: int,
    num_steps: int,
    strategy: str = "random",
    seed: int = 0,
) -> Layout:
    """The layout `iter_batches(..., seed=seed)` produces on a corpus of num_tokens tokens."""
    offset, starts = _starts_with_offset(
        num_tokens, batch_size, num_steps, strategy, random.Random(seed)
    )
    owner = np.full(num_tokens, -1, dtype=np.int64)
    row = np.full(num_tokens, -1, dtype=np.int64)
    for b, batch in enumerate(starts):
        for r, start in enumerate(batch):
            owner[start : start + num_steps] = b
            row[start : start + num_steps] = r
    return Layout(strategy, batch_size, num_steps, num_tokens, offset, starts, owner, row)
