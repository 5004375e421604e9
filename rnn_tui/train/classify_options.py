"""The names classifier's options (many-to-one), declared once (rnn_tui.options), without torch.

The defaults follow the PyTorch names tutorial's scale: a character GRU with 128 hidden units
reading each name, minibatches of 64, Adam. The held-out part is the bundled names' fixed
stratified split (data/names_split.py). The classes are unbalanced: `balance` weights the loss
by inverse class frequency or samples the classes evenly.
"""

from __future__ import annotations

from rnn_tui.models.names import CLASSIFIER_KINDS
from rnn_tui.options import Option
from rnn_tui.train.options import pick

BALANCE = ("none", "weights", "sampling")

CLASSIFY_OWN = (
    Option(
        "balance",
        str,
        "none",
        "unbalanced classes: none, a loss weighted by inverse class frequency, or minibatches "
        "that sample every class equally often",
        choices=BALANCE,
    ),
    Option(
        "max_names",
        int,
        -1,
        "training names used (auto: all), taken evenly through the names and at least one of "
        "each class; the held-out part never changes",
        minimum=18,
        maximum=1_000_000,
        unset=-1,
        unset_label="all",
        typed_unset=False,
        label="max names",
        metavar="N",
    ),
)

CLASSIFY_OPTIONS = CLASSIFY_OWN + pick(
    "model",
    "layers",
    "bidirectional",
    "hidden",
    "embed",
    "batch_size",
    "lr",
    "optimizer",
    "epochs",
    "clip",
    "device",
    "seed",
    "sample_every",
    "log_every",
    model=dict(
        default="gru",
        choices=CLASSIFIER_KINDS,
        help="the recurrent cell reading each name (decides from its final state)",
        hint="",
    ),
    bidirectional=dict(help="also read each name backwards; both directions' finals decide"),
    embed=dict(default=0, help="embedding size, 0 = one-hot characters"),
    hidden=dict(default=128),
    batch_size=dict(default=64, help="names per minibatch"),
    lr=dict(default=0.005, help="learning rate"),
    optimizer=dict(default="adam"),
    epochs=dict(default=10),
    clip=dict(default=5.0),
)

__all__ = ["BALANCE", "CLASSIFY_OPTIONS"]
