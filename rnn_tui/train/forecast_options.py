"""The forecast task's options, declared once (rnn_tui.options), without torch.

The defaults are the seeds' run (d2l §8.1): x_t = sin(0.01 t) + N(0, 0.2) for t = 1..1000, τ = 4,
the first 600 feature–label pairs train, minibatches of 16, the MLP 4 → 10 → 1, MSE, Adam with
lr 0.01, 5 epochs. The options shared with the other tasks are picked from train/options.py
with this task's defaults.
"""

from __future__ import annotations

import re

from rnn_tui.models.names import FORECAST_KINDS, MAX_HIDDEN, MAX_TAU
from rnn_tui.options import Option
from rnn_tui.quoting import quoted
from rnn_tui.train.options import pick

FIRST_POSITIONS = ("drop", "pad")
SCALING = ("auto", "on", "off")
MAX_HORIZON = 10_000
MAX_SERIES = 1_000_000  # points: a latent model's held-out scoring steps through each one
# Spaces around the commas are fine ("1, 4, 16", as people write lists).
HORIZONS_PATTERN = r"\s*[0-9]+\s*(,\s*[0-9]+\s*){0,7}"  # ASCII digits: \d takes "١٢"


def parse_horizons(text: str) -> tuple[int, ...]:
    """ "1,4,16,64" or "1, 4, 16, 64" → (1, 4, 16, 64): distinct, increasing, each in
    [1, MAX_HORIZON]; ValueError with a line for people otherwise."""
    if not re.fullmatch(HORIZONS_PATTERN, text):
        raise ValueError(
            f"horizons must be up to 8 whole numbers separated by commas (got {quoted(text)})"
        )
    values = tuple(sorted({int(part) for part in text.split(",")}))
    if values[0] < 1 or values[-1] > MAX_HORIZON:
        raise ValueError(f"horizons must be in [1, {MAX_HORIZON:,}] (got {quoted(text)})")
    return values


FORECAST_OWN = (
    Option(
        "series",
        str,
        "sine",
        "the series: the seeds' noisy sine, the bundled airline passengers, or a CSV file",
        presets=(("sine (the seeds')", "sine"), ("airline passengers", "airline")),
        metavar="sine|airline|PATH",
        empty_ok=False,
        extra={"file": "a CSV file", "path_hint": "a CSV file, or one value a line"},
    ),
    Option(
        "column",
        str,
        "",
        "the CSV column holding the values (default: its only numeric column)",
        metavar="NAME",
        form=False,
    ),
    Option(
        "length",
        int,
        1000,
        "T: points of the sine series",
        minimum=10,
        maximum=MAX_SERIES,
        label="T (sine)",
        metavar="T",
    ),
    Option(
        "noise_seed",
        int,
        0,
        "seed of the sine's N(0, 0.2) noise",
        minimum=0,
        maximum=2**32 - 1,
        label="noise seed",
        metavar="S",
    ),
    Option("tau", int, 4, "τ: previous values the AR model reads", minimum=1, maximum=MAX_TAU),
    Option(
        "first",
        str,
        "drop",
        "the first τ points, which lack τ predecessors: drop them or pad with zeros",
        choices=FIRST_POSITIONS,
        extra={"switches": True},  # --drop, --pad
    ),
    Option(
        "n_train",
        int,
        -1,
        "feature-label pairs that train, the rest are held out (auto: 60% of the sine = "
        "the seeds' 600, 80% of another series)",
        minimum=1,
        maximum=MAX_SERIES,
        unset=-1,
        unset_label="auto",
        typed_unset=False,
        label="n_train",
        metavar="N",
    ),
    Option("log", bool, False, "forecast the log of the series (variance growing with level)"),
    Option("diff", bool, False, "forecast first differences (a trend)"),
    Option(
        "scale",
        str,
        "auto",
        "standardise with the training part's mean and std (auto: off for the sine, as the "
        "seeds, on otherwise)",
        choices=SCALING,
    ),
    Option(
        "period",
        int,
        0,
        "season length of the seasonal-naive baseline (0: found from the training part)",
        minimum=0,
        maximum=MAX_SERIES,
        metavar="M",
    ),
    Option(
        "horizons",
        str,
        "1,4,16,64",
        "k of the k-step-ahead predictions scored",
        pattern=HORIZONS_PATTERN,
        extra={"pattern_help": "up to 8 whole numbers separated by commas"},
        metavar="K,K,…",
        empty_ok=False,
    ),
)

FORECAST_OPTIONS = FORECAST_OWN + pick(
    "encoding",
    "model",
    "layers",
    "hidden",
    "batch_size",
    "num_steps",
    "lr",
    "optimizer",
    "epochs",
    "clip",
    "device",
    "seed",
    "sample_every",
    "log_every",
    encoding=dict(help="text encoding of a CSV series file"),
    model=dict(
        default="mlp",
        choices=FORECAST_KINDS,
        help="mlp: the AR model on τ values; rnn/gru/lstm: a latent AR model over the series",
        hint="",
    ),
    layers=dict(help="stacked recurrent layers (latent models)"),
    hidden=dict(default=10, maximum=MAX_HIDDEN, help="hidden units (the seeds' MLP: 10)"),
    batch_size=dict(default=16, help="feature-label pairs per minibatch"),
    num_steps=dict(
        default=32, help="values a latent model reads before each training label (BPTT length)"
    ),
    lr=dict(default=0.01, help="learning rate (the seeds: 0.01 with Adam)"),
    optimizer=dict(default="adam", help="Adam as the seeds, or SGD"),
    epochs=dict(default=5, help="epochs in total (the seeds: 5)"),
    clip=dict(default=100.0, help="gradient clipping threshold θ (high: the seeds do not clip)"),
    seed=dict(help="random seed (weights, minibatch order)"),
    sample_every=dict(help="a forecast summary every N epochs (0: never)"),
)

# The Forecast screen trains the AR model and a latent AR model side by side: this picks the
# latter (one `--model` each; "none" trains the MLP alone).
LATENT_KINDS = tuple(kind for kind in FORECAST_KINDS if kind != "mlp")
LATENT = Option(
    "latent",
    str,
    "gru",
    "the latent autoregressive model trained beside the MLP on the same split (none: the MLP "
    "alone)",
    choices=(*LATENT_KINDS, "none"),
    label="latent",
)

__all__ = ["FORECAST_OPTIONS", "LATENT", "LATENT_KINDS", "MAX_HORIZON", "parse_horizons"]
