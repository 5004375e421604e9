"""One gradient probe from options, for `rnn-tui gradients` and the Gradients screen: the cell
(fresh, or a checkpoint's), its input sequence, the loss at step T, and what BPTT does — the
norm reaching each step, ρ(W_hh), the closed form for a linear cell, clipping and truncation."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Any

import torch

from rnn_tui.probe.cell import (
    Cell,
    ProbeError,
    Progress,
    StepWatch,
    fresh_cell,
    recurrent_name,
    unroll,
)
from rnn_tui.probe.factors import step_factors
from rnn_tui.probe.gradients import (
    Clipping,
    GradientFlow,
    Truncation,
    clipping,
    decay_rate,
    flow_of,
    gradient_flow,
    truncation,
)
from rnn_tui.probe.weights import cell_of
from rnn_tui.quoting import quoted

FRESH_INPUTS = 28  # one-hot symbols a fresh cell reads (as many as the seeds' characters)


@dataclass(frozen=True)
class Source:
    """A cell to probe, the token ids it reads (and their text), and the target of the loss."""

    cell: Cell
    ids: list[int]
    tokens: list[str]
    target: int | None
    name: str  # "fresh rnn" or the checkpoint's model and path
    vocab: Any = None  # the checkpoint's Vocab (None for a fresh cell)
    token: str = "char"
    mode: str = "clean"
    warnings: tuple[str, ...] = ()  # what is not read as typed: characters, a cut text


def load_cell(path: str | os.PathLike):
    """(cell, loaded language model) of a checkpoint; ProbeError (one line) otherwise."""
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.checkpoints.device import DeviceError
    from rnn_tui.data.errors import DataError
    from rnn_tui.decode.generate import load_lm
    from rnn_tui.models.base import ModelError

    try:
        lm = load_lm(path, "cpu", purpose="looking inside a cell")
    except (CheckpointError, DataError, ModelError, DeviceError) as exc:
        raise ProbeError(str(exc)) from None
    except OSError as exc:
        raise ProbeError(f"cannot read {path}: {exc.strerror or exc}") from None
    return cell_of(lm.model), lm


def corpus_start(checkpoint: str, chars: int) -> str:
    """The start of the corpus `checkpoint` was trained on (its config's, read in its encoding),
    for the Flow tab's "checkpoint · corpus" curve: it read The Time Machine whatever the
    model had learnt, and a model of another text saw mostly <unk>."""
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.checkpoints.checkpoint import load_checkpoint
    from rnn_tui.data.errors import DataError
    from rnn_tui.data.sources import read_text_start

    try:
        config = load_checkpoint(checkpoint).config
        corpus = config.get("corpus") or "timemachine"
        return read_text_start(str(corpus), str(config.get("encoding") or "utf-8"), chars)
    except (CheckpointError, DataError, OSError) as exc:
        raise DataError(f"cannot read the checkpoint's corpus: {exc}") from None


def source(options: dict) -> Source:
    """The cell and the sequence the options ask for (validated options: see options.py)."""
    length, seed = int(options["length"]), int(options["seed"])
    g = torch.Generator().manual_seed(seed)
    path = str(options.get("checkpoint") or "")
    if not path:
        kind = str(options["cell"])
        scale, bias = float(options["init_scale"]), float(options["gate_bias"])
        cell = fresh_cell(kind, int(options["hidden"]), FRESH_INPUTS, scale, seed, bias)
        ids = torch.randint(FRESH_INPUTS, (length,), generator=g).tolist()
        return Source(cell, ids, [str(i) for i in ids], None, f"fresh {kind}")
    cell, lm = load_cell(path)
    text = str(options.get("text") or "")
    if text:
        encoded = encode_text(text, lm)
        ids, tokens = encoded.ids[:length], encoded.tokens[:length]
        warnings = encoded.warnings() + [cut_message(len(encoded.ids), length, lm.token)]
    else:
        ids = torch.randint(len(lm.vocab), (length,), generator=g).tolist()
        tokens = [lm.vocab.idx_to_token[i] for i in ids]
        warnings = []
    # The checkpoint's own first (a run's best that failed its check: its last is read).
    warnings = list(lm.warnings) + warnings
    with torch.no_grad():
        h = unroll(cell, cell.encode(ids))[-1]["h"]
        target = int((h @ cell.W_hq + cell.b_q).argmax())  # the model's own next guess
    name = f"{getattr(lm.model, 'model_name', '?')} from {lm.path}"
    notes = tuple(w for w in warnings if w)
    return Source(cell, list(ids), list(tokens), target, name, lm.vocab, lm.token, lm.mode, notes)


def encode_text(text: str, lm):
    """`text` as the checkpoint's model reads it (a Prefix, its warnings naming "text");
    ProbeError (one line) when cleaning leaves nothing but spaces: a text of spaces typed is
    refused as empty, and "  !!! " is read as the same."""
    from rnn_tui.data.errors import DataError
    from rnn_tui.data.prefix import clean_prefix, encode_prefix

    try:
        if text and not clean_prefix(text, lm.mode).strip():
            kept = " (the model reads letters a–z only)" if lm.mode == "clean" else ""
            raise ProbeError(f"the text {quoted(text)} has nothing to read after cleaning{kept}")
        return encode_prefix(text, lm.vocab, lm.token, lm.mode, what="text")
    except DataError as exc:
        raise ProbeError(str(exc)) from None


def cut_message(count: int, kept: int, token: str = "char") -> str:
    """The note for a text longer than the steps read ("" when it is not)."""
    if count <= kept:
        return ""
    return f"the text is {count:,} {token} tokens long: only the first {kept:,} are read"


@dataclass(frozen=True)
class GradientReport:
    source: str
    cell: str
    length: int
    hidden: int
    flow: GradientFlow
    decay_per_step: float | None
    clip: Clipping
    truncation: Truncation
    truncate: int = 0  # the τ asked for: truncation.tau is at most the length
    warnings: tuple[str, ...] = ()  # the text not read as typed, a τ past the length
    # A stacked model's layers: every figure is its top layer's (the lower ones feed it x_t).
    layers: int = 1

    @property
    def weight(self) -> str:
        """The recurrent weight ρ and truncation are of: W_hc for an LSTM, else W_hh."""
        return recurrent_name(self.cell)

    def to_json(self) -> dict:
        """The report as JSON values; a norm that overflowed (inf) or is NaN is null."""
        return _finite(self._fields())

    def _fields(self) -> dict:
        flow = asdict(self.flow)
        return {
            "source": self.source,
            "cell": self.cell,
            "length": self.length,
            "hidden": self.hidden,
            "layers": self.layers,
            "recurrent_weight": self.weight,
            "spectral_radius": flow.pop("spectral_radius"),
            "loss": flow.pop("loss"),
            "norms": flow["norms"],
            "predicted": flow["predicted"],
            "decay_per_step": self.decay_per_step,
            "clip": asdict(self.clip),
            "truncation": asdict(self.truncation),
            "warnings": list(self.warnings),
        }


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def gradient_report(options: dict, progress: Progress | None = None) -> GradientReport:
    """Everything `rnn-tui gradients` prints, for `options` (ProbeError: one line); `progress`
    is told how far each of its passes has come."""
    src = source(options)
    xs = src.cell.encode(src.ids)
    # One backward pass gives the gradient reaching each h_t, the weight gradient clipping
    # scales and the terms truncation splits (factors.py); the truncated gradient is another,
    # over the last τ steps only, from the state that pass kept.
    asked = int(options["truncate"])
    seed, tau = int(options["seed"]), min(asked, len(xs))
    warnings = src.warnings
    if asked > tau:  # said, not silently shown as another value
        warnings += (f"τ = {asked:,} is more than the {tau:,} steps: τ = {tau:,}, the whole "
                     "sequence (truncation drops nothing)",)  # fmt: skip
    watch = StepWatch(progress, "gradient flow, clipping and BPTT terms", len(xs))
    factors = step_factors(src.cell, xs, src.target, watch, seed, keep_state_at=len(xs) - tau)
    flow = flow_of(src.cell, factors)
    clip = clipping(src.cell, xs, float(options["clip"]), src.target, factors=factors)
    cut = truncation(src.cell, xs, tau, src.target, progress, factors, seed)
    return GradientReport(
        src.name,
        src.cell.kind,
        len(xs),
        src.cell.hidden,
        flow,
        decay_rate(flow.norms),
        clip,
        cut,
        asked,
        warnings,
        src.cell.layers,
    )


def compare_flows(
    length: int,
    hidden: int,
    small: float,
    large: float,
    gate_bias: float,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[tuple[str, GradientFlow]]:
    """The seeds' three cases on one random sequence: a tanh RNN with ρ(W_hh) = `small`
    (vanishes), one with ρ = `large` (explodes unless tanh saturates), an LSTM whose forget
    gate has bias `gate_bias` (keeps the signal), and a linear RNN with ρ = `small`, whose
    closed form is in its `predicted`."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(FRESH_INPUTS, (length,), generator=g)
    xs = torch.nn.functional.one_hot(ids, FRESH_INPUTS).to(torch.float64)
    cases = [
        (f"tanh ρ={small:g}", fresh_cell("rnn", hidden, FRESH_INPUTS, small, seed)),
        (f"tanh ρ={large:g}", fresh_cell("rnn", hidden, FRESH_INPUTS, large, seed)),
        (
            f"lstm f-bias {gate_bias:g}",
            fresh_cell("lstm", hidden, FRESH_INPUTS, 1.0, seed, gate_bias),
        ),
        (f"linear ρ={small:g}", fresh_cell("linear", hidden, FRESH_INPUTS, small, seed)),
    ]
    return [
        (label, gradient_flow(cell, xs, seed=seed, progress=progress, what=label))
        for label, cell in cases
    ]


__all__ = [
    "GradientReport",
    "Source",
    "compare_flows",
    "corpus_start",
    "cut_message",
    "encode_text",
    "gradient_report",
    "load_cell",
    "source",
]
