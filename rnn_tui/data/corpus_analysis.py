"""A corpus and what the Dataset screen shows about it, computed together off the UI thread.

`analyze_corpus` runs d2l's text pipeline (`load_corpus`: read → clean → tokenize → Vocab) on a
compact id array (rnn_tui.data.token_array), then counts what the tabs draw: each vocabulary
token's frequency in index order, and for n = 1, 2, 3 the top n-grams and the Zipf series
(n-gram frequencies by rank, d2l *Language Models*). Nothing it returns grows as Python lists
with the corpus (a 100 MB file is millions of tokens): the token stream is a numpy array read
through `TokenView`, and a Zipf series longer than ZIPF_POINTS keeps log-spaced ranks only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rnn_tui.data.ngram_counts import counts_and_top
from rnn_tui.data.sorted_runs import counts_at_ranks
from rnn_tui.data.sources import read_text_pieces, rereader
from rnn_tui.data.token_array import Progress, check_options, scan_text
from rnn_tui.data.token_cache import build_token_array
from rnn_tui.data.token_text import token_head
from rnn_tui.data.vocab import UNK, Vocab, count_order, position_of

NGRAM_ORDERS = (1, 2, 3)
TOP_K = 10  # rows of each top-n-gram table
ZIPF_POINTS = 1 << 17  # ranks kept of a longer Zipf series (log-spaced, first and last kept)
# Small chunks keep every single C call (split, dict lookups) of the worker thread short, so
# the UI thread gets the GIL back within milliseconds.
UI_CHUNK_CHARS = 1 << 20
UI_CHUNK_TOKENS = 1 << 20


@dataclass(frozen=True)
class CorpusRequest:
    """Which corpus to load and how to read, clean and tokenize it."""

    source: str  # a bundled corpus key or a file path
    token: str = "word"
    mode: str = "clean"
    min_freq: int = 0
    encoding: str = "utf-8"


class TokenView(Sequence[str]):
    """The token stream as a read-only sequence of strings over an id array (d2l's flat list
    of tokens, decoded on demand)."""

    def __init__(self, ids: np.ndarray, tokens: Sequence[str]) -> None:
        self._ids, self._tokens = ids, tokens

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            pick = getattr(self._tokens, "pick", None)  # TokenList, PackedTokens
            if pick is not None:
                return pick(self._ids[index])
            return [self._tokens[i] for i in self._ids[index].tolist()]
        return self._tokens[int(self._ids[index])]

    def __iter__(self) -> Iterator[str]:
        step = 1 << 16
        for start in range(0, len(self._ids), step):
            yield from self[start : start + step]

    def identities(self, start: int, stop: int) -> list[int | str]:
        """The tokens start..stop-1 by their ids (equal exactly where the tokens are: no token
        is listed twice), but `<unk>` as itself, which an n-gram model gives every token it has
        not seen: for counting them without decoding them. A token can be a whole 100 MB file:
        its decoding held the GIL, and so the app's event loop, ~100 ms."""
        ids = self._ids[start:stop]
        unk = position_of(self._tokens, UNK)
        if unk < 0 or not (ids == unk).any():
            return ids.tolist()
        named = ids.astype(object)
        named[ids == unk] = UNK
        return named.tolist()

    def __repr__(self) -> str:
        return f"TokenView({len(self):,} tokens)"


@dataclass(eq=False)
class CorpusView:
    """What the screen needs of a loaded corpus (`Corpus`'s fields, as arrays)."""

    source: str
    token: str
    mode: str
    min_freq: int
    num_lines: int
    vocab: Vocab
    ids: np.ndarray  # vocab[flat], compact dtype
    flat: TokenView = field(repr=False)

    @property
    def num_tokens(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class NgramStats:
    """The n-gram statistics of one corpus."""

    token: str  # "word" or "char", to format n-grams
    # The token stream as the vocabulary reads it (tokens under min_freq are <unk>), for the
    # perplexity: the Train screen's n-gram baseline is fitted on the same stream.
    flat: Sequence[str]
    vocab_size: int
    # n -> top_ngrams(flat, n), each token cut to SHOWN_CHARS + 1 characters (token_head: all
    # a table shows; a token can be a whole 100 MB file, decoded ~50 ms and held for nothing).
    top: Mapping[int, list[tuple[tuple[str, ...], int]]]
    zipf: Mapping[int, np.ndarray]  # n -> zipf_series(flat, n), at the ranks below
    ranks: Mapping[int, np.ndarray] = field(default_factory=dict)  # n -> 1-based ranks

    def zipf_ranks(self, n: int) -> np.ndarray:
        """The rank of each value of `zipf[n]` (1, 2, 3, … unless the series was thinned)."""
        ranks = self.ranks.get(n)
        return ranks if ranks is not None else np.arange(1, len(self.zipf[n]) + 1)


@dataclass(frozen=True)
class CorpusAnalysis:
    """A loaded corpus, its vocabulary counts and its n-gram statistics."""

    request: CorpusRequest
    corpus: CorpusView
    freqs: np.ndarray  # vocabulary counts in index order (int64)
    ngrams: NgramStats


def thin_zipf(counts: np.ndarray, points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, frequencies) of the counts sorted descending; beyond `points` (ZIPF_POINTS)
    values only log-spaced ranks are kept (a log–log plot shows no more)."""
    points = points or ZIPF_POINTS
    if len(counts) <= points:
        return np.arange(1, len(counts) + 1), np.sort(counts)[::-1].astype(float)
    ranks = np.unique(np.geomspace(1, len(counts), points).round().astype(np.int64))
    # Tens of millions of counts: read at the ranks, not sorted (a sort copied them twice).
    return ranks, counts_at_ranks(counts, ranks).astype(float)


def analyze_corpus(
    request: CorpusRequest,
    top_k: int = TOP_K,
    cancelled: Callable[[], bool] | None = None,
    progress: Progress | None = None,
) -> CorpusAnalysis:
    """Load the corpus `request` names and count its vocabulary and n-grams (slow on a big
    corpus: call it from a worker thread, whose cancellation `cancelled` reports between
    chunks; raises DataError on bad input). `progress(done, total)` goes from 0 to total as
    the text is tokenized (90 %) and the n-grams counted (the rest)."""
    check_options(request.token, request.mode, request.min_freq)
    text, digest = read_text_pieces(request.source, request.encoding, cancelled=cancelled)
    total = max(sum(map(len, text)), 1)
    tokenizing = None if progress is None else lambda done, _: progress(done * 9 // 10, total)
    scan = scan_text(
        text,
        request.token,
        request.mode,
        UI_CHUNK_CHARS,
        tokenizing,
        cancelled,
        label=request.source,
        sharded=True,
        reread=rereader(request.source, request.encoding, digest, cancelled),
        # A byte a character, not a str object each: 17.6M distinct words held 1 GB of
        # them, and a table of them (np.empty of objects) held the GIL for 0.3 s.
        packed=True,
    )
    del text
    # The n-grams are counted before the Vocab and its ids are built, not beside them: the
    # trigrams' sort was the peak, 1.66 GB for 17.6M distinct words. A text with no token
    # left, or none as frequent as min_freq, is refused first (build_token_array's errors).
    if not scan.num_tokens or int(scan.counts.max()) < request.min_freq:
        build_token_array(scan, request.min_freq, request.source)
    top, zipf, ranks = {}, {}, {}
    for n in NGRAM_ORDERS:
        if n == 1:
            # First-seen ids: id order is first-occurrence order, which breaks ties.
            counts = scan.counts
            order = count_order(counts)[: max(top_k, 0)].copy()  # not a view of them all
            top[n] = [((token_head(scan.tokens, i),), int(counts[i])) for i in order.tolist()]
        else:
            counts, rows = counts_and_top(
                scan.ids, len(scan.tokens), n, top_k, UI_CHUNK_TOKENS, cancelled, scan.counts
            )
            top[n] = [
                (tuple(token_head(scan.tokens, i) for i in scan.ids[p : p + n].tolist()), c)
                for p, c in rows
            ]
        ranks[n], zipf[n] = thin_zipf(counts)
        del counts  # the bigrams' counts are not kept while the trigrams are counted
        if progress is not None:
            progress(total * (27 + n) // 30, total)
    array = build_token_array(scan, request.min_freq, request.source)
    vocab = array.vocab
    seen = TokenView(array.ids, vocab.idx_to_token)  # rare tokens as <unk>
    # With every token in the Vocab (min_freq 0: <unk> and them), that is the stream as
    # written, and the scan's own ids and tokens (300 MB for 17.6M distinct words) go.
    flat = seen if len(vocab) == len(scan.tokens) + 1 else TokenView(scan.ids, scan.tokens)
    del scan
    corpus = CorpusView(
        request.source,
        request.token,
        request.mode,
        request.min_freq,
        array.num_lines,
        vocab,
        array.ids,
        flat,
    )
    # Fitted on the raw words beside a min_freq vocabulary, the screen's trigram perplexity was
    # 1,397.9 where the Train baseline, over the same words as <unk>, was 265.7: `seen`.
    stats = NgramStats(request.token, seen, len(vocab), top, zipf, ranks)
    # An array: a list of millions of counts is walked by every garbage collection.
    freqs = array.counts_as_read()
    del array  # it holds the scan's tokens and counts
    if progress is not None:
        progress(total, total)
    return CorpusAnalysis(request, corpus, freqs, stats)
