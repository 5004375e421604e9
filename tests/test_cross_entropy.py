"""The language model's loss (rnn_tui/train/cross_entropy.py): F.cross_entropy, or its C loops
where the process runs them, with the same value and gradient to float32 rounding, the same
training losses, and torch's kernels wherever the loops do not apply."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_trainer import tiny

from rnn_tui.data.sources import read_text
from rnn_tui.models import fused_steps
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train import cross_entropy as ce
from rnn_tui.train.engine import Trainer

HAS_CC = fused_steps._compiler() is not None
needs_cc = pytest.mark.skipif(not HAS_CC, reason="no C compiler here")


@pytest.fixture(autouse=True)
def loops():
    if HAS_CC:
        assert fused_steps.load().lib is not None


def _both(X, y, grad=1.0):
    ours, theirs = X.clone().requires_grad_(), X.clone().requires_grad_()
    assert ce._loops(ours, y) is not None
    got, want = ce.cross_entropy(ours, y), F.cross_entropy(theirs, y)
    got.backward(torch.tensor(grad))
    want.backward(torch.tensor(grad))
    return got, want, ours.grad, theirs.grad


@needs_cc
@settings(max_examples=40, deadline=None)
@given(
    N=st.integers(1, 50),
    V=st.integers(1, 70),
    scale=st.sampled_from([0.1, 3.0, 30.0]),
    grad=st.sampled_from([1.0, 0.25]),
    seed=st.integers(0, 100),
)
@example(N=1120, V=28, scale=3.0, grad=1.0, seed=1)  # the book's minibatch of characters
@example(N=3, V=1, scale=1.0, grad=1.0, seed=2)
@example(N=4, V=17, scale=30.0, grad=0.25, seed=3)
def test_the_loops_are_torchs_cross_entropy(N, V, scale, grad, seed):
    """Any rows and vocabulary (vectors' tails included), logits up to ±30·3: the same mean
    loss, and its gradient for any incoming gradient."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(N, V, generator=gen) * scale
    y = torch.randint(0, V, (N,), generator=gen)
    got, want, d_got, d_want = _both(X, y, grad)
    assert got.shape == () and got.dtype == torch.float32
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(d_got, d_want, rtol=1e-5, atol=1e-7)


@needs_cc
def test_a_nan_logit_gives_a_nan_loss_and_bad_targets_are_refused():
    X = torch.randn(3, 5)
    X[1, 4] = float("nan")
    assert math.isnan(float(ce.cross_entropy(X, torch.tensor([0, 1, 2]))))
    X[1, 4] = 0.0
    X[0, 0] = float("nan")  # the row's first entry, where its largest is looked for
    assert math.isnan(float(ce.cross_entropy(X, torch.tensor([1, 1, 2]))))
    for bad in ([0, 5, 1], [0, -1, 1]):
        with pytest.raises(IndexError, match="out of bounds"):
            ce.cross_entropy(torch.randn(3, 5), torch.tensor(bad))


def test_torchs_kernels_run_where_the_loops_do_not_apply(monkeypatch):
    """Logits not contiguous, float64, a 3-D batch, targets of another type or length, and
    $RNN_TUI_NATIVE=off: F.cross_entropy."""
    y = torch.tensor([0, 1, 2])
    assert ce._loops(torch.randn(5, 3).T, y) is None
    assert ce._loops(torch.randn(3, 5, dtype=torch.float64), y) is None
    assert ce._loops(torch.randn(1, 3, 5), y) is None
    assert ce._loops(torch.randn(3, 5), y.int()) is None
    assert ce._loops(torch.randn(4, 5), y) is None
    monkeypatch.setenv(fused_steps.NATIVE_ENV, "off")
    assert ce._loops(torch.randn(3, 5), y) is None
    X = torch.randn(3, 5)
    torch.testing.assert_close(ce.cross_entropy(X, y), F.cross_entropy(X, y), rtol=0, atol=0)


@needs_cc
@pytest.mark.parametrize(
    ("right", "wrong"),
    [("d[y[i]] -= scale;", ""), ("lse[i] = top + logf(sum);", "lse[i] = logf(sum);")],
    ids=["the gradient", "the shift"],
)
def test_loops_that_go_wrong_are_caught_at_load(right, wrong, broken_loops):
    """The load check runs the loss's loops against torch's: a build that forgets the target's
    term of the gradient, or the shift of the log-sum-exp, runs no C loops at all."""
    loaded = broken_loops(right, wrong)
    assert loaded.lib is None
    assert loaded.note.endswith("the C loops disagreed with torch's kernels here")


def _losses(config, tmp_path, name):
    torch.manual_seed(0)
    trainer = Trainer(config)
    trainer.begin_session(RunDir(tmp_path / name))
    return torch.tensor([trainer.train_epoch(epoch)[0] for epoch in (1, 2, 3)])


@needs_cc
def test_training_with_the_loops_follows_torchs_losses(tmp_path, monkeypatch):
    """A scratch RNN trained three epochs with the loss's loops and with F.cross_entropy: the
    same losses to float32 rounding, and the loops did run."""
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:6000], encoding="utf-8")
    config = tiny(corpus, model="rnn-scratch", hidden=64, num_steps=8, sampling="sequential")
    real, found = ce._loops, []
    monkeypatch.setattr(ce, "_loops", lambda *a: found.append(real(*a)) or found[-1])
    ours = _losses(config, tmp_path, "c")
    assert found and all(lib is not None for lib in found)
    monkeypatch.setattr(ce, "_loops", lambda *a: None)
    plain = _losses(config, tmp_path, "plain")
    torch.testing.assert_close(ours, plain, rtol=1e-5, atol=1e-6)
