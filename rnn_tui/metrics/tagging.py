"""How well a tagger restores capitals and punctuation: the per-tag report (classification.py:
precision, recall, F1 per tag, macro-F1 over the tags held out or predicted) and two binary F1
scores that do not depend on getting the exact mark right — "is this character capitalised" and
"does some punctuation follow it".

    F1 = 2 P R / (P + R),   P = TP / (TP + FP),   R = TP / (TP + FN)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnn_tui.data.tagging import tag_parts
from rnn_tui.metrics.classification import ClassReport, class_report


@dataclass(frozen=True)
class TagReport:
    report: ClassReport
    tags: list[str]
    f1_capital: float
    f1_punct: float


def binary_f1(true: np.ndarray, predicted: np.ndarray) -> float:
    """F1 of the positive class of two boolean arrays (0 when it is never true nor predicted)."""
    tp = float(np.sum(true & predicted))
    denominator = float(np.sum(true) + np.sum(predicted))
    return 2 * tp / denominator if denominator else 0.0


def tag_report(true: Sequence[int], predicted: Sequence[int], tags: Sequence[str]) -> TagReport:
    """The per-tag report and the capital / any-mark F1s of tag ids `predicted` against `true`."""
    t, p = np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    capital = np.array([tag_parts(tag)[0] for tag in tags])
    marked = np.array([bool(tag_parts(tag)[1]) for tag in tags])
    return TagReport(
        class_report(t, p, len(tags)),
        list(tags),
        binary_f1(capital[t], capital[p]),
        binary_f1(marked[t], marked[p]),
    )


__all__ = ["TagReport", "binary_f1", "tag_report"]
