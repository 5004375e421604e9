"""Greedy, beam and exhaustive search over a decoder's next-token distributions (d2l §9.8).

The seeds compare three ways to pick an output sequence y_1 … y_L (ending in `<eos>`) for a
decoder that gives P(y_t | y_1 … y_{t−1}, c) one step at a time:

* greedy search takes argmax_y P(y | …) at every step — O(|Y|·T′), short-sighted;
* exhaustive search scores every sequence — O(|Y|^T′), optimal but infeasible beyond toy sizes;
* beam search keeps the k best partial sequences at every step — O(k·|Y|·T′); k = 1 is greedy.

Candidates are ranked by the seeds' length-penalised score (1/L^α) Σ_t log P(y_t | …), α = 0.75,
so long sequences are not punished merely for having more factors below one.

A model is seen through a *step function* `step(tokens (N,), state) -> (log_probs (N, V), state)`
that advances N sequences by one token, and `reorder(state, index (M,)) -> state` that picks (and
repeats) rows of a state — the two things beam search needs to grow all alive beams as one batch.
The state is opaque here (a tensor, a tuple, None, …). `table_stepper` turns a plain
`step_prob(prefix)` probability table into such a pair, which is how the seeds' worked example
(worked_example.py) runs through greedy and beam search.

Accumulated log-probabilities are float64 and greedy/beam share one selection rule (highest
accumulated value, lowest flat index on ties), so `beam_search(beam_size=1)` equals
`greedy_search` exactly. `greedy_search_many` and `beam_search_many` run many sequences in the
same step calls (a translator's file), each choosing exactly as it would alone. torch is imported
only when greedy or beam search runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rnn_tui.decode.options import DEFAULT_ALPHA

if TYPE_CHECKING:
    import torch

StepFn = Callable[[Any, Any], tuple[Any, Any]]  # (tokens (N,), state) -> (log_probs (N, V), state)
ReorderFn = Callable[[Any, Any], Any]  # (state, index (M,)) -> state
# Called before each step with the steps done so far; raising ends the search (a stop asked for).
OnStep = Callable[[int], None]
StepProb = Callable[[tuple[int, ...]], Sequence[float]]  # prefix -> V probabilities

EXHAUSTIVE_LIMIT = 200_000


class SearchError(ValueError):
    """Bad search arguments or a step function that breaks the contract; one-line message."""


class SearchTooLarge(SearchError):
    """Exhaustive search would have to score more than `limit` sequences (|Y|^T′)."""


@dataclass(frozen=True)
class Candidate:
    """One output sequence: `tokens` excludes `<eos>`; `log_prob` = Σ log P over the generated
    tokens including the final `<eos>` when `finished`; `length` = L, the number of generated
    tokens (with `<eos>` when finished); `score` = (1/L^α) Σ log P."""

    tokens: tuple[int, ...]
    log_prob: float
    length: int
    score: float
    finished: bool


def sequence_score(log_prob: float, length: int, alpha: float = DEFAULT_ALPHA) -> float:
    """The seeds' score (1/L^α) Σ_t log P(y_t | y_1 … y_{t−1}, c) (d2l §9.8.3, α = 0.75)."""
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise SearchError(f"sequence length must be a whole number ≥ 1 (got {length!r})")
    return log_prob / length**alpha


def _candidate(tokens: tuple[int, ...], log_prob: float, finished: bool, alpha: float):
    length = len(tokens) + (1 if finished else 0)
    return Candidate(tokens, log_prob, length, sequence_score(log_prob, length, alpha), finished)


def _ranked(candidates: list[Candidate]) -> list[Candidate]:
    # Stable: among equal scores the earlier-found candidate stays first.
    return sorted(candidates, key=lambda c: -c.score)


def _check_common(bos: int, eos: int, max_len: int) -> None:
    for name, value in (("bos", bos), ("eos", eos)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SearchError(f"{name} must be a token index (got {value!r})")
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
        raise SearchError(f"max_len must be a whole number ≥ 1 (got {max_len!r})")


def _torch():
    import torch

    return torch


def _device_of(state: Any) -> torch.device | None:
    """The device of the first tensor found in `state` (tensors, tuples, lists, dicts), if any."""
    torch = _torch()
    if isinstance(state, torch.Tensor):
        return state.device
    if isinstance(state, Mapping):
        state = list(state.values())
    if isinstance(state, tuple | list):
        for item in state:
            device = _device_of(item)
            if device is not None:
                return device
    return None


def _expand(step: StepFn, tokens, state, acc):
    """Run one step for N sequences; the accumulated log-probs (N, V) in float64 and the state."""
    log_probs, state = step(tokens, state)
    n = tokens.shape[0]
    if getattr(log_probs, "ndim", None) != 2 or log_probs.shape[0] != n:
        shape = tuple(getattr(log_probs, "shape", ()))
        raise SearchError(f"step function returned log-probs of shape {shape}, expected ({n}, V)")
    return acc[:, None] + log_probs.to(acc.device, acc.dtype), state


def _top(total, k: int):
    """The k largest entries of total (N, V) over all N·V, ties to the lowest flat index: the
    selection rule greedy and beam search share. Returns Python lists (values, flat indices)."""
    torch = _torch()
    flat = total.reshape(-1)
    if k < flat.numel():
        # A stable sort of all N·V entries costs ~0.4 ms a step at |Y| = 16k; topk finds the
        # k-th largest value, and only the entries at or above it (k of them, more on a tie)
        # are sorted, in ascending index order, so ties still go to the lowest index.
        kth = torch.topk(flat, k, sorted=False).values.min()
        index = torch.nonzero(flat >= kth).squeeze(1)
        if index.numel() >= k:  # fewer only where NaN is among them: then sort them all
            flat = flat[index]
        else:
            index = None
    else:
        index = None
    values, order = torch.sort(flat, descending=True, stable=True)
    order = order[:k]
    chosen = order if index is None else index[order]
    return values[:k].tolist(), chosen.tolist()


def greedy_search(
    step: StepFn,
    state: Any,
    bos: int,
    eos: int,
    max_len: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    device: Any = None,
) -> Candidate:
    """The seeds' greedy search: y_t = argmax_y P(y | y_1 … y_{t−1}, c), starting from `<bos>`,
    until `<eos>` (finished) or `max_len` generated tokens (unfinished). `state` is for one
    sequence (N = 1); tokens go to `device`, by default the device of the first tensor in
    `state` (CPU when it has none)."""
    return greedy_search_many(step, state, 1, bos, eos, max_len, alpha=alpha, device=device)[0]


def greedy_search_many(
    step: StepFn,
    state: Any,
    count: int,
    bos: int,
    eos: int,
    max_len: int,
    *,
    reorder: ReorderFn | None = None,
    alpha: float = DEFAULT_ALPHA,
    device: Any = None,
    on_step: OnStep | None = None,
) -> list[Candidate]:
    """`greedy_search` for `count` sequences at once (`state` has one row each): every
    unfinished one advances in the same step call, and each chooses as greedy_search does.
    With `reorder`, a finished sequence's row leaves the batch; without, it rides along.
    `on_step(t)` runs before step t (0, 1, …) and may raise to stop the search."""
    _check_common(bos, eos, max_len)
    torch = _torch()
    device = device if device is not None else _device_of(state)
    tokens = torch.full((count,), bos, dtype=torch.long, device=device)
    acc = torch.zeros(count, dtype=torch.float64, device=device)
    rows = list(range(count))  # the sequence in each row of the batch
    outs: list[tuple[int, ...]] = [()] * count
    last = [0.0] * count  # each sequence's accumulated log-prob
    found: list[Candidate | None] = [None] * count
    for t in range(max_len):
        if on_step is not None:
            on_step(t)
        total, state = _expand(step, tokens, state, acc)
        # max over a row: its highest value, the first (lowest index) on ties, as _top.
        best, chosen = total.max(dim=1)
        for seq, value, y in zip(rows, best.tolist(), chosen.tolist(), strict=True):
            if found[seq] is not None:
                continue
            last[seq] = value
            if y == eos:
                found[seq] = _candidate(outs[seq], value, True, alpha)
            else:
                outs[seq] += (y,)
        going = [i for i, seq in enumerate(rows) if found[seq] is None]
        if not going:
            break
        if reorder is not None and len(going) < len(rows):
            index = torch.tensor(going, dtype=torch.long, device=device)
            state, chosen, best = reorder(state, index), chosen[index], best[index]
            rows = [rows[i] for i in going]
        tokens, acc = chosen, best
    return [
        _candidate(outs[seq], last[seq], False, alpha) if c is None else c
        for seq, c in enumerate(found)
    ]


def beam_search(
    step: StepFn,
    reorder: ReorderFn,
    state: Any,
    bos: int,
    eos: int,
    max_len: int,
    beam_size: int,
    alpha: float = DEFAULT_ALPHA,
    *,
    device: Any = None,
) -> list[Candidate]:
    """The seeds' beam search (d2l §9.8.3), candidates sorted best first by (1/L^α) Σ log P.

    `state` is for one sequence. Each step, all alive beams are advanced as ONE batch
    (N = number alive); the `beam_size` best expansions by accumulated log-prob over all
    alive × |Y| are kept; those ending in `<eos>` become finished candidates and leave the beam,
    the rest stay alive (the state is reordered to their parents). It stops when no beam is
    alive or after `max_len` steps; beams still alive then are candidates too (finished=False).
    beam_size = 1 is greedy search, exactly.
    """
    return beam_search_many(
        step, reorder, state, 1, bos, eos, max_len, beam_size, alpha, device=device
    )[0]


def beam_search_many(
    step: StepFn,
    reorder: ReorderFn,
    state: Any,
    count: int,
    bos: int,
    eos: int,
    max_len: int,
    beam_size: int,
    alpha: float = DEFAULT_ALPHA,
    *,
    device: Any = None,
    on_step: OnStep | None = None,
) -> list[list[Candidate]]:
    """`beam_search` for `count` sequences at once (`state` has one row each): the alive beams
    of every sequence advance in one step call, and each sequence keeps its own `beam_size`
    best, chosen over its own rows as beam_search chooses them. `on_step(t)` runs before step
    t (0, 1, …) and may raise to stop the search."""
    _check_common(bos, eos, max_len)
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise SearchError(f"beam size must be a whole number ≥ 1 (got {beam_size!r})")
    torch = _torch()
    device = device if device is not None else _device_of(state)
    tokens = torch.full((count,), bos, dtype=torch.long, device=device)
    acc = torch.zeros(count, dtype=torch.float64, device=device)
    # The alive prefixes of each sequence still searching, in batch order: its rows are
    # consecutive.
    alive: dict[int, list[tuple[int, ...]]] = {seq: [()] for seq in range(count)}
    candidates: list[list[Candidate]] = [[] for _ in range(count)]
    for t in range(max_len):
        if on_step is not None:
            on_step(t)
        total, state = _expand(step, tokens, state, acc)
        vocab_size = total.shape[1]
        last = t == max_len - 1
        parents, next_tokens, next_acc = [], [], []
        going: dict[int, list[tuple[int, ...]]] = {}
        first = 0
        for seq, prefixes in alive.items():
            # One host sync per sequence and step.
            values, flat = _top(total[first : first + len(prefixes)], beam_size)
            kept, kept_acc = [], []
            for value, index in zip(values, flat):
                row, y = divmod(index, vocab_size)
                if y == eos:
                    candidates[seq].append(_candidate(prefixes[row], value, True, alpha))
                else:
                    parents.append(first + row)
                    kept.append(prefixes[row] + (y,))
                    kept_acc.append(value)
                    next_tokens.append(y)
            first += len(prefixes)
            if last:  # out of steps: the beams still alive are candidates too, after the ended
                candidates[seq].extend(
                    _candidate(p, v, False, alpha) for p, v in zip(kept, kept_acc)
                )
            elif kept:
                going[seq] = kept
                next_acc.extend(kept_acc)
        if not going:
            break
        state = reorder(state, torch.tensor(parents, dtype=torch.long, device=device))
        alive = going
        tokens = torch.tensor(next_tokens, dtype=torch.long, device=device)
        acc = torch.tensor(next_acc, dtype=torch.float64, device=device)
    return [_ranked(found) for found in candidates]


def _log(p: float) -> float:
    return math.log(p) if p > 0 else -math.inf


def _row(values: Any, vocab_size: int, log_probs: bool, prefix: tuple[int, ...]) -> list[float]:
    """One step_prob answer as log-probabilities (plain floats), checked."""
    row = values.tolist() if hasattr(values, "tolist") else list(values)
    if len(row) != vocab_size:
        raise SearchError(
            f"step_prob{prefix} gave {len(row)} values, expected the vocabulary size {vocab_size}"
        )
    row = [float(v) for v in row]
    if log_probs:
        return row
    if any(not 0.0 <= p <= 1.0 for p in row):  # also rejects NaN
        raise SearchError(f"step_prob{prefix} gave a value outside [0, 1]: {row}")
    return [_log(p) for p in row]


def exhaustive_search(
    step_prob: StepProb,
    vocab_size: int,
    eos: int,
    max_len: int,
    alpha: float = DEFAULT_ALPHA,
    limit: int = EXHAUSTIVE_LIMIT,
    *,
    log_probs: bool = False,
) -> list[Candidate]:
    """The seeds' exhaustive search: every sequence ending in `<eos>` of length ≤ max_len, plus
    every sequence of max_len tokens without `<eos>`, scored (1/L^α) Σ log P, best first.

    `step_prob(prefix)` gives the V next-token probabilities after `prefix` (a tuple of token
    indices without `<eos>`; `()` for the first step) as any sequence of numbers — or
    log-probabilities with `log_probs=True`. Probability 0 gives log P = −inf. Raises
    SearchTooLarge when |Y|^T′ = vocab_size**max_len exceeds `limit`.
    """
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
        raise SearchError(f"vocabulary size must be a whole number ≥ 1 (got {vocab_size!r})")
    _check_common(0, eos, max_len)
    if not 0 <= eos < vocab_size:
        raise SearchError(f"eos {eos} is not a token index below the vocabulary size {vocab_size}")
    size = vocab_size**max_len
    if size > limit:
        raise SearchTooLarge(
            f"exhaustive search over |Y|^T′ = {vocab_size}^{max_len} = {size:,} sequences "
            f"exceeds the limit of {limit:,}"
        )
    candidates: list[Candidate] = []

    def extend(prefix: tuple[int, ...], log_prob: float) -> None:
        row = _row(step_prob(prefix), vocab_size, log_probs, prefix)
        for y, lp in enumerate(row):
            total = log_prob + lp  # same order of float additions as beam search
            if y == eos:
                candidates.append(_candidate(prefix, total, True, alpha))
            elif len(prefix) + 1 == max_len:
                candidates.append(_candidate(prefix + (y,), total, False, alpha))
            else:
                extend(prefix + (y,), total)

    extend((), 0.0)
    return _ranked(candidates)


def table_stepper(
    step_prob: StepProb, vocab_size: int, *, log_probs: bool = False
) -> tuple[StepFn, ReorderFn, tuple[tuple[int, ...], ...]]:
    """A step function, reorder function and initial state driven by `step_prob(prefix)` (as
    for exhaustive_search), so a probability table runs through greedy and beam search.

    The state is a tuple with, per row, the tokens fed so far (the first is `<bos>`, which the
    prefix given to step_prob leaves out). Log-probs come back as a float64 tensor (N, V).
    """
    torch = _torch()

    def step(tokens, state):
        fed = [prefix + (int(y),) for prefix, y in zip(state, tokens.tolist())]
        rows = [_row(step_prob(f[1:]), vocab_size, log_probs, f[1:]) for f in fed]
        return torch.tensor(rows, dtype=torch.float64), tuple(fed)

    def reorder(state, index):
        return tuple(state[i] for i in index.tolist())

    return step, reorder, ((),)
