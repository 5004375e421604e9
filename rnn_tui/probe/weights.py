"""A language model's cell as a probe `Cell`: the weights of a one-direction model (a stack of
layers is a `Cell` per layer, each with the one below it), scratch (the seeds' W_xh, W_hh, b_h,
… by name) or concise (nn.RNN / nn.GRU / nn.LSTM, whose stacked gate matrices are split in
torch's order: GRU r, z, n; LSTM i, f, g, o)."""

from __future__ import annotations

import torch

from rnn_tui.probe.cell import DTYPE, Cell, ProbeError

SCRATCH = {
    "rnn-scratch": ("rnn", {"h": ("W_xh", "W_hh", "b_h")}),
    "gru-scratch": (
        "gru",
        {"z": ("W_xz", "W_hz", "b_z"), "r": ("W_xr", "W_hr", "b_r"), "h": ("W_xh", "W_hh", "b_h")},
    ),
    "lstm-scratch": (
        "lstm",
        {
            "i": ("W_xi", "W_hi", "b_i"),
            "f": ("W_xf", "W_hf", "b_f"),
            "o": ("W_xo", "W_ho", "b_o"),
            "c": ("W_xc", "W_hc", "b_c"),
        },
    ),
}
# torch's stacking order of each layer's gates, in the probe's names.
TORCH_GATES = {"rnn": ("h",), "gru": ("r", "z", "h"), "lstm": ("i", "f", "c", "o")}


def _f64(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu", DTYPE).clone()


def cell_of(model: torch.nn.Module) -> Cell:
    """The cell of a trained language model, with its read-out and its input embedding."""
    name = getattr(model, "model_name", "")
    if name in SCRATCH:
        kind, names = SCRATCH[name]
        return Cell(
            kind,
            W_x={g: _f64(getattr(model, wx)) for g, (wx, _, _) in names.items()},
            W_h={g: _f64(getattr(model, wh)) for g, (_, wh, _) in names.items()},
            b={g: _f64(getattr(model, bb)) for g, (_, _, bb) in names.items()},
            W_hq=_f64(model.W_hq),
            b_q=_f64(model.b_q),
        )
    rnn = getattr(model, "rnn", None)
    if name not in TORCH_GATES or not isinstance(rnn, torch.nn.RNNBase):
        raise ProbeError(f"cannot look inside a {name or type(model).__name__!r} model")
    if rnn.bidirectional:
        raise ProbeError("the probe reads one-direction models; this one is bidirectional")
    if name == "rnn" and rnn.nonlinearity != "tanh":
        raise ProbeError("the probe reads tanh RNNs")
    cell = None
    for layer in range(rnn.num_layers):
        cell = _layer(rnn, name, layer, below=cell)
    assert cell is not None
    cell.W_hq, cell.b_q = _f64(model.linear.weight.T), _f64(model.linear.bias)
    bottom = cell
    while bottom.below is not None:
        bottom = bottom.below
    bottom.embedding = _f64(model.embedding.weight) if model.embedding is not None else None
    return cell


def _layer(rnn: torch.nn.RNNBase, name: str, layer: int, below: Cell | None) -> Cell:
    """Layer `layer` of a concise recurrent layer stack, torch's gates split into the probe's."""
    gates = TORCH_GATES[name]
    w_ih = getattr(rnn, f"weight_ih_l{layer}").chunk(len(gates))
    w_hh = getattr(rnn, f"weight_hh_l{layer}").chunk(len(gates))
    zeros = torch.zeros(len(gates) * rnn.hidden_size, device=w_hh[0].device)
    b_ih = (getattr(rnn, f"bias_ih_l{layer}") if rnn.bias else zeros).chunk(len(gates))
    b_hh = (getattr(rnn, f"bias_hh_l{layer}") if rnn.bias else zeros).chunk(len(gates))
    cell = Cell(
        name,
        W_x={g: _f64(w.T) for g, w in zip(gates, w_ih, strict=True)},
        W_h={g: _f64(w.T) for g, w in zip(gates, w_hh, strict=True)},
        b={g: _f64(bi + bh) for g, bi, bh in zip(gates, b_ih, b_hh, strict=True)},
        below=below,
        two_biases=bool(rnn.bias),
    )
    if name == "gru":  # the candidate's hidden-side bias stays inside the reset gate
        cell.b["h"] = _f64(b_ih[2])
        cell.b_hh["h"] = _f64(b_hh[2])
    return cell


__all__ = ["cell_of"]
