"""Checkpoints: the safetensors + JSON format, crash-safe writes, devices, export for shipping.

Importing this package stays light (no torch): run directories and the UI use `atomic` and
`CheckpointError` and must start without loading torch. `checkpoint`, `state`, `tensor_file`,
`device` and `export` import torch themselves.
"""


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read: the message is one line naming the file and why.

    Defined here so that every module of the package (and callers that only catch it) can use it
    without importing torch; `rnn_tui.checkpoints.checkpoint.CheckpointError` is the same class.
    """


__all__ = ["CheckpointError"]
