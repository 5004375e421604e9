"""Many-to-one: a recurrent network that reads a whole sequence and decides from its final state
(d2l's RNN shapes; the PyTorch names tutorial's `hidden[-1]` pattern).

    h_T = RNN(x_1, …, x_T),   y = softmax(W h_T + b)

A bidirectional model decides from concat(→h_T, ←h_1): the forward direction's state after the
last character and the backward direction's after the first. Sequences in a minibatch are padded
to the longest; they are packed by their valid lengths before the RNN, so the final state is the
one after each sequence's own last character and padding never reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from rnn_tui.models.base import ModelError
from rnn_tui.models.concise import RNN_LAYERS
from rnn_tui.models.names import CLASSIFIER_KINDS, MAX_CLASSES, SIZE_LIMITS
from rnn_tui.quoting import quoted


class SequenceClassifier(nn.Module):
    """(embedding or one-hot) → recurrent layers → Linear on the final state (both directions'
    when bidirectional)."""

    def __init__(
        self,
        kind: str,
        vocab_size: int,
        classes: int,
        hidden: int,
        layers: int = 1,
        bidirectional: bool = False,
        embed: int = 0,
    ) -> None:
        super().__init__()
        self.kind, self.vocab_size, self.classes = kind, vocab_size, classes
        self.hidden, self.layers, self.bidirectional, self.embed = (
            hidden,
            layers,
            bidirectional,
            embed,
        )
        self.embedding = nn.Embedding(vocab_size, embed) if embed > 0 else None
        self.rnn = RNN_LAYERS[kind](
            embed if embed > 0 else vocab_size,
            hidden,
            num_layers=layers,
            bidirectional=bidirectional,
            batch_first=True,
        )
        self.linear = nn.Linear(hidden * (2 if bidirectional else 1), classes)

    def final_state(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, hidden · directions): the top layer's state after each sequence's last valid
        step (the backward direction's after the first), for ids X (B, T) and lengths (B,)."""
        if self.embedding is not None:
            inputs = self.embedding(X)
        else:
            inputs = F.one_hot(X, self.vocab_size).to(self.linear.weight.dtype)
        packed = pack_padded_sequence(
            inputs, lengths.to("cpu"), batch_first=True, enforce_sorted=False
        )
        _, state = self.rnn(packed)
        h_n = state[0] if self.kind == "lstm" else state  # (layers · directions, B, H)
        if self.bidirectional:
            return torch.cat((h_n[-2], h_n[-1]), dim=1)
        return h_n[-1]

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Class logits (B, classes)."""
        return self.linear(self.final_state(X, lengths))

    def config(self) -> dict:
        return {
            "model": "classifier",
            "kind": self.kind,
            "vocab_size": self.vocab_size,
            "classes": self.classes,
            "hidden": self.hidden,
            "layers": self.layers,
            "bidirectional": self.bidirectional,
            "embed": self.embed,
        }


def pad_batch(sequences: list[list[int]], pad: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (N, longest) padded with `pad`, lengths (N,)): an empty sequence is one `pad`, so
    every sequence has a final state."""
    lengths = [max(1, len(ids)) for ids in sequences]
    X = torch.full((len(sequences), max(lengths, default=1)), pad, dtype=torch.long)
    for i, ids in enumerate(sequences):
        if ids:
            X[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return X, torch.tensor(lengths)


def config_int(config: Mapping, key: str, lowest: int, highest: int) -> int:
    """config[key] as an integer in [lowest, highest]; ModelError (one line) otherwise."""
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
        raise ModelError(
            f"{key} must be an integer in [{lowest}, {highest:,}] (got {quoted(value)})"
        )
    return value


def build_classifier(config: Mapping) -> SequenceClassifier:
    """A fresh classifier for `config` (SequenceClassifier.config()'s keys); ModelError (one
    line) for anything missing, unknown or out of range."""
    allowed = {
        "model",
        "kind",
        "vocab_size",
        "classes",
        "hidden",
        "layers",
        "bidirectional",
        "embed",
    }
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ModelError(f"unknown classifier config key(s): {', '.join(map(str, unknown))}")
    kind = config.get("kind")
    if kind not in CLASSIFIER_KINDS:
        raise ModelError(f"unknown classifier {kind!r} (choose from {', '.join(CLASSIFIER_KINDS)})")
    bidirectional = config.get("bidirectional", False)
    if not isinstance(bidirectional, bool):
        raise ModelError(f"bidirectional must be true or false (got {quoted(bidirectional)})")
    return SequenceClassifier(
        kind,
        config_int(config, "vocab_size", 1, SIZE_LIMITS["vocab_size"]),
        config_int(config, "classes", 2, MAX_CLASSES),
        config_int(config, "hidden", 1, SIZE_LIMITS["hidden"]),
        config_int({"layers": config.get("layers", 1)}, "layers", 1, SIZE_LIMITS["layers"]),
        bidirectional,
        config_int({"embed": config.get("embed", 0)}, "embed", 0, SIZE_LIMITS["embed"]),
    )


__all__ = ["SequenceClassifier", "build_classifier", "config_int", "pad_batch"]
