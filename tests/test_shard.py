"""A minibatch's rows split over data-parallel processes (rnn_tui/train/shard.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.train.shard import Shard


@given(n=st.integers(1, 200), world=st.integers(1, 16))
def test_the_ranks_parts_are_the_rows_in_order_and_differ_by_at_most_one(n, world):
    rows = np.arange(100, 100 + n)
    parts = [Shard(rank, world).rows(rows) for rank in range(world)]
    kept = [part for part, weight in parts if weight]
    assert np.array_equal(np.concatenate(kept), rows)
    sizes = [len(part) for part in kept]
    assert max(sizes) - min(sizes) <= 1
    # A rank without rows of its own still has one (a backward pass for DDP), weighted 0.
    assert all(len(part) == 1 and weight == 0.0 for part, weight in parts if not weight)
    assert sum(1 for _, weight in parts if not weight) == max(0, world - n)


def test_one_process_is_the_plain_mean_and_ranks_weighted_means_average_to_it():
    terms = torch.arange(1.0, 8.0)  # 7 rows' losses
    whole = Shard().mean(terms.sum(), len(terms))
    assert whole == pytest.approx(4.0)
    ranks = []
    for rank in range(3):
        shard = Shard(rank, 3)
        part, weight = shard.rows(terms)
        ranks.append(shard.mean(part.sum(), len(terms), weight))
    assert torch.stack(ranks).mean() == pytest.approx(whole.item())
