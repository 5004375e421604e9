"""Many-to-many: a recurrent network that tags every step from its output at that step (d2l's
RNN shapes; sequence labelling such as NER and POS tagging).

    H = RNN(x_1, …, x_T),   y_t = softmax(W h_t + b)   for every t

Unlike the many-to-one classifier, which keeps only the final state (`hidden`), the tagger reads
the whole `output` (B, T, hidden · directions). A bidirectional tagger's h_t is
concat(→h_t, ←h_t): the forward state has read x_1 … x_t, the backward one x_t … x_T, so each tag
sees what follows — whether a word ends a sentence shows in the words after it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from rnn_tui.models.names import TAGGER_MODEL
from rnn_tui.models.reader import RecurrentReader, build_reader

EVAL_BATCH = 256  # windows per forward pass when tagging a long stream


class SequenceTagger(RecurrentReader):
    """(embedding or one-hot) → recurrent layers → Linear on every step's output."""

    MODEL = TAGGER_MODEL
    OUTPUTS = "tags"

    @property
    def tags(self) -> int:
        return self.outputs

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Tag logits (B, T, tags) for ids X (B, T): one per step, from that step's output."""
        args = self.chained_args(X, self._measured_pass)
        if args is not None:
            return self._chained_pass(*args)  # the same recurrence, from a zero state
        output, _ = self.rnn(self.inputs(X))  # (B, T, hidden · directions): every step, not h_T
        return self.linear(output)

    def _measured_pass(self, *args) -> torch.Tensor:
        """The pass in the chains or in torch's kernels (`args`, then the choice): what the
        first training pass times on copies of the parameters."""
        *tensors, chain = args
        return (self._chained_pass if chain else self._torch_pass)(*tensors)

    def _chained_pass(self, ids: torch.Tensor, *weights: torch.Tensor) -> torch.Tensor:
        """Tag logits (B, T, tags) for ids (T, B), the parameters in chain_parameters' order."""
        named, _ = self.named(weights)
        Y = self.chained_states(ids, weights)
        return F.linear(Y, named["linear.weight"], named["linear.bias"]).transpose(0, 1)

    def _torch_pass(self, ids: torch.Tensor, *weights: torch.Tensor) -> torch.Tensor:
        """The same pass with torch's kernels, on the given tensors."""
        named, layer = self.named(weights)
        inputs = self.inputs(ids.T, named.get("embedding.weight"))
        output, _ = torch.func.functional_call(self.rnn, layer, (inputs,))
        return F.linear(output, named["linear.weight"], named["linear.bias"])

    @torch.no_grad()
    def tag_stream(
        self, ids: np.ndarray, window: int, targets: np.ndarray | None = None
    ) -> tuple[np.ndarray, float | None]:
        """(the most probable tag of every id of a long stream, the mean cross-entropy against
        `targets` when given), read in consecutive windows of `window` ids (each from a zero
        state; the last may be shorter). The caller sets eval mode."""
        device = self.linear.weight.device
        stream = torch.as_tensor(np.asarray(ids, dtype=np.int64))
        gold = None if targets is None else torch.as_tensor(np.asarray(targets, dtype=np.int64))
        out = torch.empty(len(stream), dtype=torch.long)
        total = 0.0
        full = len(stream) // window * window
        pieces = [
            (i, min(i + EVAL_BATCH * window, full)) for i in range(0, full, EVAL_BATCH * window)
        ]
        if full < len(stream):
            pieces.append((full, len(stream)))
        for start, stop in pieces:
            width = window if stop - start >= window else stop - start
            X = stream[start:stop].view(-1, width).to(device)
            logits = self(X).float()
            out[start:stop] = logits.argmax(-1).flatten().cpu()
            if gold is not None:
                y = gold[start:stop].view(-1).to(device)
                total += float(F.cross_entropy(logits.reshape(-1, self.tags), y, reduction="sum"))
        return out.numpy(), (total / max(1, len(stream)) if gold is not None else None)


def build_tagger(config: Mapping) -> SequenceTagger:
    """A fresh tagger for `config` (SequenceTagger.config()'s keys); ModelError (one line) for
    anything missing, unknown or out of range."""
    return build_reader(SequenceTagger, config, "tagger")


__all__ = ["SequenceTagger", "build_tagger"]
