"""The front the many-to-one classifier and the many-to-many tagger share: token ids, embedded
or one-hot (as d2l's RNNs read them), through recurrent layers (nn.RNN, nn.GRU or nn.LSTM, one
or two directions), and a linear layer over the hidden units (d2l §8.4's shapes):

    H = RNN(x_1, …, x_T),   logits = W h + b

A subclass names the linear layer's width (`OUTPUTS`: "classes", "tags") and decides which h
the layer reads: the final state (classifier.py) or every step's output (tagger.py). Both run
their layers as the language models' C chains (concise_chain.py) where the first training pass
measures them faster than torch's kernels: the same recurrence, to float32 rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from rnn_tui.models import concise_chain, recurrent_chain
from rnn_tui.models.base import ModelError
from rnn_tui.models.concise import RNN_LAYERS
from rnn_tui.models.names import CLASSIFIER_KINDS, MAX_CLASSES, SIZE_LIMITS
from rnn_tui.quoting import quoted


class RecurrentReader(nn.Module):
    """(embedding or one-hot) → recurrent layers → Linear(hidden · directions, outputs)."""

    MODEL: ClassVar[str]  # a model_config's "model"
    OUTPUTS: ClassVar[str]  # the config key of the linear layer's width

    def __init__(
        self,
        kind: str,
        vocab_size: int,
        outputs: int,
        hidden: int,
        layers: int = 1,
        bidirectional: bool = False,
        embed: int = 0,
    ) -> None:
        super().__init__()
        self.kind, self.vocab_size, self.outputs = kind, vocab_size, outputs
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
        self.linear = nn.Linear(hidden * (2 if bidirectional else 1), outputs)
        self.directions = 2 if bidirectional else 1
        self._chain_names = concise_chain.parameter_names(layers, embed, self.directions)

    # The measured choice of running the layers as C chains, and a resumed run's earlier
    # choice (recurrent_chain.choose; the engine saves it, train/prepare.py sets it).
    chain_verdict = None
    chain_preset: bool | None = None

    def inputs(self, X: torch.Tensor, E: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, embed or vocab_size): the ids X (B, T) embedded (by E where given), or
        one-hot."""
        if self.embedding is not None:
            return F.embedding(X, self.embedding.weight if E is None else E)
        return F.one_hot(X, self.vocab_size).to(self.linear.weight.dtype)

    # -- the layers as C chains (concise_chain.py), where measured faster -----------------

    def chained_args(self, X: torch.Tensor, run, *extra: torch.Tensor) -> tuple | None:
        """(X (B, T) as (T, B), *extra, the parameters in chain_parameters' order) where the
        pass `run(*args, chain)` over X runs in the chains, else None. Measured at the first
        training pass of the model, whatever its minibatch's shape, so that one choice holds
        for the whole run (an epoch's last minibatch is smaller, a classifier's vary in length)
        and a resumed run, given it, computes what the first session did. Nothing is gathered
        where the chains cannot run (a GPU, autocast)."""
        if not concise_chain.chainable(self.kind, self, X):
            return None
        args = (X.T, *extra, *self.chain_parameters())
        key = ("chain", f"{self.MODEL}-{self.kind}", self.vocab_size, self.hidden)
        key += (self.layers, self.embed, self.directions)
        weight = self.rnn.weight_hh_l0
        chosen = recurrent_chain.choose(self, key, run, args, weight, X.shape[1])
        return args if chosen else None

    def chain_parameters(self) -> list[torch.Tensor]:
        """The parameters a pass reads, in concise_chain.parameter_names' order."""
        return [self.get_parameter(name) for name in self._chain_names]

    def chained_states(self, ids: torch.Tensor, weights, order=None) -> torch.Tensor:
        """The top layer's states (T, B, hidden · directions) for ids (T, B) from a zero state,
        in the chains, with `weights` in chain_parameters' order; `order` as
        concise_chain.chained_layers takes it."""
        n = 4 * self.layers * self.directions
        E = weights[n + 2] if self.embed > 0 else None
        zeros = weights[1].new_zeros(self.layers * self.directions, ids.shape[1], self.hidden)
        state = (zeros, zeros) if self.kind == "lstm" else (zeros,)
        layers = (self.kind, self.layers, self.directions)
        Y, _, _ = concise_chain.chained_layers(*layers, ids, state, weights[:n], E, order=order)
        return Y

    def named(self, weights) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """`weights` (chain_parameters' order) by name, and the recurrent layers' alone as
        torch.func.functional_call takes them for self.rnn."""
        named = dict(zip(self._chain_names, weights, strict=True))
        layer = {k.removeprefix("rnn."): v for k, v in named.items() if k.startswith("rnn.")}
        return named, layer

    def config(self) -> dict:
        return {
            "model": self.MODEL,
            "kind": self.kind,
            "vocab_size": self.vocab_size,
            self.OUTPUTS: self.outputs,
            "hidden": self.hidden,
            "layers": self.layers,
            "bidirectional": self.bidirectional,
            "embed": self.embed,
        }


def config_int(config: Mapping, key: str, lowest: int, highest: int) -> int:
    """config[key] as an integer in [lowest, highest]; ModelError (one line) otherwise."""
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
        raise ModelError(
            f"{key} must be an integer in [{lowest}, {highest:,}] (got {quoted(value)})"
        )
    return value


R = TypeVar("R", bound=RecurrentReader)


def build_reader(cls: type[R], config: Mapping, name: str) -> R:
    """A fresh `cls` (called `name` in messages) for `config` (its config()'s keys); ModelError
    (one line) for anything missing, unknown or out of range."""
    allowed = {"model", "kind", "vocab_size", cls.OUTPUTS, "hidden", "layers"}
    unknown = sorted(set(config) - allowed - {"bidirectional", "embed"})
    if unknown:
        raise ModelError(f"unknown {name} config key(s): {', '.join(map(str, unknown))}")
    kind = config.get("kind")
    if kind not in CLASSIFIER_KINDS:
        raise ModelError(f"unknown {name} {kind!r} (choose from {', '.join(CLASSIFIER_KINDS)})")
    bidirectional = config.get("bidirectional", False)
    if not isinstance(bidirectional, bool):
        raise ModelError(f"bidirectional must be true or false (got {quoted(bidirectional)})")
    return cls(
        kind,
        config_int(config, "vocab_size", 1, SIZE_LIMITS["vocab_size"]),
        config_int(config, cls.OUTPUTS, 2, MAX_CLASSES),
        config_int(config, "hidden", 1, SIZE_LIMITS["hidden"]),
        config_int({"layers": config.get("layers", 1)}, "layers", 1, SIZE_LIMITS["layers"]),
        bidirectional,
        config_int({"embed": config.get("embed", 0)}, "embed", 0, SIZE_LIMITS["embed"]),
    )


__all__ = ["RecurrentReader", "build_reader", "config_int"]
