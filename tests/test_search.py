"""Greedy, beam and exhaustive search (rnn_tui.decode.search) on the seeds' worked example
(d2l §9.8), random probability tables and a tiny fixed-seed recurrent "model"."""

from __future__ import annotations

import math
import random
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.decode.search import (
    Candidate,
    SearchError,
    SearchTooLarge,
    _row,
    _top,
    beam_search,
    beam_search_many,
    exhaustive_search,
    greedy_search,
    greedy_search_many,
    sequence_score,
    table_stepper,
)
from rnn_tui.decode.worked_example import (
    WORKED_EXAMPLE_TABLE,
    WORKED_EXAMPLE_TOKENS,
    worked_example_step_prob,
)

A, B, C, EOS = 0, 1, 2, 3
BOS = -1  # outside the worked example's vocabulary: the table stepper never looks it up


def worked_stepper():
    return table_stepper(worked_example_step_prob, 4)


def find(candidates, tokens, finished=True):
    (match,) = [c for c in candidates if c.tokens == tokens and c.finished == finished]
    return match


# --- the seeds' worked example -------------------------------------------------------------


def test_worked_example_tables():
    assert WORKED_EXAMPLE_TOKENS == ("A", "B", "C", "<eos>")
    for prefix, row in WORKED_EXAMPLE_TABLE.items():
        assert sum(row) == pytest.approx(1.0), prefix
    assert worked_example_step_prob(()) == [0.5, 0.2, 0.2, 0.1]
    assert worked_example_step_prob(("A", "C")) == [0.1, 0.6, 0.2, 0.1]
    assert worked_example_step_prob((A, C, B)) == [0.1, 0.2, 0.1, 0.6]
    assert worked_example_step_prob((B,)) == [0.25] * 4  # not in the seeds: uniform
    with pytest.raises(SearchError, match="unknown token 'D'"):
        worked_example_step_prob(("D",))


def test_greedy_on_worked_example_is_abc_eos_with_p_0_048():
    step, _, state = worked_stepper()
    got = greedy_search(step, state, BOS, EOS, max_len=4)
    assert got.tokens == (A, B, C) and got.finished and got.length == 4
    assert math.exp(got.log_prob) == pytest.approx(0.5 * 0.4 * 0.4 * 0.6)
    assert math.exp(got.log_prob) == pytest.approx(0.048)
    assert got.score == pytest.approx(math.log(0.048) / 4**0.75)


def test_exhaustive_on_worked_example_beats_greedy():
    candidates = exhaustive_search(worked_example_step_prob, 4, EOS, 4)
    acb = find(candidates, (A, C, B))
    assert math.exp(acb.log_prob) == pytest.approx(0.5 * 0.3 * 0.6 * 0.6)
    assert math.exp(acb.log_prob) == pytest.approx(0.054)
    step, _, state = worked_stepper()
    greedy = greedy_search(step, state, BOS, EOS, max_len=4)
    best = candidates[0]
    assert best.score >= acb.score > greedy.score
    assert best == acb  # no other sequence of ≤ 4 tokens beats it in this example
    # every <eos>-ended sequence of length ≤ 4 plus every <eos>-free one of length 4
    assert len(candidates) == 1 + 3 + 9 + 27 + 81


def test_beam_of_two_on_worked_example_finds_acb():
    step, reorder, state = worked_stepper()
    got = beam_search(step, reorder, state, BOS, EOS, max_len=4, beam_size=2)
    assert [c.tokens for c in got] == [(A, C, B), (A, B, C)]
    assert all(c.finished for c in got)
    assert math.exp(got[0].log_prob) == pytest.approx(0.054)


def test_exhaustive_accepts_log_probs():
    plain = exhaustive_search(worked_example_step_prob, 4, EOS, 3)
    logs = exhaustive_search(
        lambda p: [math.log(x) for x in worked_example_step_prob(p)], 4, EOS, 3, log_probs=True
    )
    assert [(c.tokens, c.finished) for c in logs] == [(c.tokens, c.finished) for c in plain]
    assert [c.score for c in logs] == pytest.approx([c.score for c in plain])


def test_zero_probability_gives_minus_infinity():
    candidates = exhaustive_search(worked_example_step_prob, 4, EOS, 4)
    dead = find(candidates, (A, B, C, A), finished=False)  # P(A | A B C) = 0 in the seeds
    assert dead.log_prob == -math.inf and dead.score == -math.inf
    assert candidates[-1].score == -math.inf  # ranked last


# --- scores and candidates -------------------------------------------------------------------


def test_sequence_score_is_length_penalised_log_prob():
    assert sequence_score(-3.0, 4) == pytest.approx(-3.0 / 4**0.75)
    assert sequence_score(-3.0, 4, alpha=0.0) == -3.0
    assert sequence_score(-3.0, 1) == -3.0
    with pytest.raises(SearchError, match="length"):
        sequence_score(-1.0, 0)


def test_search_too_large_names_the_size_and_calls_nothing():
    def never(prefix):
        raise AssertionError("step_prob must not run")

    with pytest.raises(SearchTooLarge) as info:
        exhaustive_search(never, 10_000, 3, 10)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "|Y|^T′ = 10000^10" in message and "200,000" in message and "\n" not in message
    with pytest.raises(SearchTooLarge, match="4\\^4 = 256"):
        exhaustive_search(never, 4, 3, 4, limit=255)


def test_bad_arguments_are_one_line_errors():
    step, reorder, state = worked_stepper()
    with pytest.raises(SearchError, match="beam size"):
        beam_search(step, reorder, state, BOS, EOS, 4, beam_size=0)
    with pytest.raises(SearchError, match="max_len"):
        greedy_search(step, state, BOS, EOS, max_len=0)
    with pytest.raises(SearchError, match="eos 4"):
        exhaustive_search(worked_example_step_prob, 4, 4, 2)
    with pytest.raises(SearchError, match="expected the vocabulary size 5"):
        exhaustive_search(worked_example_step_prob, 5, 3, 2)
    with pytest.raises(SearchError, match="outside \\[0, 1\\]"):
        exhaustive_search(lambda p: [2.0, -1.0], 2, 1, 2)

    def flat_step(tokens, state):
        return torch.zeros(4), state  # (V,) instead of (N, V)

    with pytest.raises(SearchError, match="shape \\(4,\\), expected \\(1, V\\)"):
        greedy_search(flat_step, None, BOS, EOS, 3)


# --- random probability tables ---------------------------------------------------------------


def random_table(seed: int, vocab: int):
    """A deterministic step_prob: small integer weights per prefix, so ties and zeros occur."""

    def step_prob(prefix):
        rng = random.Random(f"{seed}:{prefix}")
        weights = [rng.randint(0, 3) for _ in range(vocab)]
        total = sum(weights) or 1
        return [w / total for w in weights]

    return step_prob


tables = st.tuples(
    st.integers(0, 10_000), st.integers(2, 4), st.integers(1, 4), st.integers(0, 3)
).map(lambda t: (t[0], t[1], t[2], t[3] % t[1]))  # seed, |Y|, T′, eos


@settings(max_examples=60, deadline=None)
@given(tables)
def test_greedy_equals_beam_of_one_on_tables(case):
    seed, vocab, max_len, eos = case
    step, reorder, state = table_stepper(random_table(seed, vocab), vocab)
    greedy = greedy_search(step, state, BOS, eos, max_len)
    assert beam_search(step, reorder, state, BOS, eos, max_len, beam_size=1) == [greedy]


@settings(max_examples=60, deadline=None)
@given(tables, st.sampled_from([0.0, 0.75, 1.0]))
def test_wide_beam_matches_exhaustive_on_tables(case, alpha):
    seed, vocab, max_len, eos = case
    step_prob = random_table(seed, vocab)
    step, reorder, state = table_stepper(step_prob, vocab)
    exhaustive = exhaustive_search(step_prob, vocab, eos, max_len, alpha=alpha)
    # k ≥ |Y|^(T′−1): nothing is pruned before the last step, where all candidates have length
    # T′, so the best one survives.
    beam = beam_search(step, reorder, state, BOS, eos, max_len, vocab ** (max_len - 1), alpha)
    assert beam[0].score == exhaustive[0].score
    assert beam[0] in [c for c in exhaustive if c.score == exhaustive[0].score]
    assert set(beam) <= set(exhaustive)
    # k ≥ |Y|^T′: nothing is pruned at all, the same candidate set.
    full = beam_search(step, reorder, state, BOS, eos, max_len, vocab**max_len, alpha)
    assert set(full) == set(exhaustive) and len(full) == len(exhaustive)
    assert [c.score for c in full] == [c.score for c in exhaustive]


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 5), st.integers(1, 4))
def test_exhaustive_enumerates_every_sequence(vocab, max_len):
    got = exhaustive_search(lambda p: [1 / vocab] * vocab, vocab, 0, max_len)
    ended = sum((vocab - 1) ** (n - 1) for n in range(1, max_len + 1))
    assert len(got) == ended + (vocab - 1) ** max_len
    assert len({(c.tokens, c.finished) for c in got}) == len(got)
    for c in got:
        assert c.length == len(c.tokens) + c.finished and 1 <= c.length <= max_len
        assert c.finished or c.length == max_len
        assert 0 not in c.tokens
        assert c.log_prob == pytest.approx(c.length * math.log(1 / vocab))


# --- a tiny fixed-seed recurrent "model" ------------------------------------------------------


class TinyModel:
    """h′ = tanh(E[y] + h U), log P = log_softmax(h′ O + b): batched like a real decoder's step.
    The last embedding row is <bos>, which is not an output token."""

    def __init__(self, seed, vocab, eos, hidden=6, eos_bias=0.0, dtype=torch.float32):
        g = torch.Generator().manual_seed(seed)
        self.E = torch.randn(vocab + 1, hidden, generator=g, dtype=dtype)
        self.U = torch.randn(hidden, hidden, generator=g, dtype=dtype) * 0.7
        self.O = torch.randn(hidden, vocab, generator=g, dtype=dtype) * 2
        self.b = torch.zeros(vocab, dtype=dtype)
        self.b[eos] = eos_bias
        self.bos, self.eos, self.vocab, self.hidden, self.dtype = vocab, eos, vocab, hidden, dtype
        self.batch_sizes: list[int] = []

    def initial(self):
        return torch.zeros(1, self.hidden, dtype=self.dtype)

    def step(self, tokens, h):
        self.batch_sizes.append(tokens.shape[0])
        assert tokens.dtype == torch.long and h.shape == (tokens.shape[0], self.hidden)
        h = torch.tanh(self.E[tokens] + h @ self.U)
        return torch.log_softmax(h @ self.O + self.b, dim=-1), h

    @staticmethod
    def reorder(h, index):
        return h[index]

    def step_prob(self, prefix):
        """Log-probs after `prefix`, one sequence at a time (for exhaustive search)."""
        h = self.initial()
        for y in (self.bos, *prefix):
            log_probs, h = self.step(torch.tensor([y]), h)
        return log_probs[0]


models = st.tuples(
    st.integers(0, 10_000), st.integers(2, 6), st.integers(1, 6), st.floats(-3.0, 3.0)
)  # seed, |Y|, T′, bias on <eos>


@settings(max_examples=60, deadline=None)
@given(models)
def test_greedy_equals_beam_of_one_on_models(case):
    seed, vocab, max_len, eos_bias = case
    model = TinyModel(seed, vocab, eos=vocab - 1, eos_bias=eos_bias)
    greedy = greedy_search(model.step, model.initial(), model.bos, model.eos, max_len)
    beam = beam_search(
        model.step, model.reorder, model.initial(), model.bos, model.eos, max_len, beam_size=1
    )
    assert beam == [greedy]
    assert greedy.finished or greedy.length == max_len


@settings(max_examples=25, deadline=None)
@given(models.filter(lambda c: c[1] ** c[2] <= 2000))
def test_wide_beam_matches_exhaustive_on_models(case):
    seed, vocab, max_len, eos_bias = case
    model = TinyModel(seed, vocab, eos=0, eos_bias=eos_bias, dtype=torch.float64)
    exhaustive = exhaustive_search(model.step_prob, vocab, 0, max_len, log_probs=True)
    beam = beam_search(
        model.step, model.reorder, model.initial(), model.bos, 0, max_len, vocab**max_len
    )
    assert {(c.tokens, c.finished) for c in beam} == {(c.tokens, c.finished) for c in exhaustive}
    by_key = {(c.tokens, c.finished): c.score for c in exhaustive}
    for c in beam:
        assert c.score == pytest.approx(by_key[(c.tokens, c.finished)], rel=1e-9, abs=1e-12)
    assert beam[0].score == pytest.approx(exhaustive[0].score, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(models, st.integers(1, 5), st.sampled_from([0.0, 0.75, 1.0]))
def test_beam_candidates_are_ranked_scores(case, beam_size, alpha):
    seed, vocab, max_len, eos_bias = case
    model = TinyModel(seed, vocab, eos=1, eos_bias=eos_bias)
    got = beam_search(
        model.step, model.reorder, model.initial(), model.bos, 1, max_len, beam_size, alpha
    )
    assert got and all(isinstance(c, Candidate) for c in got)
    assert [c.score for c in got] == sorted((c.score for c in got), reverse=True)
    for c in got:
        assert c.length == len(c.tokens) + (1 if c.finished else 0)
        assert c.score == pytest.approx(c.log_prob / c.length**alpha)
        assert 1 not in c.tokens
        assert c.finished or c.length == max_len
        # log_prob really is Σ log P of the tokens (and <eos>) under the model
        steps = c.tokens + ((1,) if c.finished else ())
        expected = sum(float(model.step_prob(steps[:i])[y]) for i, y in enumerate(steps))
        assert c.log_prob == pytest.approx(expected, rel=1e-5, abs=1e-5)
    # every step advanced all alive beams as one batch of at most beam_size rows
    model.batch_sizes.clear()
    beam_search(model.step, model.reorder, model.initial(), model.bos, 1, max_len, beam_size)
    assert model.batch_sizes[0] == 1 and len(model.batch_sizes) <= max_len
    assert all(1 <= n <= beam_size for n in model.batch_sizes)


def test_alive_beams_expand_as_one_batch():
    # <eos> is all but impossible: it is kept only at step 1, where the 4 expansions are fewer
    # than the beam of 5; then the beam fills up as 3^t allows, one step call per time step.
    model = TinyModel(3, vocab=4, eos=0, eos_bias=-1e9)
    got = beam_search(model.step, model.reorder, model.initial(), model.bos, 0, 5, beam_size=5)
    assert model.batch_sizes == [1, 3, 5, 5, 5]
    assert [c.length for c in got] == [5] * 5 + [1]
    assert not any(c.finished for c in got[:5])
    assert got[5].finished and got[5].tokens == () and got[5].log_prob < -1e8


def test_finished_beams_leave_the_batch():
    # |Y| = {x, y, <eos>}. Step 1 keeps x (.6), y (.3). Step 2: x <eos> = .48 finishes, y x = .15
    # stays, so step 3 runs one row; y x <eos> = .0915 finishes there, y x x = .03 stays.
    table = {(): [0.6, 0.3, 0.1], (0,): [0.1, 0.1, 0.8], (1,): [0.5, 0.4, 0.1]}
    table[(1, 0)] = [0.2, 0.19, 0.61]
    step, reorder, state = table_stepper(lambda p: table.get(p, [0.2, 0.2, 0.6]), 3)
    sizes = []

    def counting(tokens, state):
        sizes.append(tokens.shape[0])
        return step(tokens, state)

    got = beam_search(counting, reorder, state, BOS, 2, max_len=4, beam_size=2)
    assert sizes == [1, 2, 1, 1]
    assert [c.tokens for c in got if c.finished][:2] == [(0,), (1, 0)]
    assert math.exp(find(got, (0,)).log_prob) == pytest.approx(0.48)
    assert math.exp(find(got, (1, 0)).log_prob) == pytest.approx(0.3 * 0.5 * 0.61)


def test_greedy_stops_at_max_len_unfinished():
    model = TinyModel(0, vocab=3, eos=0, eos_bias=-1e9)
    got = greedy_search(model.step, model.initial(), model.bos, 0, max_len=7)
    assert not got.finished and got.length == 7 and len(got.tokens) == 7
    assert model.batch_sizes == [1] * 7


def test_search_module_imports_without_torch():
    code = (
        "import sys, rnn_tui.decode.search as s, rnn_tui.decode.worked_example as w\n"
        "assert 'torch' not in sys.modules\n"
        "c = s.exhaustive_search(w.worked_example_step_prob, 4, 3, 4)[0]\n"
        "assert c.tokens == (0, 2, 1) and 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_worked_example_summary_shows_greedy_is_not_optimal():
    from rnn_tui.decode.worked_example import worked_example_summary

    greedy, better, best = worked_example_summary()
    assert greedy == "greedy: A B C <eos>  P = 0.048"
    assert better.endswith("A C B <eos>  P = 0.054")
    assert "A C B <eos>" in best


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, -0.5, -1.0, -2.0, -math.inf, math.nan]), min_size=1, max_size=40
    ),
    st.integers(1, 3),
    st.integers(1, 45),
)
def test_top_is_the_stable_sort_of_every_entry(entries, rows, k):
    # Ties, −inf and NaN: the k taken are those a stable descending sort of all N·V puts first.
    total = torch.tensor(entries * rows, dtype=torch.float64).reshape(rows, -1)
    values, index = torch.sort(total.reshape(-1), descending=True, stable=True)
    got_values, got_index = _top(total, k)
    assert got_index == index[:k].tolist()
    assert got_values == pytest.approx(values[:k].tolist(), nan_ok=True)


def tables_stepper(seeds: list[int], vocab: int):
    """Like table_stepper, with one probability table per sequence: a row of the state is
    (sequence, tokens fed), so rows of different sequences share a batch."""
    step_probs = [random_table(seed, vocab) for seed in seeds]

    def step(tokens, state):
        fed = [(seq, prefix + (int(y),)) for (seq, prefix), y in zip(state, tokens.tolist())]
        rows = [_row(step_probs[seq](p[1:]), vocab, False, p[1:]) for seq, p in fed]
        return torch.tensor(rows, dtype=torch.float64), tuple(fed)

    def reorder(state, index):
        return tuple(state[i] for i in index.tolist())

    return step, reorder, tuple((seq, ()) for seq in range(len(seeds)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=6),
    st.integers(2, 4),
    st.integers(1, 4),
    st.integers(1, 5),
    st.booleans(),
)
def test_many_sequences_at_once_search_as_each_alone(seeds, vocab, max_len, beam_size, drop):
    # Tables with ties and zeros: each sequence, batched with the others, gets exactly what
    # greedy and beam search give it alone (the same candidates, in the same order).
    eos = seeds[0] % vocab
    step, reorder, state = tables_stepper(seeds, vocab)
    alone = [table_stepper(random_table(seed, vocab), vocab) for seed in seeds]
    greedy = greedy_search_many(
        step, state, len(seeds), BOS, eos, max_len, reorder=reorder if drop else None
    )
    assert greedy == [greedy_search(s, st0, BOS, eos, max_len) for s, _, st0 in alone]
    beams = beam_search_many(step, reorder, state, len(seeds), BOS, eos, max_len, beam_size)
    assert beams == [beam_search(s, r, st0, BOS, eos, max_len, beam_size) for s, r, st0 in alone]


def test_many_sequences_share_each_step_call():
    # Three sequences of a batched model: one step call per step for all their beams, and each
    # sequence's result is its own (different start states, different outputs).
    model = TinyModel(3, 5, eos=4, eos_bias=-1.0, dtype=torch.float64)
    starts = torch.randn(3, model.hidden, generator=torch.Generator().manual_seed(4))
    starts = starts.to(torch.float64)
    model.batch_sizes.clear()
    beams = beam_search_many(model.step, model.reorder, starts, 3, model.bos, 4, 6, 3)
    calls = len(model.batch_sizes)
    assert calls <= 6 and max(model.batch_sizes) > 3
    for i, got in enumerate(beams):
        alone = beam_search(model.step, model.reorder, starts[i : i + 1], model.bos, 4, 6, 3)
        assert [(c.tokens, c.finished) for c in got] == [(c.tokens, c.finished) for c in alone]
        assert [c.log_prob for c in got] == pytest.approx([c.log_prob for c in alone], abs=1e-12)
    assert len({beam[0].tokens for beam in beams}) > 1


@pytest.mark.parametrize("beam", [False, True])
def test_on_step_runs_before_every_step_and_may_stop_the_search(beam):
    # The Translate screen stops a search between two steps by raising from on_step.
    class Stop(Exception):
        pass

    step, reorder, state = table_stepper(lambda prefix: [0.5, 0.3, 0.2], 3)  # eos 2 never wins
    seen: list[int] = []

    def on_step(t: int) -> None:
        seen.append(t)
        if t == 3:
            raise Stop

    with pytest.raises(Stop):
        if beam:
            beam_search_many(step, reorder, state, 1, 0, 2, 10, 2, on_step=on_step)
        else:
            greedy_search_many(step, state, 1, 0, 2, 10, on_step=on_step)
    assert seen == [0, 1, 2, 3]
