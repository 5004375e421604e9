"""Rolling a forecaster forward from many starting points at once (d2l §8.1's k-step-ahead
prediction: predict, feed the prediction back as if observed, repeat).

The steps are written feature-major — a state is (H, B), a unit per row and a path per column —
into buffers made once, CHUNK paths at a time on the CPU, so a step writes no fresh tensor: over
a million paths of a GRU of 10 units, torch's own cells took ~120 ms a step, the buffers ~64.
A one-path roll (the multi-step path of a whole held-out part) runs in NumPy (`roll_one`) and
stops as soon as its state comes back bit for bit: from there the path repeats itself exactly.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn


class CellSteps:
    """The cells of a stack of nn.RNN, nn.GRU or nn.LSTM layers, one step at a time for B
    paths at once, each layer's state updated in place:

        RNN   h ← tanh(W_ih x + b_ih + W_hh h + b_hh)
        GRU   r, z = σ(…), n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h ← n + z ⊙ (h − n)
        LSTM  i, f, o = σ(…), c̃ = tanh(…), c ← f ⊙ c + i ⊙ c̃, h ← o ⊙ tanh(c)

    (torch's gate order: r, z, n and i, f, c̃, o), the same sums as torch's cells in another
    order."""

    def __init__(self, rnn: nn.RNNBase, kind: str, hs: list, cs: list | None) -> None:
        self.kind, self.hs, self.cs = kind, hs, cs
        self.weights = [
            (
                getattr(rnn, f"weight_ih_l{layer}"),
                getattr(rnn, f"weight_hh_l{layer}"),
                getattr(rnn, f"bias_ih_l{layer}")[:, None],
                getattr(rnn, f"bias_hh_l{layer}")[:, None],
            )
            for layer in range(rnn.num_layers)
        ]
        H, paths = rnn.hidden_size, hs[0].shape[1]
        self.gates = hs[0].new_empty({"rnn": 1, "gru": 3, "lstm": 4}[kind] * H, paths)
        # The gates' views, made once: on a one-path roll each op costs more than its math.
        g, self.hidden_gates = self.gates, None
        if kind == "gru":
            gh = self.hidden_gates = g.new_empty(3 * H, paths)
            self.views = (g[: 2 * H], gh[: 2 * H], g[:H], g[H : 2 * H], g[2 * H :], gh[2 * H :])
        elif kind == "lstm":
            self.views = (g[:H], g[H : 2 * H], g[2 * H : 3 * H], g[3 * H :])

    def step(self, x: torch.Tensor) -> torch.Tensor:
        """Feed x, (1, B) values, through every layer; the top layer's new h, (H, B)."""
        for layer, (W_ih, W_hh, b_ih, b_hh) in enumerate(self.weights):
            h, g = self.hs[layer], torch.addmm(b_ih, W_ih, x, out=self.gates)
            if self.kind == "rnn":
                torch.tanh(g.addmm_(W_hh, h).add_(b_hh), out=h)
            elif self.kind == "gru":
                rz, hidden_rz, r, z, n, hidden_n = self.views
                torch.addmm(b_hh, W_hh, h, out=self.hidden_gates)
                rz.add_(hidden_rz).sigmoid_()
                n.addcmul_(r, hidden_n).tanh_()
                h.sub_(n).mul_(z).add_(n)
            else:
                i, f, c_new, o = self.views
                g.addmm_(W_hh, h).add_(b_hh)
                i.sigmoid_(), f.sigmoid_(), c_new.tanh_(), o.sigmoid_()
                c = self.cs[layer].mul_(f).addcmul_(i, c_new)
                torch.tanh(c, out=h).mul_(o)
            x = h
        return x

    def state(self) -> list[torch.Tensor]:
        return [*self.hs, *(self.cs or ())]


class Repeats:
    """Finds where a one-path roll's state comes back bit for bit (Brent's cycle finding:
    compare each step's state with one marked at step a, and move the mark at a + 1, 2, 4, …
    steps). A step is deterministic, so from there on the path repeats itself exactly: a
    trained forecaster's multi-step path mostly settles on a value or a cycle within a few
    hundred steps, and a million-point series' path is 400,000 steps."""

    def __init__(self) -> None:
        self.key: bytes | None = None
        self.at, self.gap = -1, 1

    @classmethod
    def on(cls, paths: int, z: torch.Tensor) -> Repeats | None:
        """A finder for a roll of `paths` paths over z: only a one-path roll on the CPU
        (reading a state back from another device each step would cost more than it saves)."""
        return cls() if paths == 1 and z.device.type == "cpu" else None

    def seen(self, step: int, state: list[np.ndarray]) -> int | None:
        """The earlier step whose state (NumPy arrays) equals `state` bit for bit, or None."""
        key = b"".join(a.tobytes() for a in state)
        if key == self.key:
            return self.at
        if step - self.at >= self.gap:
            self.key, self.at, self.gap = key, step, 2 * self.gap
        return None


# Steps of a NumPy roll between two offers of the GIL (~1.5 ms): with none, the Forecast screen's
# event loop waited up to the interpreter's 5 ms switch interval at each wake-up (median lag
# 1.5 ms against 0.4 while a million-point view was computed).
YIELD_EVERY = 128


def roll_one(rnn: nn.RNNBase, kind: str, head: nn.Linear, hs: list, cs: list | None, out) -> None:
    """CellSteps and the read-out for a single path on the CPU, in NumPy, with Repeats: out
    (k,) holds the first prediction and gets the rest; hs and cs, (H,) arrays, the layers'
    states after it. A step of one path is a dozen operations on a few numbers, and NumPy's
    cost less each than torch's dispatch: a GRU step of 10 units 11 µs against CellSteps'
    19, an LSTM's 16 against 28."""
    H, names = rnn.hidden_size, ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    weights = [
        [getattr(rnn, f"{n}_l{layer}").detach().numpy() for n in names]
        for layer in range(rnn.num_layers)
    ]
    w_q, b_q = head.weight.detach().numpy()[0], head.bias.detach().numpy()[0]
    state, repeats = [*hs, *(cs or ())], Repeats()
    for step in range(1, len(out)):
        x = out[step - 1 : step]
        for layer, (W_ih, W_hh, b_ih, b_hh) in enumerate(weights):
            h = hs[layer]
            if kind == "rnn":
                np.tanh(W_ih @ x + b_ih + W_hh @ h + b_hh, out=h)
            elif kind == "gru":
                g, gh = W_ih @ x + b_ih, W_hh @ h + b_hh
                rz = 1 / (1 + np.exp(-(g[: 2 * H] + gh[: 2 * H])))
                n = np.tanh(g[2 * H :] + rz[:H] * gh[2 * H :])
                h -= n
                h *= rz[H:]
                h += n
            else:
                g = W_ih @ x + b_ih + W_hh @ h + b_hh
                gates = 1 / (1 + np.exp(-g))  # σ of all four blocks: one call, not three
                c = cs[layer]
                c *= gates[H : 2 * H]
                c += gates[:H] * np.tanh(g[2 * H : 3 * H])
                np.multiply(gates[3 * H :], np.tanh(c), out=h)
            x = h
        out[step] = w_q @ x + b_q
        if step % YIELD_EVERY == 0:
            time.sleep(0)  # NumPy's tiny operations keep the GIL: let the UI's loop have it
        # The state after step i gives the predictions from i+1 on.
        if (earlier := repeats.seen(step, state)) is not None:
            repeat_from(torch.from_numpy(out), step + 1, earlier + 1)
            return


def repeat_from(path: torch.Tensor, step: int, earlier: int) -> None:
    """path[step:] = path[earlier:step] over and over: the path from `step` repeats the one
    from `earlier`."""
    rest = len(path) - step
    if rest > 0:
        period = path[earlier:step].clone()
        path[step:] = period.repeat(-(-rest // len(period)))[:rest]


CHUNK = 8192  # paths rolled together: their buffers stay in the cache through all k steps


def in_chunks(paths):
    """`paths` rolling at most CHUNK starts at a time into one (len(starts), k) result: a
    million starts' gates at once were 120 MB a step, and each step read and wrote them from
    memory several times."""

    def chunked(self, z: torch.Tensor, starts: torch.Tensor, k: int, known: Any = None):
        if len(starts) <= CHUNK or z.device.type != "cpu":  # a GPU wants them all at once
            return paths(self, z, starts, k, known)
        out = z.new_empty(k, len(starts))
        for at in range(0, len(starts), CHUNK):
            out[:, at : at + CHUNK] = paths(self, z, starts[at : at + CHUNK], k, known).T
        return out.T

    chunked.__doc__ = paths.__doc__
    return chunked


__all__ = ["CHUNK", "CellSteps", "Repeats", "in_chunks", "repeat_from", "roll_one"]
