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

from rnn_tui.models import concise_chain
from rnn_tui.models.base import ModelError
from rnn_tui.models.names import FORECAST_KINDS, FORECAST_MODEL, MAX_TAU, SIZE_LIMITS
from rnn_tui.models.rollout import CellSteps, Repeats, in_chunks, repeat_from, roll_one
from rnn_tui.quoting import quoted

SEGMENT = 65_536  # points a state pass reads at a time
_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


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

    @in_chunks
    @torch.no_grad()  # forecasting only: the buffers are written in place
    def paths(
        self, z: torch.Tensor, starts: torch.Tensor, k: int, known: Any = None
    ) -> torch.Tensor:
        """Predictions of z[s+1 … s+k] from z[… s] for each s in `starts`: (len(starts), k).
        Values before z[0] are zeros (the padded positions). `known` is not used (the latent
        model's states)."""
        tau = self.tau
        padded = torch.cat((z.new_zeros(tau), z))
        index = starts[:, None] + 1 + torch.arange(tau, device=z.device)
        # Windows and predictions share one buffer, a row per step: step i reads rows
        # i … i+τ−1 and writes row i+τ, so no window is copied; the hidden layer is a buffer
        # too, a row per unit. Written as functions into these buffers, a step over a million
        # starts took 7 ms rather than the modules' 54, and one start's step ~6 µs, not ~40.
        buffer = z.new_empty(tau + k, len(starts))
        buffer[:tau] = padded[index].T
        hidden = z.new_empty(self.hidden, len(starts))
        W_1, b_1 = self.net[0].weight, self.net[0].bias[:, None]
        w_2, b_2 = self.net[2].weight[0], self.net[2].bias.expand(len(starts))
        repeats = Repeats.on(len(starts), z)
        for step in range(k):
            window = buffer[step : step + tau]
            if (
                repeats is not None
                and (earlier := repeats.seen(step, [window.numpy()])) is not None
            ):
                repeat_from(buffer[tau:, 0], step, earlier)
                break
            torch.addmm(b_1, W_1, window, out=hidden).relu_()
            torch.addmv(b_2, hidden.T, w_2, out=buffer[tau + step])
        return buffer[tau:].T


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
        ~45 s for each k the view shows. A pass goes SEGMENT points at a time, the state
        carried over: torch's own pass over a million points kept ~1.2 KB a step until its end
        (a 1.2 GB peak for hidden 10)."""
        x, H = z[: last + 1].view(-1, 1), self.hidden
        hs, cs = [], []
        for layer in range(self.layers):
            single = self._layer(layer, z)
            out = x.new_empty(len(x), H)
            cells = x.new_empty(len(x), H) if self.kind == "lstm" else None
            h, c = x.new_zeros(H), x.new_zeros(H) if cells is not None else None
            for at in range(0, len(x), SEGMENT):
                part = slice(at, at + SEGMENT)
                out[part], c_part = self._pass(single, x[part], h, c)
                h = out[part][-1]
                if cells is not None:
                    cells[part] = c_part
                    c = c_part[-1]
            hs.append(out[first:])
            if cells is not None:
                cs.append(cells[first:])
            x = out
        h = torch.stack(hs)
        return ((h, torch.stack(cs)) if cs else h), first

    def _pass(self, single: nn.Module, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None):
        """A one-layer module's states over the values x (T, inputs) from h and c (H,), and an
        LSTM's cell states (else None): in the C chains where they run, else torch's kernels."""
        weights = [getattr(single, f"{n}_l0") for n in _WEIGHTS]
        chained = concise_chain.chained_states(
            self.kind, weights, x[:, None], (h[None],) if c is None else (h[None], c[None])
        )
        if chained is not None:
            out, cells = chained
            return out[:, 0], None if cells is None else cells[:, 0]
        state = h[None, None] if c is None else (h[None, None], c[None, None])
        out = single(x[None], state)[0][0]
        return out, None if c is None else _cell_states(single, x, out, h, c)

    def _layer(self, layer: int, z: torch.Tensor) -> nn.Module:
        """Layer `layer` of the stack as a one-layer module of its own (the same weights)."""
        rnn = self.rnn
        single = type(rnn)(rnn.hidden_size if layer else 1, rnn.hidden_size, 1, batch_first=True)
        single.load_state_dict({f"{n}_l0": getattr(rnn, f"{n}_l{layer}") for n in _WEIGHTS})
        return single.to(device=z.device, dtype=z.dtype)

    @in_chunks
    @torch.no_grad()  # forecasting only: the buffers are written in place
    def paths(
        self, z: torch.Tensor, starts: torch.Tensor, k: int, known: Any = None
    ) -> torch.Tensor:
        """As ARForecaster.paths: the state after z[… s] predicts z[s+1], and so on. `known`:
        `states(z, first, last)` for a range holding every start (found here when None)."""
        if known is None:
            known = self.states(z, int(starts.min()), int(starts.max()))
        states, first = known
        # Each layer's states at the starts, (H, B): a unit per row, a path per column.
        index = starts - first
        stacks = states if isinstance(states, tuple) else (states,)
        hs, *cs = (list(s[:, index].transpose(1, 2).contiguous()) for s in stacks)
        out = _steps_out(z, len(starts), k)
        w_q, b_q = self.head.weight[0], self.head.bias.expand(len(starts))
        torch.addmv(b_q, hs[-1].T, w_q, out=out[0])
        if Repeats.on(len(starts), z) is not None:  # one path on the CPU: in NumPy
            hs_1 = [h.numpy()[:, 0] for h in hs]  # views: the rolls update them in place
            cs_1 = [c.numpy()[:, 0] for c in cs[0]] if cs else None
            roll_one(self.rnn, self.kind, self.head, hs_1, cs_1, out[:, 0].numpy())
            return out.T
        cells = CellSteps(self.rnn, self.kind, hs, cs[0] if cs else None)
        for step in range(1, k):
            top = cells.step(out[step - 1 : step])
            torch.addmv(b_q, top.T, w_q, out=out[step])
        return out.T


def _steps_out(z: torch.Tensor, starts: int, k: int) -> torch.Tensor:
    """The (k, starts) tensor a path's steps are written into, step by step; its transpose is
    the (starts, k) paths. A list of one tensor a step kept 200,000 of them alive on a long
    multi-step path, and each full collection walked them all, holding the GIL: the Forecast
    screen's event loop stalled 100–200 ms at a time while its worker computed a view."""
    return z.new_empty(k, starts)


def _cell_states(lstm: nn.LSTM, x: torch.Tensor, h: torch.Tensor, h_0, c_0) -> torch.Tensor:
    """A one-layer LSTM's c_t at every step, from its inputs x (T, in), outputs h (T, H) and
    state before them h_0, c_0 (H,): the gates of step t read x_t and h_{t−1}, all T at once;
    then c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t, one element-wise step at a time (torch's gate order:
    i, f, c̃, o)."""
    h_prev = torch.cat((h_0[None], h[:-1]))
    gates = x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h_prev @ lstm.weight_hh_l0.T
    i, f, g, _ = (gates + lstm.bias_hh_l0).chunk(4, dim=1)
    u = torch.sigmoid(i) * torch.tanh(g)
    f = torch.sigmoid(f)
    c = torch.empty_like(u)
    previous = c_0
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
