"""The seeds' concise RNN language model: nn.RNN / nn.GRU / nn.LSTM plus an output layer
("循环神经网络的简洁实现", "深度循环神经网络", "双向循环神经网络"; d2l §8.6, §9.3, §9.4).

Each layer computes the scratch models' recurrence (nn.RNN: H_t = tanh(X_t W_ih + b_ih +
H_{t-1} W_hh + b_hh), and the LSTM's gate equations; nn.GRU applies its reset gate after the
candidate's recurrent product, not before), stacked `num_layers` deep with
dropout between layers; bidirectional runs a second layer over the reversed sequence and
concatenates both hidden states, so the output layer sees hidden · 2 features. Inputs are one-hot
(embed = 0, as the seeds) or learned embeddings nn.Embedding(vocab, embed). An RNN
or LSTM runs its pass through the scratch cells' C chains where the first training pass
measures them faster than torch's kernels (concise_chain.py); its parameters stay nn.RNN's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnn_tui.models import concise_chain
from rnn_tui.models.base import LanguageModel, State, state_tensors

RNN_LAYERS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class RNNModel(LanguageModel):
    """d2l's RNNModel, batch-major: (embedding or one-hot) → recurrent layers → Linear."""

    def __init__(
        self,
        cell: str,
        vocab_size: int,
        num_hiddens: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        embed: int = 0,
    ) -> None:
        super().__init__()
        self.model_name = cell
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.num_layers, self.bidirectional, self.embed = num_layers, bidirectional, embed
        self.num_directions = 2 if bidirectional else 1
        self.embedding = nn.Embedding(vocab_size, embed) if embed > 0 else None
        self.rnn = RNN_LAYERS[cell](
            embed if embed > 0 else vocab_size,
            num_hiddens,
            num_layers=num_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            # Time-major inside (the layout torch's CPU and cuDNN kernels use): a batch-first
            # layer transposes its input and output, which cost the 2-layer LSTM ~8 % per step.
            batch_first=False,
        )
        self.linear = nn.Linear(num_hiddens * self.num_directions, vocab_size)
        self._chain_names = concise_chain.parameter_names(num_layers, embed, self.num_directions)

    def _dtype(self) -> torch.dtype:
        # The output layer's, not the first parameter's: walking the parameters reaches the
        # nn.RNN layer, which torch.compile cannot trace, and broke the compiled forward there.
        return self.linear.weight.dtype

    def begin_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """Zeros (layers · directions, B, hidden); the pair (H, C) for an LSTM."""
        shape = (self.num_layers * self.num_directions, batch_size, self.num_hiddens)
        dtype = self._dtype()
        if self.model_name == "lstm":
            return (
                torch.zeros(shape, device=device, dtype=dtype),
                torch.zeros(shape, device=device, dtype=dtype),
            )
        return torch.zeros(shape, device=device, dtype=dtype)

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Logits (B, T, V) from the top layer's hidden states, and the new state."""
        if state is None:
            state = self.begin_state(X.shape[0], X.device)
        if concise_chain.chainable(self.model_name, self, X):
            # The layers as C chains (concise_chain.py) where measured faster here.
            args = (X.T, *state_tensors(state), *self._pass_parameters())
            B, T = X.shape
            if self._chaining(self._measured_pass, args, self.rnn.weight_hh_l0, False, T, B):
                return concise_chain.chained_pass(self, *args)
        X = X.T  # (T, B): the layer runs time-major; only the small logits go back
        if self.embedding is not None:
            inputs = self.embedding(X)
        else:
            inputs = F.one_hot(X, self.vocab_size).to(self._dtype())
        Y, state = self.rnn(inputs, state)
        return self.linear(Y).transpose(0, 1), state

    def _pass_parameters(self) -> list[torch.Tensor]:
        # Looked up by name each pass (the same tensors unless a parameter is replaced), from
        # names listed once, not from a dict of every parameter built in each training step.
        return [self.get_parameter(name) for name in self._chain_names]

    def _measured_pass(self, *args):
        """A pass in the chains or in torch's kernels (`args`, then the choice and an unused
        prepacking flag): what `_chaining` times on copies of the parameters."""
        *tensors, chain, _ = args
        run = concise_chain.chained_pass if chain else concise_chain.torch_pass
        logits, state = run(self, *tensors)
        return (logits, *state_tensors(state))

    def config(self) -> dict:
        return {
            "model": self.model_name,
            "vocab_size": self.vocab_size,
            "hidden": self.num_hiddens,
            "layers": self.num_layers,
            "dropout": float(self.rnn.dropout),
            "bidirectional": self.bidirectional,
            "embed": self.embed,
        }
