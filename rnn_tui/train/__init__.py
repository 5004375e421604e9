"""Training: atomic writes, run directories, checkpoints, trainers.

Importing this package stays light (no torch): the TUI imports `rnn_tui.train.rundir` and
`rnn_tui.train.atomic` to follow runs and must start without loading torch. Modules that need
tensors (safetensors_io, checkpoint, the trainers) import torch themselves.
"""


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read: the message is one line naming the file and why.

    Defined here rather than in checkpoint.py so that safetensors_io (which checkpoint imports)
    can raise it too; `rnn_tui.train.checkpoint.CheckpointError` is the same class.
    """


__all__ = ["CheckpointError"]
