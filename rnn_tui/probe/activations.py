"""What the hidden units do on a text (Karpathy's char-rnn visualisations, LSTMVis): the matrix of
hidden states (and gates) against the tokens, units ranked by how they follow a feature, and one
step of the cell unrolled with its numbers (the seeds' "I am not happy" walk-through, d2l §8.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnn_tui.probe.cell import Cell, ProbeError, Progress, StepWatch, layer_inputs, unroll
from rnn_tui.probe.options import FEATURE_NAMES, WORD_FEATURE_NAMES


@dataclass(frozen=True)
class Activations:
    """Per step t and unit j: "h" (T, H), and for a gated cell its gates ("z", "r" for a GRU;
    "i", "f", "o" and the memory "c" for an LSTM), as float arrays."""

    tokens: list[str]
    values: dict[str, np.ndarray]

    @property
    def hidden(self) -> int:
        return self.values["h"].shape[1]


@torch.no_grad()
def activations(
    cell: Cell, ids: list[int], tokens: list[str], progress: Progress | None = None
) -> Activations:
    """The hidden states and gates of `cell` reading the token ids (from h_0 = 0); `progress`
    is told of each step (1,000 tokens of a stacked LSTM take about a second)."""
    if not ids:
        raise ProbeError("the text is empty: type at least one token")
    steps = unroll(cell, cell.encode(ids), StepWatch(progress, "reading the text", len(ids)))
    names = [k for k in steps[0] if k != "candidate"]
    values = {k: torch.cat([s[k] for s in steps]).numpy() for k in names}
    return Activations(list(tokens), values)


def _word_position(tokens: list[str]) -> np.ndarray:
    out, n = [], 0
    for tok in tokens:
        n = 0 if not tok.strip() else n + 1
        out.append(n)
    return np.array(out, dtype=float)


def _in_quotes(tokens: list[str]) -> np.ndarray:
    out, inside = [], False
    for tok in tokens:
        if tok in ('"', "'", "“", "”"):
            inside = not inside
        out.append(float(inside))
    return np.array(out)


# English's most frequent function words (articles, pronouns, prepositions, auxiliaries): the
# words a word model sees most, whose units an LSTMVis study finds first.
FUNCTION_WORDS = frozenset(
    "a an the and or but of to in on at by for with from as that this it its i me my we you he "
    "him his she her they them their was were is are be been had have has do did not so no "
    "there which who what all".split()
)

# What a unit may follow, one value per token: for characters the features of Karpathy's
# char-rnn study, for words their length, whether each is a function word, and the position.
FEATURES = dict(
    zip(
        FEATURE_NAMES + WORD_FEATURE_NAMES,
        (
            lambda toks: np.array([float(not t.strip()) for t in toks]),
            lambda toks: np.array([float(t.lower() in "aeiou") for t in toks]),
            _word_position,
            _in_quotes,
            lambda toks: np.array([float(len(t)) for t in toks]),
            lambda toks: np.array([float(t.lower() in FUNCTION_WORDS) for t in toks]),
            lambda toks: np.arange(len(toks), dtype=float),
        ),
        strict=True,
    )
)


def feature_values(name: str, tokens: list[str]) -> np.ndarray:
    """One value per token of the feature `name` (FEATURES)."""
    if name not in FEATURES:
        raise ProbeError(f"feature must be one of {', '.join(FEATURES)}, got {name!r}")
    return FEATURES[name](tokens)


def rank_units(matrix: np.ndarray, feature: np.ndarray) -> list[tuple[int, float]]:
    """Units ordered by |correlation| of their activation with `feature` (one value per step,
    e.g. 1 on spaces): (unit, correlation), strongest first; a constant unit scores 0."""
    if len(feature) != len(matrix):
        raise ProbeError("the feature needs one value per token")
    x = matrix - matrix.mean(0)
    f = feature - feature.mean()
    denominator = np.sqrt((x**2).sum(0) * (f**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(denominator > 0, (x * f[:, None]).sum(0) / denominator, 0.0)
    order = np.argsort(-np.abs(corr), kind="stable")
    return [(int(j), float(corr[j])) for j in order]


def _top(cell: Cell) -> Cell:
    """The top layer alone (it reads `layer_inputs`)."""
    if cell.below is None:
        return cell
    return Cell(cell.kind, cell.W_x, cell.W_h, cell.b, cell.b_hh, cell.W_hq, cell.b_q)


@dataclass(frozen=True)
class UnrolledStep:
    """Step t of an RNN-style update with the numbers: x_t W_xh, h_{t−1} W_hh, h_t, the change
    from h_{t−1}, and the seeds' check that the two products add up to one product of the
    concatenations (the largest absolute difference, ≈ 1e-16)."""

    t: int
    token: str
    h_prev: np.ndarray
    h: np.ndarray
    x_part: np.ndarray  # x_t W_xh
    h_part: np.ndarray  # h_{t−1} W_hh
    concat_part: np.ndarray  # concat(x_t, h_{t−1}) · concat(W_xh, W_hh)
    concat_error: float
    # The two weights' names: the LSTM's products are its memory candidate's, W_xc and W_hc.
    weights: tuple[str, str] = ("W_xh", "W_hh")
    # What the recurrent weight multiplies: the d2l GRU's candidate reads r_t ⊙ h_{t−1}.
    h_read: str = "h_{t−1}"
    note: str = ""  # how the cell uses the products, where that is not plain addition
    layers: int = 1  # the model's: the step shown is its top layer's, reading the one below


@torch.no_grad()
def unrolled_step(cell: Cell, ids: list[int], tokens: list[str], t: int) -> UnrolledStep:
    """Step `t` (1-based) of the cell reading `ids`: the candidate's two products (W_xh and
    W_hh of the RNN, of the GRU's candidate, of the LSTM's memory candidate) and the check."""
    if not 1 <= t <= len(ids):
        raise ProbeError(f"step must be in [1, {len(ids)}], got {t}")
    xs = layer_inputs(cell, cell.encode(ids))  # a stacked cell: what its top layer reads
    hs = torch.cat([values["h"] for values in unroll(_top(cell), xs[:t])])
    return step_at(cell, xs, hs, tokens, t)


@torch.no_grad()
def step_at(
    cell: Cell, xs: torch.Tensor, hs: torch.Tensor, tokens: list[str], t: int
) -> UnrolledStep:
    """`unrolled_step` from what a reading already gave: the top layer's inputs xs (T, ·) and
    its states hs (≥ t, H) — no unrolling, so moving the step along a long text is instant."""
    if not 1 <= t <= min(len(xs), len(hs)):
        raise ProbeError(f"step must be in [1, {min(len(xs), len(hs))}], got {t}")
    h_prev = hs[t - 2] if t > 1 else torch.zeros(cell.hidden, dtype=xs.dtype)
    gate = "c" if cell.kind == "lstm" else "h"
    W_xh, W_hh = cell.W_x[gate], cell.W_h[gate]
    h_read, h_label, note = h_prev, "h_{t−1}", ""
    if cell.kind == "gru":
        x = xs[t - 1]
        r = torch.sigmoid(x @ cell.W_x["r"] + h_prev @ cell.W_h["r"] + cell.b["r"])
        if "h" in cell.b_hh:  # torch's GRU: the reset gate multiplies the product and b_hn
            note = "the candidate is tanh(x·W_xh + b + r_t ⊙ (h·W_hh + b_hh))"
        else:  # d2l's: the product reads the reset state (R_t ⊙ H_{t−1}) W_hh
            h_read, h_label = r * h_prev, "(r_t⊙h_{t−1})"
            note = "the candidate is tanh(x·W_xh + (r_t⊙h)·W_hh + b)"
    x_part, h_part = xs[t - 1] @ W_xh, h_read @ W_hh
    concat = torch.cat((xs[t - 1], h_read)) @ torch.cat((W_xh, W_hh), 0)
    return UnrolledStep(
        t,
        tokens[t - 1],
        h_prev.numpy(),
        hs[t - 1].numpy(),
        x_part.numpy(),
        h_part.numpy(),
        concat.numpy(),
        float((x_part + h_part - concat).abs().max()),
        ("W_xc", "W_hc") if cell.kind == "lstm" else ("W_xh", "W_hh"),
        h_label,
        note,
        cell.layers,
    )


__all__ = [
    "FEATURES",
    "Activations",
    "UnrolledStep",
    "activations",
    "feature_values",
    "rank_units",
    "step_at",
    "unrolled_step",
]
