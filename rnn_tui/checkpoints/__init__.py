"""Checkpoints: the safetensors + JSON format, devices, export for shipping.

Importing this package stays light (no torch): run directories and the UI use
`CheckpointError`, and the option declarations use `DEVICE`, before torch is loaded.
`checkpoint`, `state`, `tensor_file`, `device` and `export` import torch themselves.
"""

from rnn_tui.options import Option

DEVICE_CHOICES = ("auto", "cpu", "cuda")
# Where a model runs or trains; device.resolve_device checks that it exists. Training,
# generation and translation declare theirs from this one, with their own default and help.
DEVICE = Option(
    "device",
    str,
    "auto",
    "where the model runs: auto = CUDA when present, else CPU",
    choices=DEVICE_CHOICES,
    pattern=r"cuda:\d+",
    extra={"pattern_help": "cuda:N"},
    metavar="auto|cpu|cuda",
)


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read: the message is one line naming the file and why.

    Defined here so that every module of the package (and callers that only catch it) can use it
    without importing torch; `rnn_tui.checkpoints.checkpoint.CheckpointError` is the same class.
    """


__all__ = ["DEVICE", "DEVICE_CHOICES", "CheckpointError"]
