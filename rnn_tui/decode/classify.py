"""Classify sequences with a trained many-to-one checkpoint (train --task classify): the top
languages of each name with their probabilities, softmax(W h_T + b) of the final state."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import torch

from rnn_tui.data.names import ALL_LETTERS, NAME_PAD, name_ids, not_read, unicode_to_ascii
from rnn_tui.data.names_split import HELD_OUT, names_split, training_names
from rnn_tui.metrics.classification import ClassReport, class_report, names_baselines
from rnn_tui.models.classifier import pad_batch
from rnn_tui.quoting import quoted

TOP_K = 3
MAX_NAMES = 10_000  # per call: each is a forward pass in one padded batch


class ClassifyError(ValueError):
    """A checkpoint or input the classifier cannot use; one line for people."""


@dataclass(frozen=True)
class Guess:
    """A name as the model read it (ASCII letters), and its top classes with probabilities;
    the characters it could not read, which were left out ('Ø' of 'Øster')."""

    name: str
    read: str
    top: list[tuple[str, float]]
    not_read: str = ""

    def note(self) -> str:
        """One line on the characters left out ("" without any)."""
        if not self.not_read:
            return ""
        chars = ", ".join(repr(c) for c in self.not_read)
        return f"not read by the model, left out: {chars} (it read {quoted(self.read.strip())})"


def load_classifier(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """(model in eval mode, class names, warnings, the checkpoint file loaded) of a classify
    checkpoint — a warning when a run directory's best was unusable and its last was loaded;
    ClassifyError otherwise."""
    model, classes, warnings, _, loaded = _load_classifier(path, device)
    return model, classes, warnings, loaded


def _load_classifier(path: str | os.PathLike, device: str | torch.device):
    """(model in eval mode, class names, warnings, the run's config, the file loaded) of a
    classify checkpoint."""
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.checkpoints.checkpoint import load_checkpoint
    from rnn_tui.checkpoints.labels import label_problem
    from rnn_tui.models.base import ModelError

    try:
        checkpoint = load_checkpoint(path)
        if checkpoint.task != "classify":
            raise ClassifyError(
                f"{checkpoint.file} is a {checkpoint.task!r} checkpoint; classify needs a "
                "classify one (rnn-tui train --task classify)"
            )
        classes = checkpoint.meta.get("classes")
        problem = label_problem(classes, "class")
        if problem:
            raise ClassifyError(f"{checkpoint.json_path}: {problem}")
        if checkpoint.meta.get("alphabet") != ALL_LETTERS:
            raise ClassifyError(f"{checkpoint.file} was trained on another alphabet")
        model = checkpoint.build_model(device)
        config = checkpoint.config
    except (CheckpointError, ModelError) as exc:
        raise ClassifyError(str(exc)) from None
    if getattr(model, "classes", None) != len(classes):
        raise ClassifyError(f"{checkpoint.file}: the model and its class list disagree")
    warnings = [checkpoint.warning] if checkpoint.warning else []
    return model.eval(), classes, warnings, config, str(checkpoint.path)


@torch.no_grad()
def classify(model, classes: list[str], names: list[str], k: int = TOP_K) -> list[Guess]:
    """The top `k` classes of each name; ClassifyError for no names, too many, or a name with
    no letter the model knows."""
    if not names:
        raise ClassifyError("no name given: type at least one")
    if len(names) > MAX_NAMES:
        raise ClassifyError(f"at most {MAX_NAMES:,} names at a time (got {len(names):,})")
    # The spaces around a name are no part of it (no training name has any): "  Smith " was
    # scored as another name, and "   " was classified.
    ids = [name_ids(name.strip()) for name in names]
    for name in names:
        if not any(c.isalpha() for c in unicode_to_ascii(name)):
            raise ClassifyError(
                # The point first, short: it is shown beside the screen's name field.
                f"no letter A–Z in {quoted(name)} (the model reads A–Z, a–z, spaces and .,;')"
            )
    X, lengths = pad_batch(ids, NAME_PAD)
    device = next(model.parameters()).device
    probs = torch.softmax(model(X.to(device), lengths).float(), dim=1).cpu()
    top = torch.topk(probs, min(k, len(classes)), dim=1)
    return [
        Guess(
            name,
            unicode_to_ascii(name),
            [(classes[i], p) for p, i in zip(v.tolist(), c.tolist(), strict=True)],
            not_read(name.strip()),
        )
        for name, v, c in zip(names, top.values, top.indices, strict=True)
    ]


@dataclass(frozen=True)
class ClassifyView:
    """What the Classify screen shows of a names checkpoint: the model (to classify typed
    names), its held-out report (the confusion matrix, per-class precision and recall) and the
    baselines' reports on the same held-out names, fitted on the names the run trained on."""

    model: torch.nn.Module
    classes: list[str]
    report: ClassReport
    baselines: dict[str, ClassReport]


@lru_cache(maxsize=4)
def _baselines(max_names: int = -1) -> dict[str, ClassReport]:
    """The baselines a run with `max_names` logged (train/tasks/classify.py fits the same)."""
    split = names_split(HELD_OUT)
    train = training_names(split, max_names)
    return names_baselines(train, split.held_out, len(split.languages))


@torch.no_grad()
def held_out_report(model, classes: list[str]) -> ClassReport:
    """The model's report on the fixed held-out names (data/names_split.py)."""
    split = names_split(HELD_OUT)
    if list(split.languages) != classes:
        raise ClassifyError("the bundled languages changed since this model was trained")
    X, lengths = pad_batch([name_ids(name) for name, _ in split.held_out], NAME_PAD)
    device = next(model.parameters()).device
    predicted = []
    for i in range(0, len(X), 1024):
        length = lengths[i : i + 1024]
        rows = X[i : i + 1024, : int(length.max())].to(device)
        predicted += model(rows, length).argmax(1).tolist()
    return class_report([label for _, label in split.held_out], predicted, len(classes))


def classify_view(path: str | os.PathLike, device: str | torch.device = "cpu") -> ClassifyView:
    """The model of the classify checkpoint `path` (a run directory: its best), its held-out
    report and the baselines' (on the run's max names); ClassifyError (one line) otherwise."""
    model, classes, _, config, _ = _load_classifier(path, device)
    max_names = config.get("max_names", -1)
    if not isinstance(max_names, int) or isinstance(max_names, bool) or max_names < 1:
        max_names = -1
    return ClassifyView(model, classes, held_out_report(model, classes), _baselines(max_names))


__all__ = [
    "ClassifyError",
    "ClassifyView",
    "Guess",
    "classify",
    "classify_view",
    "held_out_report",
    "load_classifier",
]
