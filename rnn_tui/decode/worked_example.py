"""The seeds' worked example of greedy against beam and exhaustive search (d2l §9.8,
Fig. 9.8.1–9.8.2): an output vocabulary A, B, C, `<eos>` and the conditional probabilities
P(y_t | y_1 … y_{t−1}, c) the notes give per prefix, where greedy's A B C `<eos>` (0.048) loses to
A C B `<eos>` (0.054). The Translate screen's explain panel computes its lines from these tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from rnn_tui.decode.options import DEFAULT_ALPHA
from rnn_tui.decode.search import SearchError, exhaustive_search

WORKED_EXAMPLE_TOKENS = ("A", "B", "C", "<eos>")
WORKED_EXAMPLE_EOS = 3
WORKED_EXAMPLE_MAX_LEN = 4
_A, _B, _C = 0, 1, 2
WORKED_EXAMPLE_TABLE: dict[tuple[int, ...], tuple[float, float, float, float]] = {
    (): (0.5, 0.2, 0.2, 0.1),
    (_A,): (0.1, 0.4, 0.3, 0.2),
    (_A, _B): (0.2, 0.2, 0.4, 0.2),  # greedy path: A B C <eos> = .5·.4·.4·.6 = 0.048
    (_A, _B, _C): (0.0, 0.2, 0.2, 0.6),
    (_A, _C): (0.1, 0.6, 0.2, 0.1),  # C at step 2: A C B <eos> = .5·.3·.6·.6 = 0.054
    (_A, _C, _B): (0.1, 0.2, 0.1, 0.6),
}
_UNIFORM = (0.25, 0.25, 0.25, 0.25)


def worked_example_step_prob(prefix: Sequence[int | str]) -> list[float]:
    """P(· | prefix) in the seeds' worked example, over (A, B, C, <eos>); the prefix holds token
    indices or names. Prefixes the seeds do not give are uniform (0.25 each)."""
    key = []
    for t in prefix:
        if isinstance(t, str):
            if t not in WORKED_EXAMPLE_TOKENS:
                raise SearchError(f"unknown token {t!r} (the worked example has A, B, C, <eos>)")
            t = WORKED_EXAMPLE_TOKENS.index(t)
        key.append(int(t))
    return list(WORKED_EXAMPLE_TABLE.get(tuple(key), _UNIFORM))


def worked_example_summary(alpha: float = DEFAULT_ALPHA) -> list[str]:
    """The seeds' point about greedy search, computed from the worked example's tables (plain
    Python, no torch): greedy's sequence and probability, the better A C B <eos>, and the best
    sequence of the exhaustive search under the score (1/L^α) Σ log P."""

    def probability(tokens: tuple[int, ...]) -> float:
        p = 1.0
        for i, y in enumerate(tokens):
            p *= worked_example_step_prob(tokens[:i])[y]
        return p

    def name(tokens) -> str:
        return " ".join(WORKED_EXAMPLE_TOKENS[t] for t in tokens)

    greedy: tuple[int, ...] = ()
    while len(greedy) < WORKED_EXAMPLE_MAX_LEN and (not greedy or greedy[-1] != WORKED_EXAMPLE_EOS):
        row = worked_example_step_prob(greedy)
        greedy += (max(range(len(row)), key=row.__getitem__),)
    better = (_A, _C, _B, WORKED_EXAMPLE_EOS)
    best = exhaustive_search(
        worked_example_step_prob,
        len(WORKED_EXAMPLE_TOKENS),
        WORKED_EXAMPLE_EOS,
        WORKED_EXAMPLE_MAX_LEN,
        alpha,
    )[0]
    best_tokens = best.tokens + ((WORKED_EXAMPLE_EOS,) if best.finished else ())
    return [
        f"greedy: {name(greedy)}  P = {probability(greedy):.3f}",
        f"choosing C at step 2: {name(better)}  P = {probability(better):.3f}",
        f"exhaustive search (score, α = {alpha:g}): {name(best_tokens)}  score {best.score:.3f}",
    ]
