"""How well a classifier does on unbalanced classes: accuracy alone rewards predicting the
largest class, so the report also has per-class precision and recall, F1 and their unweighted
mean over classes (macro-F1), and the confusion matrix normalised per row.

    precision_c = TP_c / (TP_c + FP_c),  recall_c = TP_c / (TP_c + FN_c)
    F1_c = 2 precision_c recall_c / (precision_c + recall_c),  macro-F1 = (1/C) Σ_c F1_c

A class never predicted has precision 0 (and F1 0), so ignoring a class costs macro-F1; C counts
the classes that are true or predicted at least once, so predicting one that never occurs costs
it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnn_tui.data.naive_bayes import NaiveBayes


@dataclass(frozen=True)
class ClassReport:
    """Accuracy, macro-F1, per-class precision / recall / F1 / support, and the confusion
    counts (rows true, columns predicted)."""

    accuracy: float
    macro_f1: float
    precision: list[float]
    recall: list[float]
    f1: list[float]
    support: list[int]
    confusion: np.ndarray

    def normalised(self) -> np.ndarray:
        """The confusion matrix with each row divided by its total (0 for an empty row)."""
        rows = self.confusion.sum(axis=1, keepdims=True)
        return np.divide(self.confusion, rows, out=np.zeros(self.confusion.shape), where=rows > 0)

    def to_json(self, names: Sequence[str] | None = None) -> dict:
        names = list(names) if names is not None else [str(i) for i in range(len(self.f1))]
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "classes": {
                name: {"precision": p, "recall": r, "f1": f, "support": s}
                for name, p, r, f, s in zip(
                    names, self.precision, self.recall, self.f1, self.support, strict=True
                )
            },
        }


def class_report(true: Sequence[int], predicted: Sequence[int], classes: int) -> ClassReport:
    """The report of `predicted` against `true` (class indices in [0, classes))."""
    t = np.asarray(true, dtype=np.int64)
    p = np.asarray(predicted, dtype=np.int64)
    if t.shape != p.shape:
        raise ValueError("true and predicted labels differ in length")
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (t, p), 1)
    tp = np.diag(confusion).astype(float)
    predicted_per_class = confusion.sum(axis=0)
    support = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted_per_class > 0, tp / predicted_per_class, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    accuracy = float(tp.sum() / len(t)) if len(t) else 0.0
    # Over the classes that are true or predicted: one absent from `true` that is predicted
    # anyway has F1 0 and counts (a tagger inserting a mark the held-out text lacks); one
    # neither true nor predicted says nothing and does not.
    present = (support > 0) | (predicted_per_class > 0)
    macro = float(f1[present].mean()) if present.any() else 0.0
    return ClassReport(
        accuracy,
        macro,
        precision.tolist(),
        recall.tolist(),
        f1.tolist(),
        support.tolist(),
        confusion,
    )


def majority_baseline(train_labels: Sequence[int], held_out: Sequence[int], classes: int):
    """The report of always predicting the most frequent training class."""
    majority = int(np.bincount(np.asarray(train_labels), minlength=classes).argmax())
    return class_report(held_out, [majority] * len(held_out), classes)


def names_baselines(
    train: Sequence[tuple[str, int]], held_out: Sequence[tuple[str, int]], classes: int
) -> dict[str, ClassReport]:
    """The two baselines a names classifier must beat, on the same held-out names: the
    majority class, and a character trigram naive Bayes fitted on the training names."""
    bayes = NaiveBayes.fit(list(train), classes, n_max=3)
    truth = [label for _, label in held_out]
    return {
        "majority": majority_baseline([label for _, label in train], truth, classes),
        "naive_bayes": class_report(truth, [bayes.predict(name) for name, _ in held_out], classes),
    }


__all__ = ["ClassReport", "class_report", "majority_baseline", "names_baselines"]
