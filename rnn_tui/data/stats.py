"""Corpus statistics for `rnn-tui stats`: sizes, the head of the vocabulary, top n-grams.

Imports neither torch nor rich, so the command starts fast.
"""

from __future__ import annotations

from rnn_tui.data.errors import DataError
from rnn_tui.data.kinds import CLEAN_MODES, TOKEN_LEVELS
from rnn_tui.data.sources import ENCODING
from rnn_tui.options import Option, with_changes

STATS_NGRAM_ORDERS = (1, 2, 3)

# `rnn-tui stats`'s options (the CLI builds its arguments from them).
STATS_OPTIONS = (
    Option(
        "corpus",
        str,
        "timemachine",
        "a bundled corpus or a text file",
        metavar="timemachine|fra-eng-en|fra-eng-fr|PATH",
        empty_ok=False,
    ),
    Option("token", str, "word", "token level", choices=TOKEN_LEVELS),
    Option("min_freq", int, 0, "drop rarer tokens", minimum=0, maximum=10**9, metavar="N"),
    Option("top", int, 10, "rows per table", minimum=1, maximum=100_000, metavar="K"),
    with_changes(ENCODING, help="text encoding of a corpus file"),
    Option(
        "mode",
        str,
        "clean",
        "clean: the seeds' [^A-Za-z]+ -> space, lower-case; raw: keep case and punctuation",
        choices=CLEAN_MODES,
    ),
)


def corpus_stats(
    source: str = "timemachine",
    token: str = "word",
    min_freq: int = 0,
    top: int = 10,
    encoding: str = "utf-8",
    mode: str = "clean",
) -> dict:
    """JSON-ready statistics of a corpus (d2l text preprocessing + language models sections).

    "top_tokens" lists the first `top` vocabulary entries as [token, index, freq], `<unk>`
    included, as d2l prints `list(vocab.token_to_idx.items())[:10]`; "top_ngrams" maps "1", "2",
    "3" to the `top` most frequent n-grams of the token stream as [[tok, ...], count].
    """
    # Here, not at the top: the CLI's parser reads STATS_OPTIONS, and `rnn-tui --help` should
    # not wait for numpy.
    from rnn_tui.data.corpus import load_corpus
    from rnn_tui.data.ngrams import top_ngrams_by_order

    if top < 0:
        raise DataError(f"top must be 0 or more, got {top}")
    corpus = load_corpus(source, token=token, mode=mode, min_freq=min_freq, encoding=encoding)
    vocab = corpus.vocab
    # With min_freq ≤ 1 every token has its own index, so the ids are a one-to-one encoding.
    ids = corpus.ids if min_freq <= 1 else None
    grams = top_ngrams_by_order(corpus.flat, STATS_NGRAM_ORDERS, top, ids=ids)
    top_tokens = [[tok, idx, vocab.freq(tok)] for idx, tok in enumerate(vocab.idx_to_token[:top])]
    return {
        "source": source,
        "token": token,
        "mode": mode,
        "min_freq": min_freq,
        "num_lines": corpus.num_lines,
        "num_tokens": corpus.num_tokens,
        "vocab_size": len(vocab),
        "top_tokens": top_tokens,
        "top_ngrams": {
            str(n): [[list(gram), count] for gram, count in grams[n]] for n in STATS_NGRAM_ORDERS
        },
    }
