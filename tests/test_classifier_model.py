"""The many-to-one classifier decides from the final state of each sequence's valid length:
padding never reaches it (as in the encoder), for one and two directions and every cell."""

from __future__ import annotations

import re

import pytest
import torch

from rnn_tui.models.base import ModelError
from rnn_tui.models.registry import build_model


def classifier(kind: str, bidirectional: bool = False, embed: int = 0, layers: int = 1):
    torch.manual_seed(0)
    return build_model(
        {"model": "classifier", "kind": kind, "vocab_size": 9, "classes": 4, "hidden": 6,
         "layers": layers, "bidirectional": bidirectional, "embed": embed}
    ).eval()  # fmt: skip


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_never_reaches_the_final_state(kind, bidirectional) -> None:
    model = classifier(kind, bidirectional, embed=3, layers=2)
    name = torch.tensor([[3, 1, 4, 1]])
    alone = model(name, torch.tensor([4]))
    for pad in ([0, 0, 0], [5, 7, 8]):  # padding with any id, as long as the length says so
        padded = torch.tensor([[3, 1, 4, 1, *pad]])
        assert torch.allclose(model(padded, torch.tensor([4])), alone, atol=1e-6)
    # In a batch with a longer sequence, too.
    batch = torch.tensor([[3, 1, 4, 1, 0, 0], [2, 2, 2, 2, 2, 2]])
    logits = model(batch, torch.tensor([4, 6]))
    assert torch.allclose(logits[0], alone[0], atol=1e-6)


def test_a_unidirectional_final_state_is_the_last_steps_output() -> None:
    model = classifier("gru")
    X = torch.tensor([[1, 2, 3]])
    inputs = torch.nn.functional.one_hot(X, 9).float()
    outputs, _ = model.rnn(inputs)
    assert torch.allclose(model.final_state(X, torch.tensor([3])), outputs[:, -1], atol=1e-6)


def test_a_bidirectional_state_is_forward_last_and_backward_first() -> None:
    model = classifier("lstm", bidirectional=True)
    X = torch.tensor([[1, 2, 3]])
    outputs, _ = model.rnn(torch.nn.functional.one_hot(X, 9).float())
    H = model.hidden
    expected = torch.cat((outputs[:, -1, :H], outputs[:, 0, H:]), dim=1)
    assert torch.allclose(model.final_state(X, torch.tensor([3])), expected, atol=1e-6)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"kind": "mlp"}, "unknown classifier 'mlp'"),
        ({"classes": 1}, "classes must be an integer in [2"),
        ({"hidden": 0}, "hidden must be"),
        ({"extra": 1}, "unknown classifier config key(s): extra"),
        ({"bidirectional": "yes"}, "bidirectional must be true or false"),
    ],
)
def test_a_bad_classifier_config_is_one_line(change, fragment) -> None:
    config = {"model": "classifier", "kind": "gru", "vocab_size": 9, "classes": 4, "hidden": 6}
    with pytest.raises(ModelError, match=re.escape(fragment)):
        build_model({**config, **change})
