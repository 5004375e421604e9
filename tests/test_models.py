"""Language models: the seeds' scratch RNN/GRU/LSTM, the concise wrappers and the registry."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import rnn_tui.models
from rnn_tui.models.base import LanguageModel, detach_state
from rnn_tui.models.concise import RNNModel
from rnn_tui.models.gru_scratch import GRURecurrence
from rnn_tui.models.lstm_scratch import LSTMRecurrence
from rnn_tui.models.registry import MODEL_NAMES, ModelError, build_model, count_parameters
from rnn_tui.models.rnn_scratch import TanhRecurrence

V, HIDDEN, B, T = 11, 6, 3, 9
SCRATCH = ("rnn-scratch", "gru-scratch", "lstm-scratch")
CONCISE = ("rnn", "gru", "lstm")

# Every architecture the registry can build, one-hot and embedded, shallow and deep.
CONFIGS = [
    *({"model": name} for name in MODEL_NAMES),
    *({"model": name, "embed": 4} for name in CONCISE),
    *({"model": name, "layers": 2, "dropout": 0.3} for name in CONCISE),
    *({"model": name, "layers": 2, "bidirectional": True, "embed": 5} for name in CONCISE),
]


def _ids(config: dict) -> str:
    return "-".join(f"{v}" if k == "model" else f"{k}{v}" for k, v in config.items())


def make(config: dict, vocab_size: int = V, hidden: int = HIDDEN, seed: int = 0) -> LanguageModel:
    torch.manual_seed(seed)
    return build_model({"vocab_size": vocab_size, "hidden": hidden, **config})


def tokens(batch: int = B, steps: int = T, vocab_size: int = V, seed: int = 1) -> torch.Tensor:
    return torch.randint(
        0, vocab_size, (batch, steps), generator=torch.Generator().manual_seed(seed)
    )


def _tensors(state) -> tuple[torch.Tensor, ...]:
    return state if isinstance(state, tuple) else (state,)


def state_shapes(state) -> list[tuple[int, ...]]:
    return [tuple(s.shape) for s in _tensors(state)]


# --- shapes and the shared interface ---------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_forward_shapes(config):
    model = make(config)
    layers = config.get("layers", 1) * (2 if config.get("bidirectional") else 1)
    expected_state = [(layers, B, HIDDEN)] * (2 if "lstm" in config["model"] else 1)
    state = model.begin_state(B)
    assert state_shapes(state) == expected_state
    logits, new_state = model(tokens(), state)
    assert logits.shape == (B, T, V)
    assert logits.dtype == torch.float32
    assert state_shapes(new_state) == expected_state
    # state=None starts from begin_state.
    model.eval()
    assert torch.equal(model(tokens())[0], model(tokens(), model.begin_state(B))[0])


def test_bidirectional_output_width():
    model = make({"model": "lstm", "layers": 2, "bidirectional": True})
    assert model.linear.in_features == 2 * HIDDEN
    assert model.rnn.bidirectional
    logits, (H, C) = model(tokens())
    assert logits.shape == (B, T, V)
    assert H.shape == C.shape == (2 * 2, B, HIDDEN)


def test_dropout_acts_in_training_only():
    model = make({"model": "gru", "layers": 2, "dropout": 0.5})
    X = tokens()
    assert not torch.equal(model(X)[0], model(X)[0])
    model.eval()
    assert torch.equal(model(X)[0], model(X)[0])


def test_embedding_and_one_hot_inputs():
    embedded = make({"model": "gru", "embed": 4})
    assert embedded.embedding.weight.shape == (V, 4)
    assert embedded.rnn.input_size == 4
    one_hot = make({"model": "gru"})
    assert one_hot.embedding is None
    assert one_hot.rnn.input_size == V


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_state_carries_across_minibatches(name):
    """forward(X[:, :5]) then forward(X[:, 5:], state) equals forward(X) in one go."""
    config = {"model": name, "layers": 2, "dropout": 0.5} if name in CONCISE else {"model": name}
    model = make(config).eval()  # eval: dropout off
    X = tokens()
    whole, whole_state = model(X, model.begin_state(B))
    first, state = model(X[:, :5], model.begin_state(B))
    second, final_state = model(X[:, 5:], detach_state(state))
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)
    assert state_shapes(final_state) == state_shapes(whole_state)
    for a, b in zip(_tensors(final_state), _tensors(whole_state)):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_one_token_at_a_time_equals_the_whole_sequence(name):
    """The decoder's warm-up feeds one token per call under no_grad; nothing may change."""
    model = make({"model": name}).eval()
    X = tokens()
    with torch.no_grad():
        whole, _ = model(X, model.begin_state(B))
        state, steps = model.begin_state(B), []
        for t in range(T):
            logits, state = model(X[:, t : t + 1], state)
            steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), whole)


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"layers": 3, "dropout": 0.5},
        {"layers": 2, "embed": 4},
        {"layers": 2, "bidirectional": True},
    ],
    ids=str,
)
def test_an_lstm_step_as_cells_equals_nn_lstm(config, monkeypatch):
    """One step of a concise LSTM (a generated token) runs its layers as torch.lstm_cell calls,
    not through nn.LSTM (oneDNN's ~1 ms a call): the same logits, state and gradients."""
    model = make({"model": "lstm", **config})
    model.eval()  # dropout off, as when generating
    X = tokens()[:, :1]
    state = tuple(
        torch.randn(s.shape, generator=torch.Generator().manual_seed(2))
        for s in model.begin_state(B)
    )
    calls = []
    cells = rnn_tui.models.concise.lstm_step
    monkeypatch.setattr(
        rnn_tui.models.concise, "lstm_step", lambda *a: calls.append(a) or cells(*a)
    )
    logits, (H, C) = model(X, state)
    assert len(calls) == 1
    inputs = model.embedding(X.T) if model.embedding is not None else F.one_hot(X.T, V).float()
    Y, (H_ref, C_ref) = model.rnn(inputs, state)
    torch.testing.assert_close(logits, model.linear(Y).transpose(0, 1))
    torch.testing.assert_close(H, H_ref)
    torch.testing.assert_close(C, C_ref)
    grads = torch.autograd.grad(logits.square().sum(), list(model.rnn.parameters()))
    ref = torch.autograd.grad(model.linear(Y).square().sum(), list(model.rnn.parameters()))
    for a, b in zip(grads, ref, strict=True):
        torch.testing.assert_close(a, b)
    model.train()  # dropout between layers: nn.LSTM's own step, which applies it
    model(X, state)
    assert len(calls) == 1 + (model.rnn.dropout == 0)


@pytest.mark.parametrize("name", ["gru-scratch", "lstm-scratch"])
def test_a_decoding_session_joins_the_gate_weights_once_and_then_forgets_them(name, monkeypatch):
    """Generating, a scratch cell joins its gate weights at the first step only; the next
    session joins them again, so weights trained in between are the ones used."""
    model = make({"model": name}).eval()
    X = tokens()[:, :1]
    joins = []
    cat = torch.cat
    with torch.no_grad():
        plain, _ = model(X)
        with monkeypatch.context() as patch:
            patch.setattr(torch, "cat", lambda *a, **k: joins.append(1) or cat(*a, **k))
            with model.frozen_weights():
                first, _ = model(X)
                at_first = len(joins)
                second, _ = model(X)
        assert at_first > 0 and len(joins) == at_first
        torch.testing.assert_close(first, plain)
        torch.testing.assert_close(second, plain)
        for p in model.parameters():
            p.add_(0.1)  # an optimizer step between two samples
        trained, _ = model(X)
        with model.frozen_weights():
            sampled, _ = model(X)
        fresh = make({"model": name}).eval()
        fresh.load_state_dict(model.state_dict())
        expected, _ = fresh(X)
    assert not torch.allclose(expected, plain)
    torch.testing.assert_close(trained, expected)
    torch.testing.assert_close(sampled, expected)


def test_detach_state_keeps_values_and_cuts_the_graph():
    model = make({"model": "lstm-scratch"})
    _, state = model(tokens())
    assert all(s.requires_grad for s in state)
    detached = detach_state(state)
    assert isinstance(detached, tuple) and len(detached) == 2
    for old, new in zip(state, detached):
        assert not new.requires_grad
        assert torch.equal(old, new)
    _, h = make({"model": "rnn"})(tokens())
    assert h.requires_grad and not detach_state(h).requires_grad


# --- training --------------------------------------------------------------------------------


# With N(0, 0.01²) weights every gate starts near σ(0) = ½, a plateau the gated cells leave
# slowly at lr 1; a larger step gets them off it within the few steps a unit test can afford.
LEARNING_RATES = {"rnn-scratch": 1.0, "rnn": 1.0}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_sgd_with_clipping_lowers_the_loss(name):
    """A few steps of the seeds' training loop (SGD, clipping θ = 1) on a repeating corpus."""
    text = "the time machine " * 4
    alphabet = sorted(set(text))
    ids = torch.tensor([alphabet.index(c) for c in text])
    X = torch.stack([ids[i : i + 12] for i in range(0, 48, 12)])
    Y = torch.stack([ids[i + 1 : i + 13] for i in range(0, 48, 12)])
    model = make({"model": name}, vocab_size=len(alphabet), hidden=16)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATES.get(name, 5.0))
    losses = []
    for _ in range(40):
        logits, _ = model(X, model.begin_state(X.shape[0]))
        loss = F.cross_entropy(logits.reshape(-1, len(alphabet)), Y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    # Untrained, the output layer predicts almost uniformly: loss ≈ log V.
    assert losses[0] == pytest.approx(math.log(len(alphabet)), abs=0.05)
    assert losses[-1] < 0.6 * losses[0]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_gradients_reach_every_parameter(name):
    model = make({"model": name})
    logits, _ = model(tokens())
    logits.square().sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


# --- the seeds' equations, computed by hand --------------------------------------------------


def one_hot_steps(X: torch.Tensor, vocab_size: int, dtype=torch.float32) -> torch.Tensor:
    """The seeds' input: one_hot(X.T), one (B, V) matrix per time step."""
    return F.one_hot(X.T, vocab_size).to(dtype)


def rnn_equations(p, X, state):
    """H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h), O_t = H_t W_hq + b_q, one-hot X_t."""
    H = state[0]
    outputs = []
    for X_t in one_hot_steps(X, p.vocab_size, p.W_hq.dtype):
        H = torch.tanh(X_t @ p.W_xh + H @ p.W_hh + p.b_h)
        outputs.append(H @ p.W_hq + p.b_q)
    return torch.stack(outputs, dim=1), H.unsqueeze(0)


def gru_equations(p, X, state):
    H = state[0]
    outputs = []
    for X_t in one_hot_steps(X, p.vocab_size, p.W_hq.dtype):
        Z = torch.sigmoid(X_t @ p.W_xz + H @ p.W_hz + p.b_z)
        R = torch.sigmoid(X_t @ p.W_xr + H @ p.W_hr + p.b_r)
        H_tilde = torch.tanh(X_t @ p.W_xh + (R * H) @ p.W_hh + p.b_h)
        H = Z * H + (1 - Z) * H_tilde
        outputs.append(H @ p.W_hq + p.b_q)
    return torch.stack(outputs, dim=1), H.unsqueeze(0)


def lstm_equations(p, X, state):
    H, C = state[0][0], state[1][0]
    outputs = []
    for X_t in one_hot_steps(X, p.vocab_size, p.W_hq.dtype):
        I_t = torch.sigmoid(X_t @ p.W_xi + H @ p.W_hi + p.b_i)
        F_t = torch.sigmoid(X_t @ p.W_xf + H @ p.W_hf + p.b_f)
        O_t = torch.sigmoid(X_t @ p.W_xo + H @ p.W_ho + p.b_o)
        C_tilde = torch.tanh(X_t @ p.W_xc + H @ p.W_hc + p.b_c)
        C = F_t * C + I_t * C_tilde
        H = O_t * torch.tanh(C)
        outputs.append(H @ p.W_hq + p.b_q)
    return torch.stack(outputs, dim=1), (H.unsqueeze(0), C.unsqueeze(0))


EQUATIONS = {
    "rnn-scratch": rnn_equations,
    "gru-scratch": gru_equations,
    "lstm-scratch": lstm_equations,
}


def _random_state(model: LanguageModel):
    begin = model.begin_state(B)
    if isinstance(begin, tuple):
        return tuple(torch.randn_like(s) for s in begin)
    return torch.randn_like(begin)


@pytest.mark.parametrize("name", SCRATCH)
def test_scratch_matches_the_seeds_equations(name):
    """The gathered, fused forward equals the literal equations with explicit one-hot X_t W_x*."""
    model = _with_random_biases(make({"model": name}))
    X, start = tokens(), _random_state(model)
    logits, state = model(X, start)
    expected_logits, expected_state = EQUATIONS[name](model, X, start)
    torch.testing.assert_close(logits, expected_logits)
    for ours, expected in zip(_tensors(state), _tensors(expected_state)):
        torch.testing.assert_close(ours, expected)


def test_rnn_scratch_matches_the_equation_on_a_worked_example():
    """V = 2, hidden = 1, hand-set weights: every number can be checked with a calculator."""
    model = build_model({"model": "rnn-scratch", "vocab_size": 2, "hidden": 1})
    with torch.no_grad():
        model.W_xh.copy_(torch.tensor([[0.5], [-1.0]]))
        model.W_hh.fill_(2.0)
        model.b_h.fill_(0.1)
        model.W_hq.copy_(torch.tensor([[1.0, -1.0]]))
        model.b_q.copy_(torch.tensor([0.0, 0.5]))
    logits, H = model(torch.tensor([[0, 1]]), torch.zeros(1, 1, 1))
    h1 = torch.tanh(torch.tensor(0.5 + 0.1))  # x = 0: row 0 of W_xh, H_0 = 0
    h2 = torch.tanh(-1.0 + 2.0 * h1 + 0.1)  # x = 1: row 1 of W_xh
    expected = torch.tensor([[[h1, -h1 + 0.5], [h2, -h2 + 0.5]]])
    torch.testing.assert_close(logits, expected)
    torch.testing.assert_close(H, h2.reshape(1, 1, 1))


@pytest.mark.parametrize("name", SCRATCH)
def test_scratch_gradients_match_autograd_through_the_seeds_equations(name):
    """The fused forward (and rnn-scratch's written-out BPTT) give the gradients autograd gets
    from the literal equations, for every named parameter and for the initial state."""
    model = _with_random_biases(make({"model": name})).double()
    X, Y, begin = tokens(), tokens(seed=2), _random_state(model)
    grads = []
    for forward in (model, lambda X, state: EQUATIONS[name](model, X, state)):
        start = tuple(s.clone().requires_grad_(True) for s in _tensors(begin))
        logits, _ = forward(X, start if isinstance(begin, tuple) else start[0])
        loss = F.cross_entropy(logits.reshape(-1, V), Y.reshape(-1))
        model.zero_grad()
        loss.backward()
        grads.append([p.grad.clone() for p in model.parameters()] + [s.grad for s in start])
    for ours, reference in zip(*grads):
        torch.testing.assert_close(ours, reference)


def test_tanh_recurrence_gradcheck():
    """rnn-scratch's written-out BPTT against finite differences (float64)."""
    generator = torch.Generator().manual_seed(3)
    X = torch.randint(0, 5, (4, 2), generator=generator)  # token ids, time-major
    H0, W_hh, W_xh, b_h = (
        torch.randn(*shape, dtype=torch.float64, generator=generator, requires_grad=True)
        for shape in ((2, 3), (3, 3), (5, 3), (3,))
    )
    assert torch.autograd.gradcheck(
        lambda *params: TanhRecurrence.apply(X, *params, True), (H0, W_hh, W_xh, b_h)
    )


def _float64(*shapes: tuple[int, ...]) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    return [
        torch.randn(*shape, dtype=torch.float64, generator=generator, requires_grad=True)
        for shape in shapes
    ]


# Token ids (T = 4, B = 2) over 5 tokens, time-major, with a repeated token so that the input
# tables' gradients sum over several steps.
_IDS = torch.tensor([[0, 3], [3, 1], [4, 3], [2, 0]])


def test_gru_recurrence_gradcheck():
    """gru-scratch's written-out BPTT against finite differences (float64): the input tables
    [W_xz | W_xr] + b (V, 2h) and W_xh + b_h (V, h), H_0, [W_hz | W_hr], W_hh."""
    inputs = _float64((5, 6), (5, 3), (2, 3), (3, 6), (3, 3))
    assert torch.autograd.gradcheck(lambda *x: GRURecurrence.apply(_IDS, *x, False, True), inputs)


def test_lstm_recurrence_gradcheck():
    """lstm-scratch's written-out BPTT against finite differences (float64), a gradient on C_T
    included: the input table W_x + b (V, 4h), H_0, C_0, W_h."""
    inputs = _float64((5, 12), (2, 3), (2, 3), (3, 12))
    assert torch.autograd.gradcheck(lambda *x: LSTMRecurrence.apply(_IDS, *x, False, True), inputs)


def _with_random_biases(model: LanguageModel) -> LanguageModel:
    """Weights scaled up and biases nonzero, so the gates are far from ½ and every term counts."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.normal_(std=0.5 if name.startswith("W") else 0.3)
    return model


# --- parameters ------------------------------------------------------------------------------

SEED_PARAMETERS = {
    "rnn-scratch": ["W_xh", "W_hh", "b_h", "W_hq", "b_q"],
    "gru-scratch": [
        *("W_xz W_hz b_z W_xr W_hr b_r W_xh W_hh b_h".split()),
        *("W_hq", "b_q"),
    ],
    "lstm-scratch": [
        *("W_xi W_hi b_i W_xf W_hf b_f W_xo W_ho b_o W_xc W_hc b_c".split()),
        *("W_hq", "b_q"),
    ],
}


@pytest.mark.parametrize("name", SCRATCH)
def test_scratch_parameters_are_named_as_the_seeds(name):
    model = make({"model": name})
    assert [n for n, _ in model.named_parameters()] == SEED_PARAMETERS[name]
    for n, p in model.named_parameters():
        rows = V if n.startswith("W_x") else HIDDEN
        cols = V if n in ("W_hq", "b_q") else HIDDEN
        assert tuple(p.shape) == ((cols,) if n.startswith("b") else (rows, cols)), n


@pytest.mark.parametrize("name", SCRATCH)
def test_scratch_initialisation(name):
    """Weights from N(0, 0.01²), biases zero (the seeds' get_params)."""
    model = make({"model": name}, vocab_size=60, hidden=80)
    weights = torch.cat([p.flatten() for n, p in model.named_parameters() if n.startswith("W")])
    assert weights.std().item() == pytest.approx(0.01, rel=0.03)
    assert abs(weights.mean().item()) < 1e-3
    for n, p in model.named_parameters():
        if n.startswith("b"):
            assert torch.count_nonzero(p) == 0, n
        else:
            assert p.std().item() == pytest.approx(0.01, rel=0.15), n


@pytest.mark.parametrize(("name", "extra_biases"), [("rnn", 1), ("gru", 3), ("lstm", 4)])
def test_scratch_and_concise_parameter_counts(name, extra_biases):
    """nn.RNN/GRU/LSTM keep two bias vectors per gate, b_ih and b_hh, where the seeds have one
    (b_h; b_z b_r b_h; b_i b_f b_o b_c): the weights match one for one, so with one-hot inputs the
    concise model has exactly hidden × (number of gates) more parameters: 1, 3 and 4 of them."""
    scratch = make({"model": f"{name}-scratch"})
    concise = make({"model": name})
    assert count_parameters(concise) == count_parameters(scratch) + extra_biases * HIDDEN
    gate_weights = (V + HIDDEN + 1) * HIDDEN * extra_biases
    assert count_parameters(scratch) == gate_weights + HIDDEN * V + V


def test_count_parameters_counts_every_element():
    model = make({"model": "rnn-scratch"})
    assert count_parameters(model) == V * HIDDEN + HIDDEN * HIDDEN + HIDDEN + HIDDEN * V + V
    embedded = make({"model": "rnn", "embed": 4})
    assert count_parameters(embedded) == V * 4 + (4 + HIDDEN + 2) * HIDDEN + HIDDEN * V + V


# --- config and registry ---------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_config_round_trip(config):
    model = make(config)
    saved = json.loads(json.dumps(model.config()))
    assert saved == {"vocab_size": V, "hidden": HIDDEN, **_defaults(), **config}
    rebuilt = build_model(saved)
    assert type(rebuilt) is type(model)
    assert rebuilt.config() == saved
    assert [(n, p.shape) for n, p in rebuilt.named_parameters()] == [
        (n, p.shape) for n, p in model.named_parameters()
    ]
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    assert torch.equal(rebuilt(tokens())[0], model(tokens())[0])


def _defaults() -> dict:
    return {"layers": 1, "dropout": 0.0, "bidirectional": False, "embed": 0}


def test_model_names():
    assert MODEL_NAMES == ("rnn-scratch", "gru-scratch", "lstm-scratch", "rnn", "gru", "lstm")
    for name in MODEL_NAMES:
        assert make({"model": name}).model_name == name


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"model": "transformer"}, "unknown model 'transformer' (choose from rnn-scratch, "),
        (
            {"model": "rnn-scratch", "layers": 2},
            "rnn-scratch has one layer (got layers=2); use 'rnn'",
        ),
        ({"model": "gru-scratch", "bidirectional": True}, "gru-scratch runs in one direction"),
        ({"model": "lstm-scratch", "embed": 8}, "lstm-scratch takes one-hot inputs (got embed=8)"),
        ({"model": "rnn-scratch", "dropout": 0.1}, "rnn-scratch has no dropout (got dropout=0.1)"),
        ({"model": "lstm", "dropout": 0.2}, "dropout acts between layers"),
        ({"model": "lstm", "hidden": 0}, "hidden must be an integer ≥ 1 (got 0)"),
        ({"model": "gru-scratch", "vocab_size": 0}, "vocab_size must be an integer ≥ 1 (got 0)"),
        ({"model": "rnn", "hidden": 2.5}, "hidden must be an integer ≥ 1 (got 2.5)"),
        ({"model": "rnn", "vocab_size": True}, "vocab_size must be an integer ≥ 1 (got True)"),
        ({"model": "rnn", "layers": 0}, "layers must be an integer ≥ 1 (got 0)"),
        ({"model": "rnn", "embed": -1}, "embed must be an integer ≥ 0 (got -1)"),
        ({"model": "rnn", "layers": 2, "dropout": 1.0}, "dropout must be a number in [0, 1)"),
        ({"model": "rnn", "layers": 2, "dropout": "0.1"}, "dropout must be a number in [0, 1)"),
        ({"model": "rnn", "bidirectional": "yes"}, "bidirectional must be true or false"),
        ({"model": "rnn", "hiden": 3}, "unknown model config key(s): hiden"),
    ],
)
def test_invalid_configs_raise_one_line_model_errors(config, message):
    with pytest.raises(ModelError) as info:
        build_model({"vocab_size": V, "hidden": HIDDEN, **config})
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_model_lists_every_valid_name():
    with pytest.raises(ModelError, match="unknown model") as info:
        build_model({"model": "RNN", "vocab_size": V, "hidden": HIDDEN})
    assert all(name in str(info.value) for name in MODEL_NAMES)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"vocab_size": V, "hidden": HIDDEN}, "model config is missing: model"),
        ({"model": "rnn"}, "model config is missing: vocab_size, hidden"),
        (["rnn"], "model config must be a mapping, not list"),
    ],
)
def test_incomplete_configs(config, message):
    with pytest.raises(ModelError, match=message):
        build_model(config)


def test_language_model_is_an_interface():
    with pytest.raises(TypeError):
        LanguageModel()
    assert issubclass(RNNModel, LanguageModel)


# --- devices and dtypes ----------------------------------------------------------------------


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_everything_runs_on_the_cpu(name, device):
    model = make({"model": name}).to(device)
    state = model.begin_state(B, device=device)
    assert all(s.device.type == "cpu" for s in _tensors(state))
    logits, state = model(tokens().to(device), state)
    assert logits.device.type == "cpu"
    assert all(s.device.type == "cpu" for s in _tensors(state))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_state_follows_the_model_dtype(name):
    model = make({"model": name}).double()
    assert all(s.dtype == torch.float64 for s in _tensors(model.begin_state(B)))
    logits, _ = model(tokens())
    assert logits.dtype == torch.float64


def test_models_never_hard_code_a_device():
    package = Path(rnn_tui.models.__file__).parent
    for path in package.glob("*.py"):
        assert "cuda" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_runs_on_cuda_and_matches_the_cpu(name):
    model = make({"model": name}).eval()
    expected, _ = model(tokens())
    model.to("cuda")
    logits, state = model(tokens().to("cuda"), model.begin_state(B, device="cuda"))
    assert all(s.device.type == "cuda" for s in _tensors(state))
    torch.testing.assert_close(logits.cpu(), expected, rtol=1e-3, atol=1e-4)
