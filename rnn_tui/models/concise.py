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
from rnn_tui.models.step_matmul import MIN_USES

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
        # Under MIN_USES steps no chain runs (recurrent_chain.library): a generated token's
        # step skips gathering the pass's ten parameters for it (a fifth of the step).
        if X.shape[1] >= MIN_USES and concise_chain.chainable(self.model_name, self, X):
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
        if self._one_lstm_step(inputs):
            Y, state = lstm_step(self.rnn, inputs, state)
        else:
            Y, state = self.rnn(inputs, state)
        return self.linear(Y).transpose(0, 1), state

    def _one_lstm_step(self, inputs: torch.Tensor) -> bool:
        # nn.LSTM on the CPU hands each call to oneDNN, whose set-up cost ~1 ms a call: the
        # price of every token generated one step at a time (1,085 µs a step against 138 as
        # cells, 2 layers of 256, batch 1), where a training pass of 35 steps is 2× faster in it.
        return (
            self.model_name == "lstm"
            and inputs.shape[0] == 1
            and inputs.device.type == "cpu"
            and (not self.training or self.rnn.dropout == 0)
            and not torch.compiler.is_compiling()
            and not torch.is_autocast_enabled("cpu")
        )

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


def lstm_step(rnn: nn.LSTM, inputs: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
    """One time step (inputs (1, B, in)) of an nn.LSTM's layers as torch.lstm_cell calls: the
    same gate equations (i, f, g, o; C_t = F ⊙ C_{t-1} + I ⊙ C̃, H_t = O ⊙ tanh(C_t)), without
    dropout between layers; a bidirectional layer's two directions both read the one step and
    their H_t are concatenated. Returns (Y (1, B, h · directions), (H, C))."""
    H, C = state
    directions = 2 if rnn.bidirectional else 1
    x = inputs[0]
    hs, cs = [], []
    for layer in range(rnn.num_layers):
        for d in range(directions):
            suffix = f"_l{layer}_reverse" if d else f"_l{layer}"
            weights = [
                getattr(rnn, n + suffix) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]
            index = layer * directions + d
            h, c = torch.lstm_cell(x, (H[index], C[index]), *weights)
            hs.append(h)
            cs.append(c)
        x = torch.cat(hs[-directions:], 1) if directions > 1 else hs[-1]
    return x[None], (torch.stack(hs), torch.stack(cs))
