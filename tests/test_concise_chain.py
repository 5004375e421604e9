"""nn.RNN and nn.LSTM language models through the scratch cells' C chains (concise_chain):
the same values and gradients as torch's kernels, where they apply, measured once a shape."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_recurrent_chain import _counting, _losses, needs_cc
from test_trainer import tiny

from rnn_tui.data.sources import read_text
from rnn_tui.models import concise_chain, fused_steps, recurrent_chain
from rnn_tui.models.base import state_tensors
from rnn_tui.models.chain_check import torch_gru_equations
from rnn_tui.models.lstm_scratch import LSTMRecurrence
from rnn_tui.models.registry import build_model
from rnn_tui.models.step_matmul import _verdicts


def _model(cell, layers=1, embed=0, V=28, hidden=40, dropout=0.0, bidirectional=False):
    torch.manual_seed(0)
    config = {"model": cell, "vocab_size": V, "hidden": hidden, "layers": layers}
    config.update(dropout=dropout, bidirectional=bidirectional, embed=embed)
    return build_model(config)


def _values_and_gradients(model, run, X, state, seed=1):
    """Logits, the new state and every parameter's and the state's gradient for a loss that
    reads the logits and the final state."""
    model.zero_grad()
    state = [s.detach().clone().requires_grad_() for s in state]
    logits, new = run(model, X.T, *state, *model._pass_parameters())
    new = state_tensors(new)
    gen = torch.Generator().manual_seed(seed)
    outputs = [logits, *new]
    torch.autograd.backward(outputs, [torch.randn(o.shape, generator=gen) for o in outputs])
    grads = [p.grad.clone() for p in model.parameters()] + [s.grad.clone() for s in state]
    return [logits.detach().contiguous(), *(s.detach() for s in new), *grads]


CASES = [
    ("rnn", 1, 0, 8, 9, False),
    ("rnn", 2, 0, 5, 7, False),  # a tanh layer below the one with the output layer folded in
    ("rnn", 3, 6, 3, 4, False),  # an embedding, and three layers
    ("lstm", 1, 0, 8, 9, False),
    ("lstm", 2, 0, 12, 6, False),  # batch split by rows on 2 threads
    ("lstm", 2, 5, 3, 5, False),
    ("lstm", 1, 0, 2, 5, False),  # fewer tokens than words: one-hot columns of W_ih gathered
    ("rnn", 2, 0, 2, 6, False),
    ("rnn", 2, 0, 8, 9, True),  # bidirectional: the reverse direction over the flipped sequence
    ("rnn", 1, 4, 2, 5, True),
    ("lstm", 2, 0, 3, 5, True),
    ("lstm", 1, 0, 8, 9, True),
    ("gru", 1, 0, 8, 9, False),  # nn.GRU's own chain (gru_chain_c.py)
    ("gru", 2, 0, 12, 6, False),  # batch split by rows on 2 threads
    ("gru", 3, 6, 3, 4, False),
    ("gru", 1, 0, 2, 5, False),
    ("gru", 2, 0, 5, 7, True),
]


@pytest.mark.parametrize(("cell", "layers", "embed", "B", "T", "bidirectional"), CASES)
def test_the_chains_give_torchs_values_and_gradients(
    chains, cell, layers, embed, B, T, bidirectional
):
    model = _model(cell, layers, embed, bidirectional=bidirectional)
    X = torch.randint(0, 28, (B, T), generator=torch.Generator().manual_seed(2))
    gen = torch.Generator().manual_seed(3)
    state = [torch.randn(s.shape, generator=gen) * 0.5 for s in state_tensors(model.begin_state(B))]
    ours = _values_and_gradients(model, concise_chain.chained_pass, X, state)
    theirs = _values_and_gradients(model, concise_chain.torch_pass, X, state)
    assert len(ours) == len(theirs) == 1 + len(state) + len(list(model.parameters())) + len(state)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    # Another order of sums: a weight's gradient differs in its last bits, so the chain ran.
    assert any(not torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))


def test_the_gate_blocks_are_reordered_for_the_chain():
    W = torch.arange(8.0).view(8, 1)  # blocks i, f, g, o of two rows each
    assert concise_chain.gate_order(W, "lstm").flatten().tolist() == [6, 7, 0, 1, 2, 3, 4, 5]
    assert concise_chain.gate_order(W, "rnn") is W


@pytest.mark.parametrize(
    ("kwargs", "training", "expected"),
    [
        ({"cell": "rnn"}, True, True),
        ({"cell": "lstm", "layers": 2, "embed": 4}, True, True),
        ({"cell": "gru"}, True, True),  # its own chain: the reset gate after the product
        ({"cell": "lstm", "bidirectional": True}, True, True),
        ({"cell": "lstm", "layers": 2, "dropout": 0.2}, True, False),  # torch's own dropout
        ({"cell": "lstm", "layers": 2, "dropout": 0.2}, False, True),  # none in evaluation
    ],
)
def test_where_the_chains_apply(kwargs, training, expected):
    model = _model(**kwargs).train(training)
    X = torch.zeros(2, 5, dtype=torch.long)
    assert concise_chain.chainable(model.model_name, model, X) is expected


def test_float64_and_autocast_stay_in_torch():
    model = _model("rnn")
    X = torch.zeros(2, 5, dtype=torch.long)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not concise_chain.chainable(model.model_name, model, X)
    assert not concise_chain.chainable(model.model_name, model.double(), X)


@pytest.mark.parametrize(("cell", "layers", "embed"), [("rnn", 1, 0), ("lstm", 2, 3)])
def test_the_first_training_pass_measures_and_changes_nothing(
    chains, monkeypatch, cell, layers, embed
):
    monkeypatch.delenv(fused_steps.NATIVE_ENV)  # the default: timed
    model = _model(cell, layers, embed, hidden=24)
    X = torch.randint(0, 28, (4, 9))
    threads = recurrent_chain.thread_count()
    key = ("chain", cell, 9, 4, 28, 24, False, layers, embed, 1, threads)
    _verdicts.pop(key, None)
    with torch.no_grad():
        model(X)  # evaluation does not measure
    assert model.chain_verdict is None and key not in _verdicts
    before = [p.detach().clone() for p in model.parameters()]
    rng = torch.get_rng_state()
    model(X)
    verdict = model.chain_verdict
    assert verdict is _verdicts[key] and verdict.packed_ms > 0 and verdict.plain_ms > 0
    # Measured on copies: no parameter, gradient or random number of the run changed.
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))
    # Another layer count is another pass, measured for itself; so is the other direction's.
    other = _model(cell, layers + 1, embed, hidden=24)
    other(X)
    assert other.chain_verdict is not verdict
    both = _model(cell, layers, embed, hidden=24, bidirectional=True)
    both(X)
    assert both.chain_verdict is not verdict


@pytest.mark.parametrize("preset", [True, False])
def test_the_forward_runs_where_the_choice_says(chains, monkeypatch, preset):
    model = _model("lstm", 2)
    model.chain_preset = preset
    calls = _counting(monkeypatch)
    X = torch.randint(0, 28, (3, 6))
    logits, (H, C) = model(X)
    assert logits.shape == (3, 6, 28) and H.shape == C.shape == (2, 3, 40)
    assert (calls.get("lstm_forward", 0) == 2) is preset  # one chain a layer
    F.cross_entropy(logits.reshape(-1, 28), X.reshape(-1)).backward()
    assert (calls.get("lstm_backward", 0) == 2) is preset


@pytest.mark.parametrize(("model", "layers"), [("rnn", 1), ("lstm", 2), ("gru", 2)])
def test_training_through_the_chains_follows_torchs_losses(
    chains, tmp_path, monkeypatch, model, layers
):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:6000], encoding="utf-8")
    config = tiny(corpus, model=model, layers=layers, hidden=64, num_steps=8, sampling="sequential")
    chained_run = runs_follow_torch(config, tmp_path, monkeypatch)
    assert chained_run.path.notes[-1].startswith("time loop one C call a pass")


def runs_follow_torch(config, tmp_path, monkeypatch):
    """Three epochs of `config` in torch's kernels, then in the chains: the same losses, each
    path said, and the chained run's checkpoint recording the choice. The chained run."""
    plain, plain_run = _losses(config, tmp_path, "plain", preset=False)
    calls = _counting(monkeypatch)
    chained, chained_run = _losses(config, tmp_path, "chained", preset=True)
    torch.testing.assert_close(chained, plain, rtol=1e-5, atol=1e-6)
    assert sum(calls.values()) > 0  # the chains ran
    assert chained_run.path.text() == "eager · fp32 · C loops"
    assert plain_run.path.text() == "eager · fp32"
    chained_run.save("last")
    meta = chained_run.run_dir.checkpoints / "last.json"
    assert json.loads(meta.read_text(encoding="utf-8"))["chained"] is True
    return chained_run


@pytest.mark.parametrize("chain", [True, False])
def test_rows_in_token_order_need_no_ids(chains, chain):
    """LSTMRecurrence with X None reads U's rows in token order: the same values and gradients
    as the ids 0..T·B − 1, in the chain and in torch's loop."""
    T, B, n = 5, 3, 8
    gen = torch.Generator().manual_seed(4)
    U, H0, C0 = (torch.randn(*s, generator=gen) for s in ((T * B, 4 * n), (B, n), (B, n)))
    W_h = torch.randn(n, 4 * n, generator=gen) * 0.3
    dHs = torch.randn(T, B, n, generator=gen)
    results = []
    for X in (None, torch.arange(T * B).view(T, B)):
        leaves = [x.clone().requires_grad_() for x in (U, W_h)]
        Hs, C = LSTMRecurrence.apply(X, leaves[0], H0, C0, leaves[1], chain, False)
        torch.autograd.backward([Hs, C], [dHs, torch.ones_like(C)])
        results.append([Hs.detach(), C.detach(), *(x.grad for x in leaves)])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@needs_cc
@settings(max_examples=40, deadline=None)
@given(
    T=st.integers(1, 5),
    B=st.integers(1, 30),
    n=st.integers(1, 40),
    V=st.integers(1, 6),
    threads=st.integers(1, 3),
    seed=st.integers(0, 1000),
)
@example(T=2, B=17, n=40, V=3, threads=1, seed=1)  # two full panels at once (AVX-512)
@example(T=2, B=9, n=32, V=2, threads=2, seed=3)  # a lone full panel a thread
@example(T=3, B=20, n=40, V=3, threads=2, seed=4)  # rows split, 10 and 10 a thread
@example(T=2, B=24, n=20, V=2, threads=2, seed=6)  # rows split in whole tiles, 8 and 16
@example(T=2, B=12, n=24, V=2, threads=2, seed=8)  # rows, 8 and 4
@example(T=2, B=5, n=37, V=2, threads=3, seed=9)  # columns, three threads
def test_the_torch_gru_chain_is_nn_grus_equations(T, B, n, V, threads, seed):
    """Forward (r, z, n, H_t) and BPTT (the input side's and the recurrent side's
    ∂L/∂ pre-activations and ∂L/∂H_0) against the equations with torch's autograd, for any
    batch, width and thread count, the batch split by rows or by columns."""
    lib = fused_steps.load().lib
    assert lib is not None
    gen = torch.Generator().manual_seed(seed)
    X = torch.randint(0, V, (T, B), generator=gen)
    U, W = torch.randn(V, 3 * n, generator=gen), torch.randn(n, 3 * n, generator=gen) * 0.3
    b_hn, H0 = torch.randn(n, generator=gen), torch.randn(B, n, generator=gen).requires_grad_()
    E = torch.randn(T, B, n, generator=gen)
    want_H, pre, rec = torch_gru_equations(X, U, H0, W, b_hn)
    (want_H * E).sum().backward()
    gates, HN, Hs = torch.empty(T, B, 3 * n), torch.empty(T, B, n), torch.empty(T + 1, B, n)
    Hs[0] = H0.detach()
    recurrent_chain.torch_gru_forward(lib, gates, HN, Hs, W, X, U, b_hn, threads)
    dH, dA, dR = torch.zeros(T + 1, B, n), torch.empty_like(gates), torch.empty_like(gates)
    dH[1:] = E
    recurrent_chain.torch_gru_backward(lib, dH, dA, dR, gates, HN, Hs, W, threads)
    dA_want = torch.stack([u.grad for u in pre])
    dR_want = torch.cat((dA_want[..., : 2 * n], torch.stack([q.grad for q in rec])), 2)
    torch.testing.assert_close(Hs[1:], want_H.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(dA, dA_want, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(dR, dR_want, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(dH[0], H0.grad, rtol=1e-4, atol=1e-5)
