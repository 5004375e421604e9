"""The seq2seq task's step in a CUDA graph (train/step.py `GraphTask`), and an epoch's minibatches.

A graph replays one static step, so every minibatch fills static (batch_size, num_steps) buffers
instead of being trimmed to its longest pair: a last, smaller minibatch repeats its first row
with no target tokens (a target length of 0), which adds nothing to the loss Σ −log p / #tokens
or to its gradient. The model runs its padded form (models/gru_layers.py), which computes what
the packed one does, with no host read (a bidirectional encoder's backward direction too).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from rnn_tui.checkpoints.device import to_device
from rnn_tui.train.masked_loss import masked_cross_entropy

__all__ = ["Batches", "Seq2SeqGraph"]


class Batches:
    """An epoch's minibatches: the pair indices of each (what a CUDA graph loads), and each
    minibatch's tensors gathered when it is read (the graph never reads them)."""

    def __init__(self, gather: Callable[[np.ndarray], tuple[torch.Tensor, ...]]) -> None:
        self.gather = gather
        self.rows: list[np.ndarray] = []
        self._counts: list[tuple[int, float]] = []

    def add(self, rows: np.ndarray, tokens: int, weight: float) -> None:
        self.rows.append(rows)
        self._counts.append((tokens, weight))

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, b: int) -> tuple:
        """`batch` of minibatch b's pairs, then its target tokens and this process's weight."""
        return (*self.gather(self.rows[b]), *self._counts[b])

    def __iter__(self):
        return (self[b] for b in range(len(self)))


class Seq2SeqGraph:
    """The graph members of Seq2SeqTask, which supplies config, device, bos, the whole arrays on
    the device (_src, _tgt (N, num_steps); _src_len, _tgt_len (N,)) and _tgt_len_np."""

    _static: dict[str, torch.Tensor] | None = None  # graph_buffers makes them
    _static_rows: tuple[object, torch.Tensor, torch.Tensor] | None = None

    def graph_buffers(self, model, data) -> None:
        """Static (batch_size, num_steps) sources and targets and (batch_size,) lengths."""
        B, T = self.config.batch_size, self.config.num_steps
        self._static = {
            "X": self._src.new_zeros(B, T),
            "Y": self._tgt.new_zeros(B, T),
            "X_len": self._src_len.new_ones(B),
            "Y_len": self._tgt_len.new_zeros(B),
            "bos": self._tgt.new_full((B, 1), self.bos),
        }
        self._static_rows = None

    def _epoch_rows(self, data) -> tuple[torch.Tensor, torch.Tensor]:
        """Every minibatch's pair indices padded to batch_size (a short one repeats its first
        row) and the target lengths to load (0 for the repeats): (batches, B) each, moved to
        the device once per epoch."""
        if self._static_rows is None or self._static_rows[0] is not data:
            B = self.config.batch_size
            index = np.zeros((len(data.rows), B), dtype=np.int64)
            keep = np.zeros((len(data.rows), B), dtype=bool)
            for b, rows in enumerate(data.rows):
                index[b, : len(rows)], index[b, len(rows) :] = rows, rows[0]
                keep[b, : len(rows)] = True
            lengths = np.where(keep, self._tgt_len_np[index], 0)
            self._static_rows = (
                data,
                to_device(torch.from_numpy(index), self.device),
                to_device(torch.from_numpy(lengths), self.device),
            )
        return self._static_rows[1], self._static_rows[2]

    def load_static(self, data, b: int, fresh: bool) -> None:
        """Minibatch `b` into the static buffers: three gathers and one copy, no host read."""
        index, lengths = self._epoch_rows(data)
        static, rows = self._static, index[b]
        torch.index_select(self._src, 0, rows, out=static["X"])
        torch.index_select(self._tgt, 0, rows, out=static["Y"])
        torch.index_select(self._src_len, 0, rows, out=static["X_len"])
        static["Y_len"].copy_(lengths[b])

    def static_loss(self, model) -> torch.Tensor:
        """batch_loss on the static buffers, through the model's padded form."""
        static = self._static
        Y = static["Y"]
        dec_input = torch.cat((static["bos"], Y[:, :-1]), dim=1)
        logits = model(static["X"], static["X_len"], dec_input, padded=True)
        total, count = masked_cross_entropy(logits, Y, static["Y_len"])
        return total / count

    def carry_static(self) -> None:
        """Nothing carries from one minibatch to the next: every pair starts afresh."""
