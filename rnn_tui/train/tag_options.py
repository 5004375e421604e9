"""The tagger's options (many-to-many), declared once (rnn_tui.options), without torch.

A character GRU reads windows of the lower-cased Time Machine and tags every character
(capitalise it, the punctuation that follows it); `bidirectional` also reads each window
backwards, so each tag sees what follows. The defaults (128 hidden units over 32-dimensional
character embeddings, 10 epochs of Adam on minibatches of 16 windows of 100 characters) take
about half a minute one way and a minute both ways on two CPU cores. The held-out part is the
fixed last 10 % of the text (data/tag_split.py).
"""

from __future__ import annotations

from rnn_tui.models.names import CLASSIFIER_KINDS
from rnn_tui.options import Option
from rnn_tui.train.options import pick

TAG_OWN = (
    Option(
        "max_chars",
        int,
        -1,
        "training characters used (auto: all), the first ones of the training part; the "
        "held-out part never changes",
        minimum=1_000,
        maximum=100_000_000,
        unset=-1,
        unset_label="all",
        typed_unset=False,
        label="max chars",
        metavar="N",
    ),
)

TAG_OPTIONS = TAG_OWN + pick(
    "model",
    "layers",
    "bidirectional",
    "hidden",
    "embed",
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
    model=dict(
        default="gru",
        choices=CLASSIFIER_KINDS,
        help="the recurrent cell reading the text (tags every step from its output)",
        hint="",
    ),
    bidirectional=dict(help="also read the text backwards: each tag sees what follows"),
    embed=dict(default=32, help="embedding size, 0 = one-hot characters"),
    hidden=dict(default=128),
    batch_size=dict(default=16, help="windows per minibatch"),
    num_steps=dict(default=100, help="characters per training window"),
    lr=dict(default=0.01, help="learning rate"),
    optimizer=dict(default="adam"),
    epochs=dict(default=10),
    clip=dict(default=5.0),
)

__all__ = ["TAG_OPTIONS"]
