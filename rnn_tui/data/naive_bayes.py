"""A character n-gram naive Bayes classifier: the honest non-neural baseline for classifying
names (as the smoothed trigram is for the language models).

Each name is padded with `^` and `$` and cut into its character n-grams for n = 1..N; a class c
scores

    log P(c) + Σ_g log P(g | c),   P(g | c) = (count(g, c) + α) / (Σ_g' count(g', c) + α |V|)

(multinomial naive Bayes with add-α smoothing over the n-gram vocabulary V seen in training).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rnn_tui.data.errors import DataError


def char_ngrams(text: str, n_max: int = 3) -> list[str]:
    """The n-grams of "^text$" for n = 1..n_max (unigrams without the markers)."""
    padded = f"^{text}$"
    grams = list(text)
    for n in range(2, n_max + 1):
        grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return grams


@dataclass
class NaiveBayes:
    """Trained counts: per class its n-gram counts and total, the class priors."""

    n_max: int
    alpha: float
    log_prior: list[float]
    counts: list[Counter]
    totals: list[int]
    vocabulary: int

    @classmethod
    def fit(
        cls, items: Sequence[tuple[str, int]], classes: int, n_max: int = 3, alpha: float = 1.0
    ) -> NaiveBayes:
        """Count n-grams per class from (text, class index) pairs."""
        if not items:
            raise DataError("naive Bayes needs at least one training item")
        if not alpha > 0:
            raise DataError(f"alpha must be above 0, got {alpha}")
        counts = [Counter() for _ in range(classes)]
        per_class = [0] * classes
        for text, label in items:
            counts[label].update(char_ngrams(text, n_max))
            per_class[label] += 1
        vocabulary = len(set().union(*counts))
        log_prior = [
            math.log(k / len(items)) if k else -math.inf for k in per_class
        ]  # an unseen class is never predicted
        totals = [sum(c.values()) for c in counts]
        return cls(n_max, alpha, log_prior, counts, totals, vocabulary)

    def scores(self, text: str) -> list[float]:
        """log P(c) + Σ log P(g | c) for every class c."""
        grams = char_ngrams(text, self.n_max)
        out = []
        for prior, counts, total in zip(self.log_prior, self.counts, self.totals, strict=True):
            denominator = math.log(total + self.alpha * self.vocabulary)
            out.append(prior + sum(math.log(counts[g] + self.alpha) - denominator for g in grams))
        return out

    def predict(self, text: str) -> int:
        scores = self.scores(text)
        return max(range(len(scores)), key=lambda c: (scores[c], -c))


__all__ = ["NaiveBayes", "char_ngrams"]
