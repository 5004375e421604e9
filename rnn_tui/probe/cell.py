"""One recurrent cell, written out step by step in float64, for looking inside it (d2l §8.4,
§9.1, §9.2): the weights of any one-layer model (scratch or concise) or a fresh cell, the inputs as
vectors, and every hidden state, gate and cell state kept as a node of the autograd graph.

The training models fuse steps and gates for speed; this is the seeds' equations one line each,
so a gradient can be taken with respect to any h_t or input x_t, and a test can check that the
unrolled states equal the model's own:

    RNN     h_t = φ(x_t W_xh + h_{t−1} W_hh + b_h)              (φ = tanh; "linear": identity)
    GRU     z_t = σ(x_t W_xz + h_{t−1} W_hz + b_z),  r_t = σ(x_t W_xr + h_{t−1} W_hr + b_r)
            h̃_t = tanh(x_t W_xh + (r_t ⊙ h_{t−1}) W_hh + b_h)
            h_t = z_t ⊙ h_{t−1} + (1 − z_t) ⊙ h̃_t
    LSTM    i, f, o = σ(x_t W_x· + h_{t−1} W_h· + b_·),  c̃_t = tanh(x_t W_xc + h_{t−1} W_hc + b_c)
            c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t,   h_t = o_t ⊙ tanh(c_t)

A concise (nn.GRU) cell keeps a second bias inside the reset gate, r ⊙ (h W_hh + b_hn), which is
kept here too (`b_hh`), so the states match torch's to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

CELLS = ("rnn", "gru", "lstm", "linear")
GATES = {"rnn": ("h",), "linear": ("h",), "gru": ("z", "r", "h"), "lstm": ("i", "f", "o", "c")}
DTYPE = torch.float64


class ProbeError(ValueError):
    """A model or an input the probe cannot look into; one line for people."""


@dataclass
class Cell:
    """A cell's weights (float64): per gate g, W_x[g] (inputs, H), W_h[g] (H, H), b[g] (H,);
    `b_hh[g]` the hidden-side bias a concise GRU applies inside the reset gate; the read-out
    W_hq (H, V), b_q when it came from a language model; `embedding` (V, E) when its inputs are
    embeddings rather than one-hot vectors."""

    kind: str
    W_x: dict[str, torch.Tensor]
    W_h: dict[str, torch.Tensor]
    b: dict[str, torch.Tensor]
    b_hh: dict[str, torch.Tensor] = field(default_factory=dict)
    W_hq: torch.Tensor | None = None
    b_q: torch.Tensor | None = None
    embedding: torch.Tensor | None = None
    below: Cell | None = None  # the layer under this one in a stacked model (it reads x_t)
    # b[g] is torch's b_ih + b_hh (a concise layer): two parameters with one gradient each.
    two_biases: bool = False

    @property
    def layers(self) -> int:
        return 1 + (self.below.layers if self.below is not None else 0)

    @property
    def hidden(self) -> int:
        return next(iter(self.W_h.values())).shape[0]

    @property
    def inputs(self) -> int:
        return next(iter(self.W_x.values())).shape[0]

    @property
    def W_hh(self) -> torch.Tensor:
        """The recurrent weight of the candidate state (the RNN's W_hh; the LSTM's W_hc)."""
        return self.W_h["c" if self.kind == "lstm" else "h"]

    def encode(self, tokens: list[int]) -> torch.Tensor:
        """The input vectors x_1..x_T of token ids (T, the bottom layer's inputs): one-hot, or
        their embeddings."""
        if self.below is not None:
            return self.below.encode(tokens)
        ids = torch.tensor(tokens, dtype=torch.long)
        if self.embedding is not None:
            return self.embedding[ids].clone()
        return torch.nn.functional.one_hot(ids, self.inputs).to(DTYPE)


def recurrent_name(kind: str) -> str:
    """The seeds' name of the recurrent weight ρ and ∂L/∂W are taken of for a `kind` of cell:
    the LSTM's memory candidate's W_hc; the RNN's (and the GRU candidate's) W_hh."""
    return "W_hc" if kind == "lstm" else "W_hh"


def norm_of(g: torch.Tensor) -> float:
    """‖g‖ as a float, finite wherever it fits in one: torch sums the squares, which overflow
    once entries pass about 1e154, and a norm of 1e176 read as inf ("overflowed" at step 109
    of a linear ρ = 50 cell whose norms overflow only before step 18)."""
    value = float(g.norm())
    if math.isinf(value) or value == 0.0:  # squares past 1e308, or below 1e-308 (θ = 1e-200)
        largest = float(g.abs().max()) if g.numel() else 0.0
        if math.isfinite(largest) and largest > 0:
            value = largest * float((g / largest).norm())
    elif math.isnan(value) and bool(torch.isinf(g).any()):
        value = math.inf  # past float64: its overflowed entries made NaNs beside them
    return value


def spectral_radius(W: torch.Tensor) -> float:
    """ρ(W) = max |λ_i|: how much W stretches a vector per step in the long run."""
    return float(torch.linalg.eigvals(W.detach()).abs().max())


def fresh_cell(
    kind: str, hidden: int, inputs: int, init_scale: float, seed: int = 0, gate_bias: float = 0.0
) -> Cell:
    """A cell with random weights: each W_h is a random orthogonal matrix times `init_scale`, so
    ρ(W_hh) = init_scale exactly (below 1 vanishes, above 1 explodes); W_x ~ N(0, 1/inputs);
    `gate_bias` on the gate that keeps the past (the LSTM's forget gate f, the GRU's update
    gate z)."""
    if kind not in CELLS:
        raise ProbeError(f"cell must be one of {', '.join(CELLS)}, got {kind!r}")
    g = torch.Generator().manual_seed(seed)

    def orthogonal() -> torch.Tensor:
        q, r = torch.linalg.qr(torch.randn(hidden, hidden, generator=g, dtype=DTYPE))
        return q * torch.sign(torch.diagonal(r)) * init_scale

    gates = GATES[kind]
    keep = {"lstm": "f", "gru": "z"}.get(kind)
    return Cell(
        kind,
        W_x={
            k: torch.randn(inputs, hidden, generator=g, dtype=DTYPE) / math.sqrt(inputs)
            for k in gates
        },
        W_h={k: orthogonal() for k in gates},
        b={k: torch.full((hidden,), gate_bias if k == keep else 0.0, dtype=DTYPE) for k in gates},
    )


def step(
    cell: Cell,
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor | None = None,
    product: Callable[[str, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    pre: Callable[[str, torch.Tensor], torch.Tensor] | None = None,
) -> dict:
    """One step of the cell: {"h": h_t, "c": c_t (LSTM), gate name: its value}; x (B, inputs),
    h (B, H). `product(gate, u, W_h[gate])` computes each recurrent product u W_h (default
    u @ W), so a caller can watch what each one multiplies and the gradient it gets;
    `pre(gate, a)` sees each gate's pre-activation a (what its σ or tanh reads) and returns
    it (default: as it is), for the gradient reaching it."""
    W_x, W_h, b = cell.W_x, cell.W_h, cell.b

    def mm(g: str, u: torch.Tensor) -> torch.Tensor:
        return u @ W_h[g] if product is None else product(g, u, W_h[g])

    def seen(g: str, a: torch.Tensor) -> torch.Tensor:
        return a if pre is None else pre(g, a)

    def gate(g: str) -> torch.Tensor:
        return seen(g, x @ W_x[g] + mm(g, h) + b[g] + cell.b_hh.get(g, 0))

    if cell.kind in ("rnn", "linear"):
        a = gate("h")
        return {"h": torch.tanh(a) if cell.kind == "rnn" else a}
    if cell.kind == "gru":
        z = torch.sigmoid(gate("z"))
        r = torch.sigmoid(gate("r"))
        if "h" in cell.b_hh:  # torch's GRU: the reset gate multiplies h W_hh + b_hn
            a = x @ W_x["h"] + b["h"] + r * (mm("h", h) + cell.b_hh["h"])
        else:
            a = x @ W_x["h"] + mm("h", r * h) + b["h"]
        cand = torch.tanh(seen("h", a))
        return {"h": z * h + (1 - z) * cand, "z": z, "r": r, "candidate": cand}
    i, f, o = (torch.sigmoid(gate(g)) for g in ("i", "f", "o"))
    cand = torch.tanh(gate("c"))
    c = f * c + i * cand
    return {"h": o * torch.tanh(c), "c": c, "i": i, "f": f, "o": o, "candidate": cand}


State = tuple[torch.Tensor, torch.Tensor | None]  # (h_t, c_t): c_t for an LSTM only
Progress = Callable[[str], None]  # takes a line saying how far a measurement has come


class StepWatch:
    """How far one pass over T steps has come, as lines for `progress`: forward as each step
    runs, then backward as the gradient reaches each h_t (a hook on it). At 5,000 steps of a
    1,024-unit LSTM a pass takes half a minute. `progress` None: silent and free."""

    def __init__(self, progress: Progress | None, what: str, total: int) -> None:
        self.progress, self.what, self.total = progress, what, total
        self._back_to = total

    def below(self) -> StepWatch:
        """The watch of a stacked cell's lower layer."""
        return StepWatch(self.progress, f"{self.what} (layer below)", self.total)

    def __call__(self, t: int, h: torch.Tensor) -> None:
        """Step t (1-based) has made h."""
        if self.progress is None:
            return
        self.progress(f"{self.what}: step {t:,} of {self.total:,}")
        if h.requires_grad:
            h.register_hook(self._back)

    def _back(self, grad: torch.Tensor) -> None:
        self.progress(f"{self.what}: back to step {self._back_to:,} of {self.total:,}")
        self._back_to -= 1


def unroll(cell: Cell, xs: torch.Tensor, watch: StepWatch | None = None) -> list[dict]:
    """Every step's values for inputs xs (T, inputs), from h_0 = 0 (and c_0 = 0): a list of T
    dicts as `step` returns (of the top layer: a stacked cell's lower layers run first and feed
    it their h_t). `watch` is told of each step."""
    if cell.below is not None:
        below = watch.below() if watch is not None else None
        xs = torch.cat([values["h"] for values in unroll(cell.below, xs, below)])
    h = torch.zeros(1, cell.hidden, dtype=DTYPE)
    c = torch.zeros(1, cell.hidden, dtype=DTYPE) if cell.kind == "lstm" else None
    out = []
    for t, x in enumerate(xs, 1):
        values = step(cell, x.unsqueeze(0), h, c)
        h, c = values["h"], values.get("c")
        out.append(values)
        if watch is not None:
            watch(t, h)
    return out


@torch.no_grad()
def layer_inputs(cell: Cell, xs: torch.Tensor) -> torch.Tensor:
    """What the top layer of a stacked cell reads: the h_t of the layer below (xs itself for one
    layer). Without a graph: the top layer's weights are not used below it."""
    if cell.below is None:
        return xs
    return torch.cat([values["h"] for values in unroll(cell.below, xs)])


__all__ = [
    "CELLS",
    "Cell",
    "ProbeError",
    "Progress",
    "State",
    "StepWatch",
    "fresh_cell",
    "layer_inputs",
    "norm_of",
    "recurrent_name",
    "spectral_radius",
    "step",
    "unroll",
]
