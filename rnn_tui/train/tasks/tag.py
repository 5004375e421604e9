"""Many-to-many: restore the Time Machine's capitals and punctuation, one tag per character
(data/tagging.py), with a per-step RNN / GRU / LSTM (models/tagger.py: y_t = softmax(W h_t + b)
from every step's output).

The text is split once (data/tag_split.py: the first 90 % train, the last 10 % held out). Each
epoch draws len(train) / num_steps windows of num_steps characters at random offsets (a
torch.Generator seeded with (seed, epoch)), the loss is the cross-entropy averaged over all B·T
steps, and the held-out part is tagged in windows of 200 characters: its loss, accuracy, macro-F1
over the tags and the binary F1 of "capitalised" and of "some mark follows". `best` is the
highest macro-F1. A `--bidirectional` tagger reads each window both ways; train both on the
same split to measure what reading ahead gains.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from rnn_tui.checkpoints.checkpoint import Checkpoint
from rnn_tui.data.tag_split import EVAL_WINDOW, HELD_OUT, tag_data
from rnn_tui.data.tagging import restore
from rnn_tui.metrics.tagging import TagReport, tag_report
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.progress import Progress
from rnn_tui.train.shard import Sharded
from rnn_tui.train.task import Evaluation, epoch_generator

SAMPLE_CHARS = 160  # the held-out text the sample restores


class TagTask(Sharded):
    """The split as tensors, the windows of an epoch and the last held-out report."""

    batching = (
        "torch.Generator seeded with (seed, epoch): len(train) / num_steps windows at random "
        "offsets of the training characters"
    )
    perplexity = False

    def __init__(self, config: Config, device: torch.device) -> None:
        self.config, self.device = config, device
        data = tag_data()
        self.data = data
        x, y = data.train_x, data.train_y
        if config.max_chars != -1 and config.max_chars < len(x):
            x, y = x[: config.max_chars], y[: config.max_chars]
        T = config.num_steps
        if len(x) < T + 1:
            raise ConfigError(f"--num-steps {T} needs more than {len(x):,} training characters")
        self.X = torch.as_tensor(x.astype(np.int64), device=device)
        self.Y = torch.as_tensor(y.astype(np.int64), device=device)
        self.windows = len(x) // T
        self.num_batches = math.ceil(self.windows / config.batch_size)
        self.units_per_epoch = self.windows * T
        self.sample_prefix = ""
        self.offsets = torch.arange(T, device=device)
        self.baseline_report = tag_report(data.held_y, np.zeros_like(data.held_y), data.tags)
        self.best_report: TagReport | None = None

    # -- the model and its checkpoint -------------------------------------------------------

    def model_config(self) -> dict:
        cfg = self.config
        return {
            "model": "tagger",
            "kind": cfg.model,
            "vocab_size": len(self.data.chars),
            "tags": len(self.data.tags),
            "hidden": cfg.hidden,
            "layers": cfg.layers,
            "bidirectional": cfg.bidirectional,
            "embed": cfg.embed or 0,
        }

    def checkpoint_meta(self) -> dict:
        return {
            "tags": list(self.data.tags),
            "chars": self.data.chars,
            "split": {"held_out_fraction": HELD_OUT, "held_out": len(self.data.held_x)},
        }

    def check_resume(self, checkpoint: Checkpoint) -> None:
        if checkpoint.meta.get("tags") != list(self.data.tags):
            raise ConfigError("the tags of the bundled text changed since the run started")
        if checkpoint.meta.get("chars") != self.data.chars:
            raise ConfigError("the characters of the bundled text changed since the run started")

    # -- data -------------------------------------------------------------------------------

    def data_sizes(self) -> dict:
        return {
            "train_tokens": len(self.X),
            "val_tokens": len(self.data.held_x),
            "tags": len(self.data.tags),
            "chars": len(self.data.chars),
        }

    def data_text(self) -> str:
        return (
            f"{len(self.X):,} training / {len(self.data.held_x):,} held-out characters of the "
            f"Time Machine, {len(self.data.tags)} tags, {self.num_batches:,} minibatches of "
            f"{self.config.batch_size}×{self.config.num_steps}"
        )

    def notes(self) -> list[str]:
        r = self.baseline_report
        return [
            f"baseline on the held-out characters: tagging nothing (every tag O) has accuracy "
            f"{r.report.accuracy:.3f}, macro-F1 {r.report.macro_f1:.3f}, capital and mark F1 0"
        ]

    def baseline(self) -> float | None:
        return None  # no perplexity: the baseline is in the notes and the summary

    # -- training ---------------------------------------------------------------------------

    def epoch_data(self, model, epoch: int) -> torch.Tensor:
        generator = epoch_generator(self.config.seed, epoch)
        high = len(self.X) - self.config.num_steps + 1
        return torch.randint(0, high, (self.windows,), generator=generator).to(self.device)

    def batch_loss(self, model, starts, b: int, fresh: bool) -> torch.Tensor:
        B = self.config.batch_size
        batch = starts[b * B : (b + 1) * B]
        rows, weight = self.shard.rows(batch)
        index = rows[:, None] + self.offsets  # (B, T)
        logits = model(self.X[index])
        logits = logits.reshape(-1, logits.shape[-1])
        if not self.shard.active:
            return F.cross_entropy(logits, self.Y[index].reshape(-1))
        # Data-parallel (train/shard.py): over the whole minibatch's characters.
        total = F.cross_entropy(logits, self.Y[index].reshape(-1), reduction="sum")
        return self.shard.mean(total, len(batch) * self.config.num_steps, weight)

    # -- evaluation -------------------------------------------------------------------------

    def held_out(self, model) -> tuple[TagReport, float]:
        """The held-out report and mean loss per character (eval mode, restored after)."""
        model.eval()
        try:
            predicted, loss = model.tag_stream(self.data.held_x, EVAL_WINDOW, self.data.held_y)
        finally:
            model.train()
        return tag_report(self.data.held_y, predicted, self.data.tags), float(loss)

    def evaluate(self, model) -> Evaluation:
        report, loss = self.held_out(model)
        if self.best_report is None or report.report.macro_f1 > self.best_report.report.macro_f1:
            self.best_report = report
        return Evaluation(
            loss,
            {
                "accuracy": report.report.accuracy,
                "macro_f1": report.report.macro_f1,
                "f1_capital": report.f1_capital,
                "f1_punct": report.f1_punct,
            },
        )

    def selection(self, train_ppl, val_ppl, metrics: dict) -> float:
        """`best` is the highest held-out macro-F1."""
        value = metrics.get("macro_f1")
        return -value if value is not None else math.inf

    def sample(self, model) -> str:
        """The start of the held-out text, lower-cased without punctuation, as the model
        restores it."""
        ids = self.data.held_x[:SAMPLE_CHARS]
        model.eval()
        try:
            predicted, _ = model.tag_stream(ids, EVAL_WINDOW)
        finally:
            model.train()
        text = "".join(self.data.chars[i] for i in ids)
        return restore(text, [self.data.tags[i] for i in predicted])

    # -- what people read -------------------------------------------------------------------

    def best_text(self, best_metric: float | None, best_epoch: int | None, last: dict) -> str:
        if best_metric is None or not math.isfinite(best_metric):
            return ""
        # Beside the score to beat: 0.059 reads as learning until tagging nothing scores 0.042.
        base = self.baseline_report.report.macro_f1
        return (
            f"; best held-out macro-F1 {-best_metric:.3f} (epoch {best_epoch}; tagging nothing "
            f"{base:.3f})"
        )

    def epoch_text(self, event: dict) -> str:
        keys = ("accuracy", "macro_f1", "f1_capital", "f1_punct")
        acc, f1, cap, punct = (event.get(k) for k in keys)
        if f1 is None:
            return ""
        return f"  accuracy {acc:.3f}  macro-F1 {f1:.3f}  capital F1 {cap:.3f}  mark F1 {punct:.3f}"

    def summary(self, progress: Progress) -> dict:
        """The per-tag report of the best macro-F1 (the `best` checkpoint's), its binary F1s,
        and the tag-nothing baseline on the same held-out characters."""
        report, base = self.best_report, self.baseline_report
        return {
            "tags": list(self.data.tags),
            "held_out": len(self.data.held_x),
            "report": report.report.to_json(self.data.tags) if report else None,
            "f1_capital": report.f1_capital if report else None,
            "f1_punct": report.f1_punct if report else None,
            "baselines": {
                "nothing": {"accuracy": base.report.accuracy, "macro_f1": base.report.macro_f1}
            },
        }


TASK = TagTask

__all__ = ["TASK", "TagTask"]
