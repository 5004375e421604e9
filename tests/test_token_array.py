"""The compact token path (token_array, ngram_counts, corpus_stats) against the straightforward
reference: d2l's lists of tokens (`load_corpus`), `Vocab(flat)` and Counters of n-gram tuples."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data import (
    byte_words,
    decoding,
    first_seen,
    hashed_words,
    hot_ngrams,
    ngram_counts,
    sorted_runs,
    text_chunks,
    token_array,
)
from rnn_tui.data import vocab as vocab_module
from rnn_tui.data.corpus import clean_line, load_corpus, tokenize
from rnn_tui.data.errors import DataError
from rnn_tui.data.ngram_counts import top_ngram_positions, top_ngrams_of_ids
from rnn_tui.data.sources import read_text, read_text_pieces, rereader, split_lines
from rnn_tui.data.stats import corpus_stats
from rnn_tui.data.token_array import (
    compact_dtype,
    count_lines,
    line_chunks,
    scan_text,
)
from rnn_tui.data.vocab import Vocab, count_corpus

# Letters of both cases, digits, punctuation, every line end, tabs, a few non-ASCII letters
# (one lower-cases to ASCII), a non-ASCII space and "<unk>" itself.
ALPHABET = "aAbBzZ09 ,.!-\t\n\r\x0b\x1céÉİK\u2028\u00a0"
TEXTS = st.lists(
    st.one_of(st.text(alphabet=ALPHABET, max_size=12), st.sampled_from(["<unk>", "\r\n", "the "])),
    max_size=40,
).map("".join)


def reference_stats(text: str, token: str, mode: str, min_freq: int, top: int) -> dict:
    """What `rnn-tui stats` printed before the compact path: lists of tokens and Counters."""
    from rnn_tui.data.corpus import clean_line, tokenize

    lines = [clean_line(line, mode) for line in split_lines(text)]
    flat = [tok for line in tokenize(lines, token) for tok in line]
    vocab = Vocab(flat, min_freq=min_freq)
    # d2l's rule spelled out: <unk>, then by count descending, ties first-seen, min_freq cut.
    by_count = sorted(Counter(flat).items(), key=lambda item: -item[1])
    assert vocab.idx_to_token == ["<unk>"] + [
        t for t, c in by_count if c >= min_freq and t != "<unk>"
    ]
    grams = {}
    for n in (1, 2, 3):
        counter = Counter(zip(*(flat[i:] for i in range(n)), strict=False))
        grams[str(n)] = [[list(gram), count] for gram, count in counter.most_common(top)]
    return {
        "flat": flat,
        "num_lines": len(lines),
        "num_tokens": len(flat),
        "vocab_size": len(vocab),
        "idx_to_token": vocab.idx_to_token,
        "ids": vocab[flat],
        # <unk>'s count: the tokens read as it (d2l's token_freqs would give 0).
        "top_tokens": [
            [t, i, vocab[flat].count(0) if i == 0 else vocab.freq(t)]
            for i, t in enumerate(vocab.idx_to_token[:top])
        ],
        "top_ngrams": grams,
    }


@settings(max_examples=300, deadline=None)
@given(
    text=TEXTS,
    token=st.sampled_from(["word", "char"]),
    mode=st.sampled_from(["clean", "raw"]),
    min_freq=st.integers(0, 3),
    chunk=st.integers(1, 64),
    top=st.integers(0, 6),
    sharded=st.booleans(),
    hashed_from=st.sampled_from([first_seen.HASHED_FROM, 0, 1, 3]),
    short=st.sampled_from([byte_words.SHORT, 0, 1, 3]),
    collide=st.sampled_from(["", "keys", "keys and hashes"]),
)
def test_the_compact_path_matches_the_reference(
    text, token, mode, min_freq, chunk, top, sharded, hashed_from, short, collide
):
    ref = reference_stats(text, token, mode, min_freq, top)
    ref_counts = Counter(ref["flat"])
    with pytest.MonkeyPatch.context() as patched:
        # Words longer than `short` bytes hashed; with `collide`, keys that few words escape
        # (numbered again by their Python hashes), and those hashes too (then in dicts).
        patched.setattr(byte_words, "SHORT", 0 if collide else short)
        if collide:
            patched.setattr(byte_words, "_long_keys", lambda d, s, n: (n // 2).astype(np.uint64))
        scan = _scan_patched(text, token, mode, chunk, sharded, hashed_from, collide)
    assert scan.num_lines == ref["num_lines"] == count_lines(text)
    assert scan.counts.tolist() == [ref_counts[t] for t in scan.tokens]
    assert scan.num_tokens == ref["num_tokens"]
    if not scan.num_tokens:
        return
    # Pieces of 1–4 entries: indexing a big vocabulary a piece at a time changes nothing.
    pieces = (token_array.WORD_PIECE, vocab_module.DICT_PIECE)
    try:
        token_array.WORD_PIECE = vocab_module.DICT_PIECE = chunk % 4 + 1
        vocab = scan.vocab(min_freq)
        ids = scan.vocab_ids(vocab, chunk=chunk)
    finally:
        token_array.WORD_PIECE, vocab_module.DICT_PIECE = pieces
    assert vocab.idx_to_token == ref["idx_to_token"]
    assert vocab.token_to_idx == {t: i for i, t in enumerate(ref["idx_to_token"])}
    assert vocab == Vocab(vocab_tokens(scan), min_freq=min_freq)
    assert ids.dtype == compact_dtype(len(vocab))
    assert ids.tolist() == ref["ids"]
    grams = top_ngrams_of_ids(scan.ids, scan.tokens, (1, 2, 3), top, chunk=chunk)
    assert {str(n): [[list(g), c] for g, c in rows] for n, rows in grams.items()} == ref[
        "top_ngrams"
    ]
    with_counts = top_ngrams_of_ids(scan.ids, scan.tokens, (1,), top, counts=scan.counts)
    assert with_counts[1] == grams[1]


def _scan_patched(text, token, mode, chunk, sharded, hashed_from, collide):
    saved = first_seen.WORD_PIECE, first_seen.HASHED_FROM, hashed_words.hash_of
    count_block = token_array.COUNT_BLOCK
    try:
        first_seen.WORD_PIECE = chunk % 5 + 1  # words looked up a few at a time, or one
        # Known ids counted in blocks of 1-3, or all at once.
        token_array.COUNT_BLOCK = chunk % 3 + 1 if chunk % 4 else count_block
        # Words moved to hash arrays after a few (or none) in dicts.
        first_seen.HASHED_FROM = hashed_from
        hashed_words.hash_of = (lambda word: len(word) // 2) if "hashes" in collide else hash
        return scan_text(text, token, mode, chunk_chars=chunk, sharded=sharded)
    finally:
        first_seen.WORD_PIECE, first_seen.HASHED_FROM, hashed_words.hash_of = saved
        token_array.COUNT_BLOCK = count_block


def vocab_tokens(scan) -> list[str]:
    return [scan.tokens[i] for i in scan.ids.tolist()]


@settings(max_examples=150, deadline=None)
@given(
    ids=st.lists(st.integers(0, 5), max_size=80),
    n=st.integers(1, 4),
    k=st.integers(0, 8),
    chunk=st.integers(1, 9),
    dense=st.booleans(),
    block=st.integers(1, 7),
    tie_set=st.sampled_from([0, 1, 1 << 12]),
    merged=st.booleans(),
    hot_cells=st.sampled_from([0, 4, 9, 30, 1 << 20]),  # merged: the frequent ids' n-grams dense
)
def test_top_ngram_positions_dense_and_sparse_match_most_common(
    ids, n, k, chunk, dense, block, tie_set, merged, hot_cells
):
    array = np.asarray(ids, dtype=np.uint8)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hot_ngrams, "HOT_CELLS", hot_cells)
        patch.setattr(ngram_counts, "DENSE_LIMIT", ngram_counts.DENSE_LIMIT if dense else 0)
        patch.setattr(ngram_counts, "SORT_ALL_LIMIT", 5)  # short streams sort once, longer merge
        patch.setattr(sorted_runs, "RUN_BLOCK", block)  # sorted runs compacted in small blocks
        patch.setattr(ngram_counts, "TIE_SET_LIMIT", tie_set)  # ties as a set, or looked up
        if merged:  # sparse counts merged chunk by chunk, not sorted at once
            patch.setattr(ngram_counts, "_sorts_all", lambda *args: False)
        got = top_ngram_positions(array, 6, n, k, chunk=chunk)
    counter = Counter(zip(*(ids[i:] for i in range(n)), strict=False))
    assert [(tuple(ids[p : p + n]), c) for p, c in got] == counter.most_common(k)
    for p, _ in got:  # the first occurrence of each n-gram
        gram = tuple(ids[p : p + n])
        assert all(tuple(ids[q : q + n]) != gram for q in range(p))


def test_line_chunks_cut_after_line_feeds_only():
    text = "ab\r\ncd\n" + "x" * 10 + "\nlast"
    spans = line_chunks(text, 3)
    assert "".join(text[a:b] for a, b in spans) == text
    assert all(text[b - 1] == "\n" for a, b in spans[:-1])
    assert line_chunks("", 5) == []


def test_a_long_line_is_read_in_pieces_cut_between_tokens():
    """text8 is one 100 MB line: it is cut inside the line, where no token is split, so no
    chunk holds the whole line (and the tokens are the reference's)."""
    text = "the time traveller  for so it will be convenient " * 40
    for token, mode in [("word", "clean"), ("word", "raw"), ("char", "clean"), ("char", "raw")]:
        spans = line_chunks(text, 64, text_chunks.CUT_AFTER[token, mode])
        assert "".join(text[a:b] for a, b in spans) == text
        assert max(b - a for a, b in spans) <= 64
        scan = scan_text(text, token, mode, chunk_chars=64)
        assert vocab_tokens(scan) == [
            t for line in tokenize([clean_line(text, mode)], token) for t in line
        ]
    # Words are cut after a separator, clean characters after a letter.
    assert all(text[b - 1] == " " for a, b in line_chunks(text, 64, str.isspace)[:-1])
    letters = line_chunks(text, 64, text_chunks.CUT_AFTER["char", "clean"])
    assert all(text[b - 1].isalpha() for a, b in letters[:-1])
    # Nowhere to cut near: the span runs to the next place to cut, however far (not the rest
    # of the line: a word of megabytes in a one-line file made it one chunk), or line feed.
    assert line_chunks("x" * 9000 + "\nab", 64, str.isspace) == [(0, 9001), (9001, 9003)]
    long = "x" * 9000 + " ab cd" * 30
    assert line_chunks(long, 64, str.isspace)[0] == (0, 9001)
    assert line_chunks(long, 64)[0] == (0, len(long))  # no rule: the line stays whole
    # Runs of characters not to cut after ("\r" for every rule), then one to cut after.
    rules = [
        (("word", "clean"), "x", "-"),
        (("char", "clean"), "é", "y"),
        (("char", "raw"), "\r", "z"),
    ]
    for rule, run, at in rules:
        text = run * 9000 + "\r" * 9 + at + "é" * 100
        cut = len(run) * 9000 + 10
        assert line_chunks(text, 64, text_chunks.CUT_AFTER[rule])[0] == (0, cut)


def test_pieces_with_no_place_to_cut_wait_to_be_joined_once(monkeypatch):
    """The pieces of one long word are joined once, when a piece that can end its span comes,
    not each to the growing text before it (copied at every piece: quadratic)."""
    seen = []
    real = text_chunks.line_chunks
    monkeypatch.setattr(
        text_chunks, "line_chunks", lambda text, *a: seen.append(text) or real(text, *a)
    )
    pieces = ["ab c", "d" * 50, "e" * 50, "f" * 50, "g h", "i" * 10, "j\n"]
    whole = "".join(pieces)
    chunks = list(token_array.piece_chunks(pieces, 8, str.isspace))
    assert chunks == [(whole[a:b], a == 0, b) for a, b in real(whole, 8, str.isspace)]
    assert seen == ["ab c", "ab c" + "d" * 50 + "e" * 50 + "f" * 50 + "g h", "h" + "i" * 10 + "j\n"]


def test_compact_dtypes_follow_the_vocabulary_size():
    assert [compact_dtype(n) for n in (1, 256, 257, 65536, 65537)] == [
        np.uint8,
        np.uint8,
        np.uint16,
        np.uint16,
        np.uint32,
    ]
    char = scan_text(read_text("timemachine"), "char")
    assert char.ids.dtype == np.uint8 and char.ids.itemsize == 1
    word = scan_text(read_text("timemachine"), "word")
    assert word.ids.dtype == np.uint16


def test_progress_and_cancellation_between_chunks():
    text = "one two three\n" * 100
    seen = []
    scan_text(text, chunk_chars=140, progress=lambda done, total: seen.append((done, total)))
    assert len(seen) == 10 and seen[-1] == (len(text), len(text))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(DataError, match="stopped"):
        scan_text(text, chunk_chars=140, cancelled=cancelled)


def test_the_time_machine_stats_equal_the_list_path():
    for token in ("word", "char"):
        corpus = load_corpus("timemachine", token=token)
        stats = corpus_stats("timemachine", token=token, top=20)
        ref = reference_stats(read_text("timemachine"), token, "clean", 0, 20)
        assert stats["num_tokens"] == corpus.num_tokens == ref["num_tokens"]
        assert stats["top_tokens"] == ref["top_tokens"]
        assert stats["top_ngrams"] == ref["top_ngrams"]


def test_vocab_from_counts_is_vocab_of_the_tokens():
    tokens = "b a c a b d <unk> a".split()
    for min_freq in range(4):
        built = Vocab.from_counts(count_corpus(tokens).items(), min_freq)
        assert built == Vocab(tokens, min_freq=min_freq)
        assert built.idx_to_token == Vocab(tokens, min_freq=min_freq).idx_to_token


@settings(max_examples=150, deadline=None)
@given(
    ids=st.lists(st.integers(0, 4), min_size=0, max_size=60),
    k=st.integers(0, 7),
    sort_all=st.integers(0, 70),
    block=st.integers(1, 9),
)
def test_bigrams_counted_from_the_trigram_sort_match_most_common(ids, k, sort_all, block):
    tokens = [f"t{i}" for i in range(5)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ngram_counts, "DENSE_LIMIT", 0)  # sparse counting at every order
        patch.setattr(ngram_counts, "SORT_ALL_LIMIT", sort_all)  # bigrams from trigrams or merges
        patch.setattr(sorted_runs, "RUN_BLOCK", block)  # prefixes summed across small blocks
        got = top_ngrams_of_ids(np.asarray(ids, dtype=np.uint8), tokens, (1, 2, 3), k, chunk=4)
    flat = [tokens[i] for i in ids]
    for n in (1, 2, 3):
        counter = Counter(zip(*(flat[i:] for i in range(n)), strict=False))
        assert got[n] == counter.most_common(k)


class _ManyTokens:
    """A vocabulary of `size` tokens named t0, t1, …: big enough that three ids packed into one
    integer overflow 64 bits, as a corpus of millions of distinct words does."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> str:
        return f"t{i}"


@settings(max_examples=150, deadline=None)
@given(
    ids=st.lists(st.integers(0, 4), max_size=60),
    k=st.integers(0, 7),
    base_bits=st.sampled_from([22, 33, 40]),
)
def test_ngrams_of_millions_of_distinct_tokens_match_most_common(ids, k, base_bits):
    # Vⁿ ≥ 2⁶⁴ for n = 3 (V = 2²²) or already n = 2 (2³³, 2⁴⁰): prefixes get ranked.
    tokens = _ManyTokens(1 << base_bits)
    array = np.asarray(ids, dtype=np.uint32)
    got = top_ngrams_of_ids(array, tokens, (1, 2, 3), k, chunk=4)
    flat = [tokens[i] for i in ids]
    for n in (1, 2, 3):
        counter = Counter(zip(*(flat[i:] for i in range(n)), strict=False))
        assert got[n] == counter.most_common(k)
        codes, counts = ngram_counts.count_ngram_codes(array, len(tokens), n)
        assert sorted(counts.tolist()) == sorted(counter.values())
        assert np.all(np.diff(codes.astype(np.float64)) > 0) if len(codes) > 1 else True


def test_past_one_sorts_reach_the_first_chunk_decides_between_sorting_and_merging(monkeypatch):
    monkeypatch.setattr(ngram_counts, "SORT_ALL_LIMIT", 100)
    u64, mult = np.uint64, np.uint64(1000)
    varied = np.random.default_rng(0).integers(0, 1000, 400).astype(np.uint32)
    repeated = np.tile(np.arange(5, dtype=np.uint32), 80)
    assert ngram_counts._sorts_all(varied[:50], 49, 2, u64, mult, 64)  # within the limit
    assert ngram_counts._sorts_all(varied, 399, 2, u64, mult, 64)  # mostly distinct
    assert not ngram_counts._sorts_all(repeated, 399, 2, u64, mult, 64)  # few distinct
    assert not ngram_counts._sorts_all(varied[:1], 0, 2, u64, mult, 64)  # nothing to count


def test_ranked_codes_sort_as_the_ngrams_do():
    ids = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 3, 1, 4], dtype=np.uint32)
    codes = ngram_counts.ranked_codes(ids, 1 << 40, 3)
    grams = [tuple(ids[i : i + 3].tolist()) for i in range(len(ids) - 2)]
    assert len(codes) == len(grams)
    for i in range(len(grams)):
        for j in range(len(grams)):
            assert (codes[i] < codes[j]) == (grams[i] < grams[j])


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(1, 40), min_size=1, max_size=50),
    k=st.integers(1, 50),
    cap=st.integers(1, 45),
)
def test_kth_largest_count_by_histogram_and_partition(counts, k, cap):
    k = min(k, len(counts))
    original = sorted_runs.KTH_CAP
    try:
        sorted_runs.KTH_CAP = cap  # counts at or above it are partitioned, the rest binned
        got = sorted_runs.kth_largest(np.asarray(counts, dtype=np.int64), k)
    finally:
        sorted_runs.KTH_CAP = original
    assert got == sorted(counts, reverse=True)[k - 1]


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(0, 40), min_size=1, max_size=60),
    data=st.data(),
    cap=st.integers(1, 45),
    block=st.integers(1, 8),
    dtype=st.sampled_from([np.int32, np.int64]),
)
def test_counts_at_ranks_are_the_descending_sort_read_there(counts, data, cap, block, dtype):
    ranks = data.draw(st.lists(st.integers(1, len(counts)), max_size=12))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sorted_runs, "KTH_CAP", cap)  # counts from here up sorted, below binned
        patch.setattr(sorted_runs, "RUN_BLOCK", block)  # the histogram built block by block
        got = sorted_runs.counts_at_ranks(np.asarray(counts, dtype=dtype), ranks)
    descending = sorted(counts, reverse=True)
    assert got.tolist() == [descending[r - 1] for r in ranks]


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(0, 9), max_size=60),
    block=st.integers(1, 9),
)
def test_run_lengths_compacted_in_blocks_are_numpys_unique(values, block):
    fresh = np.asarray(values, dtype=np.uint64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sorted_runs, "RUN_BLOCK", block)
        got, counts = sorted_runs.run_lengths(fresh)
    want, want_counts = np.unique(np.asarray(values, dtype=np.uint64), return_counts=True)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(counts, want_counts)
    assert counts.dtype == np.int32  # 4 bytes a count for streams below 2³¹


@settings(max_examples=300, deadline=None)
@given(
    text=TEXTS,
    cuts=st.lists(st.integers(0, 300), max_size=8),
    token=st.sampled_from(["word", "char"]),
    mode=st.sampled_from(["clean", "raw"]),
    chunk=st.integers(1, 16),
    search=st.sampled_from([1, 3, text_chunks.CUT_SEARCH]),
)
def test_a_text_read_as_pieces_is_cut_and_scanned_as_the_whole(
    text, cuts, token, mode, chunk, search
):
    # A big file is decoded into pieces that are never joined; the tokenizer cuts them into
    # the very chunks the whole text gives, line ends and long lines split anywhere.
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    cut_after = text_chunks.CUT_AFTER[token, mode]
    original = text_chunks.CUT_SEARCH
    try:
        text_chunks.CUT_SEARCH = search  # short searches: lines that cannot be cut near the end
        whole = [
            (text[a:b], a == 0 or text[a - 1] == "\n", b)
            for a, b in line_chunks(text, chunk, cut_after)
        ]
        assert list(token_array.piece_chunks(pieces, chunk, cut_after)) == whole
        taken = list(pieces)
        assert list(token_array.piece_chunks(taken, chunk, cut_after, consume=True)) == whole
        assert not any(taken)  # each piece let go once its chunks were made
        one = scan_text(text, token, mode, chunk_chars=chunk)
        many = scan_text(pieces, token, mode, chunk_chars=chunk)
        given = list(pieces)  # handed over: emptied, the pieces let go as they are read
        consumed = scan_text(given, token, mode, chunk_chars=chunk, reread=pieces.copy)
    finally:
        text_chunks.CUT_SEARCH = original
    assert given == []
    for scan in (many, consumed):
        assert (scan.tokens, scan.counts.tolist(), scan.ids.tolist(), scan.num_lines) == (
            one.tokens,
            one.counts.tolist(),
            one.ids.tolist(),
            one.num_lines,
        )


def test_a_scan_that_let_its_text_go_reads_it_again_to_number_colliding_words(monkeypatch):
    text = "the cat saw the dog and the bird saw a cat\nno end"
    pieces = [text[:13], text[13:30], text[30:]]
    reads = []

    def reread() -> list[str]:
        reads.append(1)
        return list(pieces)

    want = scan_text(text)
    monkeypatch.setattr(byte_words, "SHORT", 0)
    monkeypatch.setattr(byte_words, "_long_keys", lambda d, s, n: (n // 2).astype(np.uint64))
    monkeypatch.setattr(first_seen, "HASHED_FROM", 2)
    monkeypatch.setattr(hashed_words, "hash_of", lambda word: len(word) // 2)
    got = scan_text(list(pieces), reread=reread, chunk_chars=8)
    # Two words shared a key, then a hash: numbered again by hashes, then in dicts, each time
    # from the text read again.
    assert reads == [1, 1]
    assert (got.tokens, got.ids.tolist(), got.num_lines) == (
        want.tokens,
        want.ids.tolist(),
        want.num_lines,
    )
    assert got.num_lines == 2


def test_a_file_changed_since_it_was_read_is_not_read_again_as_the_same(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("one text\n", encoding="utf-8")
    pieces, digest = read_text_pieces(str(path))
    again = rereader(str(path), "utf-8", digest)
    assert again() == pieces and rereader("timemachine", "utf-8", None) is None
    path.write_text("another text\n", encoding="utf-8")
    with pytest.raises(DataError, match="changed while it was read"):
        again()


WIDE_TEXT = "\ufeffπ é\r\n中文 😀 text\n" * 50
# Every encoding is read in pieces: one 100 MB call held the GIL (141 ms for UTF-16).
PIECE_TEXTS = {
    "utf-8": WIDE_TEXT,
    "latin-1": "café\r\n" * 80,
    "cp1252": "café “quoted” – €\r\n" * 40,
    "utf-16": WIDE_TEXT,
    "utf-16-be": WIDE_TEXT.removeprefix("\ufeff"),
    "utf-32": WIDE_TEXT,
    "shift_jis": "日本語のテキスト、かな カナ\n" * 40,
    "gb18030": WIDE_TEXT.replace("😀", "字"),
    "utf-7": "π é 中文 text\n" * 40,
}


@pytest.mark.parametrize("encoding", list(PIECE_TEXTS))
def test_a_big_file_is_decoded_into_pieces_that_make_the_text(monkeypatch, encoding):
    data = PIECE_TEXTS[encoding].encode(encoding)
    monkeypatch.setattr(decoding, "DECODE_PIECE", 7)  # multi-byte characters cut between pieces
    pieces = decoding.decode_pieces(data, "f.txt", encoding)
    assert len(pieces) > 1
    assert "".join(pieces) == data.decode(encoding).removeprefix("\ufeff")
    assert decoding.decode_bytes(data, "f.txt", encoding) == "".join(pieces)
    if encoding in ("latin-1", "utf-7"):
        return  # no byte is invalid in Latin-1; UTF-7 reads 0xff nowhere as one call would
    # An invalid byte is reported at the offset one call gives, also where the piece it falls
    # in starts with the tail of a character begun in the piece before.
    checked = 0
    for at in range(20, 90):
        bad = data[:at] + (b"\x81" if encoding == "cp1252" else b"\xff") + data[at:]
        try:
            bad.decode(encoding)
        except UnicodeDecodeError as exc:
            where = rf"as {encoding}: invalid byte 0x[0-9a-f]{{2}}.* at offset {exc.start:,}\b"
        else:
            continue
        with pytest.raises(DataError, match=where):
            decoding.decode_pieces(bad, "f.txt", encoding)
        checked += 1
    assert checked


def test_char_tokens_are_scanned_a_mib_at_a_time(monkeypatch):
    """Their temporaries then stay under glibc's memory-map threshold (8M: +1 s of page faults
    for 100 MB)."""
    seen = []
    clean_chars = token_array._clean_chars

    def recorded(chunk, line_start=True):
        seen.append(len(chunk))
        return clean_chars(chunk, line_start)

    monkeypatch.setattr(token_array, "_clean_chars", recorded)
    text = "the time traveller\n" * 200_000  # 3.8M characters
    scan = token_array.scan_text(text, "char")
    assert scan.num_tokens == 200_000 * 18 and len(seen) >= 3
    assert max(seen) <= token_array.CHAR_CHUNK_CHARS


@pytest.mark.parametrize("piece", [1, 2, 3, 1 << 20])
@pytest.mark.parametrize("min_freq", [0, 2])
def test_the_id_table_is_written_a_piece_at_a_time(monkeypatch, piece, min_freq):
    monkeypatch.setattr(token_array, "TABLE_PIECE", piece)
    text = "the cat saw the dog and the cat ran off to see a dog\n"
    scan = scan_text(text)
    order = scan.count_order()
    assert order.dtype == np.uint32  # held beside the Vocab's tables as they are built
    vocab = scan.vocab(min_freq, order)
    words = text.split()
    assert scan.vocab_ids(vocab, table=scan.id_table(vocab, order)).tolist() == vocab[words]


def test_a_scans_counts_take_4_bytes_each_and_build_the_same_vocab():
    # Held through the Vocab's build (the peak of `stats`' memory): uint32 while they fit.
    scan = scan_text("the cat saw the dog and the cat\n")
    assert scan.counts.dtype == np.uint32
    assert scan.counts.tolist() == [3, 2, 1, 1, 1]
    wide = Vocab.from_token_counts(scan.tokens, scan.counts.astype(np.int64), 2)
    assert scan.vocab(2) == wide and scan.vocab(2).idx_to_token == ["<unk>", "the", "cat"]
    assert scan.count_order().tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("most", [3, 5, 100])
def test_counts_widen_to_8_bytes_before_they_could_overflow(monkeypatch, most):
    monkeypatch.setattr(token_array, "COUNT_MAX", most)
    scan = scan_text("a b a\nc a b a\n", chunk_chars=4)
    assert scan.counts.tolist() == [4, 2, 1]
    assert scan.counts.dtype == (np.int64 if most < 7 else np.uint32)


@settings(max_examples=300, deadline=None)
@given(
    text=TEXTS,
    token=st.sampled_from(["word", "char"]),
    mode=st.sampled_from(["clean", "raw"]),
    window=st.integers(1, 5),
)
def test_string_work_a_window_at_a_time_gives_the_same_scan(text, token, mode, window):
    """A chunk of one 100 MB word is searched, encoded and counted a window at a time (each C
    call holds the GIL): any window size gives the tokens and lines of the whole text."""
    whole = scan_text(text, token, mode)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(text_chunks, "WINDOW", window)
        assert text_chunks.line_ends(text) == (
            text.count("\n") + text.count("\r") - text.count("\r\n")
        )
        for pattern in (re.compile(r"[^\S\r]"), re.compile("[A-Za-z\n]")):
            for pos in (0, 2, len(text)):
                want = pattern.search(text, pos)
                got = text_chunks.search(pattern, text, pos)
                assert (got and got.span()) == (want and want.span())
        assert text_chunks.windowed(str.encode, text) == text.encode()
        scan = scan_text(text, token, mode, chunk_chars=4)
    assert (scan.tokens, scan.counts.tolist(), scan.ids.tolist(), scan.num_lines) == (
        whole.tokens,
        whole.counts.tolist(),
        whole.ids.tolist(),
        whole.num_lines,
    )


@pytest.mark.parametrize("mode", ["clean", "raw"])
def test_a_chunk_of_one_long_word_is_converted_a_window_at_a_time(monkeypatch, mode):
    """A file of one 100 MB word is one chunk: its encoding was one C call of ~100 ms, with
    the GIL held, and so the app's event loop."""
    monkeypatch.setattr(text_chunks, "WINDOW", 8)
    sizes = []
    for module, name in ((byte_words, "_spaced"), (token_array, "_clean_word_bytes")):
        real = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda text, real=real: sizes.append(len(text)) or real(text)
        )
    scan = scan_text("abc" * 40 + " de\n", "word", mode)
    assert sum(scan.counts.tolist()) == 2 and sizes and max(sizes) <= 8
