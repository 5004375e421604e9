"""The engine's optimizers (rnn_tui/train/optimizers.py): the seeds' SGD and Adam, the very
updates and state_dicts of torch.optim.SGD without momentum and torch.optim.Adam, so checkpoints
pass between them; and training runs that never import torch._dynamo (what torch.optim costs at
every start)."""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.checkpoint import load_checkpoint, save_checkpoint
from rnn_tui.train.optimizers import SGD, Adam


def _model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    model[0].bias.requires_grad_(False)  # a parameter without a gradient is left alone
    return model


def _train(model: nn.Module, optimizer, steps: int, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = torch.randn(8, 5, generator=g), torch.randn(8, 3, generator=g)
        optimizer.zero_grad(set_to_none=True)
        ((model(x) - y) ** 2).mean().backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


# torch's foreach paths, as the engine built them (on a CPU torch's default is a loop per tensor).
PAIRS = {
    "sgd": (SGD, functools.partial(torch.optim.SGD, foreach=True)),
    "adam": (Adam, functools.partial(torch.optim.Adam, foreach=True)),
}


@pytest.mark.parametrize("kind", list(PAIRS))
@settings(max_examples=20, deadline=None)
@given(lr=st.floats(1e-4, 10.0), seed=st.integers(0, 2**16), steps=st.integers(1, 4))
def test_the_update_is_torchs_bit_for_bit(kind, lr, seed, steps):
    ours_kind, their_kind = PAIRS[kind]
    ours = _train(
        model := _model(seed), ours_optimizer := ours_kind(model.parameters(), lr), steps, seed
    )
    theirs = _train(
        m := _model(seed), their_optimizer := their_kind(m.parameters(), lr=lr), steps, seed
    )
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
    frozen = _model(seed)[0].bias
    assert torch.equal(model[0].bias, frozen)
    _same_state(ours_optimizer.state_dict(), their_optimizer.state_dict())


def _same_state(a: dict, b: dict) -> None:
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for idx, entries in a["state"].items():
        assert entries.keys() == b["state"][idx].keys()
        for key, value in entries.items():
            other = b["state"][idx][key]
            assert value.dtype == other.dtype and torch.equal(value, other), (idx, key)


def test_adam_is_the_formula():
    """t = 2 steps of d2l §11.10's Adam on one number, in float64 by hand."""
    p = nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    optimizer = Adam([p], lr=0.1)
    v = s = 0.0
    theta = 1.0
    for t, g in ((1, 0.5), (2, -2.0)):
        p.grad = torch.tensor([g], dtype=torch.float64)
        optimizer.step()
        v, s = 0.9 * v + 0.1 * g, 0.999 * s + 0.001 * g * g
        theta -= 0.1 * (v / (1 - 0.9**t)) / ((s / (1 - 0.999**t)) ** 0.5 + 1e-8)
    assert p.item() == pytest.approx(theta, rel=1e-12)


def test_the_update_is_the_seeds_formula():
    p = nn.Parameter(torch.tensor([1.0, -2.0]))
    p.grad = torch.tensor([0.5, 4.0])
    SGD([p], lr=0.1).step()
    assert torch.allclose(p.detach(), torch.tensor([1.0 - 0.05, -2.0 - 0.4]))


def test_zero_grad_clears_or_zeroes():
    p = nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    optimizer = SGD([p], lr=1.0)
    optimizer.zero_grad(set_to_none=False)
    assert torch.equal(p.grad, torch.zeros(3))
    optimizer.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("direction", ["torch to ours", "ours to torch"])
@pytest.mark.parametrize("kind", list(PAIRS))
def test_checkpoints_pass_between_torch_and_these(tmp_path, kind, direction):
    ours, theirs = PAIRS[kind]
    make_saver, make_loader = (theirs, ours) if direction == "torch to ours" else (ours, theirs)
    model = _model(1)
    saver = make_saver(model.parameters(), lr=0.5)
    _train(model, saver, 2, 3)
    save_checkpoint(tmp_path, "last", model, saver, {"epoch": 1})
    fresh = _model(2)
    loader = make_loader(fresh.parameters(), lr=9.0)
    ckpt = load_checkpoint(tmp_path)
    ckpt.load_weights(fresh)
    ckpt.restore_optimizer(loader)
    assert loader.param_groups[0]["lr"] == 0.5
    _same_state(loader.state_dict(), saver.state_dict())
    resumed = _train(fresh, loader, 2, 4)
    expected = _train(model, saver, 2, 4)
    assert all(torch.equal(a, b) for a, b in zip(resumed, expected, strict=True))


@pytest.mark.parametrize(
    ("saver", "loader", "message"),
    [
        (lambda ps: torch.optim.SGD(ps, lr=0.5, momentum=0.9), SGD, "momentum"),
        (lambda ps: torch.optim.Adam(ps, lr=0.5, betas=(0.8, 0.9)), Adam, "betas"),
        (lambda ps: torch.optim.Adam(ps, lr=0.5, amsgrad=True), Adam, "amsgrad"),
        (lambda ps: torch.optim.Adam(ps, lr=0.5, weight_decay=0.1), Adam, "weight_decay"),
    ],
)
def test_a_checkpoint_with_another_update_is_refused(tmp_path, saver, loader, message):
    model = _model(1)
    optimizer = saver(model.parameters())
    _train(model, optimizer, 2, 3)
    save_checkpoint(tmp_path, "last", model, optimizer, {"epoch": 1})
    ckpt = load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match=message):
        ckpt.restore_optimizer(loader(_model(2).parameters(), lr=0.5))


def test_bad_settings_are_refused():
    params = list(_model(0).parameters())
    with pytest.raises(ValueError, match="learning rate"):
        SGD(params, lr=float("nan"))
    optimizer = SGD(params, lr=0.1)
    good = optimizer.state_dict()
    for change, message in (
        ({"weight_decay": 0.01}, "weight_decay"),
        ({"nesterov": True}, "nesterov"),
        ({"lr": "fast"}, "learning rate"),
        ({"lr": -1.0}, "learning rate"),
        ({"params": [0]}, "groups do not match"),
    ):
        groups = [{**good["param_groups"][0], **change}]
        with pytest.raises(ValueError, match=message):
            optimizer.load_state_dict({"state": {}, "param_groups": groups})
    with pytest.raises(ValueError, match="no state"):
        optimizer.load_state_dict({**good, "state": {0: {"momentum_buffer": torch.ones(7, 5)}}})
    with pytest.raises(ValueError, match="groups do not match"):
        optimizer.load_state_dict({"state": {}, "param_groups": good["param_groups"] * 2})
    assert optimizer.param_groups[0]["lr"] == 0.1
    optimizer.load_state_dict({**good, "state": {0: {"momentum_buffer": None}}})


@pytest.mark.parametrize("task", ["lm", "forecast"])
def test_training_never_imports_dynamo(tmp_path, task):
    """torch.optim imports torch._dynamo at its first call: 1.2 s of each start on 2 cores.
    lm trains with SGD, forecast with Adam."""
    options = ["--max-tokens", "3000"] if task == "lm" else ["--length", "200"]
    argv = ["train", "--task", task, *options, "--hidden", "16", "--epochs", "1"]
    code = (
        "import sys\n"
        "from rnn_tui.cli import main\n"
        f"code = main({argv + ['--run-dir', str(tmp_path / 'run')]!r})\n"
        "print(code, 'torch._dynamo' in sys.modules, 'torch' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.splitlines()[-1] == "0 False True", proc.stdout[-2000:] + proc.stderr
