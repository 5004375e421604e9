"""Vocab and count_corpus behave as d2l's (text preprocessing chapter)."""

import collections
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data import vocab_fields
from rnn_tui.data.errors import DataError
from rnn_tui.data.vocab import Vocab, count_corpus, count_order

TOKENS = st.lists(
    st.one_of(st.sampled_from(list("abcdefgh")), st.text(min_size=1, max_size=3)), max_size=60
)
SETTINGS = settings(max_examples=60, deadline=None)


def test_count_corpus_flattens_lines():
    assert count_corpus([["a", "b"], ["a"]]) == {"a": 2, "b": 1}
    assert count_corpus(["a", "b", "a"]) == {"a": 2, "b": 1}
    assert count_corpus([]) == {}
    # Tuples are items (n-grams), not lines, as in d2l.
    assert count_corpus([("a", "b"), ("a", "b")]) == {("a", "b"): 2}


def test_layout_unk_reserved_then_by_frequency():
    vocab = Vocab([["b", "a", "c"], ["a", "c", "a"], ["d"]], reserved_tokens=["<pad>", "<eos>"])
    # a:3, c:2, b:1 and d:1 tie and keep first-seen order (b before d).
    assert vocab.idx_to_token == ["<unk>", "<pad>", "<eos>", "a", "c", "b", "d"]
    assert vocab.token_to_idx["a"] == 3
    assert vocab.unk == 0
    assert vocab["zzz"] == 0
    assert vocab[["a", "zzz", "d"]] == [3, 0, 6]
    assert vocab[("c",)] == [4]
    assert vocab.to_tokens(4) == "c"
    assert vocab.to_tokens([3, 0]) == ["a", "<unk>"]
    assert vocab.token_freqs == [("a", 3), ("c", 2), ("b", 1), ("d", 1)]
    assert vocab.freq("a") == 3 and vocab.freq("zzz") == 0 and vocab.freq("<pad>") == 0
    assert len(vocab) == 7


def test_min_freq_drops_rare_tokens_but_keeps_their_counts():
    vocab = Vocab(list("aaabbc"), min_freq=2)
    assert vocab.idx_to_token == ["<unk>", "a", "b"]
    assert vocab["c"] == 0
    assert vocab.token_freqs == [("a", 3), ("b", 2), ("c", 1)]


def test_empty_vocab_has_only_unk():
    vocab = Vocab()
    assert vocab.idx_to_token == ["<unk>"]
    assert vocab["x"] == 0


def test_numpy_indices_to_tokens():
    np = pytest.importorskip("numpy")
    vocab = Vocab(list("abca"))
    assert vocab.to_tokens(np.array([1, 2])) == ["a", "b"]
    assert vocab.to_tokens(np.int64(3)) == "c"


def test_dict_round_trip_through_json():
    vocab = Vocab([["x", "y", "x"], ["z"]], min_freq=1, reserved_tokens=["<bos>"])
    again = Vocab.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again == vocab
    assert again.idx_to_token == vocab.idx_to_token
    assert again.token_freqs == vocab.token_freqs
    assert again["x"] == vocab["x"] and again.freq("x") == 2
    assert again.min_freq == 1 and again.reserved_tokens == ["<bos>"]


@pytest.mark.parametrize(
    "bad",
    [{}, {"idx_to_token": ["a"]}, {"idx_to_token": ["<unk>", "a", "a"]}, {"idx_to_token": 3}],
)
def test_from_dict_rejects_malformed(bad):
    with pytest.raises(DataError):
        Vocab.from_dict(bad)


@SETTINGS
@given(TOKENS, st.integers(min_value=0, max_value=3))
def test_round_trip_for_tokens_in_vocab(tokens, min_freq):
    vocab = Vocab(tokens, min_freq=min_freq)
    known = [token for token in tokens if token in vocab.token_to_idx]
    assert vocab.to_tokens(vocab[known]) == known


@SETTINGS
@given(TOKENS, st.lists(st.text(min_size=1, max_size=4), max_size=10))
def test_unknowns_map_to_zero(tokens, others):
    vocab = Vocab(tokens)
    for token in others:
        if token not in set(tokens) and token != "<unk>":
            assert vocab[token] == 0


@SETTINGS
@given(TOKENS, st.integers(min_value=0, max_value=3))
def test_indices_ordered_by_non_increasing_frequency(tokens, min_freq):
    vocab = Vocab(tokens, min_freq=min_freq)
    counts = count_corpus(tokens)
    freqs = [counts[token] for token in vocab.idx_to_token[1:]]
    assert freqs == sorted(freqs, reverse=True)
    assert all(freq >= min_freq for freq in freqs)
    kept = {t for t, c in counts.items() if c >= min_freq}
    assert set(vocab.idx_to_token[1:]) == kept - {"<unk>"}
    assert [vocab.token_to_idx[t] for t in vocab.idx_to_token] == list(range(len(vocab)))


class SeedsVocab:
    """The seeds' Vocab, verbatim (003: "构建词表"): <unk>, the reserved tokens, then the counted
    tokens by descending count, each once, those seen fewer than min_freq times left out."""

    def __init__(self, tokens, min_freq=0, reserved_tokens=None):
        counter = collections.Counter(tokens)
        self.idx_to_token = ["<unk>"] + (reserved_tokens or [])
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}
        for token, freq in sorted(counter.items(), key=lambda x: -x[1]):
            if freq >= min_freq and token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "<unk>", "<pad>", "<bos>"]), max_size=30),
    st.integers(min_value=0, max_value=4),
    st.lists(st.sampled_from(["<pad>", "<bos>", "<eos>"]), max_size=3, unique=True),
)
def test_equals_the_seeds_vocab_when_the_text_holds_unk_or_reserved_tokens(
    tokens, min_freq, reserved
):
    vocab = Vocab(tokens, min_freq=min_freq, reserved_tokens=reserved)
    seeds = SeedsVocab(tokens, min_freq=min_freq, reserved_tokens=list(reserved))
    assert list(vocab.idx_to_token) == seeds.idx_to_token
    assert vocab.token_to_idx == seeds.token_to_idx
    for token in ["a", "b", "c", "<unk>", "<pad>", "<bos>", "<eos>", "zzz"]:
        assert vocab[token] == seeds.token_to_idx.get(token, 0)


def test_a_counted_reserved_token_keeps_its_reserved_index():
    vocab = Vocab(["<pad>", "a", "a", "<unk>"], reserved_tokens=["<pad>", "<bos>"])
    assert list(vocab.idx_to_token) == ["<unk>", "<pad>", "<bos>", "a"]
    assert vocab["<pad>"] == 1 and vocab["<bos>"] == 2 and vocab["a"] == 3


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "d", "<unk>", "<pad>", "é"]), max_size=40),
    st.integers(min_value=0, max_value=4),
    st.lists(st.sampled_from(["<pad>", "<bos>", "<eos>"]), max_size=3, unique=True),
)
def test_from_token_counts_builds_the_counted_vocab(tokens, min_freq, reserved):
    # The array path (what a 100 MB corpus uses) against d2l's Vocab built from the list,
    # `<unk>` and reserved tokens in the text included; freq of kept, dropped, unseen tokens.
    counter = count_corpus(tokens)
    built = Vocab.from_token_counts(
        list(counter), np.array(list(counter.values()), dtype=np.int64), min_freq, reserved
    )
    reference = Vocab(tokens, min_freq=min_freq, reserved_tokens=reserved)
    # No token → index dict until a lookup asks for one (a 100 MB corpus's Dataset screen
    # never does: a dict of millions of tokens holds the GIL each time it grows).
    lazy = built.counted_offset is not None
    assert (built._token_to_idx is None) == lazy
    assert built.counts_by_index().tolist() == [reference.freq(t) for t in built.idx_to_token]
    for size in range(1 + len(reserved), len(built) + 2):  # min_freq within a size
        least, kept = built.min_freq_within(size)
        fits = Vocab(tokens, min_freq=least, reserved_tokens=reserved)
        assert least >= min_freq and kept == sum(c >= least for c in counter.values())
        assert len(fits) <= size
        if least > min_freq and lazy:  # the smallest that fits (no token repeats the head)
            assert size < len(Vocab(tokens, least - 1, reserved))
    for stop in (0, 1, 2, len(built) + 1):  # the head alone (`rnn-tui stats --top K`)
        head = [reference.freq(t) for t in built.idx_to_token[:stop]]
        assert built.counts_by_index(stop).tolist() == head
    assert (built._token_to_idx is None) == lazy
    assert built == reference
    assert built.idx_to_token == reference.idx_to_token
    assert built.token_freqs == counter.most_common()
    offset = built.counted_offset
    if offset is not None:  # the i-th most frequent kept token sits at offset + i
        kept = [t for t, c in counter.most_common() if c >= min_freq]
        assert built.idx_to_token[offset:] == kept
    else:  # a counted token repeats <unk> or a reserved one
        assert {"<unk>", *reserved} & {t for t, c in counter.items() if c >= min_freq}
    for token in ["a", "b", "c", "d", "<unk>", "<pad>", "<bos>", "é", "zz"]:
        assert built.freq(token) == reference.freq(token) == counter.get(token, 0)
    assert Vocab.from_dict(built.to_dict()) == built


@given(st.lists(st.sampled_from([0, 1, 2, 7, (1 << 32) - 1, 1 << 32, 1 << 40]), max_size=30))
def test_count_order_is_a_stable_sort_by_descending_count(counts):
    # By max - count in 4 bytes where every count fits, else by -count.
    array = np.array(counts, dtype=np.int64)
    assert count_order(array).tolist() == np.argsort(-array, kind="stable").tolist()


@pytest.mark.parametrize("big", [1, 1 << 31, (1 << 32) - 1, 1 << 32, 1 << 40])
def test_counts_are_kept_in_4_bytes_where_they_fit(big):
    vocab = Vocab.from_token_counts(["a", "b", "c"], np.array([3, big, 3], dtype=np.int64))
    assert vocab._freqs.itemsize == (4 if big < 1 << 32 else 8)
    assert vocab.counts_by_index().tolist() == [0, *sorted([3, big, 3], reverse=True)]
    assert vocab.token_freqs == sorted([("a", 3), ("b", big), ("c", 3)], key=lambda t: -t[1])
    assert vocab == Vocab.from_dict(vocab.to_dict())


@SETTINGS
@given(
    TOKENS,
    st.integers(min_value=0, max_value=3),
    st.sampled_from([[], ["<pad>"], ["<pad>", "<bos>"], ["a"]]),
)
def test_a_saved_vocab_keeps_indices_and_counts_but_not_the_dropped_tokens(
    tokens, min_freq, reserved
):
    vocab = Vocab(tokens, min_freq=min_freq, reserved_tokens=reserved)
    d = vocab.to_dict()
    text = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
    again = Vocab.from_dict(json.loads(text))
    assert again == vocab
    assert again.counts_by_index()[len(reserved) + 1 :].tolist() == (
        vocab.counts_by_index()[len(reserved) + 1 :].tolist()
    )
    assert again[tokens] == vocab[tokens]
    kept = {t for t, c in count_corpus(tokens).items() if c >= min_freq}
    saved = set(d["idx_to_token"]) | {t for t, _ in d.get("token_freqs", [])}
    assert saved <= kept | {"<unk>", *reserved}  # nothing min_freq dropped
    # kept_bytes is what each kept token adds to that JSON (a comma more where none is left)
    fewer = Vocab(tokens, min_freq=min_freq + 1, reserved_tokens=reserved)
    if (fewer.counted_offset is None) == (vocab.counted_offset is None):
        smaller = json.dumps(fewer.to_dict(), ensure_ascii=False, separators=(",", ":"))
        saved_bytes = len(text.encode()) - len(smaller.encode())
        estimate = int(vocab.kept_bytes()[vocab.kept_at(min_freq + 1) :].sum())
        assert 0 <= estimate - saved_bytes <= 1
    assert vocab.kept_at(min_freq + 1) == len(fewer) - len(fewer.reserved_tokens) - 1 or (
        fewer.counted_offset is None
    )


def test_a_vocab_saved_before_with_every_count_still_loads():
    old = {
        "idx_to_token": ["<unk>", "a", "b"],
        "token_freqs": [["a", 3], ["b", 2], ["c", 1]],
        "min_freq": 2,
        "reserved_tokens": [],
    }
    vocab = Vocab.from_dict(old)
    assert vocab["b"] == 2 and vocab["c"] == 0 and vocab.freq("c") == 1


@pytest.mark.parametrize("counts", [[1], [3, "x"], [3, None], [3, 2, 1], [1e400, 2], "ab"])
def test_counts_that_do_not_match_the_tokens_are_refused(counts):
    with pytest.raises(DataError, match="malformed vocabulary"):
        Vocab.from_dict({"idx_to_token": ["<unk>", "a", "b"], "counts": counts})


@pytest.mark.parametrize("tokens", [["<unk>", "a", "a"], ["<unk>", "a", "<unk>"]])
def test_a_saved_vocab_with_a_token_twice_is_refused(tokens):
    # Two indices for one token: the model's rows for one of them could never be reached.
    with pytest.raises(DataError, match="malformed vocabulary: duplicate tokens"):
        Vocab.from_dict({"idx_to_token": tokens, "counts": [2, 1]})


def test_a_large_saved_vocab_maps_every_token_to_its_index():
    tokens = ["<unk>", *(f"w{i}" for i in range(50_000))]
    vocab = Vocab.from_dict({"idx_to_token": tokens, "counts": list(range(50_000, 0, -1))})
    assert [vocab[t] for t in tokens[::997]] == list(range(0, len(tokens), 997))
    assert vocab.to_tokens([3, 49_999]) == ["w2", "w49998"]


@pytest.mark.parametrize(
    "tokens, counts, says",
    [
        (["<unk>", "a", "b", "c", "d"], [4, 3, True, 1], r"counts\[2\] is a boolean"),
        (["<unk>", "a", "b", "c", "d"], [4, 3, 2, -1], r"counts\[3\] is out of range"),
        (["<unk>", "a", "b", "c", "d"], [4, 3, 2, 2**63], r"counts\[3\] is out of range"),
        (["<unk>", "a", "b", "c", 7], [4, 3, 2, 1], r"idx_to_token\[4\] is an integer"),
    ],
)
def test_a_bad_element_is_named_whichever_chunk_it_is_checked_in(monkeypatch, tokens, counts, says):
    # Checked a chunk per C call (2.26M words: 0.8 s element by element); a bad one is still
    # named by its own index.
    monkeypatch.setattr(vocab_fields, "CHECK_CHUNK", 2)
    with pytest.raises(DataError, match=says):
        Vocab.from_dict({"idx_to_token": tokens, "counts": counts})
    good = Vocab.from_dict({"idx_to_token": ["<unk>", "a", "b", "c", "d"], "counts": [4, 3, 2, 1]})
    assert good.freq("c") == 2 and good["d"] == 4
