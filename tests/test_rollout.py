"""Rolling the forecasters forward (models/rollout.py) and their state passes: the buffered cells
are torch's cells, a path that comes back to an earlier state repeats itself exactly, starts
rolled in chunks are the same paths, and the states read in segments (in the C chains or in
torch's kernels) are the model's own."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.models import forecast, fused_steps, rollout
from rnn_tui.models.registry import build_model

HAS_CC = fused_steps._compiler() is not None
TORCH_CELLS = {"rnn": torch.rnn_tanh_cell, "gru": torch.gru_cell, "lstm": torch.lstm_cell}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def forecaster(kind: str, hidden: int = 6, layers: int = 1, seed: int = 0):
    torch.manual_seed(seed)
    config = {"model": "forecast", "kind": kind, "tau": 4, "hidden": hidden}
    if kind != "mlp":
        config["layers"] = layers
    return build_model(config).eval()


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(["rnn", "gru", "lstm"]),
    layers=st.integers(1, 3),
    hidden=st.integers(1, 12),
    paths=st.integers(1, 6),
    seed=st.integers(0, 99),
)
def test_the_buffered_cells_are_torchs_cells(kind, layers, hidden, paths, seed):
    model = forecaster(kind, hidden, layers, seed)
    rnn, cell = model.rnn, TORCH_CELLS[kind]
    hs = [torch.randn(hidden, paths) for _ in range(layers)]
    cs = [torch.randn(hidden, paths) for _ in range(layers)] if kind == "lstm" else None
    # torch's cells read (B, H) states: the same states transposed.
    th = [h.T.clone() for h in hs]
    tc = [c.T.clone() for c in cs] if cs else None
    steps = rollout.CellSteps(rnn, kind, hs, cs)
    with torch.no_grad():
        for _ in range(5):
            x = torch.randn(1, paths)
            top = steps.step(x)
            below = x.T
            for layer in range(layers):
                w = [getattr(rnn, f"{n}_l{layer}") for n in forecast._WEIGHTS]
                if tc is None:
                    th[layer] = cell(below, th[layer], *w)
                else:
                    th[layer], tc[layer] = cell(below, (th[layer], tc[layer]), *w)
                below = th[layer]
            assert torch.allclose(top.T, below, atol=1e-5)
            for mine, theirs in zip(steps.state(), [*th, *(tc or ())], strict=True):
                assert torch.allclose(mine.T, theirs, atol=1e-5)


@given(
    length=st.integers(1, 60),
    earlier=st.integers(0, 20),
    period=st.integers(1, 20),
)
def test_repeat_from_copies_the_period_to_the_end(length, earlier, period):
    step = earlier + period
    path = torch.arange(float(max(length, step)))
    expected = path.tolist()
    for i in range(step, len(expected)):
        expected[i] = expected[i - period]
    rollout.repeat_from(path, step, earlier)
    assert path.tolist() == expected


def every_step(monkeypatch) -> None:
    monkeypatch.setattr(rollout.Repeats, "seen", lambda *_: None)


def mlp_negating() -> torch.nn.Module:
    """An MLP whose prediction is minus the last value it read: a path of period 2."""
    model = forecaster("mlp", hidden=2)
    with torch.no_grad():
        first, _, second = model.net
        first.weight.zero_()
        first.weight[0, 3], first.weight[1, 3] = 1.0, -1.0
        first.bias.zero_()
        second.weight.copy_(torch.tensor([[-1.0, 1.0]]))
        second.bias.zero_()
    return model


@pytest.mark.parametrize(
    "make",
    [
        mlp_negating,
        lambda: forecaster("mlp", seed=3),
        lambda: forecaster("rnn", seed=1),
        lambda: forecaster("gru", layers=2, seed=2),
        lambda: forecaster("lstm", seed=4),
    ],
    ids=["mlp period 2", "mlp", "rnn", "gru 2 layers", "lstm"],
)
def test_a_path_that_comes_back_to_a_state_repeats_it_exactly(make, monkeypatch):
    model, z = make(), torch.randn(30)
    start = torch.tensor([29])
    shortcuts = []
    repeat_from = rollout.repeat_from

    def spy(path, step, earlier):
        shortcuts.append((step, earlier))
        repeat_from(path, step, earlier)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(forecast, "repeat_from", spy)  # the MLP's
        patch.setattr(rollout, "repeat_from", spy)  # the latent models'
        short = model.paths(z, start, 5_000)
    assert len(shortcuts) == 1 and shortcuts[0][0] < 2_000  # it did stop early
    every_step(monkeypatch)
    assert torch.equal(short, model.paths(z, start, 5_000))


def test_a_path_that_never_comes_back_is_stepped_to_its_end(monkeypatch):
    model = mlp_negating()
    with torch.no_grad():  # now +1 each step: no state comes back
        model.net[2].weight.copy_(torch.tensor([[1.0, -1.0]]))
        model.net[0].weight[1, 3] = 0.0
        model.net[2].bias.fill_(1.0)
    path = model.paths(torch.zeros(10), torch.tensor([9]), 300)[0]
    assert torch.equal(path, torch.arange(1.0, 301.0))


@pytest.mark.parametrize("kind", ["mlp", "rnn", "gru", "lstm"])
def test_starts_rolled_in_chunks_are_the_same_paths(kind, monkeypatch):
    model, z = forecaster(kind, layers=2 if kind == "gru" else 1), torch.randn(40)
    starts = torch.arange(3, 38)
    whole = model.paths(z, starts, 6)
    monkeypatch.setattr(rollout, "CHUNK", 4)
    chunked = model.paths(z, starts, 6)
    assert chunked.shape == (35, 6)
    assert torch.allclose(chunked, whole, atol=1e-6)


@pytest.mark.parametrize("native", ["on", "off"])
@pytest.mark.parametrize(("kind", "layers"), [("rnn", 1), ("gru", 2), ("lstm", 1), ("lstm", 2)])
def test_states_read_in_segments_are_the_models_own(kind, layers, native, monkeypatch):
    if native == "on" and not HAS_CC:
        pytest.skip("no C compiler here")
    monkeypatch.setenv(fused_steps.NATIVE_ENV, native)
    monkeypatch.setattr(forecast, "SEGMENT", 7)  # 50 points: 7 segments and one of 1 step
    chained = []
    chained_states = forecast.concise_chain.chained_states

    def spy(*args):
        out = chained_states(*args)
        chained.append(out is not None)
        return out

    monkeypatch.setattr(forecast.concise_chain, "chained_states", spy)
    model, z = forecaster(kind, hidden=5, layers=layers), torch.randn(50)
    with torch.no_grad():
        states, first = model.states(z, 0, 49)
        for s in (0, 6, 7, 30, 49):
            _, state = model.rnn(z[: s + 1].view(1, -1, 1))
            pairs = zip(states, state) if kind == "lstm" else [(states, state)]
            for found, own in pairs:
                assert torch.allclose(found[:, s], own[:, 0], atol=1e-5)
    # The chains ran every segment of 4 steps or more, torch's kernels the last one (1 step).
    assert chained == ([native == "on"] * 7 + [False]) * layers


@pytest.mark.parametrize(("kind", "layers"), [("rnn", 1), ("gru", 2), ("lstm", 1), ("lstm", 2)])
def test_one_path_rolled_in_numpy_is_the_buffered_cells_path(kind, layers, monkeypatch):
    every_step(monkeypatch)
    model, z = forecaster(kind, hidden=7, layers=layers, seed=5), torch.randn(30)
    one = model.paths(z, torch.tensor([29]), 40)  # NumPy
    two = model.paths(z, torch.tensor([29, 29]), 40)  # CellSteps, two columns
    assert torch.allclose(one[0], two[0], atol=1e-5) and torch.equal(two[0], two[1])


def test_a_numpy_roll_offers_the_gil_as_it_goes(monkeypatch):
    # Its tiny NumPy operations keep the GIL: the UI's event loop waited for it at each wake-up.
    every_step(monkeypatch)
    offered = []
    monkeypatch.setattr(rollout.time, "sleep", offered.append)
    forecaster("gru").paths(torch.randn(20), torch.tensor([19]), 1_000)
    assert len(offered) == 999 // rollout.YIELD_EVERY and set(offered) == {0}
