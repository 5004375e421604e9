"""This process's rows of a minibatch under data parallelism (train/distributed.py), and the
weight that makes DDP's averaged gradient the one a single process computes.

One process's loss is a mean over the minibatch's units (rows, tokens, class-weighted rows):

    l = Σ_{i ∈ batch} ℓ_i / N,        N = Σ_{i ∈ batch} n_i

Rank r of W sums ℓ over its own rows only, and DDP averages the W gradients, so rank r
backpropagates

    l_r = W · Σ_{i ∈ rows_r} ℓ_i / N

whose average over the ranks is l, whatever the shards' sizes: a last minibatch smaller than the
batch, or rows that count different numbers of tokens (a translation's target lengths). N is
known to every rank without communication: every rank draws the same epoch minibatches. The
language model's rows all count T tokens and its minibatches are all full, so it needs no weight
(`LanguageModelTask.set_shard`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import torch

Rows = TypeVar("Rows")  # a 1-d np.ndarray or torch.Tensor of row indices


@dataclass(frozen=True)
class Shard:
    """Rank `rank` of `world` processes (rank 0 of 1: the whole minibatch, unweighted)."""

    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    def rows(self, rows: Rows) -> tuple[Rows, float]:
        """This rank's contiguous part of a minibatch's rows (sizes differ by at most one) and
        its weight, 1. A rank left without rows (a last minibatch smaller than the process
        count) takes the first row with weight 0: every rank must run a backward pass for DDP's
        gradient average, and a zero weight adds nothing to it."""
        n = len(rows)  # type: ignore[arg-type]
        lo, hi = self.rank * n // self.world, (self.rank + 1) * n // self.world
        if lo == hi:
            return rows[:1], 0.0  # type: ignore[index]
        return rows[lo:hi], 1.0  # type: ignore[index]

    def mean(
        self, total: torch.Tensor, count: torch.Tensor | float, weight: float = 1.0
    ) -> torch.Tensor:
        """The loss to backpropagate: total / count in one process; under W processes
        W · weight · total / count, with `count` the whole minibatch's (module docstring)."""
        if not self.active:
            return total / count
        return total * (self.world * weight) / count


class Sharded:
    """A task that trains data-parallel this way: `set_shard` (called by the engine under
    torchrun) keeps this process's `Shard`, which the task's `batch_loss` asks for its rows
    (`shard.rows`) and its loss (`shard.mean`, over the whole minibatch's count)."""

    shard = Shard()  # one process: every row of each minibatch

    def set_shard(self, rank: int, world: int) -> None:
        self.shard = Shard(rank, world)


__all__ = ["Shard", "Sharded"]
