"""Many-to-one: classify names by language (the PyTorch names tutorial, with d2l's RNNs).

A character RNN / GRU / LSTM reads each name and decides from its final state:
y = softmax(W h_T + b) (models/classifier.py). The bundled names are split once, the same for
every run (data/names_split.py); the classes are very unbalanced, so each epoch reports held-out
accuracy **and** macro-F1, and the summary per-class precision and recall, the row-normalised
confusion matrix and two baselines on the same split: the majority class and a character
trigram naive Bayes (data/naive_bayes.py). `--balance weights` weighs the loss by inverse class
frequency, `--balance sampling` draws every class equally often; `best` is the highest macro-F1.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from rnn_tui.checkpoints.checkpoint import Checkpoint
from rnn_tui.data.names import ALL_LETTERS, NAME_PAD, NAME_VOCAB, name_ids, unicode_to_ascii
from rnn_tui.data.names_split import HELD_OUT, names_split, training_names
from rnn_tui.metrics.classification import ClassReport, class_report, names_baselines
from rnn_tui.models.classifier import pad_batch
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.progress import Progress
from rnn_tui.train.shard import Sharded
from rnn_tui.train.task import Evaluation, epoch_generator

SAMPLE_NAMES = ("Dovesky", "Jackson", "Satoshi", "Hinton", "Nguyen")  # the tutorial's and more
EVAL_BATCH = 1024


def encode_names(names: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (N, longest) padded with NAME_PAD, lengths (N,)) of names."""
    return pad_batch([name_ids(name) for name in names], NAME_PAD)


class ClassifyTask(Sharded):
    """The names split, its padded tensors, the baselines and the last held-out report."""

    batching = (
        "torch.Generator seeded with (seed, epoch): a permutation of the training names (or, "
        "with --balance sampling, names drawn with every class equally likely)"
    )
    perplexity = False

    def __init__(self, config: Config, device: torch.device) -> None:
        self.config, self.device = config, device
        split = names_split(HELD_OUT)
        self.languages = split.languages
        train = training_names(split, config.max_names)
        self.train, self.held_out = train, list(split.held_out)
        C = len(self.languages)
        self.X, self.lengths = (t.to(device) for t in encode_names([n for n, _ in train]))
        self.y = torch.tensor([label for _, label in train], device=device)
        self.X_val, self.len_val = encode_names([n for n, _ in self.held_out])
        self.y_val = [label for _, label in self.held_out]
        counts = torch.bincount(self.y.cpu(), minlength=C).double()
        if (counts == 0).any():
            missing = [self.languages[i] for i in torch.nonzero(counts == 0).flatten().tolist()]
            raise ConfigError(f"--max-names leaves no training name for {', '.join(missing)}")
        self.class_weights = None
        if config.balance == "weights":
            self.class_weights = (counts.sum() / (C * counts)).float().to(device)
        self.sample_weights = (1.0 / counts)[self.y.cpu()]
        self.num_batches = math.ceil(len(train) / config.batch_size)
        self.units_per_epoch = len(train)
        self.sample_prefix = ""
        self.baselines = self._baselines()
        self.last_report: ClassReport | None = None
        # The held-out report of the best macro-F1 this session (the `best` checkpoint's).
        self.best_report: ClassReport | None = None

    def _baselines(self) -> dict[str, ClassReport]:
        return names_baselines(self.train, self.held_out, len(self.languages))

    # -- the model and its checkpoint -------------------------------------------------------

    def model_config(self) -> dict:
        cfg = self.config
        return {
            "model": "classifier",
            "kind": cfg.model,
            "vocab_size": NAME_VOCAB,
            "classes": len(self.languages),
            "hidden": cfg.hidden,
            "layers": cfg.layers,
            "bidirectional": cfg.bidirectional,
            "embed": cfg.embed or 0,
        }

    def checkpoint_meta(self) -> dict:
        return {
            "classes": list(self.languages),
            "alphabet": ALL_LETTERS,
            "split": {"held_out_fraction": HELD_OUT, "held_out": len(self.held_out)},
        }

    def check_resume(self, checkpoint: Checkpoint) -> None:
        if checkpoint.meta.get("classes") != list(self.languages):
            raise ConfigError("the bundled languages changed since the run started")
        if checkpoint.meta.get("alphabet") != ALL_LETTERS:
            raise ConfigError("the character alphabet changed since the run started")

    # -- data -------------------------------------------------------------------------------

    def data_sizes(self) -> dict:
        return {
            "train_tokens": len(self.train),
            "val_tokens": len(self.held_out),
            "train_names": len(self.train),
            "held_out_names": len(self.held_out),
            "classes": len(self.languages),
        }

    def data_text(self) -> str:
        return (
            f"{len(self.train):,} training / {len(self.held_out):,} held-out names in "
            f"{len(self.languages)} languages (the fixed stratified split), "
            f"{self.num_batches:,} minibatches of {self.config.batch_size}"
        )

    def notes(self) -> list[str]:
        majority, bayes = self.baselines["majority"], self.baselines["naive_bayes"]
        return [
            f"baselines on the held-out names: majority class accuracy {majority.accuracy:.3f} "
            f"macro-F1 {majority.macro_f1:.3f}; character trigram naive Bayes accuracy "
            f"{bayes.accuracy:.3f} macro-F1 {bayes.macro_f1:.3f}"
        ]

    def baseline(self) -> float | None:
        return None  # no perplexity: the baselines are in the notes and the summary

    # -- training ---------------------------------------------------------------------------

    def epoch_data(self, model, epoch: int) -> torch.Tensor:
        generator = epoch_generator(self.config.seed, epoch)
        n = len(self.train)
        if self.config.balance == "sampling":
            order = torch.multinomial(self.sample_weights, n, replacement=True, generator=generator)
        else:
            order = torch.randperm(n, generator=generator)
        return order.to(self.device)

    def batch_loss(self, model, order, b: int, fresh: bool) -> torch.Tensor:
        B = self.config.batch_size
        batch = order[b * B : (b + 1) * B]
        rows, weight = self.shard.rows(batch)
        lengths = self.lengths[rows]
        X = self.X[rows, : int(lengths.max())]
        logits = model(X, lengths)
        if not self.shard.active:
            return F.cross_entropy(logits, self.y[rows], weight=self.class_weights)
        # cross_entropy's weighted mean divides by the weights of its rows' classes; one
        # process divides by those of the whole minibatch.
        total = F.cross_entropy(logits, self.y[rows], weight=self.class_weights, reduction="sum")
        weights = self.class_weights
        count = len(batch) if weights is None else weights[self.y[batch]].sum()
        return self.shard.mean(total, count, weight)

    # -- evaluation -------------------------------------------------------------------------

    @torch.no_grad()
    def predict(self, model, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits of every row (eval mode is the caller's), in chunks."""
        out = []
        for i in range(0, len(X), EVAL_BATCH):
            rows = slice(i, i + EVAL_BATCH)
            length = lengths[rows]
            out.append(model(X[rows, : int(length.max())].to(self.device), length).float())
        return torch.cat(out)

    def evaluate(self, model) -> Evaluation:
        model.eval()
        try:
            logits = self.predict(model, self.X_val, self.len_val).cpu()
        finally:
            model.train()
        y = torch.tensor(self.y_val)
        loss = float(F.cross_entropy(logits, y))
        self.last_report = class_report(self.y_val, logits.argmax(1).tolist(), len(self.languages))
        if self.best_report is None or self.last_report.macro_f1 > self.best_report.macro_f1:
            self.best_report = self.last_report
        metrics = {"accuracy": self.last_report.accuracy, "macro_f1": self.last_report.macro_f1}
        return Evaluation(loss, metrics)

    def selection(self, train_ppl, val_ppl, metrics: dict) -> float:
        """`best` is the highest held-out macro-F1."""
        value = metrics.get("macro_f1")
        return -value if value is not None else math.inf

    def sample(self, model) -> str:
        """The top three languages of a few names."""
        names = [unicode_to_ascii(n) for n in SAMPLE_NAMES]
        X, lengths = encode_names(names)
        model.eval()
        try:
            probs = torch.softmax(self.predict(model, X, lengths), dim=1).cpu()
        finally:
            model.train()
        parts = []
        for name, p in zip(names, probs, strict=True):
            top = torch.topk(p, 3)
            guesses = ", ".join(
                f"{self.languages[i]} {v:.2f}"
                for v, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
            )
            parts.append(f"{name} → {guesses}")
        return "; ".join(parts)

    # -- what people read -------------------------------------------------------------------

    def best_text(self, best_metric: float | None, best_epoch: int | None, last: dict) -> str:
        if best_metric is None or not math.isfinite(best_metric):
            return ""
        # Beside the stronger baseline's, the score a learner has to beat.
        bayes = self.baselines["naive_bayes"].macro_f1
        return (
            f"; best held-out macro-F1 {-best_metric:.3f} (epoch {best_epoch}; naive Bayes "
            f"{bayes:.3f})"
        )

    def epoch_text(self, event: dict) -> str:
        acc, f1 = event.get("accuracy"), event.get("macro_f1")
        return "" if acc is None else f"  accuracy {acc:.3f}  macro-F1 {f1:.3f}"

    def summary(self, progress: Progress) -> dict:
        """The report and confusion of the best macro-F1 (the `best` checkpoint's), the
        baselines' scores on the same held-out names."""
        report = self.best_report
        return {
            "classes": list(self.languages),
            "held_out": len(self.held_out),
            "report": report.to_json(self.languages) if report else None,
            "confusion": report.normalised().round(4).tolist() if report else None,
            "baselines": {
                name: {"accuracy": r.accuracy, "macro_f1": r.macro_f1}
                for name, r in self.baselines.items()
            },
        }


TASK = ClassifyTask

__all__ = ["TASK", "ClassifyTask", "encode_names"]
