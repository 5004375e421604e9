"""build_skeleton: a model's names and shapes on the meta device, with no initial values drawn
(rnn_tui.models.registry), as checkpoints and memory estimates use it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from rnn_tui.models.memory import parameter_count
from rnn_tui.models.registry import build_model, build_skeleton, count_parameters

CONFIGS = [
    {"model": "rnn-scratch", "vocab_size": 28, "hidden": 16},
    {"model": "gru-scratch", "vocab_size": 28, "hidden": 16},
    {"model": "lstm-scratch", "vocab_size": 28, "hidden": 16},
    {"model": "lstm", "vocab_size": 28, "hidden": 16, "embed": 8, "layers": 2},
    {"model": "gru", "vocab_size": 28, "hidden": 16, "bidirectional": True},
    {"model": "seq2seq", "src_vocab_size": 11, "tgt_vocab_size": 13, "attention": "additive"},
    {"model": "classifier", "kind": "lstm", "vocab_size": 9, "classes": 4, "hidden": 6,
     "layers": 2, "bidirectional": True, "embed": 3},
    {"model": "forecast", "kind": "lstm", "tau": 4, "hidden": 8, "layers": 2},
    {"model": "forecast", "kind": "mlp", "tau": 4, "hidden": 8},
    {"model": "tagger", "kind": "gru", "vocab_size": 30, "tags": 41, "hidden": 8},
]  # fmt: skip


def shapes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['model']}-{c.get('kind', '')}")
def test_the_skeleton_has_the_models_names_and_shapes_and_no_storage(config):
    rng = torch.get_rng_state()
    skeleton = build_skeleton(config)
    assert torch.equal(torch.get_rng_state(), rng)  # nothing was drawn
    assert all(t.device.type == "meta" for t in skeleton.state_dict().values())
    model = build_model(config)
    assert shapes(skeleton) == shapes(model)
    assert parameter_count(config) == count_parameters(model)


def test_building_skeletons_does_not_load_torchs_compiler():
    # torch's meta fallbacks for randn, `tensor * 0.01` and nn.init import torch._dynamo and
    # sympy (1.1–1.6 s) the first time: a checkpoint's first load paid it for nothing.
    code = (
        "import sys, json; from rnn_tui.models.registry import build_skeleton\n"
        f"for c in json.loads({repr(__import__('json').dumps(CONFIGS))!s}): build_skeleton(c)\n"
        "print(sorted(m for m in ('torch._dynamo', 'sympy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
