"""The fixed, stratified held-out split of the bundled names (for the many-to-one classifier).

Every run holds out the same names: each language's names (duplicates within a language
dropped, as the tutorial's list repeats some) are ordered by a hash of the name — not by a seeded
shuffle, so the split stays the same when a language's file changes elsewhere — and the first
`fraction` of each (at least one, at most all but one) is held out. Every language is in both
parts, in its own proportion, so the very unbalanced classes (Russian ≈ 9,400 names, Vietnamese
73) are all measured.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass

from rnn_tui.data.errors import DataError
from rnn_tui.data.names import load_names

HELD_OUT = 0.1


@dataclass(frozen=True)
class NamesSplit:
    """The languages (class index order) and the (name, class index) pairs of each part."""

    languages: tuple[str, ...]
    train: tuple[tuple[str, int], ...]
    held_out: tuple[tuple[str, int], ...]

    def counts(self, part: str = "train") -> list[int]:
        """Names per class in `part` ("train" or "held_out")."""
        counts = [0] * len(self.languages)
        for _, label in getattr(self, part):
            counts[label] += 1
        return counts


def _key(name: str, language: str) -> str:
    return hashlib.sha256(f"{language}\t{name}".encode()).hexdigest()


def stratified_split(by_class: dict[str, list[str]], fraction: float = HELD_OUT) -> NamesSplit:
    """Hold out `fraction` of each class's distinct items (ordered by hash; ≥ 1 each and ≥ 1
    left to train); DataError for a class with fewer than 2 items or a fraction outside (0, 1)."""
    if not 0 < fraction < 1:
        raise DataError(f"the held-out fraction must be in (0, 1), got {fraction}")
    languages = tuple(sorted(by_class))
    train, held_out = [], []
    for label, language in enumerate(languages):
        items = sorted(set(by_class[language]), key=lambda n: _key(n, language))
        if len(items) < 2:
            raise DataError(f"class {language} has {len(items)} item(s): a split needs 2")
        n_held = min(len(items) - 1, max(1, math.floor(fraction * len(items) + 0.5)))
        held_out += [(name, label) for name in items[:n_held]]
        train += [(name, label) for name in items[n_held:]]
    return NamesSplit(languages, tuple(train), tuple(held_out))


def names_split(fraction: float = HELD_OUT, ascii: bool = True) -> NamesSplit:
    """The bundled names split (the same for every run with the same fraction)."""
    return stratified_split(load_names(ascii), fraction)


def _evenly(train: list, count: int, classes: int) -> list:
    """`count` of the (name, label) pairs, evenly through the hash-ordered list, and at least
    one of each of the `classes` (count >= classes): a class too rare to be met by the even
    steps (Vietnamese's 73 of 16,000 at --max-names 18) takes the place of the last pick of
    the most picked class."""
    step = len(train) / count
    picked = [train[int(i * step)] for i in range(count)]
    have = Counter(label for _, label in picked)
    for label in range(classes):
        if have[label] == 0:
            donor = max(have, key=lambda c: (have[c], -c))
            at = max(i for i, (_, c) in enumerate(picked) if c == donor)
            picked[at] = next(pair for pair in train if pair[1] == label)
            have[donor] -= 1
            have[label] += 1
    return picked


def training_names(split: NamesSplit, max_names: int = -1) -> list[tuple[str, int]]:
    """The training names a run reads: all of them, or `max_names` (-1: all) picked evenly
    through the split's hash order, every class kept. The run's baselines are fitted on
    these, so whoever shows them fits on the same."""
    train = list(split.train)
    if max_names != -1 and max_names < len(train):
        train = _evenly(train, max_names, len(split.languages))
    return train


__all__ = ["HELD_OUT", "NamesSplit", "names_split", "stratified_split", "training_names"]
