# ruff: noqa: F811 (the pairs_file fixture imported from test_seq2seq_trainer)
"""The padded form of the seq2seq model (rnn_tui/models/gru_layers.py) and the static-buffer step
a CUDA graph captures for translation (rnn_tui/train/tasks/seq2seq.py): both compute what the
packed, trimmed plain step computes. The GPU half (a real capture) is in tests/test_cuda.py."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_seq2seq_trainer import _one_thread, pairs_file, tiny  # noqa: F401 (fixtures)
from test_step_paths import StaticEagerStep

from rnn_tui.models.gru_layers import gru_by_layer
from rnn_tui.models.seq2seq import build_seq2seq
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train import step as step_module
from rnn_tui.train.engine import Trainer


@settings(max_examples=25, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 12), min_size=1, max_size=6),
    layers=st.integers(1, 3),
    attention=st.sampled_from(["none", "additive", "dot"]),
    bidirectional=st.booleans(),
)
def test_the_padded_model_equals_the_packed_one_values_and_gradients(
    lengths, layers, attention, bidirectional
):
    torch.manual_seed(len(lengths) * 7 + layers)
    model = build_seq2seq(
        {"model": "seq2seq", "src_vocab_size": 20, "tgt_vocab_size": 25, "embed": 6,
         "hidden": 8, "layers": layers, "dropout": 0.0, "attention": attention,
         "bidirectional": bidirectional}
    )  # fmt: skip
    B, T = len(lengths), 9
    X, dec_X = torch.randint(0, 20, (B, T)), torch.randint(0, 25, (B, 5))
    valid = torch.tensor(lengths)  # 0 and > T are clamped into [1, T] by both forms
    results = []
    for padded in (False, True):
        model.zero_grad()
        logits = model(X, valid, dec_X, padded=padded)
        (logits * torch.linspace(-1, 1, logits.numel()).view_as(logits)).sum().backward()
        results.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (packed, packed_grads), (padded, padded_grads) = results
    torch.testing.assert_close(padded, packed, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(padded_grads, packed_grads, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_after_a_row_changes_nothing_in_the_padded_encoder(bidirectional):
    torch.manual_seed(0)
    config = {"model": "seq2seq", "src_vocab_size": 20, "tgt_vocab_size": 25, "embed": 6,
              "hidden": 8, "layers": 2, "dropout": 0.0, "bidirectional": bidirectional}  # fmt: skip
    model = build_seq2seq(config).eval()
    X = torch.randint(0, 20, (1, 8))
    other = X.clone()
    other[0, 3:] = torch.randint(0, 20, (5,))
    for source in (X, other):
        outputs, state = model.encoder(source, torch.tensor([3]), padded=True)
        assert outputs[0, 3:].abs().sum() == 0  # after the last token, as pad_packed gives
        if source is X:
            first = state
    torch.testing.assert_close(state, first, rtol=0, atol=0)


def test_a_bidirectional_layer_reads_each_row_backwards_from_its_own_end():
    """Without lengths the padded form is nn.GRU itself; with them, row i's backward direction
    starts at its token valid_len[i] − 1, as a GRU run over the reversed row alone does."""
    torch.manual_seed(0)
    rnn = torch.nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(2, 5, 3)
    out, state = gru_by_layer(rnn, x)
    torch.testing.assert_close((out, state), rnn(x), rtol=1e-5, atol=1e-6)
    out, state = gru_by_layer(rnn, x, valid_len=torch.tensor([5, 2]))
    alone_out, alone_state = rnn(x[1:, :2])
    torch.testing.assert_close(out[1:, :2], alone_out, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(state[:, 1:], alone_state, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="batch-first"):
        gru_by_layer(torch.nn.GRU(3, 4), torch.zeros(2, 1, 3))


def test_dropout_between_layers_is_live_in_training_and_off_in_eval():
    torch.manual_seed(0)
    rnn = torch.nn.GRU(4, 6, num_layers=2, dropout=0.5, batch_first=True)
    x = torch.randn(3, 5, 4)
    first, second = gru_by_layer(rnn, x)[0], gru_by_layer(rnn, x)[0]
    assert not torch.equal(first, second)
    rnn.eval()
    torch.testing.assert_close(gru_by_layer(rnn, x)[0], rnn(x)[0], rtol=1e-5, atol=1e-6)


def _losses(config, folder, step_class=None) -> list[float]:
    torch.manual_seed(0)
    trainer = Trainer(config)
    trainer.begin_session(RunDir(folder))
    if step_class is not None:
        trainer.step = step_class(
            trainer.task, trainer.model, trainer.optimizer, trainer.params, config, trainer.path
        )
    return [trainer.train_epoch(epoch)[0] for epoch in (1, 2, 3)]


@pytest.mark.parametrize("attention, bidirectional", [("none", False), ("additive", True)])
def test_the_graphed_translation_step_on_static_buffers_equals_the_plain_step(
    pairs_file, tmp_path, attention, bidirectional
):
    """Static (batch_size, num_steps) buffers, a short last minibatch padded with rows that
    count no tokens, the padded model: the plain step's epoch losses (29 training pairs in
    minibatches of 8, so the last holds 5)."""
    config = tiny(pairs_file, dropout=0.0, attention=attention, epochs=3, optimizer="adam",
                  bidirectional=bidirectional)  # fmt: skip
    plain = _losses(config, tmp_path / "plain")
    static = _losses(config, tmp_path / "static", StaticEagerStep)
    torch.testing.assert_close(static, plain, rtol=1e-5, atol=1e-6)
    assert plain[2] < plain[0]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_every_translator_may_run_as_a_graph_on_a_gpu(pairs_file, bidirectional):
    task = Trainer(tiny(pairs_file, bidirectional=bidirectional)).task
    assert step_module._graph_refusal(task, torch.device("cuda")) == ""
