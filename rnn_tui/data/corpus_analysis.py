"""A corpus and what the Dataset screen shows about it, computed together off the UI thread.

`analyze_corpus` runs d2l's text pipeline (`load_corpus`: read → clean → tokenize → Vocab), then
counts what the tabs draw: each vocabulary token's frequency in index order, and for n = 1, 2, 3
the top n-grams and the Zipf series (n-gram frequencies by rank, d2l *Language Models*).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rnn_tui.data.corpus import Corpus, load_corpus
from rnn_tui.data.ngrams import top_ngrams, zipf_series

NGRAM_ORDERS = (1, 2, 3)
TOP_K = 10  # rows of each top-n-gram table


@dataclass(frozen=True)
class CorpusRequest:
    """Which corpus to load and how to read, clean and tokenize it."""

    source: str  # a bundled corpus key or a file path
    token: str = "word"
    mode: str = "clean"
    min_freq: int = 0
    encoding: str = "utf-8"


@dataclass(frozen=True)
class NgramStats:
    """The n-gram statistics of one corpus."""

    token: str  # "word" or "char", to format n-grams
    flat: Sequence[str]  # the token stream, for the perplexity
    vocab_size: int
    top: Mapping[int, list[tuple[tuple[str, ...], int]]]  # n -> top_ngrams(flat, n)
    zipf: Mapping[int, np.ndarray]  # n -> zipf_series(flat, n)


@dataclass(frozen=True)
class CorpusAnalysis:
    """A loaded corpus, its vocabulary counts and its n-gram statistics."""

    request: CorpusRequest
    corpus: Corpus
    freqs: list[int]  # vocabulary counts in index order
    ngrams: NgramStats


def analyze_corpus(
    request: CorpusRequest, top_k: int = TOP_K, cancelled: Callable[[], bool] | None = None
) -> CorpusAnalysis:
    """Load the corpus `request` names and count its vocabulary and n-grams (slow on a big
    corpus: call it from a worker thread, whose cancellation `cancelled` reports while a pipe
    is read; raises DataError on bad input)."""
    corpus = load_corpus(
        request.source,
        token=request.token,
        mode=request.mode,
        min_freq=request.min_freq,
        encoding=request.encoding,
        cancelled=cancelled,
    )
    vocab = corpus.vocab
    stats = NgramStats(
        token=request.token,
        flat=corpus.flat,
        vocab_size=len(vocab),
        top={n: top_ngrams(corpus.flat, n, k=top_k) for n in NGRAM_ORDERS},
        zipf={n: np.asarray(zipf_series(corpus.flat, n), dtype=float) for n in NGRAM_ORDERS},
    )
    return CorpusAnalysis(request, corpus, [vocab.freq(t) for t in vocab.idx_to_token], stats)
