"""The gradient probe's options, declared once (rnn_tui.options), without torch: read by
`rnn-tui gradients` and the Gradients screen."""

from __future__ import annotations

from rnn_tui.options import Option

PROBE_CELLS = ("rnn", "gru", "lstm", "linear")
MAX_LENGTH = 5_000  # steps: each keeps its states in the graph (a backward through all of them)
MAX_HIDDEN = 1_024

GRADIENT_OPTIONS = (
    Option(
        "cell",
        str,
        "rnn",
        "a fresh cell: tanh RNN, GRU, LSTM, or a linear RNN (the closed form's case)",
        choices=PROBE_CELLS,
    ),
    Option(
        "checkpoint",
        str,
        "",
        "a language model's checkpoint (or run directory) whose cell to look into instead of "
        "a fresh one (one direction; the top layer of a stack)",
        unset="",
        unset_label="a fresh cell",
        metavar="PATH",
    ),
    Option(
        "length",
        int,
        100,
        "T: steps of the sequence (the loss is at step T)",
        minimum=1,
        maximum=MAX_LENGTH,
        metavar="T",
    ),
    Option(
        "init_scale",
        float,
        1.0,
        "a fresh cell's recurrent weights: a random orthogonal matrix times this, so ρ(W_hh) "
        "is exactly it (below 1 vanishes, above 1 explodes)",
        minimum=0.0,
        maximum=100.0,
        open_minimum=True,
        label="init scale",
        metavar="S",
    ),
    Option(
        "gate_bias",
        float,
        1.0,
        "a fresh cell's bias on the LSTM's forget gate and the GRU's update gate: the larger, "
        "the more of h_{t−1} (c_{t−1}) each step keeps (1 is the usual forget-gate bias)",
        minimum=-20.0,
        maximum=20.0,
        label="gate bias",
        metavar="B",
    ),
    Option(
        "hidden",
        int,
        32,
        "hidden units of a fresh cell",
        minimum=1,
        maximum=MAX_HIDDEN,
        metavar="H",
    ),
    Option(
        "text",
        str,
        "",
        "the sequence a checkpoint's model reads, tokenized as it was trained (a fresh cell "
        "always reads random one-hot inputs)",
        unset="",
        unset_label="random tokens",
        metavar="TEXT",
    ),
    Option(
        "clip",
        float,
        1.0,
        "θ of the clipping shown: g ← min(1, θ/‖g‖) g",
        minimum=0.0,
        maximum=1e9,
        open_minimum=True,
        metavar="θ",
    ),
    Option(
        "truncate",
        int,
        10,
        "τ of the truncated BPTT compared with the full gradient",
        minimum=1,
        maximum=MAX_LENGTH,
        metavar="τ",
    ),
    Option(
        "seed",
        int,
        0,
        "seed of a fresh cell's weights and of random inputs",
        minimum=0,
        maximum=2**32 - 1,
        metavar="S",
    ),
)

# What a hidden unit may follow, one value per token (probe.activations.FEATURES computes them),
# by token level: a word is never a space nor a vowel, so a character's features read 0 for
# every unit of a word model.
FEATURE_NAMES = ("space", "vowel", "word position", "inside quotes")
WORD_FEATURE_NAMES = ("word length", "function word", "position")
FEATURES_BY_TOKEN = {"char": FEATURE_NAMES, "word": WORD_FEATURE_NAMES}

__all__ = [
    "FEATURES_BY_TOKEN",
    "FEATURE_NAMES",
    "GRADIENT_OPTIONS",
    "MAX_LENGTH",
    "PROBE_CELLS",
    "WORD_FEATURE_NAMES",
]
