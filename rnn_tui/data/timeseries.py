"""The seeds' synthetic series and its autoregressive features (d2l "Sequence Models").

x_t = sin(0.01 t) + ε_t, ε_t ~ N(0, 0.2), t = 1..1000; features are the τ = 4 previous values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_tui.data.errors import DataError


def sine_series(T: int = 1000, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(t, x) as float32 arrays of length T: t = 1..T, x_t = sin(0.01 t) + N(0, noise).

    `noise` is the standard deviation (d2l's torch.normal(0, 0.2, (T,))); the draws come from
    numpy's default_rng(seed), so a seed always gives the same series.
    """
    if T < 1:
        raise DataError(f"series length T must be at least 1, got {T}")
    if not noise >= 0:
        raise DataError(f"noise must be 0 or more, got {noise}")
    t = np.arange(1, T + 1, dtype=np.float64)
    x = np.sin(0.01 * t) + np.random.default_rng(seed).normal(0.0, noise, T)
    return t.astype(np.float32), x.astype(np.float32)


FIRST_POSITIONS = ("drop", "pad")


def ar_features(x: np.ndarray, tau: int = 4, first: str = "drop") -> tuple[np.ndarray, np.ndarray]:
    """d2l's autoregressive pairs: features[:, i] = x[i : T - tau + i] (shape (T - tau, tau)),
    labels = x[tau:] (shape (T - tau,)); features[i] = x[i .. i + tau - 1] predicts x[i + tau].

    The first τ values have fewer than τ predecessors: `first="drop"` leaves them out (the
    book's choice), `first="pad"` keeps them as labels with zeros for the missing history
    (shape (T, tau): features[i] = x[i - tau .. i - 1], zero where the index is negative)."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise DataError(f"the series must be one-dimensional, got shape {x.shape}")
    if first not in FIRST_POSITIONS:
        raise DataError(f"first must be drop or pad, got {first!r}")
    if tau < 1:
        raise DataError(f"tau must be at least 1, got {tau}")
    if first == "pad":
        x = np.concatenate((np.zeros(tau, dtype=x.dtype), x))
    T = len(x)
    if T <= tau:
        raise DataError(f"series too short: {T} values, tau = {tau} needs at least {tau + 1}")
    features = np.zeros((T - tau, tau), dtype=x.dtype)
    for i in range(tau):
        features[:, i] = x[i : T - tau + i]
    return features, x[tau:].copy()


@dataclass(frozen=True)
class ArSplit:
    """How a series of `points` values splits into feature–label pairs: the first `n_train`
    train, the rest are held out. Indices are into the transformed series z (one shorter than
    x when differenced)."""

    points: int
    pairs: int
    n_train: int
    first_label: int  # z-index of pair 0's label: τ when the first τ are dropped, else 0

    @property
    def held_out(self) -> int:
        return self.pairs - self.n_train

    @property
    def first_test(self) -> int:
        """z-index of the first held-out label."""
        return self.first_label + self.n_train


def ar_split(
    points: int,
    tau: int,
    first: str = "drop",
    *,
    diff: bool = False,
    n_train: int = -1,
    auto_train: int | None = None,
    name: str = "the series",
) -> ArSplit:
    """The pairs `points` values give with `tau` (d2l: T − τ when the first τ are dropped, T
    when padded; one fewer when differenced) and the training part: `n_train` pairs, or when it
    is -1 `auto_train` (the seeds' 600 of a 1000-point sine), else 80% of the pairs. DataError,
    one line naming the fix, when fewer than one pair would be held out."""
    first_label = tau if first == "drop" else 0
    pairs = points - (1 if diff else 0) - first_label
    if pairs < 2:
        raise DataError(
            f"{name} is too short for tau {tau}: its {points} values give {max(pairs, 0)} "
            "feature-label pairs, and training and a held-out part need at least 2 (lower --tau)"
        )
    if n_train == -1:
        chosen = auto_train if auto_train is not None else round(0.8 * pairs)
        n_train = max(1, min(pairs - 1, chosen))
    if n_train >= pairs:
        raise DataError(
            f"{name} is too short: {points} values give {pairs} pairs with tau {tau}, and "
            f"n_train {n_train} leaves none held out (lower --n-train or --tau)"
        )
    return ArSplit(points, pairs, n_train, first_label)
