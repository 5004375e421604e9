"""The training tasks: one line each. Adding a task is its module under tasks/ (the Task
interface in task.py), its options in options.py, and one entry here; the CLI's `--task`, the
Train form's task drop-down and the engine all read this table.

No torch here: a task's module (which imports torch) is named, not imported, so the CLI can
build its parser and the app its form without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from rnn_tui.options import Option
from rnn_tui.train.classify_options import CLASSIFY_OPTIONS
from rnn_tui.train.forecast_options import FORECAST_OPTIONS
from rnn_tui.train.options import LM_OPTIONS, SEQ2SEQ_OPTIONS
from rnn_tui.train.tag_options import TAG_OPTIONS


@dataclass(frozen=True)
class TaskSpec:
    """A task: its name (`--task NAME`), a title and a one-line summary for people, its options
    and its module (which defines `TASK`, the class the engine drives)."""

    name: str
    title: str
    summary: str
    options: tuple[Option, ...]
    module: str
    # The app's screen whose form starts runs of it: the Train screen's, or a lab's own.
    screen: str = "train"

    def option(self, name: str) -> Option:
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(option.name == name for option in self.options)

    def defaults(self) -> dict[str, object]:
        return {option.name: option.default for option in self.options}

    def load(self) -> type:
        """The task class (imports its module, and torch with it)."""
        return import_module(self.module).TASK


TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            "lm",
            "language model",
            "an RNN, GRU or LSTM predicting the next token of a corpus (d2l §8.5)",
            LM_OPTIONS,
            "rnn_tui.train.tasks.lm",
        ),
        TaskSpec(
            "seq2seq",
            "seq2seq translation",
            "a GRU encoder–decoder (d2l §9.7) on English→French pairs: all 68.8k by default, "
            "about two minutes an epoch on two CPU cores (pairs used 600: the book's, seconds)",
            SEQ2SEQ_OPTIONS,
            "rnn_tui.train.tasks.seq2seq",
        ),
        TaskSpec(
            "forecast",
            "series forecast",
            "an autoregressive MLP or a latent RNN/GRU/LSTM forecasting a series (d2l §8.1)",
            FORECAST_OPTIONS,
            "rnn_tui.train.tasks.forecast",
            screen="forecast",
        ),
        TaskSpec(
            "classify",
            "names → language",
            "a character RNN/GRU/LSTM reading a name and classifying it from its final state",
            CLASSIFY_OPTIONS,
            "rnn_tui.train.tasks.classify",
            screen="classify",
        ),
        TaskSpec(
            "tag",
            "tag every character",
            "a per-step RNN/GRU/LSTM restoring capitalisation and punctuation in the Time "
            "Machine (many-to-many; bidirectional reads ahead)",
            TAG_OPTIONS,
            "rnn_tui.train.tasks.tag",
            screen="classify",
        ),
    )
}
DEFAULT_TASK = "lm"
# The tasks the Train screen's form offers.
TRAIN_FORM_TASKS = {name: spec for name, spec in TASKS.items() if spec.screen == "train"}

__all__ = ["DEFAULT_TASK", "TASKS", "TRAIN_FORM_TASKS", "TaskSpec"]
