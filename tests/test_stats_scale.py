"""`rnn-tui stats`, the Dataset screen's analysis and the language-model task on a corpus cut into
many chunks: the same numbers as the list-based reference, bounded results, compact ids."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from test_token_array import reference_stats

from rnn_tui.data import hot_ngrams, ngram_counts, token_array
from rnn_tui.data.corpus import load_corpus
from rnn_tui.data.corpus_analysis import (
    CorpusRequest,
    TokenView,
    analyze_corpus,
    thin_zipf,
)
from rnn_tui.data.errors import DataError
from rnn_tui.data.ngrams import zipf_series
from rnn_tui.data.sources import read_text
from rnn_tui.data.stats import corpus_stats
from rnn_tui.data.token_cache import CACHE_ENV


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    """~300 KB: The Time Machine's lines shuffled, random words, capitals, punctuation, CRLFs."""
    rng = random.Random(13)
    lines = read_text("timemachine").split("\n")
    words = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(2, 6))) for _ in range(3000)]
    out = []
    for _ in range(4000):
        line = rng.choice(lines).split()
        for _ in range(rng.randint(0, 3)):
            word = rng.choice(words)
            word = word.capitalize() if rng.random() < 0.3 else word
            line.insert(rng.randint(0, len(line)), word + rng.choice(["", "", ",", "!", "--"]))
        out.append(" ".join(line) + ("\r\n" if rng.random() < 0.1 else "\n"))
    path = tmp_path_factory.mktemp("scale") / "big.txt"
    path.write_text("".join(out) + "no final newline", encoding="utf-8", newline="")
    assert 200_000 < path.stat().st_size < 500_000
    return path


@pytest.mark.parametrize("token", ["word", "char"])
@pytest.mark.parametrize("mode", ["clean", "raw"])
@pytest.mark.parametrize("min_freq", [0, 3])
@pytest.mark.parametrize("merged", [False, True])
def test_stats_in_small_chunks_equal_the_reference(
    big_file, monkeypatch, token, mode, min_freq, merged
):
    monkeypatch.setattr(token_array, "CHUNK_CHARS", 5000)  # ~60 chunks
    monkeypatch.setattr(token_array, "CHAR_CHUNK_CHARS", 5000)
    monkeypatch.setattr(ngram_counts, "CHUNK_TOKENS", 3000)
    monkeypatch.setattr(ngram_counts, "SORT_ALL_LIMIT", 10_000)  # past it, the first chunk decides
    if merged:  # sparse counts merged chunk by chunk, whatever the first chunk looks like
        monkeypatch.setattr(ngram_counts, "_sorts_all", lambda *args: False)
    seen = []
    stats = corpus_stats(
        str(big_file),
        token=token,
        mode=mode,
        min_freq=min_freq,
        top=15,
        progress=lambda done, total: seen.append(done),
    )
    ref = reference_stats(read_text(str(big_file)), token, mode, min_freq, 15)
    for key in ("num_lines", "num_tokens", "vocab_size", "top_tokens", "top_ngrams"):
        assert stats[key] == ref[key], key
    assert len(seen) > 50 and seen == sorted(seen)


def test_bad_input_is_still_one_data_error(tmp_path):
    (tmp_path / "bin").write_bytes(b"abc\x00def")
    (tmp_path / "punct").write_text("!!! ... ???\n")
    (tmp_path / "latin").write_bytes(b"caf\xe9\n" * 2_000_000)  # big: decoded in pieces
    cases = {
        "bin": "NUL byte at offset 3",
        "punct": "nothing left after cleaning",
        "latin": "invalid byte 0xe9 at offset 3",
    }
    for name, message in cases.items():
        with pytest.raises(DataError, match=message):
            corpus_stats(str(tmp_path / name))
    with pytest.raises(DataError, match="min-freq 3000 leaves no token"):
        corpus_stats("timemachine", min_freq=3000)
    with pytest.raises(DataError, match="unknown token level"):
        corpus_stats("timemachine", token="byte")


def test_the_analysis_hands_the_ui_small_results(big_file, monkeypatch):
    monkeypatch.setattr("rnn_tui.data.corpus_analysis.ZIPF_POINTS", 200)
    monkeypatch.setattr("rnn_tui.data.corpus_analysis.UI_CHUNK_CHARS", 5000)
    seen = []
    analysis = analyze_corpus(
        CorpusRequest(str(big_file)), progress=lambda done, total: seen.append(done / total)
    )
    corpus = load_corpus(str(big_file))
    assert analysis.corpus.num_tokens == corpus.num_tokens
    assert analysis.corpus.num_lines == corpus.num_lines
    assert analysis.corpus.ids.tolist() == corpus.ids
    assert isinstance(analysis.ngrams.flat, TokenView)
    assert analysis.ngrams.flat[:5] == corpus.flat[:5] and analysis.ngrams.flat[-1] == "newline"
    stats = analysis.ngrams
    for n in (1, 2, 3):
        full = np.asarray(zipf_series(corpus.flat, n), dtype=float)
        assert len(full) > 200 and len(stats.zipf[n]) <= 200
        ranks = stats.zipf_ranks(n)
        assert ranks[0] == 1 and ranks[-1] == len(full)
        np.testing.assert_array_equal(stats.zipf[n], full[ranks - 1])
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 10


def test_thin_zipf_keeps_short_series_whole():
    ranks, values = thin_zipf(np.array([1, 5, 3]))
    assert ranks.tolist() == [1, 2, 3] and values.tolist() == [5.0, 3.0, 1.0]


def test_thin_zipf_reads_a_long_series_at_log_spaced_ranks():
    # Counts as n-grams have them: mostly 1s and 2s, a few large; read, not sorted.
    rng = np.random.default_rng(0)
    counts = np.concatenate((rng.zipf(1.6, 50_000), [10**6, 5000, 4096, 4095])).astype(np.int32)
    ranks, values = thin_zipf(counts, points=40)
    assert len(ranks) <= 40 and ranks[0] == 1 and ranks[-1] == len(counts)
    assert values.tolist() == np.sort(counts)[::-1][ranks - 1].astype(float).tolist()


def test_the_language_model_trains_from_compact_memory_mapped_ids(big_file, tmp_path):
    torch = pytest.importorskip("torch")
    from rnn_tui.data.ngrams import NGRAM_NAMES, ngram_perplexity
    from rnn_tui.train.config import Config
    from rnn_tui.train.tasks.lm import LanguageModelTask

    options = dict(corpus=str(big_file), token="char", model="rnn", hidden=8, batch_size=4)
    config = Config("lm", num_steps=10, epochs=1, device="cpu", sample_every=0, **options)
    for attempt in range(2):  # tokenized and cached, then read back memory-mapped
        task = LanguageModelTask(config, torch.device("cpu"))
        assert task.train_ids.dtype == np.uint8
        assert isinstance(task.train_ids, np.memmap) == (attempt == 1)
    corpus = load_corpus(str(big_file), token="char")
    assert task.vocab == corpus.vocab
    assert task.train_ids.tolist() + task.val_ids.tolist() == corpus.ids
    # The epoch's minibatches stay in the corpus's dtype (widened one at a time in batch_loss)
    # and are the stream's windows: Y is X shifted by one token.
    X, Y = task.epoch_batches(1)
    assert X.dtype == Y.dtype == torch.uint8
    starts = np.asarray(task._starts(1)[: task.num_batches])
    index = starts[:, :, None] + np.arange(10)
    assert torch.equal(X.long(), torch.from_numpy(task.train_ids[index].astype(np.int64)))
    assert torch.equal(Y.long(), torch.from_numpy(task.train_ids[index + 1].astype(np.int64)))
    small = Config("lm", num_steps=10, device="cpu", sample_every=0, max_tokens=3000, **options)
    task = LanguageModelTask(small, torch.device("cpu"))
    tokens = corpus.vocab.to_tokens(corpus.ids[:3000])
    baseline = task.baseline()
    order = {name: n for n, name in NGRAM_NAMES.items()}[task.baseline_name]
    assert baseline == pytest.approx(ngram_perplexity(tokens, order).perplexity, rel=1e-12)


@pytest.mark.parametrize("distinct", [1, 3])
def test_fewer_distinct_ngrams_than_k_stop_the_first_position_pass_at_once(monkeypatch, distinct):
    """With fewer distinct n-grams than the k asked for (a run of one character), the pass for
    first positions stops once it has them all, not at the end of the stream."""
    ids = np.resize(np.arange(distinct, dtype=np.uint8), 10_000)
    codes, counts = ngram_counts.count_ngram_codes(ids, distinct, 2)
    windows = []
    real = ngram_counts._codes

    def counting(ids, start, stop, *args):
        windows.append(start)
        return real(ids, start, stop, *args)

    monkeypatch.setattr(ngram_counts, "_codes", counting)
    top = ngram_counts.top_of_counts(ids, distinct, 2, 10, codes, counts, chunk=100)
    assert [p for p, _ in top] == list(range(distinct))
    assert windows == [0]  # the first chunk of 100 bigrams holds them all


@pytest.mark.parametrize("n", [2, 3])
def test_the_frequent_ids_ngrams_are_counted_dense_and_merged_with_the_sorted_rest(monkeypatch, n):
    """Past the dense table's limit, counted chunk by chunk: the n-grams of the most frequent
    ids in a table, only the others sorted; the same codes and counts as sorting them all."""
    rng = np.random.default_rng(3)
    ids = np.where(rng.random(5000) < 0.9, rng.integers(0, 6, 5000), rng.integers(0, 300, 5000))
    ids = ids.astype(np.uint16)
    monkeypatch.setattr(ngram_counts, "DENSE_LIMIT", 0)
    monkeypatch.setattr(ngram_counts, "_sorts_all", lambda *args: False)
    monkeypatch.setattr(hot_ngrams, "HOT_CELLS", 1000)  # the 30 (n = 2) or 9 (n = 3) most frequent
    sorted_codes = []
    real = ngram_counts.merge_counts

    def merging(codes, counts, fresh, total):
        sorted_codes.append(len(fresh))
        return real(codes, counts, fresh, total)

    monkeypatch.setattr(ngram_counts, "merge_counts", merging)
    every = ngram_counts._codes(ids, 0, len(ids) - n + 1, n, np.uint64, np.uint64(300))
    want = np.unique(every, return_counts=True)
    codes, counts = ngram_counts.count_ngram_codes(ids, 300, n, chunk=700)
    assert codes.tolist() == want[0].tolist() and counts.tolist() == want[1].tolist()
    assert codes.dtype == np.uint64 and counts.dtype == np.int32
    # Only the n-grams with an id outside the most frequent were sorted: about 1 - 0.9ⁿ.
    assert 0.1 * len(every) < sum(sorted_codes) < 0.35 * len(every)
    # The ids' own counts, given (as a scan has them), pick the same ids: the same result.
    given = ngram_counts.count_ngram_codes(ids, 300, n, chunk=700, unigrams=np.bincount(ids))
    assert given[0].tolist() == codes.tolist() and given[1].tolist() == counts.tolist()


@pytest.mark.parametrize("min_freq", [0, 3])
def test_the_perplexity_counts_the_tokens_by_their_ids_with_the_same_result(monkeypatch, min_freq):
    """The Dataset screen's n-gram perplexity counts the stream's ids, not its decoded tokens
    (a token can be a whole file): an id stands for one token, so the counts are the same."""
    from rnn_tui.data.ngrams import ngram_perplexity
    from rnn_tui.tui.widgets import ngram_panel

    monkeypatch.setattr(ngram_panel, "PERPLEXITY_MAX_TOKENS", 5_000)
    flat = analyze_corpus(CorpusRequest("timemachine", min_freq=min_freq)).ngrams.flat
    assert isinstance(flat, TokenView)
    strings = list(flat)[-5_000:]
    monkeypatch.setattr(TokenView, "__getitem__", None)  # never decoded
    for n in (1, 2, 3):
        got = ngram_panel._perplexity(flat, n, 0.5)
        want = ngram_perplexity(strings, n=n, eps=0.5, val_fraction=ngram_panel.VAL_FRACTION)
        assert got == want
