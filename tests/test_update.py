"""The minibatch update (rnn_tui/train/update.py): d2l's grad_clipping then SGD's step, as two
passes of C on the CPU where the C loops run, equal to torch's kernels to float32 rounding, with
the same norm, the same NaN and inf behaviour, and torch's kernels wherever it does not apply."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_trainer import tiny

from rnn_tui.data.sources import read_text
from rnn_tui.models import fused_steps
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train import update
from rnn_tui.train.clipping import grad_clipping
from rnn_tui.train.engine import Trainer
from rnn_tui.train.optimizers import SGD, Adam

HAS_CC = fused_steps._compiler() is not None
needs_cc = pytest.mark.skipif(not HAS_CC, reason="no C compiler here")


@pytest.fixture(autouse=True)
def loops():
    if HAS_CC:
        assert fused_steps.load().lib is not None


def _params(sizes, scale, seed, missing=()):
    gen = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(*size, generator=gen)) for size in sizes]
    for i, p in enumerate(params):
        if i not in missing:
            p.grad = torch.randn(p.shape, generator=gen) * scale
    return params


def _both(sizes, scale, theta, seed, lr=0.7, missing=()):
    """The update through update.py's C path and through torch's kernels, on equal copies."""
    ours, theirs = _params(sizes, scale, seed, missing), _params(sizes, scale, seed, missing)
    assert update._loops(ours, SGD(ours, lr)) is not None
    norm = update.clip_and_step(ours, theta, SGD(ours, lr))
    want = grad_clipping(theirs, theta)
    SGD(theirs, lr).step()
    return norm, want, ours, theirs


@needs_cc
@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(
        st.lists(st.integers(1, 40), min_size=1, max_size=2).map(tuple), min_size=1, max_size=5
    ),
    scale=st.sampled_from([1e-3, 0.1, 1.0, 30.0]),
    theta=st.sampled_from([0.01, 1.0, 5.0]),
    seed=st.integers(0, 100),
)
@example(sizes=[(512, 512), (28, 512), (512,), (512, 28), (28,)], scale=0.1, theta=1.0, seed=1)
@example(sizes=[(17,), (3, 5)], scale=1e-3, theta=1.0, seed=2)  # norm < θ: no clipping
@example(sizes=[(1,)], scale=30.0, theta=0.01, seed=3)
def test_the_c_update_is_clipping_then_sgd(sizes, scale, theta, seed):
    """Any sizes (vectors' tails included), norms above and below θ: the same norm, clipped
    gradients and parameters as grad_clipping then SGD.step."""
    norm, want, ours, theirs = _both(sizes, scale, theta, seed)
    assert norm.shape == () and norm.dtype == torch.float32
    torch.testing.assert_close(norm, want, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-5, atol=1e-6)


@needs_cc
def test_zero_nan_and_inf_gradients_update_as_torchs_do():
    """A zero norm scales by 1 (not θ/0), a NaN norm makes every parameter NaN, an inf one
    NaN where the gradient was inf and unchanged elsewhere; parameters without a gradient are
    left alone, as grad_clipping and SGD leave them."""
    norm, want, ours, theirs = _both([(4,), (3,)], 0.0, 1.0, 0)
    assert float(norm) == 0.0 == float(want)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
    for bad in (float("nan"), float("inf")):
        ours, theirs = _params([(4,), (3,)], 1.0, 0), _params([(4,), (3,)], 1.0, 0)
        for params in (ours, theirs):
            params[0].grad[1] = bad
        norm = update.clip_and_step(ours, 1.0, SGD(ours, 0.5))
        want = grad_clipping(theirs, 1.0)
        SGD(theirs, 0.5).step()
        assert math.isnan(float(norm)) == math.isnan(float(want))
        assert math.isinf(float(norm)) == math.isinf(float(want))
        for a, b in zip(ours, theirs, strict=True):
            torch.testing.assert_close(a.detach(), b.detach(), equal_nan=True)
    norm, want, ours, theirs = _both([(4,), (3,), (2,)], 1.0, 1.0, 5, missing={1})
    torch.testing.assert_close(norm, want)
    assert ours[1].grad is None and torch.equal(ours[1], theirs[1])
    torch.testing.assert_close(ours[2].detach(), theirs[2].detach())


@needs_cc
def test_the_c_update_moves_the_version_counters():
    """Written in place as torch's SGD writes them: autograd sees the parameters change."""
    params = _params([(5,), (2, 3)], 1.0, 0)
    before = [(p._version, p.grad._version) for p in params]
    update.clip_and_step(params, 1.0, SGD(params, 0.1))
    after = [(p._version, p.grad._version) for p in params]
    assert all(a[0] > b[0] and a[1] > b[1] for a, b in zip(after, before, strict=True))


def test_torchs_kernels_run_where_the_c_update_does_not_apply(monkeypatch):
    """Adam, a parameter list other than the optimizer's, a non-contiguous gradient, float64,
    and $RNN_TUI_NATIVE=off: torch's grad_clipping and step."""
    params = _params([(4, 3), (3,)], 1.0, 0)
    assert update._loops(params, Adam(params, 0.1)) is None
    assert update._loops(params[:1], SGD(params, 0.1)) is None
    skewed = _params([(4, 3)], 1.0, 0)
    skewed[0].grad = torch.randn(3, 4).T
    assert update._loops(skewed, SGD(skewed, 0.1)) is None
    doubles = [torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))]
    doubles[0].grad = torch.ones(3, dtype=torch.float64)
    assert update._loops(doubles, SGD(doubles, 0.1)) is None
    monkeypatch.setenv(fused_steps.NATIVE_ENV, "off")
    assert update._loops(params, SGD(params, 0.1)) is None
    # The fallback is the plain update.
    theirs = _params([(4, 3), (3,)], 1.0, 0)
    norm = update.clip_and_step(params, 1.0, Adam(params, 0.1))
    want = grad_clipping(theirs, 1.0)
    Adam(theirs, 0.1).step()
    torch.testing.assert_close(norm, want)
    torch.testing.assert_close(params[0].detach(), theirs[0].detach())


def _losses(config, tmp_path, name):
    torch.manual_seed(0)
    trainer = Trainer(config)
    trainer.begin_session(RunDir(tmp_path / name))
    return torch.tensor([trainer.train_epoch(epoch)[0] for epoch in (1, 2, 3)])


@needs_cc
def test_training_with_the_c_update_follows_torchs_losses(tmp_path, monkeypatch):
    """A scratch RNN trained three epochs with the C update and with torch's: the same losses
    to float32 rounding, and the C update did run."""
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:6000], encoding="utf-8")
    config = tiny(corpus, model="rnn-scratch", hidden=64, num_steps=8, sampling="sequential")
    real, found = update._loops, []
    monkeypatch.setattr(update, "_loops", lambda *a: found.append(real(*a)) or found[-1])
    ours = _losses(config, tmp_path, "c")
    assert found and all(lib is not None for lib in found)  # every step took the C update
    monkeypatch.setattr(update, "_loops", lambda *a: None)
    plain = _losses(config, tmp_path, "plain")
    torch.testing.assert_close(ours, plain, rtol=1e-5, atol=1e-6)


@needs_cc
@pytest.mark.parametrize(
    ("right", "wrong"),
    [("w[j] -= lr * v;", "w[j] -= v;"), ("total += sum;", "total = sum;")],
    ids=["the step", "the sum of squares"],
)
def test_a_c_update_that_goes_wrong_is_caught_at_load(right, wrong, tmp_path, monkeypatch):
    """The load check runs the update's passes against torch's: a build that steps without
    the learning rate, or sums the squares of the last tensor only, runs no C loops at all."""
    assert fused_steps.SOURCE.count(right) == 1
    monkeypatch.setattr(fused_steps, "SOURCE", fused_steps.SOURCE.replace(right, wrong))
    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(fused_steps.NATIVE_ENV, "on")
    monkeypatch.setattr(fused_steps, "_loaded", [])
    loaded = fused_steps.load()
    assert loaded.lib is None
    assert loaded.note.endswith("the C loops disagreed with torch's kernels here")
