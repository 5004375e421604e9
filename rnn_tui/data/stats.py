"""Corpus statistics for `rnn-tui stats`: sizes, the head of the vocabulary, top n-grams.

Imports neither torch nor rich, so the command starts fast.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

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
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    use_cache: bool = True,
) -> dict:
    """JSON-ready statistics of a corpus (d2l text preprocessing + language models sections).

    "top_tokens" lists the first `top` vocabulary entries as [token, index, freq], `<unk>`
    included, as d2l prints `list(vocab.token_to_idx.items())[:10]`; "top_ngrams" maps "1", "2",
    "3" to the `top` most frequent n-grams of the token stream as [[tok, ...], count].

    The text is tokenized into a compact id array (rnn_tui.data.token_array) and the n-grams
    counted on it (rnn_tui.data.ngram_counts), so a 100 MB file needs no list of tokens; a
    corpus file's ids are also cached for training (rnn_tui.data.token_cache), best effort.
    `progress(done, total)` follows the tokenizing; `cancelled()` is polled between chunks.
    """
    # Here, not at the top: the CLI's parser reads STATS_OPTIONS, and `rnn-tui --help` should
    # not wait for numpy.
    from rnn_tui.data.ngram_counts import top_ngrams_of_ids
    from rnn_tui.data.packed_tokens import packed
    from rnn_tui.data.sources import read_text_pieces, rereader
    from rnn_tui.data.token_array import check_options, scan_text
    from rnn_tui.data.token_cache import CachedParts, build_token_array, cache_key, save_parts

    check_options(token, mode, min_freq)
    if top < 0:
        raise DataError(f"top must be 0 or more, got {top}")
    text, digest = read_text_pieces(source, encoding, cancelled=cancelled)
    again = rereader(source, encoding, digest, cancelled)
    scan = scan_text(
        text, token, mode, None, progress, cancelled, source, reread=again, packed=True
    )
    del text
    array = build_token_array(scan, min_freq, source)
    vocab = array.vocab
    # By index: `vocab.freq` would build a token → index dict of the whole vocabulary (seconds
    # and hundreds of MB for millions of distinct words) to read `top` counts.
    freqs = array.counts_as_read(top).tolist()
    top_tokens = [[tok, idx, freqs[idx]] for idx, tok in enumerate(vocab.idx_to_token[:top])]
    vocab_size, vocab_ids, kept_from = len(vocab), array.ids, vocab.min_freq
    del array, vocab  # its tables (~24 bytes a distinct token) are not needed for the n-grams
    # The n-grams are counted on the ids, and only the top rows' tokens are read: packed, the
    # tokens' str objects (~60 bytes each: 400 MB for 6.6M distinct words) are freed first.
    ids, counts, num_lines, tokens = scan.ids, scan.counts, scan.num_lines, packed(scan.tokens)
    del scan
    with ThreadPoolExecutor(1, thread_name_prefix="token-cache") as pool:
        saved = None
        if digest is not None and use_cache:
            # Written beside the n-gram count, which mostly sorts without the GIL (11M
            # distinct words: 1.7 s of JSON overlapped), from the packed tokens' bytes.
            parts = CachedParts(vocab_ids, num_lines, kept_from, tokens, counts)
            key = cache_key(digest, token, mode, min_freq, encoding)
            saved = pool.submit(save_parts, key, parts)
        del vocab_ids
        grams = top_ngrams_of_ids(
            ids, tokens, STATS_NGRAM_ORDERS, top, cancelled=cancelled, counts=counts
        )
        if saved is not None:
            saved.result()  # anything but the cache's own problems (returned False) raised here
    return {
        "source": source,
        "token": token,
        "mode": mode,
        "min_freq": min_freq,
        "num_lines": num_lines,
        "num_tokens": len(ids),
        "vocab_size": vocab_size,
        "top_tokens": top_tokens,
        "top_ngrams": {
            str(n): [[list(gram), count] for gram, count in grams[n]] for n in STATS_NGRAM_ORDERS
        },
    }
