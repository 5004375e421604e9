"""BLEU: the seeds' per-sentence score (d2l §9.7.4) and standard corpus BLEU (sacrebleu).

The seeds' BLEU of a prediction against one label, for n-grams up to k:

    exp(min(0, 1 − len_label / len_pred)) · Π_{n=1..k} p_n^(1/2^n)

p_n is the clipped n-gram precision: matched n-grams of the prediction (each label n-gram
matches at most as often as it occurs in the label) over the prediction's n-grams. The brevity
factor punishes predictions shorter than the label; 1/2^n weighs long n-grams more (p_n ≤ 1, so a
smaller exponent lifts it less). A perfect prediction scores 1.

`corpus_bleu` is sacrebleu's corpus-level BLEU (0–100), the comparable number for a held-out set;
sacrebleu is imported only when it runs. Its geometric mean takes the 4-gram precision, so a
corpus whose hypotheses hold no 4-gram scores 0 however good it is: `corpus_bleu_checked` says
so (`NO_4GRAMS`) rather than let that 0 read as a score.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

# Why a corpus BLEU has no value: sacreBLEU's 4-gram precision has nothing to divide by.
NO_4GRAMS = "no sentence of 4+ words; sacreBLEU needs 4-grams"


class BleuError(ValueError):
    """Bad BLEU input; the message is one line."""


def _tokens(text: str | Sequence[str]) -> list[str]:
    return text.split() if isinstance(text, str) else [str(t) for t in text]


def _ngrams(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu(pred: str | Sequence[str], label: str | Sequence[str], k: int = 2) -> float:
    """The seeds' BLEU: exp(min(0, 1 − len_label/len_pred)) · Π_{n=1..k} p_n^(1/2^n).

    Strings are split on whitespace; a token list is used as given. An empty prediction scores
    0.0 (d2l divides by len_pred). Orders n above len(pred) are skipped — k is capped at
    len(pred) — since the prediction has no n-grams to count there (d2l divides by zero). An
    order the prediction has but the label lacks gives p_n = 0, so 0.0. Result in [0, 1].
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise BleuError(f"BLEU order k must be a whole number ≥ 1 (got {k!r})")
    pred_tokens, label_tokens = _tokens(pred), _tokens(label)
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    if len_pred == 0:
        return 0.0
    score = math.exp(min(0.0, 1 - len_label / len_pred))
    for n in range(1, min(k, len_pred) + 1):
        label_counts = _ngrams(label_tokens, n)
        # Clipped matches: each label n-gram is used at most as often as it occurs there.
        matches = sum(min(c, label_counts[g]) for g, c in _ngrams(pred_tokens, n).items())
        score *= (matches / (len_pred - n + 1)) ** (0.5**n)
    return score


class CorpusBleu(NamedTuple):
    """A corpus BLEU and, when it has no value, why: `score` is None and `undefined` says why
    (`NO_4GRAMS`); otherwise `undefined` is None."""

    score: float | None
    undefined: str | None


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[str] | Sequence[Sequence[str]],
    lowercase: bool = True,
) -> float:
    """sacrebleu.corpus_bleu(hypotheses, streams, lowercase=...).score, in 0–100 (0 when the
    hypotheses hold no 4-gram: `corpus_bleu_checked` tells that 0 apart).

    `references` is one reference per hypothesis (a list of strings) or several reference
    streams (a list of such lists, each as long as `hypotheses`). Lower-cased by default, as the
    seeds' preprocessing lower-cases the corpus.
    """
    return float(_sacre(hypotheses, references, lowercase).score)


def corpus_bleu_checked(
    hypotheses: Sequence[str],
    references: Sequence[str] | Sequence[Sequence[str]],
    lowercase: bool = True,
) -> CorpusBleu:
    """`corpus_bleu`'s score, or None with `NO_4GRAMS` when sacreBLEU's tokenized hypotheses
    hold no 4-gram (its 4-gram precision is 0/0, which it counts as 0)."""
    result = _sacre(hypotheses, references, lowercase)
    if result.totals[3] == 0:
        return CorpusBleu(None, NO_4GRAMS)
    return CorpusBleu(float(result.score), None)


def _sacre(hypotheses, references, lowercase: bool):
    """sacrebleu's BLEUScore of checked input; BleuError for bad input."""
    if isinstance(hypotheses, str):
        raise BleuError("hypotheses must be a list of sentences, not one string")
    hypotheses = list(hypotheses)
    if not hypotheses:
        raise BleuError("corpus BLEU needs at least one sentence")
    if isinstance(references, str):
        raise BleuError("references must be a list of sentences, not one string")
    if not all(isinstance(h, str) for h in hypotheses):
        raise BleuError("hypotheses must be strings")
    refs = list(references)
    if all(isinstance(r, str) for r in refs):
        streams = [refs]
    elif any(isinstance(r, str) for r in refs):
        raise BleuError("references must be all strings (one stream) or all lists (streams)")
    else:
        streams = [list(s) for s in refs]
    for i, stream in enumerate(streams):
        if not all(isinstance(r, str) for r in stream):
            raise BleuError(f"reference stream {i} must be a list of strings")
        if len(stream) != len(hypotheses):
            raise BleuError(
                f"reference stream {i} has {len(stream)} sentences for {len(hypotheses)} hypotheses"
            )
    import sacrebleu  # lazily: only corpus scores need it

    # The pairs are tokenized the seeds' way (punctuation split off: "je suis là ."), and the
    # score is of that text. `force` changes no number: it only silences sacrebleu's warning
    # that such text "looks tokenized", which it printed twice at every seq2seq epoch.
    return sacrebleu.corpus_bleu(hypotheses, streams, lowercase=lowercase, force=True)
