"""The seq2seq encoder–decoder (d2l §9.6, §9.7): shapes, padding, the fixed context, decoding
steps, the registry."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.models.base import ModelError
from rnn_tui.models.registry import build_model, count_parameters
from rnn_tui.models.seq2seq import (
    DecoderState,
    EncoderDecoder,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
    build_seq2seq,
)
from rnn_tui.train.masked_loss import masked_cross_entropy

SRC_V, TGT_V = 10, 12


def make(seed: int = 0, **overrides) -> EncoderDecoder:
    torch.manual_seed(seed)
    config = {
        "model": "seq2seq",
        "src_vocab_size": SRC_V,
        "tgt_vocab_size": TGT_V,
        "embed": 8,
        "hidden": 16,
        "layers": 2,
        "dropout": 0.0,
        **overrides,
    }
    return build_seq2seq(config).eval()


def ids(shape: tuple[int, ...], vocab: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, vocab, shape, generator=torch.Generator().manual_seed(seed))


# --- the seeds' shapes -----------------------------------------------------------------------


def test_encoder_shapes_seed_example():
    # The seeds: vocab 10, embed 8, hidden 16, 2 layers, batch 4, 7 steps → 7×4×16 and 2×4×16
    # (time-major there; batch-major here).
    torch.manual_seed(0)
    encoder = Seq2SeqEncoder(vocab_size=10, embed=8, hidden=16, layers=2).eval()
    X = torch.zeros((4, 7), dtype=torch.long)
    outputs, state = encoder(X, torch.full((4,), 7))
    assert outputs.shape == (4, 7, 16)
    assert state.shape == (2, 4, 16)


def test_decoder_shapes_seed_example():
    torch.manual_seed(0)
    encoder = Seq2SeqEncoder(10, 8, 16, 2).eval()
    decoder = Seq2SeqDecoder(10, 8, 16, 2).eval()
    X = torch.zeros((4, 7), dtype=torch.long)
    _, enc_state = encoder(X, torch.full((4,), 7))
    logits, state = decoder(X, decoder.init_state(enc_state))
    assert logits.shape == (4, 7, 10)
    assert state.hidden.shape == (2, 4, 16)
    assert state.context.shape == (4, 16)


def test_bidirectional_shapes():
    model = make(bidirectional=True)
    X = ids((4, 7), SRC_V)
    outputs, enc_state = model.encoder(X, torch.tensor([7, 3, 1, 5]))
    assert outputs.shape == (4, 7, 32)  # forward and backward halves
    assert enc_state.shape == (2, 4, 16)  # bridged back to (layers, B, H) for the decoder
    assert enc_state.abs().max() < 1  # the bridge ends in tanh
    assert model(X, torch.tensor([7, 3, 1, 5]), ids((4, 5), TGT_V)).shape == (4, 5, TGT_V)
    assert len(model.encoder.bridge) == 2  # one Linear(2H→H) per layer
    assert model.encoder.bridge[0].weight.shape == (16, 32)


def test_encoder_is_unidirectional_by_default():
    model = make()
    assert model.encoder.bridge is None
    assert model.encoder(ids((2, 3), SRC_V), torch.tensor([3, 2]))[0].shape == (2, 3, 16)


def test_dropout_sits_between_gru_layers():
    model = make(dropout=0.3)
    assert model.encoder.rnn.dropout == 0.3
    assert model.decoder.rnn.dropout == 0.3


# --- padding never leaks -------------------------------------------------------------------


@st.composite
def padded_batches(draw):
    """Rows of 1–6 source tokens, padded twice: to the longest row with ids `pad_a`, and a few
    steps further with other arbitrary ids."""
    lengths = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
    extra = draw(st.integers(0, 4))
    token = st.integers(0, SRC_V - 1)
    steps = max(lengths)
    rows, a, b = [], [], []
    for n in lengths:
        row = draw(st.lists(token, min_size=n, max_size=n))
        rows.append(row)
        a.append(row + draw(st.lists(token, min_size=steps - n, max_size=steps - n)))
        b.append(
            row + draw(st.lists(token, min_size=steps + extra - n, max_size=steps + extra - n))
        )
    return rows, torch.tensor(a), torch.tensor(b), torch.tensor(lengths)


UNI, BI = make(seed=3), make(seed=4, bidirectional=True)


@settings(max_examples=30, deadline=None)
@given(padded_batches(), st.booleans())
def test_padding_does_not_leak(batch, bidirectional):
    rows, X_a, X_b, valid = batch
    model = BI if bidirectional else UNI
    dec_X = ids((len(rows), 4), TGT_V, seed=len(rows))
    with torch.no_grad():
        out_a, state_a = model.encoder(X_a, valid)
        out_b, state_b = model.encoder(X_b, valid)
        torch.testing.assert_close(state_a, state_b, rtol=0, atol=0)
        torch.testing.assert_close(
            model(X_a, valid, dec_X), model(X_b, valid, dec_X), rtol=0, atol=0
        )
        for i, row in enumerate(rows):
            n = len(row)
            # Each row encodes as it does alone and unpadded …
            alone_out, alone_state = model.encoder(torch.tensor([row]), torch.tensor([n]))
            torch.testing.assert_close(state_a[:, i], alone_state[:, 0])
            torch.testing.assert_close(out_a[i, :n], alone_out[0])
            # … and the outputs at padded steps are zeros.
            assert not out_a[i, n:].any() and not out_b[i, n:].any()


def test_zero_valid_length_reads_one_token():
    # An empty source still holds its <eos>: valid_len 0 is treated as 1, never an error.
    X = ids((2, 5), SRC_V)
    with torch.no_grad():
        zero = UNI.encoder(X, torch.tensor([0, 0]))[1]
        one = UNI.encoder(X, torch.tensor([1, 1]))[1]
    torch.testing.assert_close(zero, one, rtol=0, atol=0)


# --- decoding ---------------------------------------------------------------------------------


def test_context_stays_the_encoders_across_steps():
    # d2l issue #2134: the context must stay the encoder's top-layer final state, not become the
    # decoder's own updated state after the first step.
    model = make(seed=5)
    X, valid = ids((3, 6), SRC_V), torch.tensor([6, 2, 4])
    with torch.no_grad():
        _, enc_state = model.encoder(X, valid)
        state = first = model.encode(X, valid)
        torch.testing.assert_close(first.context, enc_state[-1], rtol=0, atol=0)
        torch.testing.assert_close(first.hidden, enc_state, rtol=0, atol=0)
        for token in (1, 4, 7):
            _, state = model.step(torch.full((3,), token), state)
            torch.testing.assert_close(state.context, first.context, rtol=0, atol=0)
        assert not torch.allclose(state.hidden, first.hidden)  # the recurrence itself moved on
        # The context is an input of every step: another context gives other predictions.
        tokens = torch.tensor([2, 2, 2])
        same, _ = model.step(tokens, state)
        other, _ = model.step(tokens, DecoderState(state.hidden, state.hidden[-1]))
    assert not torch.allclose(same, other)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_step_matches_teacher_forced_forward(bidirectional):
    # Dropout 0.3 is inactive in eval mode, so T′ single steps equal one teacher-forced pass.
    model = make(seed=6, dropout=0.3, bidirectional=bidirectional)
    X, valid = ids((4, 7), SRC_V), torch.tensor([7, 1, 3, 5])
    dec_X = ids((4, 5), TGT_V, seed=2)
    with torch.no_grad():
        expected = F.log_softmax(model(X, valid, dec_X), dim=-1)
        state = model.encode(X, valid)
        for t in range(dec_X.shape[1]):
            log_probs, state = model.step(dec_X[:, t], state)
            assert log_probs.shape == (4, TGT_V) and log_probs.dtype == torch.float32
            torch.testing.assert_close(log_probs, expected[:, t])
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(4))


def test_reorder_selects_rows():
    model = make(seed=7)
    X, valid = ids((4, 5), SRC_V), torch.tensor([5, 2, 3, 1])
    index = torch.tensor([3, 1, 1])
    with torch.no_grad():
        state = model.encode(X, valid)
        picked = EncoderDecoder.reorder(state, index)
        assert picked.hidden.shape == (2, 3, 16) and picked.context.shape == (3, 16)
        for j, i in enumerate(index.tolist()):
            torch.testing.assert_close(picked.hidden[:, j], state.hidden[:, i], rtol=0, atol=0)
            torch.testing.assert_close(picked.context[j], state.context[i], rtol=0, atol=0)
        # Stepping the reordered beams is stepping the original rows, reordered.
        tokens = torch.tensor([4, 0, 9, 2])
        all_rows, _ = model.step(tokens, state)
        some_rows, _ = model.step(tokens[index], picked)
    torch.testing.assert_close(some_rows, all_rows[index])


def test_adam_lowers_the_masked_loss_on_a_copy_task():
    # Tokens 0 <pad>, 1 <bos>, 2 <eos>, 3–7 words; the target is the source.
    torch.manual_seed(0)
    model = build_seq2seq(
        {
            "model": "seq2seq",
            "src_vocab_size": 8,
            "tgt_vocab_size": 8,
            "embed": 16,
            "hidden": 16,
            "layers": 1,
            "dropout": 0.0,
        }
    )
    gen = torch.Generator().manual_seed(1)
    lengths = torch.randint(1, 5, (32,), generator=gen)
    words = torch.randint(3, 8, (32, 6), generator=gen)
    steps = torch.arange(6)
    Y = torch.where(steps < lengths[:, None], words, 0)
    Y[torch.arange(32), lengths] = 2  # <eos>
    valid = lengths + 1
    dec_X = torch.cat((torch.ones(32, 1, dtype=torch.long), Y[:, :-1]), dim=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)

    def loss() -> torch.Tensor:
        total, count = masked_cross_entropy(model(Y, valid, dec_X), Y, valid)
        return total / count

    before = loss().item()
    for _ in range(15):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
    after = loss().item()
    assert after < 0.4 * before  # ≈ 2.3 → 0.55 on this seed


# --- config and errors ----------------------------------------------------------------------

ROUND_TRIP = [
    {},
    {"bidirectional": True},
    {"layers": 1, "dropout": 0.0},
    {"layers": 3, "dropout": 0.2, "embed": 5},
]


@pytest.mark.parametrize("overrides", ROUND_TRIP)
def test_registry_round_trip(overrides):
    model = make(**overrides)
    config = json.loads(json.dumps(model.config()))
    rebuilt = build_model(config)
    assert isinstance(rebuilt, EncoderDecoder)
    assert rebuilt.config() == model.config()
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert {name: p.shape for name, p in rebuilt.named_parameters()} == shapes
    assert count_parameters(rebuilt) == count_parameters(model)


def test_config_keys_and_defaults():
    model = build_seq2seq({"model": "seq2seq", "src_vocab_size": 5, "tgt_vocab_size": 6})
    assert model.config() == {
        "model": "seq2seq",
        "src_vocab_size": 5,
        "tgt_vocab_size": 6,
        "embed": 256,
        "hidden": 256,
        "layers": 2,
        "dropout": 0.1,
        "bidirectional": False,
        "attention": "none",
    }
    assert model.model_name == "seq2seq"
    assert (model.src_vocab_size, model.tgt_vocab_size) == (5, 6)


def test_language_models_still_build():
    lm = build_model({"model": "gru", "vocab_size": 5, "hidden": 4})
    assert lm.config()["model"] == "gru"
    with pytest.raises(ModelError, match="unknown model config key"):
        build_model({"model": "gru", "vocab_size": 5, "hidden": 4, "src_vocab_size": 3})


BASE = {"model": "seq2seq", "src_vocab_size": 5, "tgt_vocab_size": 6}
BAD_CONFIGS = [
    ([1, 2], "mapping"),
    ({**BASE, "vocab_size": 5}, "unknown seq2seq config key"),
    ({"model": "seq2seq", "src_vocab_size": 5}, "missing: tgt_vocab_size"),
    ({**BASE, "model": "gru"}, "not a seq2seq config"),
    ({**BASE, "src_vocab_size": 0}, "src_vocab_size"),
    ({**BASE, "tgt_vocab_size": 2.0}, "tgt_vocab_size"),
    ({**BASE, "hidden": "16"}, "hidden"),
    ({**BASE, "embed": True}, "embed"),
    ({**BASE, "layers": 0}, "layers"),
    ({**BASE, "dropout": 1.0}, "dropout"),
    ({**BASE, "dropout": -0.1}, "dropout"),
    ({**BASE, "dropout": float("nan")}, "dropout"),
    ({**BASE, "dropout": "0.1"}, "dropout"),
    ({**BASE, "layers": 1}, "needs layers > 1"),  # default dropout 0.1 with one layer
    ({**BASE, "bidirectional": "yes"}, "bidirectional"),
]


@pytest.mark.parametrize(("config", "message"), BAD_CONFIGS)
def test_build_seq2seq_errors(config, message):
    with pytest.raises(ModelError, match=message) as error:
        build_seq2seq(config)
    assert isinstance(error.value, ValueError)
    assert "\n" not in str(error.value)
    if isinstance(config, dict) and config.get("model") == "seq2seq":
        with pytest.raises(ModelError, match=message):
            build_model(config)  # the registry hands seq2seq configs over unchanged
