"""The scratch RNN's time loops as one C call each (rnn_tui/models/recurrent_chain.py): the same
values and gradients as torch's loop, the same training losses, chosen by measurement, kept by a
resume, and torch's loop wherever the chain cannot run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_trainer import tiny

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.data.sources import read_text
from rnn_tui.models import fused_steps, recurrent_chain
from rnn_tui.models.chain_check import gru_equations, lstm_equations, rnn_equations
from rnn_tui.models.rnn_scratch import RNNScratch, rnn_pass
from rnn_tui.models.step_matmul import _verdicts, measuring_seconds
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train.engine import Trainer
from rnn_tui.train.prepare import resumed_prepacking

HAS_CC = fused_steps._compiler() is not None
needs_cc = pytest.mark.skipif(not HAS_CC, reason="no C compiler here")


@pytest.fixture
def lib():
    if not HAS_CC:
        pytest.skip("no C compiler here")
    loaded = fused_steps.load()
    assert loaded.lib is not None, loaded.note  # a chain that disagrees fails here
    return loaded.lib


@needs_cc
@settings(max_examples=60, deadline=None)
@given(
    T=st.integers(1, 6),
    B=st.integers(1, 40),
    n=st.integers(1, 70),
    V=st.integers(1, 9),
    threads=st.integers(1, 3),
    other=st.booleans(),
    seed=st.integers(0, 1000),
)
# Where AVX-512 builds them, 8-row tiles over two panels, the rest row by row and panel by
# panel: two pairs then a lone panel, rows left after 8 and 16, a partial last panel, alone or
# second in a pair. Batches of 8 rows a thread or more (the last thread 4 or more) are split
# by rows (evenly or not, over 2 or 3 threads), smaller ones by columns.
@example(T=3, B=19, n=80, V=5, threads=1, other=True, seed=1)
@example(T=2, B=8, n=70, V=3, threads=2, other=False, seed=2)
@example(T=2, B=16, n=64, V=17, threads=2, other=True, seed=3)
@example(T=2, B=20, n=40, V=3, threads=2, other=True, seed=4)
@example(T=2, B=22, n=40, V=3, threads=2, other=False, seed=8)
@example(T=2, B=40, n=20, V=3, threads=2, other=True, seed=9)
@example(T=2, B=12, n=40, V=3, threads=2, other=True, seed=10)  # rows, 8 and 4
@example(T=2, B=11, n=40, V=3, threads=2, other=False, seed=11)  # columns
@example(T=2, B=20, n=24, V=3, threads=3, other=True, seed=12)  # rows, 8, 8 and 4
@example(T=3, B=24, n=33, V=17, threads=3, other=False, seed=5)
@example(T=2, B=16, n=20, V=30, threads=2, other=True, seed=6)
@example(T=2, B=15, n=20, V=30, threads=2, other=False, seed=7)
def test_the_chain_is_the_rnns_equations_to_float32_rounding(T, B, n, V, threads, other, seed):
    """Any batch (tiles of 8 or 6 rows, the last overlapping), any width (panels of 16 columns,
    the last padded), any split over threads, by rows or by columns: the forward's states and
    outputs, and BPTT's G_t, ∂L/∂ of the input table and of b_h with the output layer's
    gradient folded in, as autograd computes them from the equations, with and without other
    gradients E of the states."""
    lib = fused_steps.load().lib
    assert lib is not None
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(n, n, generator=gen) / max(1.0, n**0.5)
    W_q = torch.randn(n, V, generator=gen)
    table = torch.randn(V, n, generator=gen).requires_grad_()
    X, H0 = torch.randint(0, V, (T, B), generator=gen), torch.randn(B, n, generator=gen)
    dO = torch.randn(T, B, V, generator=gen)
    E = torch.randn(T, B, n, generator=gen) if other else None
    Hs, outputs, pre = rnn_equations(X, table, H0, W, W_q)
    torch.autograd.backward([outputs, Hs], [dO, torch.zeros_like(Hs) if E is None else E])
    S = torch.full((T + 1, B, n), float("nan"))  # every row must be written
    S[0] = H0
    b_q = torch.randn(V, generator=gen)
    logits = b_q.expand(B, T, V).clone(memory_format=torch.contiguous_format)
    recurrent_chain.forward(lib, S, W, X, table.detach(), W_q, logits, threads)
    torch.testing.assert_close(S[1:], Hs.detach(), rtol=1e-5, atol=1e-5)
    want = (outputs.detach() + b_q).transpose(0, 1)
    torch.testing.assert_close(logits, want, rtol=1e-5, atol=1e-5)
    Z = torch.full((T + 1, B, n + V), float("nan"))
    Z[0, :, n:], Z[1:, :, n:] = 0, dO  # Z[T, :, :n] (G_{T+1} = 0) is not read
    d_table, d_b = torch.zeros(V, n), torch.zeros(n)
    recurrent_chain.backward(lib, Z, S[1:].contiguous(), (W.T, W_q.T), X, d_table, d_b, E, threads)
    G = torch.stack([a.grad for a in pre])
    torch.testing.assert_close(Z[:T, :, :n], G, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(d_table, table.grad, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(d_b, G.sum((0, 1)), rtol=1e-5, atol=1e-4)


@needs_cc
def test_a_batch_goes_by_rows_where_each_thread_but_the_last_gets_a_whole_tile():
    """8 rows a thread, the last 4 or more: 12 rows and up on 2 threads, 20 on 3."""
    assert [B for B in range(1, 40) if recurrent_chain.by_rows(B, 2)][0] == 12
    assert [B for B in range(1, 40) if recurrent_chain.by_rows(B, 3)][0] == 20
    assert recurrent_chain.by_rows(4, 1) and not recurrent_chain.by_rows(3, 1)


@pytest.mark.parametrize(("T", "B", "n", "V", "threads"), [(3, 20, 40, 5, 2), (2, 40, 33, 3, 3)])
def test_bptts_sums_split_by_rows_as_they_go_or_after(T, B, n, V, threads):
    """With the batch split by rows, ∂L/∂W_xh and ∂L/∂b_h summed by each thread as it goes (a
    character vocabulary's, by default) or after the chain (a word vocabulary's, past
    MAX_SUMS): both are the index-add and the sum of G."""
    lib = fused_steps.load().lib
    gen = torch.Generator().manual_seed(0)
    W, W_q = torch.randn(n, n, generator=gen) / n**0.5, torch.randn(n, V, generator=gen)
    X, H = torch.randint(0, V, (T, B), generator=gen), torch.rand(T, B, n, generator=gen)
    dO = torch.randn(T, B, V, generator=gen)
    got = {}
    for own_sums in (True, False, None):
        Z = torch.zeros(T + 1, B, n + V)
        Z[1:, :, n:] = dO
        d_table, d_b = torch.zeros(V, n), torch.zeros(n)
        recurrent_chain.backward(lib, Z, H, (W.T, W_q.T), X, d_table, d_b, None, threads, own_sums)
        G = Z[:T, :, :n]
        want = torch.zeros(V, n).index_add_(0, X.reshape(-1), G.reshape(-1, n))
        torch.testing.assert_close(d_table, want, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(d_b, G.sum((0, 1)), rtol=1e-5, atol=1e-5)
        got[own_sums] = G.clone()
    torch.testing.assert_close(got[True], got[False], rtol=0, atol=0)  # G itself is the same


def test_the_chain_refuses_what_it_cannot_read_safely(lib):
    S, W = torch.zeros(3, 2, 4), torch.eye(4)
    with pytest.raises(IndexError, match="token id out of range for a vocabulary of 5"):
        recurrent_chain.forward(lib, S, W, torch.tensor([[0, 5], [1, 2]]), torch.zeros(5, 4))
    with pytest.raises(IndexError):
        recurrent_chain.forward(lib, S, W, torch.tensor([[0, -1], [1, 2]]), torch.zeros(5, 4))
    with pytest.raises(ValueError):  # a transposed view, not contiguous rows
        recurrent_chain.forward(lib, S.transpose(0, 1), W, torch.zeros(2, 3), torch.zeros(5, 4))
    Z, X = torch.zeros(3, 2, 7), torch.zeros(2, 2, dtype=torch.long)
    blocks = (W, torch.zeros(3, 4))
    with pytest.raises(ValueError):  # the states shaped unlike Z's rows
        recurrent_chain.backward(lib, Z, torch.zeros(2, 2, 3), blocks, X)
    with pytest.raises(ValueError):  # blocks of 4 + 2 rows for rows of 7
        recurrent_chain.backward(lib, Z, S[1:], (W, torch.zeros(2, 4)), X)
    with pytest.raises(ValueError):  # no W_hhᵀ first: rows of 3 for G's 4 columns
        recurrent_chain.backward(lib, Z[..., :3].contiguous(), S[1:], (torch.zeros(3, 4),), X)
    with pytest.raises(ValueError):  # no weight at all
        recurrent_chain.backward(lib, Z, S[1:], (), X)
    with pytest.raises(IndexError, match="vocabulary of 1"):  # a table row the ids lack
        recurrent_chain.backward(lib, Z, S[1:], blocks, X + 1, torch.zeros(1, 4))
    with pytest.raises(ValueError):  # a bias gradient of the wrong width
        recurrent_chain.backward(lib, Z, S[1:], blocks, X, None, torch.zeros(5))
    assert not S.any() and not Z.any()  # nothing was written


@settings(max_examples=30, deadline=None)
@given(K=st.integers(1, 40), N=st.integers(1, 50))
def test_pack_lays_columns_out_in_panels_of_16_padded_with_zeros(K, N):
    W = torch.arange(K * N, dtype=torch.float32).view(K, N) + 1
    P = recurrent_chain.pack(W)
    assert P.shape == (-(-N // 16), K, 16) and P.is_contiguous()
    flat = P.transpose(0, 1).reshape(K, -1)
    assert torch.equal(flat[:, :N], W) and not flat[:, N:].any()


def _inputs(T, B, V, n, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randint(0, V, (T, B), generator=gen)
    shapes = ((B, n), (n, n), (V, n), (n,), (n, V), (V,))
    return X, [(torch.randn(*s, generator=gen) * 0.05).requires_grad_() for s in shapes]


def _outputs_and_gradients(X, inputs, chain, state_grad=True):
    for x in inputs:
        x.grad = None
    logits, H_T = rnn_pass(X, *inputs, chain, False)
    gen = torch.Generator().manual_seed(1)
    outputs, grads = [logits], [torch.randn(logits.shape, generator=gen)]
    if state_grad:  # a loss that reads the final state too
        outputs.append(H_T)
        grads.append(torch.randn(H_T.shape, generator=gen))
    torch.autograd.backward(outputs, grads)
    return [logits.detach(), H_T.detach()] + [x.grad.clone() for x in inputs]


@pytest.mark.parametrize("state_grad", [False, True])
def test_the_pass_through_the_chains_has_torchs_values_and_gradients(lib, state_grad):
    """Logits, H_T and the gradients of H_0, W_hh, W_xh, b_h, W_hq, b_q: the same through
    ChainedRNN (the output layer folded into BPTT) as through TanhRecurrence."""
    X, inputs = _inputs(9, 32, 28, 256)
    ours = _outputs_and_gradients(X, inputs, True, state_grad)
    theirs = _outputs_and_gradients(X, inputs, False, state_grad)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert not torch.equal(ours[3], theirs[3])  # another order of sums: the chain did run


def test_where_the_chain_does_not_apply_torchs_loop_runs_bit_for_bit(lib, monkeypatch):
    """Too few steps, float64, $RNN_TUI_NATIVE=off: the same values as torch's loop exactly,
    whatever the choice says. A small weight is eligible: the measurement decides."""
    assert recurrent_chain.library(torch.zeros(256, 256), 3) is None  # < MIN_USES steps
    assert recurrent_chain.library(torch.zeros(1, 1), 4) is lib
    assert recurrent_chain.library(torch.zeros(32, 32), 35) is lib
    assert recurrent_chain.library(torch.zeros(256, 256, dtype=torch.float64), 35) is None
    assert recurrent_chain.library(torch.zeros(256, 256), 35) is lib
    X, inputs = _inputs(3, 4, 5, 40)
    assert recurrent_chain.library(inputs[1], 3) is None
    for a, b in zip(
        _outputs_and_gradients(X, inputs, chain=True),
        _outputs_and_gradients(X, inputs, chain=False),
        strict=True,
    ):
        assert torch.equal(a, b)
    monkeypatch.setenv(fused_steps.NATIVE_ENV, "off")
    assert recurrent_chain.library(torch.zeros(256, 256), 35) is None


def test_the_first_training_pass_measures_the_chain_and_keeps_the_choice(lib, monkeypatch):
    monkeypatch.delenv(fused_steps.NATIVE_ENV)  # the default: timed
    torch.manual_seed(0)
    model = RNNScratch(28, 256)
    X = torch.randint(0, 28, (4, 9))
    keys = [
        ("chain", "rnn-scratch", 9, 4, 28, 256, packed, 1, 0, 1, recurrent_chain.thread_count())
        for packed in (0, 1)
    ]
    for key in keys:  # the prepacking measured first decides which
        _verdicts.pop(key, None)
    with torch.no_grad():
        model(X)  # evaluation does not measure
    assert model.chain_verdict is None and not any(key in _verdicts for key in keys)
    before = [p.detach().clone() for p in model.parameters()]
    rng = torch.get_rng_state()
    model(X)
    verdict = model.chain_verdict
    assert verdict is _verdicts[keys[model.prepack_verdict.packed]]
    assert verdict.packed_ms > 0 and verdict.plain_ms > 0
    # Measured on copies: no parameter, gradient or random number of the run changed.
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))
    model(X)
    assert model.chain_verdict is verdict  # measured once a shape
    kept = RNNScratch(28, 256)
    kept.chain_preset = not verdict.packed
    kept(X)
    assert kept.chain_verdict.kept and kept.chain_verdict.packed is not verdict.packed
    line = recurrent_chain.note(kept.chain_verdict, measured_now=False)
    assert line.endswith("(as the run's first session measured)")


def test_native_on_takes_the_chain_untimed_where_no_earlier_choice_stands(lib, monkeypatch):
    """$RNN_TUI_NATIVE=on (the suite's setting): the first training pass of a shape takes the
    chain without the trial; evaluation of an unseen shape still runs torch's loop, and a
    resumed run's own choice still wins."""
    torch.manual_seed(0)
    model = RNNScratch(28, 64)
    X = torch.randint(0, 28, (3, 11))
    key = ("chain", "rnn-scratch", 11, 3, 28, 64, 0, 1, 0, 1, recurrent_chain.thread_count())
    _verdicts.pop(key, None)
    calls = _counting(monkeypatch)
    with torch.no_grad():
        model(X)
    assert model.chain_verdict is None and not calls
    measuring = measuring_seconds()
    model(X)[0].sum().backward()
    verdict = model.chain_verdict
    assert verdict is _verdicts[key] and verdict.packed and verdict.forced
    assert measuring_seconds() == measuring and calls == {"forward": 1, "backward": 1}
    line = recurrent_chain.note(verdict, measured_now=True)
    assert line.endswith("($RNN_TUI_NATIVE=on, not timed)")
    kept = RNNScratch(28, 64)
    kept.chain_preset = False
    kept(X)
    assert kept.chain_verdict.kept and not kept.chain_verdict.packed


def _counting(monkeypatch) -> dict[str, int]:
    """Calls of the C chains' entry points from here on, by name: proof that a pass ran in C
    (its losses may round the same as torch's loop, bit for bit)."""
    calls: dict[str, int] = {}
    names = ("forward", "backward", "gru_forward", "gru_backward", "torch_gru_forward")
    for name in (*names, "torch_gru_backward"):
        name_calls = (name, "lstm_" + name) if name in ("forward", "backward") else (name,)
        for entry in name_calls:
            real = getattr(recurrent_chain, entry)

            def spy(*args, _real=real, _entry=entry, **kwargs):
                calls[_entry] = calls.get(_entry, 0) + 1
                return _real(*args, **kwargs)

            monkeypatch.setattr(recurrent_chain, entry, spy)
    return calls


def _losses(config, tmp_path, name, preset):
    torch.manual_seed(0)
    trainer = Trainer(config)
    trainer.model.chain_preset = preset
    trainer.begin_session(RunDir(tmp_path / name))
    return [trainer.train_epoch(epoch)[0] for epoch in (1, 2, 3)], trainer


def test_training_through_the_chain_follows_torchs_losses(lib, tmp_path, monkeypatch):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:6000], encoding="utf-8")
    config = tiny(corpus, model="rnn-scratch", hidden=256, num_steps=8, sampling="sequential")
    plain, plain_run = _losses(config, tmp_path, "plain", preset=False)
    calls = _counting(monkeypatch)
    chained, chained_run = _losses(config, tmp_path, "chained", preset=True)
    torch.testing.assert_close(chained, plain, rtol=1e-5, atol=1e-6)
    assert calls.get("forward", 0) > 0 and calls.get("backward", 0) > 0  # the chain ran
    assert chained_run.path.text() == "eager · fp32 · C loops"
    assert chained_run.path.notes[-1] == (
        f"time loop one C call a pass, {recurrent_chain.thread_count()} "
        f"thread{'s' if recurrent_chain.thread_count() != 1 else ''} (as the run's first session "
        "measured)"
    )
    assert plain_run.path.text() == "eager · fp32"
    assert plain_run.path.notes[-1].startswith("time loop in torch, faster here")
    # The choice goes into the checkpoint, for a resume to keep.
    chained_run.save("last")
    meta = chained_run.run_dir.checkpoints / "last.json"
    assert json.loads(meta.read_text(encoding="utf-8"))["chained"] is True


class _Resume:
    json_path = "runs/x/checkpoints/last.json"

    def __init__(self, meta):
        self.meta = meta


@pytest.mark.parametrize("value", [True, False, None])
def test_a_resume_keeps_the_chain_choice(value):
    assert resumed_prepacking(_Resume({"chained": value}), "chained") is value
    assert resumed_prepacking(_Resume({}), "chained") is None


def test_a_tampered_chain_choice_is_one_line():
    with pytest.raises(CheckpointError, match="'chained' must be true, false or null, not str"):
        resumed_prepacking(_Resume({"chained": "yes"}), "chained")


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
@example(T=2, B=17, n=40, V=3, threads=1, seed=1)  # BPTT adds into two full panels (AVX-512)
@example(T=2, B=9, n=64, V=2, threads=2, seed=2)
@example(T=2, B=9, n=32, V=2, threads=2, seed=3)  # a lone full panel a thread
@example(T=3, B=20, n=40, V=3, threads=2, seed=4)  # rows split, 10 and 10 a thread
@example(T=2, B=24, n=20, V=2, threads=2, seed=6)  # rows split in whole tiles, 8 and 16
@example(T=2, B=27, n=20, V=2, threads=3, seed=7)  # 9, 9 and 9 a thread
@example(T=2, B=12, n=24, V=2, threads=2, seed=8)  # rows, 8 and 4
@example(T=2, B=24, n=20, V=2, threads=3, seed=5)
def test_the_lstm_chain_is_the_lstm_equations(T, B, n, V, threads, seed):
    """Forward (gates, C_t, tanh C_t, H_t) and BPTT (∂L/∂ pre-activations, ∂L/∂H_0, ∂L/∂C_0)
    against the equations with torch's autograd, for any batch, width and thread count, the
    batch split by rows or by columns."""
    lib = fused_steps.load().lib
    assert lib is not None
    gen = torch.Generator().manual_seed(seed)
    X = torch.randint(0, V, (T, B), generator=gen)
    U, W = torch.randn(V, 4 * n, generator=gen), torch.randn(n, 4 * n, generator=gen) * 0.3
    H0, C0 = (torch.randn(B, n, generator=gen).requires_grad_() for _ in range(2))
    E, dC_T = torch.randn(T, B, n, generator=gen), torch.randn(B, n, generator=gen)
    want_H, want_C, pre = lstm_equations(X, U, H0, C0, W)
    ((want_H * E).sum() + (want_C * dC_T).sum()).backward()

    gates, tanh_C = torch.empty(T, B, 4 * n), torch.empty(T, B, n)
    Hs, Cs = torch.empty(T + 1, B, n), torch.empty(T + 1, B, n)
    Hs[0], Cs[0] = H0.detach(), C0.detach()
    recurrent_chain.lstm_forward(lib, gates, Hs, Cs, tanh_C, W, X, U, threads)
    close = dict(rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(Hs[1:], want_H.detach(), **close)
    torch.testing.assert_close(Cs[-1], want_C.detach(), **close)
    torch.testing.assert_close(tanh_C, torch.tanh(Cs[1:]), **close)
    dH, dC, dA = torch.zeros(T + 1, B, n), dC_T.clone(), torch.full_like(gates, float("nan"))
    dH[1:] = E
    recurrent_chain.lstm_backward(lib, dH, dC, dA, gates, Cs, tanh_C, W, threads)
    torch.testing.assert_close(dA, torch.stack([a.grad for a in pre]), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(dH[0], H0.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(dC, C0.grad, rtol=1e-4, atol=1e-5)


def test_the_lstm_recurrence_through_the_chain_has_torchs_values_and_gradients(lib):
    from rnn_tui.models.lstm_scratch import LSTMRecurrence

    gen = torch.Generator().manual_seed(0)
    T, B, V, n = 9, 7, 5, 128
    X = torch.randint(0, V, (T, B), generator=gen)
    shapes = ((V, 4 * n), (B, n), (B, n), (n, 4 * n))
    inputs = [(torch.randn(*s, generator=gen) * 0.1).requires_grad_() for s in shapes]
    results = []
    for chain in (True, False):
        for x in inputs:
            x.grad = None
        Hs, C = LSTMRecurrence.apply(X, *inputs, chain, False)
        weights = torch.Generator().manual_seed(1)
        loss = (Hs * torch.randn(Hs.shape, generator=weights)).sum()
        (loss + (C * torch.randn(C.shape, generator=weights)).sum()).backward()
        results.append([Hs.detach(), C.detach()] + [x.grad.clone() for x in inputs])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert not torch.equal(results[0][-1], results[1][-1])  # the chain ran


def test_training_the_lstm_through_the_chain_follows_torchs_losses(lib, tmp_path, monkeypatch):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:6000], encoding="utf-8")
    config = tiny(corpus, model="lstm-scratch", hidden=128, num_steps=8, sampling="sequential")
    plain, _ = _losses(config, tmp_path, "plain", preset=False)
    calls = _counting(monkeypatch)
    chained, run = _losses(config, tmp_path, "chained", preset=True)
    torch.testing.assert_close(chained, plain, rtol=1e-5, atol=1e-6)
    assert calls.get("lstm_forward", 0) > 0 and calls.get("lstm_backward", 0) > 0  # the chain ran
    assert run.path.text() == "eager · fp32 · C loops"
    assert run.path.notes[-1].startswith("time loop one C call a pass")


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
@example(T=2, B=9, n=64, V=2, threads=2, seed=2)
@example(T=2, B=9, n=32, V=2, threads=2, seed=3)  # a lone full panel a thread
@example(T=3, B=20, n=40, V=3, threads=2, seed=4)  # rows split, 10 and 10 a thread
@example(T=2, B=24, n=20, V=2, threads=2, seed=6)  # rows split in whole tiles, 8 and 16
@example(T=2, B=27, n=20, V=2, threads=3, seed=7)  # 9, 9 and 9 a thread
@example(T=2, B=12, n=24, V=2, threads=2, seed=8)  # rows, 8 and 4
@example(T=2, B=24, n=20, V=2, threads=3, seed=5)
def test_the_gru_chain_is_the_gru_equations(T, B, n, V, threads, seed):
    """Forward (σ of the gates, R ⊙ H, H̃, H_t) and BPTT (∂L/∂ pre-activations and ∂L/∂H_0)
    against the equations with torch's autograd, for any batch, width and thread count, the
    batch split by rows or by columns."""
    lib = fused_steps.load().lib
    assert lib is not None
    gen = torch.Generator().manual_seed(seed)
    X = torch.randint(0, V, (T, B), generator=gen)
    U_zr, U_h = torch.randn(V, 2 * n, generator=gen), torch.randn(V, n, generator=gen)
    W_hzr = torch.randn(n, 2 * n, generator=gen) * 0.3
    W_hh = torch.randn(n, n, generator=gen) * 0.3
    H0 = torch.randn(B, n, generator=gen).requires_grad_()
    E = torch.randn(T, B, n, generator=gen)
    want_H, pre_zr, pre_h = gru_equations(X, U_zr, U_h, H0, W_hzr, W_hh)
    (want_H * E).sum().backward()

    ZR, cand, RH = torch.empty(T, B, 2 * n), torch.empty(T, B, n), torch.empty(T, B, n)
    Hs = torch.empty(T + 1, B, n)
    Hs[0] = H0.detach()
    recurrent_chain.gru_forward(lib, ZR, cand, RH, Hs, W_hzr, W_hh, X, U_zr, U_h, threads)
    close = dict(rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(Hs[1:], want_H.detach(), **close)
    torch.testing.assert_close(RH, ZR[..., n:] * Hs[:-1], **close)
    dH, dA, dB = torch.zeros(T + 1, B, n), torch.full_like(ZR, float("nan")), torch.empty_like(cand)
    dH[1:] = E
    recurrent_chain.gru_backward(lib, dH, dA, dB, ZR, cand, Hs, W_hzr, W_hh, threads)
    torch.testing.assert_close(dA, torch.stack([a.grad for a in pre_zr]), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(dB, torch.stack([b.grad for b in pre_h]), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(dH[0], H0.grad, rtol=1e-4, atol=1e-5)


def test_training_the_gru_through_the_chain_follows_torchs_losses(lib, tmp_path, monkeypatch):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:6000], encoding="utf-8")
    config = tiny(corpus, model="gru-scratch", hidden=192, num_steps=8, sampling="sequential")
    plain, _ = _losses(config, tmp_path, "plain", preset=False)
    calls = _counting(monkeypatch)
    chained, run = _losses(config, tmp_path, "chained", preset=True)
    torch.testing.assert_close(chained, plain, rtol=1e-5, atol=1e-6)
    assert calls.get("gru_forward", 0) > 0 and calls.get("gru_backward", 0) > 0  # the chain ran
    assert run.path.text() == "eager · fp32 · C loops"
    assert run.path.notes[-1].startswith("time loop one C call a pass")


def test_checking_the_chains_at_load_draws_none_of_the_runs_random_numbers(lib, monkeypatch):
    monkeypatch.setattr(fused_steps, "_loaded", [])
    rng = torch.get_rng_state()
    assert fused_steps.load().lib is not None
    assert torch.equal(torch.get_rng_state(), rng)


@needs_cc
def test_a_compiler_without_openmp_builds_the_chains_single_threaded(tmp_path, monkeypatch):
    """Apple's clang has no -fopenmp: the same source builds without it, and the chains run,
    and agree, on one thread."""
    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))
    # "on": built and checked, not timed: a busy host's timing chose torch here (29 against
    # 23 µs), which says nothing about the build this checks.
    monkeypatch.setenv(fused_steps.NATIVE_ENV, "on")
    monkeypatch.setattr(fused_steps, "_loaded", [])
    monkeypatch.setattr(fused_steps, "OPENMP_FLAG", "-fno-such-openmp-flag")
    loaded = fused_steps.load()
    assert loaded.lib is not None, loaded.note
    assert loaded.lib.chain_threads() == 1 and recurrent_chain.thread_count() == 1
    S = torch.zeros(3, 2, 16)
    recurrent_chain.forward(loaded.lib, S, torch.eye(16), torch.zeros(2, 2), torch.ones(1, 16))
    torch.testing.assert_close(S[1], torch.full((2, 16), 1.0).tanh())


@needs_cc
def test_a_compiler_that_refuses_wide_vectors_still_builds_for_this_cpu(tmp_path, monkeypatch):
    """The 512-bit preference is tried with -march=native; a compiler that refuses it (another
    architecture's gcc) builds for this CPU without it, not for a generic one."""
    import subprocess

    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(fused_steps.NATIVE_ENV, "on")  # built and checked, not timed (above)
    monkeypatch.setattr(fused_steps, "_loaded", [])
    monkeypatch.setattr(fused_steps, "WIDE_FLAG", "-fno-such-vector-flag")
    builds, run = [], subprocess.run

    def recorded(argv, *args, **kwargs):
        done = run(argv, *args, **kwargs)
        if "-shared" in argv:
            builds.append((argv, done.returncode))
        return done

    monkeypatch.setattr(subprocess, "run", recorded)
    loaded = fused_steps.load()
    assert loaded.lib is not None, loaded.note
    assert "-fno-such-vector-flag" in builds[0][0] and builds[0][1] != 0
    argv, code = builds[-1]
    assert code == 0 and fused_steps.NATIVE_FLAG in argv and "-fno-such-vector-flag" not in argv


def _avx512() -> bool:
    try:
        return "avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@needs_cc
@pytest.mark.skipif(not _avx512(), reason="the wide tiles are built for AVX-512 CPUs only")
@pytest.mark.parametrize(
    ("right", "wrong"),
    [
        ("put16(o + NR, d[r], cols, add);", "put16(o + NR, d[r], cols, 0);"),
        ("put16(C + r * ldc, c[r], cols, add);", "put16(C + r * ldc, c[r], cols, 0);"),
        ("o[j] = add ? o[j] + t.f[j] : t.f[j];", "o[j] = t.f[j];"),
    ],
    ids=["two panels", "a lone panel", "a partial panel"],
)
def test_a_wide_tile_that_adds_wrong_is_caught_at_load(right, wrong, broken_loops):
    """The load check reaches the AVX-512 tiles (8 rows over two panels or one, full or the last,
    partial one, and their adding forms): a build whose tile drops what it adds to runs torch's
    loops instead."""
    loaded = broken_loops(right, wrong)
    assert loaded.lib is None
    assert loaded.note.endswith("the C loops disagreed with torch's kernels here")


@needs_cc
@pytest.mark.parametrize(
    ("right", "wrong"),
    [
        (
            "for (long j = j0; j < j1; j++) { db[j] += row[j]; dx[j] += row[j]; }",
            "for (long j = j0; j < j1; j++) { db[j] += row[j]; }",
        ),
        ("long M = r1 - r0;\n  float* O", "long M = r1 - r0 > 8 ? 8 : r1 - r0;\n  float* O"),
        ("            sx[j] += g;\n", "\n"),
        ("j0 = 0; j1 = (n); }", "j0 = 0; j1 = (n) / 2; }"),
        ("r1 = whole * ((id) + 1) + rest * ((id) + 1) / (active);", "r1 = whole * ((id) + 1);"),
        ("r1 = 8 * (tiles * ((id) + 1) / (active));", "r1 = 8 * (tiles * (id) / (active)) + 8;"),
    ],
    ids=[
        "BPTT's sums after",
        "BPTT's sums as it goes",
        "a thread's last rows",
        "the LSTM's and GRU's columns",
        "rows left over after whole tiles",
        "rows in whole tiles",
    ],
)
def test_a_row_split_that_goes_wrong_is_caught_at_load(right, wrong, broken_loops):
    """The load check reaches the chains' split by rows (8 rows a thread or more, the last 4):
    a build that drops ∂L/∂W_xh there, leaves a thread's rows past its first tile out, or
    half the LSTM's and GRU's columns, runs torch's loops instead."""
    loaded = broken_loops(right, wrong)
    assert loaded.lib is None
    assert loaded.note.endswith("the C loops disagreed with torch's kernels here")


@needs_cc
def test_the_first_step_leaves_the_loops_setup_out_of_tokens_per_s_once(tmp_path, monkeypatch):
    """Setting the C loops up (a build into a fresh cache, the load check) runs inside the first
    step's measurement of the time loops: it is left out of tokens/s once. Counted twice, a
    short first epoch read 0 or 1,269,089 tokens/s against 105,223 for the next."""
    from rnn_tui.models import step_matmul

    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))  # a build: ~1 s in the step
    monkeypatch.setattr(fused_steps, "_loaded", [])
    monkeypatch.setattr(step_matmul, "_verdicts", {})
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:6000], encoding="utf-8")
    trainer = Trainer(tiny(corpus, model="gru-scratch", hidden=256, num_steps=8))
    trainer.begin_session(RunDir(tmp_path / "run"))
    steps, run = [], trainer.step.run

    def timed(*args, **kwargs):
        started = time.perf_counter()
        result = run(*args, **kwargs)
        steps.append(time.perf_counter() - started)
        return result

    monkeypatch.setattr(trainer.step, "run", timed)
    _, _, seconds = trainer.train_epoch(1)
    assert fused_steps.setup_seconds() > 0.3  # the build happened inside this epoch
    left_out = trainer.path.measure_s
    assert left_out <= steps[0]  # no more than the first step took
    assert seconds >= sum(steps) - left_out - 0.05
