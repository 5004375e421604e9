"""The seeds' two sequence models for a real-valued series (d2l §8.1 "序列模型"):

    autoregressive        x̂_t = f(x_{t−1}, …, x_{t−τ})          f: the MLP τ → 10 → 1, ReLU,
                                                                  Xavier-initialised weights
    latent autoregressive h_t = g(h_{t−1}, x_{t−1}),  x̂_t = w·h_t + b   g: an RNN, GRU or LSTM

Both forecast k steps ahead the same way: predict the next value, feed the prediction back as if
it had been observed, repeat — which is why k-step errors grow with k. `paths(z, starts, k)` does
that for many starting points at once: the latent model first reads the observed series once,
keeping its state after every point (`states`: one pass per layer, so a million points take
seconds), then rolls all the starts forward together. `states` can be found once and given to
`paths` for every k.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from rnn_tui.models.base import ModelError
from rnn_tui.models.names import FORECAST_KINDS, FORECAST_MODEL, MAX_TAU, SIZE_LIMITS
from rnn_tui.quoting import quoted


class ARForecaster(nn.Module):
    """The autoregressive MLP: a window of the τ previous values → the next value."""

    kind = "mlp"

    def __init__(self, tau: int, hidden: int = 10) -> None:
        super().__init__()
        self.tau, self.hidden = tau, hidden
        self.net = nn.Sequential(nn.Linear(tau, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        for layer in self.net:
            if isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight)  # d2l's init_weights

    def config(self) -> dict:
        return {"model": FORECAST_MODEL, "kind": "mlp", "tau": self.tau, "hidden": self.hidden}

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """(B, τ) windows, oldest first → (B,) predictions of the value after each."""
        return self.net(windows).squeeze(-1)

    def states(self, z: torch.Tensor, first: int, last: int) -> None:
        """No state: a window of the series is all the MLP reads (see LatentForecaster)."""
        return None

    def paths(
        self, z: torch.Tensor, starts: torch.Tensor, k: int, known: Any = None
    ) -> torch.Tensor:
        """Predictions of z[s+1 … s+k] from z[… s] for each s in `starts`: (len(starts), k).
        Values before z[0] are zeros (the padded positions). `known` is not used (the latent
        model's states)."""
        padded = torch.cat((z.new_zeros(self.tau), z))
        index = starts[:, None] + 1 + torch.arange(self.tau, device=z.device)
        window = padded[index]
        out = _steps_out(z, len(starts), k)
        for step in range(k):
            y = out[step] = self(window)
            window = torch.cat((window[:, 1:], y[:, None]), dim=1)
        return out.T


class LatentForecaster(nn.Module):
    """The latent autoregressive model: a recurrent cell over the values, a linear read-out."""

    def __init__(self, kind: str, hidden: int, layers: int = 1, tau: int = 4) -> None:
        super().__init__()
        cell = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind]
        self.kind, self.hidden, self.layers, self.tau = kind, hidden, layers, tau
        self.rnn = cell(1, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def config(self) -> dict:
        return {
            "model": FORECAST_MODEL,
            "kind": self.kind,
            "tau": self.tau,
            "hidden": self.hidden,
            "layers": self.layers,
        }

    def forward(self, x: torch.Tensor, state=None):
        """(B, L) values → ((B, L) predictions, state); prediction i is of x[:, i + 1]."""
        out, state = self.rnn(x.unsqueeze(-1), state)
        return self.head(out).squeeze(-1), state

    @torch.no_grad()  # for forecasting only: the cell states are filled in place, step by step
    def states(self, z: torch.Tensor, first: int, last: int) -> tuple[Any, int]:
        """The state after reading z[0 … s] for every s in [first, last], stacked on dim 1
        (batch), with `first`: what `paths` takes as `known`.

        One pass per layer over z[0 … last]: a layer's outputs are its h_t at every step, and
        what the layer above reads. An LSTM's cell states follow from its gates,
        c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t. Read one point at a time, a million points took
        ~45 s for each k the view shows."""
        x = z[: last + 1].view(1, -1, 1)
        hs, cs = [], []
        for layer in range(self.layers):
            single = self._layer(layer, z)
            out, _ = single(x)
            if self.kind == "lstm":
                cs.append(_cell_states(single, x[0], out[0])[first:])
            hs.append(out[0, first:])
            x = out
        h = torch.stack(hs)
        return ((h, torch.stack(cs)) if cs else h), first

    def _layer(self, layer: int, z: torch.Tensor) -> nn.Module:
        """Layer `layer` of the stack as a one-layer module of its own (the same weights)."""
        rnn = self.rnn
        single = type(rnn)(rnn.hidden_size if layer else 1, rnn.hidden_size, 1, batch_first=True)
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        single.load_state_dict({f"{n}_l0": getattr(rnn, f"{n}_l{layer}") for n in names})
        return single.to(device=z.device, dtype=z.dtype)

    def paths(
        self, z: torch.Tensor, starts: torch.Tensor, k: int, known: Any = None
    ) -> torch.Tensor:
        """As ARForecaster.paths: the state after z[… s] predicts z[s+1], and so on. `known`:
        `states(z, first, last)` for a range holding every start (found here when None)."""
        if known is None:
            known = self.states(z, int(starts.min()), int(starts.max()))
        states, first = known
        index = starts - first
        if isinstance(states, tuple):
            state = (states[0][:, index].contiguous(), states[1][:, index].contiguous())
            top = state[0][-1]
        else:
            state = states[:, index].contiguous()
            top = state[-1]
        out = _steps_out(z, len(starts), k)
        y = out[0] = self.head(top).squeeze(-1)
        # The cells themselves, layer by layer: a 200,000-step multi-step path (one start) was
        # 200,000 calls of nn.GRU at ~68 µs, most of it the module's own work per call.
        weights = [
            [
                getattr(self.rnn, f"{n}_l{layer}")
                for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]
            for layer in range(self.layers)
        ]
        cell = {"rnn": torch.rnn_tanh_cell, "gru": torch.gru_cell, "lstm": torch.lstm_cell}[
            self.kind
        ]
        W_q, b_q = self.head.weight[0], self.head.bias
        hs = list(state[0] if isinstance(state, tuple) else state)
        cs = list(state[1]) if isinstance(state, tuple) else None
        for step in range(1, k):
            x = y[:, None]
            for layer, w in enumerate(weights):
                if cs is None:
                    hs[layer] = cell(x, hs[layer], *w)
                else:
                    hs[layer], cs[layer] = cell(x, (hs[layer], cs[layer]), *w)
                x = hs[layer]
            y = out[step] = torch.mv(x, W_q) + b_q
        return out.T


def _steps_out(z: torch.Tensor, starts: int, k: int) -> torch.Tensor:
    """The (k, starts) tensor a path's steps are written into, step by step; its transpose is
    the (starts, k) paths. A list of one tensor a step kept 200,000 of them alive on a long
    multi-step path, and each full collection walked them all, holding the GIL: the Forecast
    screen's event loop stalled 100–200 ms at a time while its worker computed a view."""
    return z.new_empty(k, starts)


def _cell_states(lstm: nn.LSTM, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """A one-layer LSTM's c_t at every step, from its inputs x (T, in) and outputs h (T, H):
    the gates of step t read x_t and h_{t−1}, all T at once; then c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t,
    one element-wise step at a time (torch's gate order: i, f, c̃, o)."""
    h_prev = torch.cat((h.new_zeros(1, h.shape[1]), h[:-1]))
    gates = x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h_prev @ lstm.weight_hh_l0.T
    i, f, g, _ = (gates + lstm.bias_hh_l0).chunk(4, dim=1)
    u = torch.sigmoid(i) * torch.tanh(g)
    f = torch.sigmoid(f)
    c = torch.empty_like(u)
    previous = u.new_zeros(u.shape[1])
    for t in range(len(u)):
        previous = torch.addcmul(u[t], f[t], previous, out=c[t])
    return c


def build_forecaster(config: Mapping) -> ARForecaster | LatentForecaster:
    """A fresh forecaster for `config` ({"model": "forecast", "kind", "tau", "hidden",
    ["layers"]}); ModelError (one line) for anything missing, unknown or out of range."""
    allowed = {"model", "kind", "tau", "hidden", "layers"}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ModelError(f"unknown forecast model config key(s): {', '.join(map(str, unknown))}")
    kind = config.get("kind")
    if kind not in FORECAST_KINDS:
        raise ModelError(
            f"unknown forecast model {kind!r} (choose from {', '.join(FORECAST_KINDS)})"
        )
    tau = _size(config, "tau", MAX_TAU)
    hidden = _size(config, "hidden", SIZE_LIMITS["hidden"])
    layers = _size({"layers": config.get("layers", 1)}, "layers", SIZE_LIMITS["layers"])
    if kind == "mlp":
        if layers != 1:
            raise ModelError(f"the autoregressive MLP has one hidden layer (got layers={layers})")
        return ARForecaster(tau, hidden)
    return LatentForecaster(kind, hidden, layers, tau)


def _size(config: Mapping, key: str, maximum: int) -> int:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ModelError(f"{key} must be an integer in [1, {maximum:,}] (got {quoted(value)})")
    return value


__all__ = ["ARForecaster", "LatentForecaster", "build_forecaster"]
