"""Whether a run folder holds a checkpoint to continue from and, when it holds none, whether it
ever saved one. A trainer saves `last` at each epoch's end and at a stop, so a run that finished,
stopped or completed an epoch had checkpoints: with none there now, they were removed since. That
run has results (its metrics, its history), so it is not "a run that ended before its first
checkpoint", and removing the folder is no advice for it."""

from __future__ import annotations

from pathlib import Path

from rnn_tui.files import FileProblem, look

CHECKPOINT_NAMES = ("last", "best")


def has_checkpoint(folder: Path) -> bool:
    """Whether `folder` holds a checkpoint's JSON (`checkpoints/last.json` …, or one copied
    beside config.json); what cannot be looked into counts, for the loader to name."""
    try:
        return any(
            look(base / f"{name}.json", "--resume") is not None
            for base in (folder / "checkpoints", folder)
            for name in CHECKPOINT_NAMES
        )
    except FileProblem:
        return True


def saved_one(status: object, epochs_done: object) -> bool:
    """Whether a run with this status and these epochs done has saved a checkpoint."""
    done = isinstance(epochs_done, int) and not isinstance(epochs_done, bool) and epochs_done > 0
    return done or status in ("finished", "stopped")


def missing(folder: Path) -> str:
    """What a run that saved checkpoints and holds none now lacks, in words."""
    return f"its checkpoints are missing (no last.json or best.json in {folder / 'checkpoints'})"


# The run list's note (its row names the run, so the folder is the run's own).
LOST_NOTE = "checkpoints/ holds no last.json or best.json: it cannot be resumed"

__all__ = ["CHECKPOINT_NAMES", "LOST_NOTE", "has_checkpoint", "missing", "saved_one"]
