"""What the UI shows about one followed run at one moment: a `Snapshot` (and its `Sample`s),
plain data that RunFollower.snapshot() freezes and the Train screen's widgets draw."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnn_tui.quoting import plain
from rnn_tui.runs.listing import model_label
from rnn_tui.runs.liveness import ACTIVE


@dataclass(frozen=True)
class Sample:
    """Generated text logged after an epoch."""

    epoch: int
    prefix: str
    text: str

    @classmethod
    def from_event(cls, event: dict, epoch: int) -> Sample | None:
        """A "sample" event's text as plain text (its own epoch, else `epoch`); None if none."""
        text = event.get("text")
        if not isinstance(text, str):
            return None
        own = event.get("epoch")
        prefix = plain(str(event.get("prefix") or ""))
        return cls(own if isinstance(own, int) else epoch, prefix, plain(text, lines=True))


@dataclass(frozen=True)
class Snapshot:
    """Everything the UI shows about one run at one moment (plain data, safe to keep)."""

    path: Path
    name: str
    status: str  # a rundir STATUSES entry, "died" (see stale), or "unknown" before the first
    message: str
    stale: bool  # status.json says running/paused, but its trainer is gone: status is "died"
    config: dict
    device: str | None
    num_params: int | None
    train_tokens: int | None
    val_tokens: int | None
    baseline_ppl: float | None
    baseline_name: str  # what baseline_ppl is: "unigram", "bigram" or "trigram"
    epoch: int  # epochs completed
    epochs: int | None  # epochs planned
    batch: int  # position in the current epoch (from the latest step event)
    batches: int
    progress: float  # 0..1 of the planned epochs
    eta: float | None  # seconds left; None when unknown or not running
    elapsed: float | None
    train_ppl: float | None
    val_ppl: float | None
    best_val_ppl: float | None
    loss: float | None
    grad_norm: float | None
    tokens_per_s: float | None
    memory_mb: float | None
    lr: float | None
    samples: tuple[Sample, ...]
    series: dict[str, tuple[np.ndarray, np.ndarray]] = field(repr=False)
    version: int  # grows whenever new data arrived
    bleu: float | None = None  # seq2seq: held-out corpus BLEU (0–100) of the latest epoch
    bleu_short: float | None = None  # the same on held-out pairs of ≤ 5 English words
    best_bleu: float | None = None  # the highest held-out BLEU so far
    # How the trainer runs its steps (train/step.py): "eager · fp32", "CUDA graph · bf16 (…)".
    step_path: str | None = None
    # While a running session's first step (timed apart from tokens/s) is under way: seconds
    # it has taken so far; None otherwise.
    first_step_s: float | None = None

    @property
    def model(self) -> str:
        """config.json's model as plain text; "?" when it names none (or is no string)."""
        model = self.config.get("model")
        return plain(model) if isinstance(model, str) and model else "?"

    @property
    def model_label(self) -> str:
        """The model as the run list and `rnn-tui runs` name it: "lstm bidir" for a two-way
        one (listing.model_label)."""
        return str(model_label({**self.config, "model": self.model}))

    @property
    def task(self) -> str:
        """ "lm" or "seq2seq" (config.json's task; runs written before tasks existed are LMs)."""
        task = self.config.get("task")
        return plain(task) if isinstance(task, str) and task else "lm"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE and not self.stale


__all__ = ["Sample", "Snapshot"]
