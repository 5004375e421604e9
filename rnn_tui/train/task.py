"""The interface between the training engine and a task.

The engine (engine.py) owns everything every run shares: the model's construction or
restoration, the optimizer, the loop over epochs and minibatches, gradient clipping, progress,
pause/stop through control.json and signals, NaN checks, checkpoints, events and the summary.
A *task* owns what differs: its data, the loss of one minibatch, its evaluation, its sample, and
what a checkpoint must carry to rebuild it. The engine calls the task; a task never reaches into
the engine (composition, not inheritance).

Adding a task (forecasting, classification, tagging, …) is:

1. a module under `rnn_tui/train/tasks/` defining a class with the methods below and
   `TASK = ThatClass` at the end (see tasks/lm.py and tasks/seq2seq.py);
2. its options, declared once in `rnn_tui/train/options.py` (`pick(...)` the shared ones,
   declare the new ones in OPTIONS);
3. one line in `rnn_tui/train/registry.py`:
   `TaskSpec("forecast", "sequence forecasting", FORECAST_OPTIONS, "rnn_tui.train.tasks.forecast")`.

The CLI (`rnn-tui train --task forecast`), the Train form and the run directories then work
without further changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import torch

    from rnn_tui.checkpoints.checkpoint import Checkpoint
    from rnn_tui.train.config import Config
    from rnn_tui.train.progress import Progress


class RunSink(Protocol):
    """What the engine writes a run to: the run directory (rnn_tui.runs.rundir.RunDir is the
    implementation; the engine never imports it, runs/ sits above train/)."""

    path: Path
    checkpoints: Path

    def write_config(self, config: dict) -> None: ...
    def log(self, event: str, **fields) -> None: ...
    def last_logged_epoch(self) -> int: ...
    def set_status(self, status: str, message: str = "", **fields) -> None: ...
    def pending_command(self) -> str | None: ...
    def lost(self) -> str: ...


@dataclass
class Evaluation:
    """A task's held-out evaluation after an epoch: the mean loss per unit (None without
    held-out data) and the task's own metrics (e.g. {"bleu": 27.7}), which go into the epoch
    event and the history."""

    loss: float | None
    metrics: dict[str, float | None] = field(default_factory=dict)


class Task(Protocol):
    """What the engine needs from a task. The constructor, `__init__(config, device)`, reads
    and checks the data (DataError / ConfigError, one line) and writes nothing."""

    config: Config
    # Minibatches per epoch: the same every epoch, so progress, ETA and resume agree.
    num_batches: int
    # Units (tokens) per epoch: what tokens/s counts.
    units_per_epoch: int
    # The text the sample event names as its prefix ("" when the sample has none).
    sample_prefix: str
    # How the minibatches of an epoch are drawn, recorded in checkpoints for people.
    batching: str
    # Whether the loss is a cross-entropy per token, so exp(loss) is a perplexity (optional:
    # a task without the attribute is a cross-entropy task; a forecast's MSE is not).
    # perplexity: bool

    def model_config(self) -> dict:
        """What rnn_tui.models.registry.build_model needs for a fresh model."""

    def check_resume(self, checkpoint: Checkpoint) -> None:
        """ConfigError when the data changed since the checkpoint (e.g. another vocabulary)."""

    def data_sizes(self) -> dict:
        """Sizes recorded in config.json and the start event: train_tokens and val_tokens
        (always tokens), plus the task's own (train_pairs, vocab_size, …)."""

    def data_text(self) -> str:
        """One line for people: what the run trains on ("155,000 training / 17,222
        validation char tokens, 138 minibatches of 32×35")."""

    def notes(self) -> list[str]:
        """Remarks about the data worth printing at the start (malformed lines skipped…)."""

    def baseline(self) -> float | None:
        """A non-neural score on the same split to beat (a smoothed n-gram's perplexity), or
        None; when there is one, `baseline_name` says what it is ("trigram")."""

    def epoch_data(self, model: torch.nn.Module, epoch: int) -> Any:
        """Everything `batch_loss` reads for the minibatches of `epoch` (a pure function of
        the seed and the epoch, so a resumed run sees the same batches)."""

    def batch_loss(self, model: torch.nn.Module, data: Any, b: int, fresh: bool) -> torch.Tensor:
        """The mean loss per unit of minibatch `b` (forward only; the engine does backward,
        clipping and the step). `fresh`: the first minibatch this session trains in the epoch."""

    def evaluate(self, model: torch.nn.Module) -> Evaluation:
        """The held-out loss and metrics (eval mode, no gradients; the model back in train
        mode afterwards)."""

    def selection(self, train_ppl: float, val_ppl: float | None, metrics: dict) -> float:
        """What `best` minimises (e.g. validation perplexity, or −BLEU)."""

    def sample(self, model: torch.nn.Module) -> str:
        """Text showing what the model does now (generated text, translations)."""

    def checkpoint_meta(self) -> dict:
        """What a checkpoint needs besides the weights to be used alone (vocabularies)."""

    def best_text(self, best_metric: float | None, best_epoch: int | None, last: dict) -> str:
        """The finished message's tail: "; best val ppl 4.560 (epoch 38)"."""

    def epoch_text(self, event: dict) -> str:
        """The task's part of a progress line for an epoch event ("  BLEU 25.6")."""

    def summary(self, progress: Progress) -> dict:
        """Task-specific keys of `rnn-tui train --json`'s summary (from the last epochs'
        history and each metric's extremes over all of them)."""


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator that shuffles (or draws) one epoch's minibatches: the same for every rank
    and every resume of a run. Its seed is taken modulo 2^64, the generator's range: a run's
    seed may be any up to 2^63 − 1, and seed × 1,000,003 went past it from about 1.8e13."""
    import torch  # at run time only: the Task protocol is read without torch

    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**64)


__all__ = ["Evaluation", "RunSink", "Task", "epoch_generator"]
