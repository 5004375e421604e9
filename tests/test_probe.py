"""The probe against closed forms: the unrolled cell equals each model's own forward; a linear
RNN's gradient norms follow (W_hh^{T−t})ᵀ exactly; autograd agrees with finite differences;
clipping keeps the direction; truncating after τ drops exactly the terms older than τ."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.models.registry import build_model
from rnn_tui.probe.activations import activations, rank_units, unrolled_step
from rnn_tui.probe.cell import (
    CELLS,
    DTYPE,
    Cell,
    ProbeError,
    fresh_cell,
    spectral_radius,
    unroll,
)
from rnn_tui.probe.gradients import (
    bptt_terms,
    clipping,
    connectivity,
    decay_rate,
    gradient_flow,
    truncated_gradient,
    truncation,
)
from rnn_tui.probe.weights import cell_of


def with_grad(cell: Cell) -> Cell:
    """A copy whose weights are leaves that take gradients (autograd's own ∂L/∂W)."""

    def leaf(t: torch.Tensor) -> torch.Tensor:
        return t.detach().clone().requires_grad_()

    return replace(
        cell,
        W_x={k: leaf(v) for k, v in cell.W_x.items()},
        W_h={k: leaf(v) for k, v in cell.W_h.items()},
        b={k: leaf(v) for k, v in cell.b.items()},
        b_hh={k: leaf(v) for k, v in cell.b_hh.items()},
    )


MODELS = ["rnn-scratch", "gru-scratch", "lstm-scratch", "rnn", "gru", "lstm"]


def model(name: str, embed: int = 0, vocab: int = 7, hidden: int = 6):
    config = {"model": name, "vocab_size": vocab, "hidden": hidden}
    if "scratch" not in name:
        config.update(layers=1, embed=embed, dropout=0.0, bidirectional=False)
    m = build_model(config)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.5)
    return m


def stacked(name: str, embed: int, layers: int = 2, seed: int = 3):
    config = {"model": name, "vocab_size": 7, "hidden": 5, "layers": layers, "embed": embed,
              "dropout": 0.0, "bidirectional": False}  # fmt: skip
    m = build_model(config)
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.5)
    return m


def tokens(n: int, vocab: int = 7, seed: int = 0) -> list[int]:
    return torch.randint(vocab, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


@pytest.mark.parametrize(("name", "embed"), [(m, 0) for m in MODELS] + [("gru", 4), ("lstm", 4)])
def test_the_unrolled_cell_is_the_models_own_forward(name, embed) -> None:
    m = model(name, embed)
    ids = tokens(9)
    logits, _ = m(torch.tensor([ids]))
    cell = cell_of(m)
    H = torch.cat([s["h"] for s in unroll(cell, cell.encode(ids))])
    mine = H @ cell.W_hq + cell.b_q
    assert torch.allclose(mine, logits[0].detach().to(DTYPE), atol=1e-5)


def test_a_bidirectional_model_is_one_line() -> None:
    m = build_model(
        {"model": "gru", "vocab_size": 5, "hidden": 4, "layers": 1, "embed": 0,
         "dropout": 0.0, "bidirectional": True}
    )  # fmt: skip
    with pytest.raises(ProbeError, match="one-direction models; this one is bidirectional"):
        cell_of(m)


@given(
    scale=st.floats(0.3, 1.6),
    T=st.integers(2, 40),
    seed=st.integers(0, 1000),
)
@settings(max_examples=30, deadline=None)
def test_a_linear_rnns_gradient_norms_match_the_closed_form(scale, T, seed) -> None:
    cell = fresh_cell("linear", hidden=5, inputs=3, init_scale=scale, seed=seed)
    xs = torch.randn(T, 3, generator=torch.Generator().manual_seed(seed), dtype=DTYPE)
    flow = gradient_flow(cell, xs, seed=seed)
    assert flow.predicted is not None
    np.testing.assert_allclose(flow.norms, flow.predicted, rtol=1e-9, atol=1e-300)
    # W_hh is orthogonal × scale: each step back multiplies the norm by exactly the scale.
    assert flow.spectral_radius == pytest.approx(scale, rel=1e-9)
    expected = [flow.norms[-1] * scale ** (T - 1 - t) for t in range(T)]
    np.testing.assert_allclose(flow.norms, expected, rtol=1e-8)


def test_small_weights_vanish_large_explode_and_the_rate_is_the_radius() -> None:
    xs = torch.randn(60, 3, generator=torch.Generator().manual_seed(0), dtype=DTYPE)
    small = gradient_flow(fresh_cell("linear", 8, 3, 0.8), xs)
    large = gradient_flow(fresh_cell("linear", 8, 3, 1.2), xs)
    assert small.norms[0] < 1e-4 * small.norms[-1]
    assert large.norms[0] > 1e4 * large.norms[-1]
    assert decay_rate(small.norms) == pytest.approx(0.8, rel=1e-6)
    assert decay_rate(large.norms) == pytest.approx(1.2, rel=1e-6)


@pytest.mark.parametrize(
    ("norms", "rate"),
    [
        ([8.0, 1.0, 1.0, 1.0], 2.0),  # g_1/g_T = 8 over 3 steps: ×2 a step, whatever the shape
        ([0.0, 4.0, 2.0, 1.0], 2.0),  # underflowed at t = 1: from the first positive norm
        ([math.inf, 4.0, 2.0, 0.0], 2.0),  # overflowed, and underflowed at T
        ([1e-300, 1.0, 1e300], 1e-300),  # a ratio of 1e-600, past float's range
        ([3.0], None),
        ([0.0, math.nan, 2.0], None),
    ],
)
def test_the_rate_is_the_ratio_shown_beside_it_per_step(norms, rate) -> None:
    """The Gradients screen shows g_1/g_T and ×r/step side by side: r^{T−1} is that ratio."""
    assert decay_rate(norms) == (rate if rate is None else pytest.approx(rate, rel=1e-9))


@pytest.mark.parametrize("kind", CELLS)
def test_autograd_matches_finite_differences_on_a_tiny_cell(kind) -> None:
    cell = fresh_cell(kind, hidden=3, inputs=2, init_scale=0.9, seed=3)
    xs = torch.randn(5, 2, generator=torch.Generator().manual_seed(4), dtype=DTYPE)
    analytic = bptt_terms(cell, xs).sum(0)
    gate = "c" if kind == "lstm" else "h"
    eps = 1e-6

    def loss_with(W: torch.Tensor) -> float:
        probe = fresh_cell(kind, hidden=3, inputs=2, init_scale=0.9, seed=3)
        probe.W_h[gate] = W
        h = unroll(probe, xs)[-1]["h"]
        v = torch.randn(3, generator=torch.Generator().manual_seed(0), dtype=DTYPE)
        return float((h[0] * v / v.norm()).sum())

    W = cell.W_h[gate]
    numeric = torch.zeros_like(W)
    for i in range(3):
        for j in range(3):
            up, down = W.clone(), W.clone()
            up[i, j] += eps
            down[i, j] -= eps
            numeric[i, j] = (loss_with(up) - loss_with(down)) / (2 * eps)
    assert torch.allclose(analytic, numeric, atol=1e-7)


@pytest.mark.parametrize("theta", [1e-3, 0.5, 1e6])
def test_clipping_keeps_the_direction(theta) -> None:
    cell = fresh_cell("gru", hidden=6, inputs=4, init_scale=1.5, seed=0)
    xs = torch.randn(30, 4, generator=torch.Generator().manual_seed(1), dtype=DTYPE)
    report = clipping(cell, xs, theta)
    assert report.cosine == pytest.approx(1.0, abs=1e-12)
    assert report.after == pytest.approx(min(report.before, theta), rel=1e-9)


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("tau", [1, 3, 7, 12, 40])
def test_truncation_drops_exactly_the_terms_older_than_tau(kind, tau) -> None:
    cell = fresh_cell(kind, hidden=4, inputs=3, init_scale=1.1, seed=2)
    xs = torch.randn(12, 3, generator=torch.Generator().manual_seed(5), dtype=DTYPE)
    terms = bptt_terms(cell, xs)
    cut = truncated_gradient(cell, xs, tau)
    assert torch.allclose(cut, terms[len(xs) - tau :].sum(0), atol=1e-12)
    report = truncation(cell, xs, tau)
    assert len(report.term_norms) == 12
    if tau >= 12:
        assert report.relative_difference == 0.0  # nothing dropped, not rounding noise
    else:
        older = terms[: len(xs) - tau].sum(0)
        assert report.relative_difference == pytest.approx(
            float(older.norm()) / report.full_norm, rel=1e-9
        )


def test_connectivity_reaches_only_earlier_inputs_and_needs_a_read_out() -> None:
    cell = cell_of(model("lstm", embed=4))
    ids = tokens(10)
    weights = connectivity(cell, ids, position=6)
    assert len(weights) == 6 and all(w >= 0 for w in weights) and weights[-1] > 0
    with pytest.raises(ProbeError, match="position must be in"):
        connectivity(cell, ids, position=0)
    with pytest.raises(ProbeError, match="needs a trained language model"):
        connectivity(fresh_cell("rnn", 4, 7, 1.0), ids, position=3)


@pytest.mark.parametrize("name", ["rnn-scratch", "gru", "lstm-scratch"])
def test_the_activation_matrix_is_steps_by_hidden(name) -> None:
    cell = cell_of(model(name, hidden=6))
    ids = tokens(11)
    acts = activations(cell, ids, [str(i) for i in ids])
    assert acts.values["h"].shape == (11, 6)
    gates = {"rnn": set(), "gru": {"z", "r"}, "lstm": {"i", "f", "o", "c"}}[cell.kind]
    assert set(acts.values) == {"h"} | gates
    for name_, matrix in acts.values.items():
        assert matrix.shape == (11, 6), name_


def test_rank_units_finds_the_unit_that_follows_the_feature() -> None:
    rng = np.random.default_rng(0)
    feature = (rng.random(50) > 0.7).astype(float)
    matrix = rng.normal(size=(50, 5)) * 0.1
    matrix[:, 3] = -feature + rng.normal(size=50) * 0.01
    matrix[:, 1] = 0.5  # constant: no correlation
    ranked = rank_units(matrix, feature)
    assert ranked[0][0] == 3 and ranked[0][1] < -0.99
    assert dict(ranked)[1] == 0.0


def test_one_unrolled_step_shows_the_seeds_concatenation_check() -> None:
    cell = cell_of(model("rnn-scratch"))
    ids = tokens(5)
    one = unrolled_step(cell, ids, [str(i) for i in ids], 3)
    assert one.concat_error < 1e-12
    assert np.allclose(np.tanh(one.x_part + one.h_part + cell.b["h"].numpy()), one.h)
    with pytest.raises(ProbeError):
        unrolled_step(cell, ids, [str(i) for i in ids], 6)


@pytest.mark.parametrize("name", ["gru-scratch", "gru"])
def test_a_grus_step_shows_the_products_its_candidate_is_made_of(name) -> None:
    """The step showed h_{t−1}·W_hh for every GRU, though d2l's candidate reads
    (R_t ⊙ H_{t−1}) W_hh: tanh of the parts shown missed its candidate by up to 0.066."""
    cell = cell_of(model(name))
    ids = tokens(6)
    one = unrolled_step(cell, ids, [str(i) for i in ids], 4)
    states = unroll(cell, cell.encode(ids))
    assert one.concat_error < 1e-12 and one.layers == 1
    if name == "gru-scratch":
        assert one.h_read == "(r_t⊙h_{t−1})" and "(r_t⊙h)·W_hh" in one.note
        shown = np.tanh(one.x_part + one.h_part + cell.b["h"].numpy())
    else:  # torch's: the reset gate multiplies the product and b_hh
        assert one.h_read == "h_{t−1}" and "r_t ⊙ (h·W_hh + b_hh)" in one.note
        r = states[3]["r"][0].numpy()
        shown = np.tanh(
            one.x_part + cell.b["h"].numpy() + r * (one.h_part + cell.b_hh["h"].numpy())
        )
    assert np.allclose(shown, states[3]["candidate"][0].numpy(), atol=1e-12)


def test_spectral_radius_of_a_known_matrix() -> None:
    W = torch.tensor([[0.0, 2.0], [-2.0, 0.0]], dtype=DTYPE)  # eigenvalues ±2i
    assert spectral_radius(W) == pytest.approx(2.0)
    assert math.isclose(spectral_radius(torch.eye(3, dtype=DTYPE) * 0.5), 0.5)


@pytest.mark.parametrize(("name", "embed"), [("lstm", 0), ("gru", 3), ("rnn", 0)])
def test_a_stacked_model_unrolls_layer_by_layer_as_its_forward(name, embed) -> None:
    m = stacked(name, embed, layers=3, seed=2)
    ids = tokens(8)
    logits, _ = m(torch.tensor([ids]))
    cell = cell_of(m)
    assert cell.layers == 3
    H = torch.cat([s["h"] for s in unroll(cell, cell.encode(ids))])
    assert torch.allclose(H @ cell.W_hq + cell.b_q, logits[0].detach().to(DTYPE), atol=1e-5)
    # Truncation and connectivity work through the stack too.
    xs = cell.encode(ids)
    terms = bptt_terms(cell, xs, target=2)
    assert torch.allclose(truncated_gradient(cell, xs, 3, target=2), terms[-3:].sum(0), atol=1e-12)
    assert len(connectivity(cell, ids, 5)) == 5


def test_features_give_one_value_per_token() -> None:
    from rnn_tui.probe.activations import feature_values

    toks = list('say "hi" now')
    assert feature_values("space", toks).tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0]
    assert feature_values("word position", toks).tolist()[:5] == [1, 2, 3, 0, 1]
    assert feature_values("inside quotes", toks).tolist()[4:8] == [1, 1, 1, 0]
    with pytest.raises(ProbeError):
        feature_values("nouns", toks)


def test_an_unrolled_step_of_a_stacked_model_reads_the_layer_below() -> None:
    config = {"model": "lstm", "vocab_size": 7, "hidden": 5, "layers": 2, "embed": 0,
              "dropout": 0.0, "bidirectional": False}  # fmt: skip
    cell = cell_of(build_model(config))
    ids = tokens(6)
    one = unrolled_step(cell, ids, [str(i) for i in ids], 4)
    top = [s["h"][0] for s in unroll(cell, cell.encode(ids))]
    assert np.allclose(one.h, top[3].numpy()) and np.allclose(one.h_prev, top[2].numpy())
    assert one.concat_error < 1e-12 and one.layers == 2  # said: the step is the top layer's


def test_a_step_from_a_reading_is_the_unrolled_step() -> None:
    from rnn_tui.probe.activations import step_at
    from rnn_tui.probe.cell import layer_inputs

    cell = cell_of(model("gru"))
    ids = tokens(9)
    names = [str(i) for i in ids]
    hs = torch.from_numpy(activations(cell, ids, names).values["h"])
    xs = layer_inputs(cell, cell.encode(ids))
    for t in (1, 5, 9):
        a, b = step_at(cell, xs, hs, names, t), unrolled_step(cell, ids, names, t)
        assert np.allclose(a.h, b.h) and np.allclose(a.h_prev, b.h_prev)
        assert np.allclose(a.concat_part, b.concat_part)


@pytest.mark.parametrize("name", MODELS)
def test_the_terms_by_their_factors_are_the_gradient_of_every_models_cell(name) -> None:
    # A 1,024-unit LSTM over 5,000 steps kept a copy of W_hh per step (42 GB) and was killed;
    # the terms are kept as T·H factors, and their sums are autograd's ∂L/∂W_hh.
    from rnn_tui.probe.gradients import _loss, bptt_factors

    m = model(name)
    torch.manual_seed(5)
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.5)
    cell = cell_of(m)
    xs = cell.encode(tokens(9))
    factors = bptt_factors(cell, xs, target=1)
    assert factors.inputs.shape == factors.deltas.shape == (9, cell.hidden)
    gate = "c" if cell.kind == "lstm" else "h"
    live = with_grad(cell)
    _loss(live, unroll(live, xs)[-1]["h"], 1, 0).backward()
    assert torch.allclose(factors.total(), live.W_h[gate].grad, atol=1e-12)
    dense = factors.dense()
    assert factors.norms() == pytest.approx([float(t.norm()) for t in dense], rel=1e-12)
    assert torch.allclose(factors.total(3, 7), dense[3:7].sum(0), atol=1e-12)


def test_a_report_says_how_far_each_pass_has_come_and_stays_the_same() -> None:
    from rnn_tui.probe.options import GRADIENT_OPTIONS
    from rnn_tui.probe.report import gradient_report

    options = {option.name: option.default for option in GRADIENT_OPTIONS}
    options.update(cell="lstm", length=40, hidden=8, truncate=5)
    lines: list[str] = []
    watched = gradient_report(options, progress=lines.append)
    assert watched.to_json() == gradient_report(options).to_json()
    for what, first in [
        ("gradient flow, clipping and BPTT terms", 1),
        # Over the last τ steps only, from the state the first pass kept.
        ("BPTT truncated after τ = 5", 36),
    ]:
        mine = [line.removeprefix(what + ": ") for line in lines if line.startswith(what + ":")]
        forward = [f"step {t} of 40" for t in range(first, 41)]
        backward = [f"back to step {t} of 40" for t in range(40, first - 1, -1)]
        assert mine == forward + backward, what


@pytest.mark.parametrize(
    "cell",
    [cell_of(model(name)) for name in MODELS]
    + [cell_of(model("gru", embed=4)), cell_of(stacked("gru", 3)), cell_of(stacked("lstm", 0))]
    + [fresh_cell(kind, 6, 7, 1.1, seed=4, gate_bias=0.5) for kind in CELLS],
    ids=[*MODELS, "gru-embed", "gru-stacked", "lstm-stacked", *(f"fresh-{k}" for k in CELLS)],
)
def test_every_weights_gradient_from_its_factors_is_autograds_and_so_is_clipping(cell) -> None:
    # Autograd with the weights as leaves added a full weight gradient at every step: 42 s of
    # a 5,000-step, 1,024-unit LSTM's report. The factors give each in one product.
    from rnn_tui.probe.factors import loss_at_T, step_factors

    xs = cell.encode(tokens(9))
    live = with_grad(cell)
    loss_at_T(live, unroll(live, xs)[-1]["h"], 1, 0).backward()
    found = step_factors(cell, xs, target=1).gradients()
    expected = []
    for family in ("W_x", "W_h", "b", "b_hh"):
        for gate, weight in getattr(live, family).items():
            expected.append(weight.grad.flatten())
            if family == "b" and cell.two_biases and gate not in cell.b_hh:
                expected.append(weight.grad.flatten())  # torch's b_ih and b_hh, one gradient
            got = found[family][gate].reshape(weight.shape)
            torch.testing.assert_close(got, weight.grad, rtol=1e-10, atol=1e-12)
    norm = float(torch.cat(expected).norm())
    assert norm > 0.2
    clip = clipping(cell, xs, norm / 2, target=1)
    assert clip.before == pytest.approx(norm, rel=1e-12)
    assert clip.after == pytest.approx(norm / 2, rel=1e-12)
    assert clip.cosine == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_clipping_sees_the_norm_the_trainer_clips(name) -> None:
    """‖g‖ before clipping is the norm over the model's own parameters, as grad_clipping sees
    them in training: for a concise cell torch's b_ih and b_hh both (the probe adds them into
    one bias, and counted once it read 2.384 where torch's was 2.448)."""
    m = model(name)
    ids = tokens(9)
    logits, _ = m(torch.tensor([ids]))
    torch.nn.functional.cross_entropy(logits[0, -1:], torch.tensor([1])).backward()
    recurrent = [p for n, p in m.named_parameters() if not n.startswith(("linear", "W_hq", "b_q"))]
    norm = float(torch.cat([p.grad.flatten() for p in recurrent]).norm())
    cell = cell_of(m)
    assert clipping(cell, cell.encode(ids), 1e-3, target=1).before == pytest.approx(norm, 1e-5)


@pytest.mark.parametrize(
    ("cell", "target", "seed"),
    [(cell_of(model(name)), 1, 0) for name in ("gru", "lstm-scratch")]
    + [(cell_of(stacked("lstm", 0)), 2, 0)]
    + [(fresh_cell(kind, 6, 7, 1.1, seed=4, gate_bias=0.5), None, 3) for kind in CELLS],
    ids=["gru", "lstm-scratch", "lstm-stacked", *(f"fresh-{k}" for k in CELLS)],
)
def test_the_factors_pass_takes_the_gradient_flow_on_its_way(cell, target, seed) -> None:
    # The report's flow was a pass of its own: the hooks on h_t in the factors' pass give it.
    from rnn_tui.probe.factors import step_factors
    from rnn_tui.probe.gradients import flow_of

    xs = cell.encode(tokens(11))
    alone = gradient_flow(cell, xs, target, seed=seed)
    taken = flow_of(cell, step_factors(cell, xs, target, seed=seed))
    assert taken.norms == pytest.approx(alone.norms, rel=1e-12, abs=1e-300)
    assert (taken.loss, taken.spectral_radius, taken.cell) == (
        pytest.approx(alone.loss, rel=1e-14),
        alone.spectral_radius,
        alone.cell,
    )
    if cell.kind == "linear":
        assert taken.predicted == pytest.approx(alone.predicted, rel=1e-12)
    else:
        assert taken.predicted is None


@pytest.mark.parametrize("kind", CELLS)
def test_a_reports_passes_all_use_the_flows_loss(kind) -> None:
    # --seed picks a fresh cell's loss direction; clipping and truncation used seed 0 whatever
    # was asked. The truncated gradient is the sum of the last τ terms of the same loss.
    from rnn_tui.probe.factors import step_factors
    from rnn_tui.probe.options import GRADIENT_OPTIONS
    from rnn_tui.probe.report import gradient_report, source

    options = {option.name: option.default for option in GRADIENT_OPTIONS}
    options.update(cell=kind, length=30, hidden=6, truncate=4, seed=3, init_scale=1.2)
    report = gradient_report(options)
    src = source(options)
    xs = src.cell.encode(src.ids)
    terms = step_factors(src.cell, xs, src.target, seed=3).recurrent["c" if kind == "lstm" else "h"]
    assert report.truncation.full_norm == pytest.approx(float(terms.total().norm()), rel=1e-12)
    kept = float(terms.total(30 - 4).norm())
    assert report.truncation.truncated_norm == pytest.approx(kept, rel=1e-9)
    assert report.flow.loss == pytest.approx(step_factors(src.cell, xs, seed=3).loss, rel=1e-14)
    other = step_factors(src.cell, xs, src.target, seed=0).recurrent["c" if kind == "lstm" else "h"]
    assert abs(float(other.total(30 - 4).norm()) - kept) > 1e-6 * kept  # the seed matters


def test_word_features_give_one_value_per_word() -> None:
    from rnn_tui.probe.activations import feature_values
    from rnn_tui.probe.options import FEATURES_BY_TOKEN

    words = "the time traveller was here".split()
    assert feature_values("word length", words).tolist() == [3, 4, 9, 3, 4]
    assert feature_values("function word", words).tolist() == [1, 0, 0, 1, 0]
    assert feature_values("position", words).tolist() == [0, 1, 2, 3, 4]
    for name in FEATURES_BY_TOKEN["word"]:
        assert feature_values(name, words).std() > 0, name  # none reads 0 for every word


def test_a_norm_past_1e154_is_finite_where_it_fits_a_float() -> None:
    """torch sums the squares: ‖(1e160, …)‖ read as inf, and a linear ρ = 50 cell was said to
    overflow from step 109 of 200, where its norms pass float64 only before step 18."""
    from rnn_tui.probe.cell import norm_of
    from rnn_tui.probe.gradients import linear_norms, overflowed

    assert norm_of(torch.full((4,), 1e160, dtype=DTYPE)) == pytest.approx(2e160)
    assert norm_of(torch.tensor([math.inf, math.nan], dtype=DTYPE)) == math.inf
    g_T = torch.ones(4, dtype=DTYPE) / 2  # ‖g_T‖ = 1
    norms = linear_norms(g_T, torch.eye(4, dtype=DTYPE) * 50, 200)
    finite = [t for t, n in enumerate(norms, start=1) if math.isfinite(n)]
    assert finite[0] == 19 and norms[99] == pytest.approx(50.0**100, rel=1e-9)  # 50^181 fits
    assert all(n == math.inf for n in norms[:18])  # past float64: inf, not NaN
    assert math.isnan(overflowed([math.nan, 5.0])[0])  # a NaN not after an overflow stays
