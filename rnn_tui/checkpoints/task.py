"""A checkpoint's task from its JSON, without torch: the run config's "task", else the task its
model's name belongs to. A hand-edited or truncated config can lose "task" while model_config
still says "seq2seq"; guessing "lm" there named a translator a language model."""

from __future__ import annotations

from pathlib import Path

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.models.names import (
    CLASSIFIER_MODEL,
    FORECAST_MODEL,
    MODEL_NAMES,
    SEQ2SEQ_MODEL,
    TAGGER_MODEL,
)

# Each model name is one task's (a classifier's or forecaster's cell is its "kind", not its name).
TASK_OF_MODEL = {
    **dict.fromkeys(MODEL_NAMES, "lm"),
    SEQ2SEQ_MODEL: "seq2seq",
    FORECAST_MODEL: "forecast",
    CLASSIFIER_MODEL: "classify",
    TAGGER_MODEL: "tag",
}


def task_of(meta: dict) -> object | None:
    """meta["config"]["task"] when given; else the task of the model named by meta's
    "model_config" (the run config's "model" where there is none: checkpoints older than
    model_config, and older than seq2seq, are language models); None when neither says one."""
    config = meta.get("config")
    config = config if isinstance(config, dict) else {}
    if "task" in config:
        return config["task"]
    model_config = meta.get("model_config")
    model = (model_config if isinstance(model_config, dict) else config).get("model")
    if model is None and not isinstance(model_config, dict):
        return "lm"  # older than model_config, and than every other task
    return TASK_OF_MODEL.get(model) if isinstance(model, str) else None


def checked_task(meta: dict, json_path: Path):
    """task_of(meta), or CheckpointError naming `json_path` when it says none: a guess would
    misname the checkpoint."""
    task = task_of(meta)
    if task is None:
        raise CheckpointError(
            f'checkpoint {json_path}: its config has no "task" and its model is no task\'s'
        )
    return task


__all__ = ["TASK_OF_MODEL", "checked_task", "task_of"]
