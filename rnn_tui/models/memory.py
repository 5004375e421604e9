"""How much memory training a model takes, estimated before anything is allocated.

The parameters are counted exactly on a model built on torch's "meta" device (shapes only, no
storage). Training keeps, in float32: the weights, their gradients, the optimizer's state (none
for plain SGD, two moments for Adam), and what autograd holds for backpropagation through time —
per time step and sequence, every layer's hidden state and gates (at most four gates and a cell,
both directions) and the output's logits with their softmax. The activation part is a rough
upper-bound estimate; the parameter part is exact.

Beyond what is kept, a step needs room for a while: a fused LSTM's forward copies its weights,
its backward computes each weight's gradient into new tensors before adding them up and reads
transposed copies of the weights. Measured peaks on the CPU (torch 2.13, word-level Time
Machine, hidden and embedding 4096) ran 1.7–2.4 times the parameters above the weights and
gradients; `workspace` is 3 times, so a model that passes the check is not killed by the
system's out-of-memory killer on its first step (one that passed at 17.8 GiB of 21.7 free
grew past 22 GiB). A concise RNN, GRU or LSTM (or a tagger or classifier built of one) whose passes
may run through the C chains gets 5 times (CHAINED_WORKSPACE_FACTOR).
"""

from __future__ import annotations

from collections.abc import Mapping

from rnn_tui.models.concise_chain import CELLS
from rnn_tui.models.names import CLASSIFIER_MODEL, TAGGER_MODEL
from rnn_tui.models.registry import build_skeleton, count_parameters

BYTES = 4  # float32
GATE_FACTOR = 8  # hidden state, ≤ 4 gates, cell, and their pre-activations, per layer and step
WORKSPACE_FACTOR = 3  # a step's temporaries, in copies of the parameters (measured: ≤ 2.4)
# A concise RNN's or LSTM's pass through the C chains (concise_chain.py) copies its recurrent
# weights in the chains' order and layout, and its first training pass runs both ways to time
# them: measured ≤ 4.1 (hidden and embedding 1536, the peak test's model).
CHAINED_WORKSPACE_FACTOR = 5


def parameter_count(config: Mapping) -> int:
    """The number of parameters the model of `config` has (ModelError for a bad config)."""
    return count_parameters(build_skeleton(config))


def training_bytes(
    config: Mapping, batch_size: int, num_steps: int, optimizer: str
) -> dict[str, int]:
    """{"parameters", "gradients", "optimizer", "activations", "workspace", "total"} in
    bytes."""
    params = parameter_count(config)
    hidden = int(config.get("hidden", 0))
    layers = int(config.get("layers", 1))
    directions = 2 if config.get("bidirectional") else 1
    embed = int(config.get("embed", 0) or 0)
    # Logits per step: a tagger's tags, a language model's or decoder's vocabulary.
    outputs = int(
        config.get("tags") or config.get("vocab_size") or config.get("tgt_vocab_size") or 0
    )
    per_step = layers * directions * hidden * GATE_FACTOR + 3 * outputs + embed
    parts = {
        "parameters": params * BYTES,
        "gradients": params * BYTES,
        "optimizer": params * BYTES * (2 if optimizer == "adam" else 0),
        "activations": batch_size * num_steps * per_step * BYTES,
        "workspace": params * BYTES * _workspace_factor(config),
    }
    parts["total"] = sum(parts.values())
    return parts


def _workspace_factor(config: Mapping) -> int:
    """CHAINED_WORKSPACE_FACTOR for a language model, tagger or classifier whose training
    passes may run through the C chains (concise_chain.chainable: nn.RNN, nn.GRU or nn.LSTM
    layers without dropout between them), else WORKSPACE_FACTOR."""
    readers = (TAGGER_MODEL, CLASSIFIER_MODEL)
    cell = config.get("kind") if config.get("model") in readers else config.get("model")
    chained = cell in CELLS and not float(config.get("dropout") or 0)
    return CHAINED_WORKSPACE_FACTOR if chained else WORKSPACE_FACTOR


def size_text(n: float) -> str:
    """Bytes for people: "812 MiB", "37.2 GiB"."""
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB"
    return f"{n / 2**20:,.0f} MiB"


__all__ = ["parameter_count", "size_text", "training_bytes"]
