"""Many-to-one: a recurrent network that reads a whole sequence and decides from its final state
(d2l's RNN shapes; the PyTorch names tutorial's `hidden[-1]` pattern).

    h_T = RNN(x_1, …, x_T),   y = softmax(W h_T + b)

A bidirectional model decides from concat(→h_T, ←h_1): the forward direction's state after the
last character and the backward direction's after the first. Sequences in a minibatch are padded
to the longest; they are packed by their valid lengths before the RNN, so the final state is the
one after each sequence's own last character and padding never reaches it. In the C chains
(reader.py) the padded batch runs whole and each row's state is read at its own last valid
step; the backward direction reads each row's valid steps backwards before its padding.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch.nn.utils.rnn import pack_padded_sequence

from rnn_tui.models import concise_chain
from rnn_tui.models.reader import RecurrentReader, build_reader


class SequenceClassifier(RecurrentReader):
    """(embedding or one-hot) → recurrent layers → Linear on the final state (both directions'
    when bidirectional)."""

    MODEL = "classifier"
    OUTPUTS = "classes"

    @property
    def classes(self) -> int:
        return self.outputs

    def final_state(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, hidden · directions): the top layer's state after each sequence's last valid
        step (the backward direction's after the first), for ids X (B, T) and lengths (B,)."""
        args = self.chained_args(X, self._measured_pass, lengths)
        if args is not None:
            return self._chained_final(*args)
        return self._packed_final(self.inputs(X), lengths)

    def _packed_final(self, inputs, lengths, layer=None) -> torch.Tensor:
        """final_state through torch's kernels, the sequences packed by their lengths; with
        `layer`, the recurrent layers' parameters by name, on those tensors."""
        packed = pack_padded_sequence(
            inputs, lengths.to("cpu"), batch_first=True, enforce_sorted=False
        )
        if layer is None:
            _, state = self.rnn(packed)
        else:
            _, state = torch.func.functional_call(self.rnn, layer, (packed,))
        h_n = state[0] if self.kind == "lstm" else state  # (layers · directions, B, H)
        if self.bidirectional:
            return torch.cat((h_n[-2], h_n[-1]), dim=1)
        return h_n[-1]

    def _measured_pass(self, *args) -> torch.Tensor:
        """final_state in the chains or in torch's kernels (`args`, then the choice): what the
        first training pass times on copies of the parameters."""
        *tensors, chain = args
        if chain:
            return self._chained_final(*tensors)
        ids, lengths, *weights = tensors
        named, layer = self.named(weights)
        return self._packed_final(self.inputs(ids.T, named.get("embedding.weight")), lengths, layer)

    def _chained_final(self, ids: torch.Tensor, lengths: torch.Tensor, *weights) -> torch.Tensor:
        """final_state in the chains over the padded ids (T, B): the forward direction's state
        at each row's last valid step, which padding after it never reached; the backward
        direction reads each row's valid steps backwards first (concise_chain.reversal), so its
        state at the first step has read the row whole, as a packed sequence's does."""
        T, B = ids.shape
        lengths = lengths.to(ids.device)
        order = concise_chain.reversal(lengths, T) if self.bidirectional else None
        Y = self.chained_states(ids, weights, order)  # (T, B, hidden · directions)
        rows = torch.arange(B, device=ids.device)
        forward = Y[lengths - 1, rows, : self.hidden]
        if not self.bidirectional:
            return forward
        return torch.cat((forward, Y[0, :, self.hidden :]), dim=1)

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Class logits (B, classes)."""
        return self.linear(self.final_state(X, lengths))


def pad_batch(sequences: list[list[int]], pad: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (N, longest) padded with `pad`, lengths (N,)): an empty sequence is one `pad`, so
    every sequence has a final state."""
    lengths = [max(1, len(ids)) for ids in sequences]
    X = torch.full((len(sequences), max(lengths, default=1)), pad, dtype=torch.long)
    for i, ids in enumerate(sequences):
        if ids:
            X[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return X, torch.tensor(lengths)


def build_classifier(config: Mapping) -> SequenceClassifier:
    """A fresh classifier for `config` (SequenceClassifier.config()'s keys); ModelError (one
    line) for anything missing, unknown or out of range."""
    return build_reader(SequenceClassifier, config, "classifier")


__all__ = ["SequenceClassifier", "build_classifier", "pad_batch"]
