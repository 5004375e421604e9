"""Held-out split and length-bucketed minibatches for the translation pairs.

The book's `load_data_nmt` shuffles all pairs into minibatches padded to `num_steps`; most pairs
are far shorter (half the English sides have ≤ 5 tokens), so most of every padded batch is `<pad>`.
Bucketing sorts pairs by length inside pools of `pool` minibatches before cutting batches, so a
batch holds pairs of similar length and the trainer trims it to its longest pair: the same pairs
and loss, a fraction of the padded time steps. The batch order is shuffled, and pools are drawn
afresh every epoch, so the optimiser still sees a random mix of lengths.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from rnn_tui.data.errors import DataError

# The held-out split does not depend on the training seed: every run of a data set is scored on
# the same held-out pairs, so their BLEU figures compare.
SPLIT_SEED = "nmt-split:0"
_WORD = re.compile(r"\w")


def split_pairs(n: int, val_fraction: float) -> tuple[list[int], list[int]]:
    """(train indices, held-out indices) of n pairs: a fixed random `val_fraction` held out
    (round(n·f), at least 1 when f > 0 and n > 1), both lists in the original order."""
    if not 0 <= val_fraction < 1:
        raise DataError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if n < 1:
        raise DataError("no translation pairs to train on")
    num_val = round(n * val_fraction)
    if val_fraction > 0 and n > 1:
        num_val = max(1, num_val)
    if num_val >= n:
        raise DataError(f"{n} pairs leave nothing to train on after holding out {num_val}")
    order = list(range(n))
    random.Random(SPLIT_SEED).shuffle(order)
    held = sorted(order[:num_val])
    held_set = set(held)
    return [i for i in range(n) if i not in held_set], held


def bucketed_batches(
    lengths: Sequence[int], batch_size: int, rng: random.Random, pool: int = 50
) -> list[list[int]]:
    """Minibatches (lists of indices into `lengths`) covering every index once: shuffle, sort
    each pool of `pool · batch_size` indices by length, cut into batches, shuffle the batches.
    The last batch may be smaller."""
    if batch_size < 1:
        raise DataError(f"batch_size must be at least 1, got {batch_size}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    span = batch_size * max(1, pool)
    batches: list[list[int]] = []
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span], key=lengths.__getitem__)
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def word_count(tokens: Sequence[str]) -> int:
    """Words in a tokenized sentence: tokens with a letter or digit (`.`, `!`, `?` do not count),
    so "i lost ." has two words."""
    return sum(1 for token in tokens if _WORD.search(token))


__all__ = ["SPLIT_SEED", "bucketed_batches", "split_pairs", "word_count"]
