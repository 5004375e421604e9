"""n-gram statistics and the Laplace-smoothed n-gram language model (d2l "Language Models").

Smoothing, as the seeds write it (n words in training, m distinct words):

    P̂(x)       = (n(x) + ε₁/m) / (n + ε₁)
    P̂(x′|x)    = (n(x, x′) + ε₂ P̂(x′)) / (n(x) + ε₂)
    P̂(x″|x,x′) = (n(x, x′, x″) + ε₃ P̂(x″)) / (n(x, x′) + ε₃)

Every conditional backs off to the unigram P̂. Orders above 3 continue the same pattern.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnn_tui.data.errors import DataError
from rnn_tui.data.vocab import UNK


def _check_n(n: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise DataError(f"n-gram order must be a whole number ≥ 1, got {n!r}")
    return n


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """All n-grams of the flat token stream, in order: zip(tokens, tokens[1:], …)."""
    _check_n(n)
    return list(zip(*(tokens[i:] for i in range(n)), strict=False))


def count_ngrams(tokens: Sequence[str], n: int) -> Counter:
    """n-gram counts; the Counter keeps first-seen order, which breaks ties in `top_ngrams`."""
    _check_n(n)
    if n == 1:
        return Counter((token,) for token in tokens)
    return Counter(zip(*(tokens[i:] for i in range(n)), strict=False))


def _encode(tokens: Sequence[str]) -> tuple[np.ndarray, int]:
    """Tokens as int64 codes (first-seen numbering) and the number of distinct tokens."""
    index: dict[str, int] = {}
    codes = np.fromiter(
        (index.setdefault(token, len(index)) for token in tokens), dtype=np.int64, count=len(tokens)
    )
    return codes, len(index)


def _top_from_codes(
    tokens: Sequence[str], codes: np.ndarray, base: int, n: int, k: int
) -> list[tuple[tuple[str, ...], int]]:
    # Each n-gram becomes one integer in base `base`; np.unique counts them far faster than a
    # Counter of tuples, and its first-occurrence index breaks ties in first-seen order.
    if base**n >= 2**63:
        return count_ngrams(tokens, n).most_common(k)
    m = len(codes) - n + 1
    if m <= 0 or k == 0:
        return []
    combined = codes[:m].copy()
    for i in range(1, n):
        combined *= base
        combined += codes[i : i + m]
    _, first, counts = np.unique(combined, return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))[:k]
    return [(tuple(tokens[first[j] : first[j] + n]), int(counts[j])) for j in order]


def top_ngrams(tokens: Sequence[str], n: int, k: int = 10) -> list[tuple[tuple[str, ...], int]]:
    """The k most frequent n-grams with their counts (count descending, ties first-seen),
    the same list as `count_ngrams(tokens, n).most_common(k)`."""
    return top_ngrams_by_order(tokens, (n,), k)[n]


def top_ngrams_by_order(
    tokens: Sequence[str],
    orders: Sequence[int] = (1, 2, 3),
    k: int = 10,
    ids: Sequence[int] | None = None,
) -> dict[int, list[tuple[tuple[str, ...], int]]]:
    """`top_ngrams` for several orders at once, encoding the token stream only once.

    `ids` may give the stream already encoded one-to-one (a Vocab built with min_freq ≤ 1 gives
    every token its own index), which saves encoding it again; ties still break first-seen.
    """
    for n in orders:
        _check_n(n)
    if k < 0:
        raise DataError(f"k must be 0 or more, got {k}")
    tokens = tokens if isinstance(tokens, list) else list(tokens)
    if ids is not None and len(ids) == len(tokens):
        codes = np.asarray(ids, dtype=np.int64)
        base = int(codes.max()) + 1 if len(codes) else 1
    else:
        codes, base = _encode(tokens)
    return {n: _top_from_codes(tokens, codes, max(base, 1), n, k) for n in orders}


def zipf_series(tokens: Sequence[str], n: int) -> list[int]:
    """n-gram frequencies sorted descending; rank = index + 1 (for the log-log Zipf plot)."""
    return sorted(count_ngrams(tokens, n).values(), reverse=True)


def _eps_tuple(eps: float | Sequence[float], n: int) -> tuple[float, ...]:
    if isinstance(eps, int | float):
        values = (float(eps),) * n
    else:
        values = tuple(float(e) for e in eps)
        if len(values) < n:
            raise DataError(f"need {n} smoothing constants for a {n}-gram model, got {len(values)}")
        values = values[:n]
    for value in values:
        if not value > 0 or math.isinf(value):
            raise DataError(f"smoothing constant ε must be a finite number > 0, got {value!r}")
    return values


COUNT_PIECE = 1 << 15  # n-grams counted per Counter.update call


def _count_in_pieces(tokens: list, n: int) -> Counter:
    """Counter of the tokens (n = 1) or of their n-gram tuples, the same Counter (insertion
    order included) as one call gives, built COUNT_PIECE at a time: one long C call would hold
    the GIL, and a UI thread waiting on it (the Dataset screen's perplexity worker) stalls."""
    counts: Counter = Counter()
    for i in range(0, max(len(tokens) - n + 1, 0), COUNT_PIECE):
        if n == 1:
            counts.update(tokens[i : i + COUNT_PIECE])
        else:
            pieces = (tokens[i + j : i + j + COUNT_PIECE] for j in range(n))
            counts.update(zip(*pieces, strict=False))
    return counts


RELEASE_PIECE = 4096  # items freed between two points where another thread may take the GIL


def release(counts: dict) -> None:
    """Empty `counts` a few thousand items at a time. Freed whole, the Counters of 200,000
    characters over 200k code points (nearly every n-gram distinct: ~850k tuples) held the GIL
    for 78 ms as the model went out of scope, a stall of a UI whose worker fitted it; popped in
    a Python loop, the interpreter hands the GIL over every few milliseconds."""
    pop = counts.popitem
    while counts:
        for _ in range(min(RELEASE_PIECE, len(counts))):
            pop()


class LaplaceNGramLM:
    """The seeds' Laplace-smoothed n-gram model (formulas in the module docstring).

    Items are the distinct training tokens plus `<unk>`, which stands for every token never seen
    in training (count 0), so m = |distinct training tokens ∪ {<unk>}| and P̂ is a distribution
    over those m items. In a conditional, n(x) counts x as a context (followed by a token), so
    Σ_x′ P̂(x′|x) = 1 exactly; an unseen context has count 0 and falls back to P̂(x′).
    """

    def __init__(self, n: int = 3, eps: float | Sequence[float] = 1.0) -> None:
        self.n = _check_n(n)
        self.eps = _eps_tuple(eps, n)
        self.fitted = False

    def fit(self, tokens: Sequence[str]) -> LaplaceNGramLM:
        """Count 1..n-grams of `tokens` and the contexts they extend."""
        tokens = list(tokens)
        if not tokens:
            raise DataError("cannot fit an n-gram model on an empty token stream")
        self.unigrams = _count_in_pieces(tokens, 1)
        self.total = len(tokens)
        self.vocabulary = list(self.unigrams)
        if UNK not in self.unigrams:
            self.vocabulary.append(UNK)
        self.m = len(self.vocabulary)
        # counts[k] holds (k+1)-gram counts; contexts[k] counts the k-gram prefixes they extend.
        self.counts: list[Counter] = [Counter({(t,): c for t, c in self.unigrams.items()})]
        self.contexts: list[Counter] = [Counter()]
        for order in range(2, self.n + 1):
            grams = _count_in_pieces(tokens, order)
            prefixes: Counter = Counter()
            for gram, count in grams.items():
                prefixes[gram[:-1]] += count
            self.counts.append(grams)
            self.contexts.append(prefixes)
        self.fitted = True
        return self

    def _require_fit(self) -> None:
        if not self.fitted:
            raise DataError("the n-gram model has not been fitted")

    def _item(self, token: str) -> str:
        return token if token in self.unigrams else UNK

    def _unigram(self, item: str) -> float:
        eps1 = self.eps[0]
        return (self.unigrams.get(item, 0) + eps1 / self.m) / (self.total + eps1)

    def _prob(self, context: tuple[str, ...], item: str) -> float:
        p1 = self._unigram(item)
        order = len(context) + 1
        if order == 1:
            return p1
        eps = self.eps[order - 1]
        joint = self.counts[order - 1].get(context + (item,), 0)
        ctx = self.contexts[order - 1].get(context, 0)
        return (joint + eps * p1) / (ctx + eps)

    def prob(self, context: tuple[str, ...], token: str) -> float:
        """P̂(token | the last n-1 tokens of context); a shorter context uses that lower order.
        Tokens unseen in training are `<unk>`."""
        self._require_fit()
        context = tuple(context)[-(self.n - 1) :] if self.n > 1 else ()
        return self._prob(tuple(self._item(t) for t in context), self._item(token))

    def perplexity(self, tokens: Sequence[str], order: int | None = None) -> float:
        """exp(-1/N Σ_t log P̂(x_t | x_{t-n+1..t-1})); the first n-1 tokens use shorter contexts.
        `order` (at most n) scores as the model of that order fitted on the same tokens would."""
        self._require_fit()
        items = [self._item(t) for t in tokens]
        if not items:
            raise DataError("cannot compute perplexity on an empty token stream")
        log_sum = 0.0
        width = (self.n if order is None else max(1, min(order, self.n))) - 1
        for t, item in enumerate(items):
            context = tuple(items[max(0, t - width) : t])
            p = self._prob(context, item)
            if p <= 0.0:
                # ε > 0 gives every item some probability, but a tiny one rounds to 0 (ε 1e-300
                # was "math domain error").
                # As typed (repr's shortest form): ":g" wrote 1e-320 as 9.99989e-321.
                eps = ", ".join(repr(e) for e in dict.fromkeys(self.eps))
                raise DataError(
                    f"ε {eps} is so small that an unseen n-gram's smoothed probability rounds "
                    "to 0 in floating point: use a larger ε"
                )
            log_sum += math.log(p)
        return math.exp(-log_sum / len(items))


NGRAM_NAMES = {1: "unigram", 2: "bigram", 3: "trigram"}


def baseline_name(value: object) -> str:
    """A run's recorded baseline name, read: one of NGRAM_NAMES, else "trigram" (what every
    run had before the order was chosen)."""
    return value if isinstance(value, str) and value in NGRAM_NAMES.values() else "trigram"


def best_order(model: LaplaceNGramLM, tokens: Sequence[str]) -> tuple[int, float]:
    """(order, perplexity) of the fitted `model`'s order, or a lower one, that scores `tokens`
    best: with ε = 1 a word-level trigram (mostly contexts seen once or twice) can score worse
    than the unigram, and a baseline weaker than counting words is no bar for an RNN."""
    scores = {k: model.perplexity(tokens, order=k) for k in range(1, model.n + 1)}
    order = min(scores, key=lambda k: (scores[k], -k))
    return order, scores[order]


@dataclass
class NGramPerplexity:
    n: int
    eps: float | tuple[float, ...]
    train_tokens: int
    val_tokens: int
    perplexity: float
    # The model's vocabulary: the training part's distinct tokens and <unk>, which ε spreads
    # over and a uniform guess scores; not the whole corpus's (4,327 against 4,580 words).
    vocab_size: int = 0


def ngram_perplexity(
    tokens: Sequence[str],
    n: int = 3,
    eps: float | Sequence[float] = 1.0,
    val_fraction: float = 0.1,
) -> NGramPerplexity:
    """Fit on the first (1 - val_fraction) of the stream, report perplexity on the rest."""
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    tokens = list(tokens)
    cut = len(tokens) - round(len(tokens) * val_fraction)
    if cut < 1 or cut >= len(tokens):
        raise DataError(
            f"corpus too short: {len(tokens):,} token{'' if len(tokens) == 1 else 's'} cannot be "
            f"split {1 - val_fraction:.0%}"
            f"/{val_fraction:.0%} into training and validation"
        )
    train, val = tokens[:cut], tokens[cut:]
    model = LaplaceNGramLM(n, eps).fit(train)
    eps_out = eps if isinstance(eps, int | float) else tuple(float(e) for e in eps)
    result = NGramPerplexity(n, eps_out, len(train), len(val), model.perplexity(val), model.m)
    for counts in (*model.counts, *model.contexts, model.unigrams):
        release(counts)
    return result
