"""The many-to-many tagger and the many-to-one classifier through the C chains
(models/reader.py, concise_chain.chained_layers): the same logits, final states and gradients
as torch's kernels, the classifier's padded rows read as packed sequences are, and training
runs that follow torch's losses."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from test_concise_chain import runs_follow_torch
from test_recurrent_chain import _counting

from rnn_tui.models import concise_chain, fused_steps, step_matmul
from rnn_tui.models.classifier import pad_batch
from rnn_tui.models.registry import build_model
from rnn_tui.models.step_matmul import measuring_seconds
from rnn_tui.train.config import Config

SHAPES = [("rnn", 2, True, 0), ("gru", 1, False, 5), ("gru", 2, True, 0), ("lstm", 2, True, 3)]


def _reader(model, kind, layers, bidirectional, embed, outputs):
    torch.manual_seed(0)
    config = {"model": model, "kind": kind, "vocab_size": 30, outputs: 7, "hidden": 24}
    config.update(layers=layers, bidirectional=bidirectional, embed=embed)
    return build_model(config)


def _both_ways(model, args, loss):
    """[output, every parameter's gradient] of `loss(output)` in the chains, then in torch's
    kernels, for model._measured_pass(*args, chain)."""
    results = []
    for chain in (True, False):
        model.zero_grad()
        out = model._measured_pass(*args, chain)
        loss(out).backward()
        grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
        results.append([out.detach(), *grads])
    return results


@pytest.mark.parametrize(("kind", "layers", "bidirectional", "embed"), SHAPES)
def test_a_tagger_through_the_chains_gives_torchs_values_and_gradients(
    chains, kind, layers, bidirectional, embed
):
    """Every step's tag logits from a zero state, and every parameter's gradient."""
    model = _reader("tagger", kind, layers, bidirectional, embed, "tags")
    X, Y = torch.randint(0, 30, (6, 9)), torch.randint(0, 7, (6, 9))
    args = (X.T, *model.chain_parameters())
    ours, theirs = _both_ways(model, args, lambda o: F.cross_entropy(o.reshape(-1, 7), Y.view(-1)))
    assert ours[0].shape == (6, 9, 7)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(("kind", "layers", "bidirectional", "embed"), SHAPES)
def test_a_classifier_through_the_chains_reads_each_row_to_its_own_end(
    chains, kind, layers, bidirectional, embed
):
    """The final states of rows of different lengths (one of 1, one filling the batch) from the
    padded batch in the chains: what the packed sequences give in torch's kernels, and the
    gradients; whatever the padding holds."""
    model = _reader("classifier", kind, layers, bidirectional, embed, "classes")
    gen = torch.Generator().manual_seed(3)
    sizes = [1, 11, 4, 7, 11, 2, 9]
    X, lengths = pad_batch([torch.randint(1, 30, (n,), generator=gen).tolist() for n in sizes])
    targets = torch.randint(0, 7, (len(sizes),), generator=gen)
    weights = torch.randn(len(sizes), 24 * (2 if bidirectional else 1), generator=gen)

    def loss(final):
        return (final * weights).sum() + F.cross_entropy(model.linear(final), targets)

    results = _both_ways(model, (X.T, lengths, *model.chain_parameters()), loss)
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    noisy = torch.where(X == 0, torch.randint(1, 30, X.shape, generator=gen), X)
    again = model._measured_pass(noisy.T, lengths, *model.chain_parameters(), True)
    torch.testing.assert_close(again, results[0][0], rtol=0, atol=0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=6), st.integers(0, 3))
def test_the_reversal_reads_each_rows_valid_steps_backwards_then_its_padding(sizes, extra):
    T = max(sizes) + extra
    lengths = torch.tensor(sizes)
    order = concise_chain.reversal(lengths, T)
    assert torch.equal(order.gather(0, order), torch.arange(T).unsqueeze(1).expand(T, len(sizes)))
    for b, n in enumerate(sizes):
        assert order[:, b].tolist() == [*range(n - 1, -1, -1), *range(n, T)]


@pytest.mark.parametrize("model", ["classifier", "tagger"])
def test_one_choice_holds_for_every_minibatch_of_a_run(chains, monkeypatch, model):
    """Measured once, at the first training pass: an epoch's smaller last minibatch and a
    classifier's names of another length keep it, so the checkpoint's one field says what
    every pass of the run did, and a resumed run given it computes what the first session did."""
    monkeypatch.delenv(fused_steps.NATIVE_ENV)  # the default: timed
    monkeypatch.setattr(step_matmul, "_verdicts", {})  # no earlier test's shapes
    reader = _reader(model, "gru", 1, False, 0, "tags" if model == "tagger" else "classes")
    before = measuring_seconds()
    for rows, longest in ((8, 9), (8, 13), (3, 40), (64, 5)):
        X, lengths = pad_batch([[1] * longest, [2, 3, 4]] * (rows // 2) + [[5]] * (rows % 2))
        reader(X, lengths) if model == "classifier" else reader(X)
        if longest == 9:
            first, measured = reader.chain_verdict, measuring_seconds()
            assert first is not None and measured > before
    assert reader.chain_verdict is first and measuring_seconds() == measured
    kept = _reader(model, "gru", 1, False, 0, "tags" if model == "tagger" else "classes")
    kept.chain_preset = not first.packed
    calls = _counting(monkeypatch)
    for longest in (9, 13, 40):
        X, lengths = pad_batch([[1] * longest, [2, 3]])
        kept(X, lengths) if model == "classifier" else kept(X)
    assert bool(calls) is kept.chain_preset and kept.chain_verdict.kept


@pytest.mark.parametrize(
    ("task", "kind", "sizes"),
    [
        ("tag", "gru", dict(embed=8, num_steps=20, batch_size=8, max_chars=3000)),
        ("tag", "lstm", dict(embed=8, num_steps=20, batch_size=8, max_chars=3000)),
        ("classify", "gru", dict(batch_size=16, max_names=400)),
        ("classify", "lstm", dict(batch_size=16, max_names=400, bidirectional=True)),
    ],
)
def test_a_run_through_the_chains_follows_torchs_losses(
    chains, tmp_path, monkeypatch, task, kind, sizes
):
    config = Config(task, model=kind, device="cpu", hidden=32, epochs=3, **sizes)
    runs_follow_torch(config, tmp_path, monkeypatch)
