"""English→French pairs as d2l's "Machine Translation and the Dataset" prepares them."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data.errors import DataError
from rnn_tui.data.sources import read_raw_pairs
from rnn_tui.data.translation import (
    build_array_nmt,
    build_array_sentences,
    length_histogram,
    length_stats,
    load_translation,
    preprocess_in_place,
    preprocess_nmt,
    preprocess_pairs,
    side_counts,
    tokenize_nmt,
    truncate_pad,
)
from rnn_tui.data.vocab import Vocab


@pytest.fixture(scope="module")
def book():
    return load_translation("fra-eng", num_examples=600)


def test_preprocess_nmt_is_d2ls():
    assert preprocess_nmt("Go.") == "go ."
    assert preprocess_nmt("Cours\u202f!") == "cours !"
    assert preprocess_nmt("Qui\xa0?") == "qui ?"
    assert preprocess_nmt("Hi, Tom! Ok?") == "hi , tom ! ok ?"
    assert preprocess_nmt("Wait !") == "wait !"  # already spaced: nothing inserted
    assert preprocess_nmt(".Start") == ".start"  # the first character has nothing before it
    assert preprocess_nmt("I’m ok.") == "i’m ok ."  # curly apostrophes stay, as in d2l


def d2l_preprocess_nmt(text):
    # d2l's function, verbatim.
    def no_space(char, prev_char):
        return char in set(",.!?") and prev_char != " "

    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    out = [
        " " + char if i > 0 and no_space(char, text[i - 1]) else char for i, char in enumerate(text)
    ]
    return "".join(out)


def d2l_spaced(text):
    """d2l's preprocessing, then runs of spaces as one and none at either end (which split on
    single spaces made empty tokens of)."""
    return re.sub("  +", " ", d2l_preprocess_nmt(text)).strip(" ")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from("aB ,.!?\u202f\xa0\n\t’É"), max_size=30))
def test_preprocess_nmt_equals_d2l_reference_with_single_spaces(text):
    assert preprocess_nmt(text) == d2l_spaced(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.text(alphabet=st.sampled_from("aB ,.!?\u202f\xa0\n’Σ"), max_size=12)] * 2),
        max_size=6,
    ),
    st.integers(1, 4),
)
def test_preprocess_pairs_is_preprocess_nmt_on_each_side(pairs, chunk):
    """In chunks of any size too (a chunk of the joined text starts and ends at a newline)."""
    expected = [(d2l_spaced(a), d2l_spaced(b)) for a, b in pairs]
    assert preprocess_pairs(pairs) == expected
    assert preprocess_pairs(pairs, chunk=chunk) == expected


def test_book_run(book):
    assert len(book.pairs) == 600 and len(book.raw) == 600
    assert book.raw[0] == ("Go.", "Va !")
    assert book.pairs[0] == ("go .", "va !")
    assert book.pairs[1] == ("run !", "cours !")
    assert book.source[0] == ["go", "."] and book.target[0] == ["va", "!"]
    assert book.malformed == 0
    for vocab in (book.src_vocab, book.tgt_vocab):
        assert vocab.idx_to_token[:4] == ["<unk>", "<pad>", "<bos>", "<eos>"]
        kept = vocab.idx_to_token[4:]
        assert kept and all(vocab.freq(token) >= 2 for token in kept)


def test_whole_set_with_curly_apostrophes():
    data = load_translation()
    assert len(data.pairs) == 68807 and data.malformed == 0
    curly = [pair for pair in data.pairs if "’" in pair[0] + pair[1]]
    assert curly and all("’" in a + b for a, b in curly)
    assert "c’est" in data.tgt_vocab.token_to_idx
    array, valid = build_array_nmt(data.target, data.tgt_vocab, 10)
    assert array.shape == (68807, 10) and valid.min() >= 1


def test_read_raw_pairs_counts_malformed_lines(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text(
        "Hello.\tBonjour.\n"
        "no tab here\n"
        "four\tfields\tare\ttoo many\n"
        "\n"
        "empty target\t  \n"
        "\tempty source\n"
        "\t\n"  # a tab alone: a pair with both sides blank, not a blank line
        "   \n"
        "Thanks!\tMerci !\n",
        encoding="utf-8",
    )
    pairs, malformed, third = read_raw_pairs(str(path))
    assert pairs == [("Hello.", "Bonjour."), ("Thanks!", "Merci !")]
    assert malformed == 5 and third == 0
    first, bad, _ = read_raw_pairs(str(path), num_examples=1)
    assert first == [("Hello.", "Bonjour.")] and bad == 0
    assert load_translation(str(path), min_freq=1).malformed == 5


def test_read_raw_pairs_errors(tmp_path):
    path = tmp_path / "none.txt"
    path.write_text("just text\nno pairs\n")
    with pytest.raises(DataError, match=r"no tab-separated sentence pairs .*\(2 malformed lines\)"):
        read_raw_pairs(str(path))
    with pytest.raises(DataError, match="not found"):
        load_translation(str(tmp_path / "missing.txt"))


def test_tokenize_and_truncate_pad():
    src, tgt = tokenize_nmt([("go .", "va !"), ("a  b", "c")])
    assert src == [["go", "."], ["a", "", "b"]] and tgt == [["va", "!"], ["c"]]  # as d2l's
    # Preprocessed first, padded and doubled spaces make no empty tokens.
    pairs = preprocess_pairs([(" go .  ", "va  !"), ("qui est cette fille  ?", "x")], chunk=1)
    assert pairs == [("go .", "va !"), ("qui est cette fille ?", "x")]
    assert tokenize_nmt(pairs)[0] == [["go", "."], ["qui", "est", "cette", "fille", "?"]]
    assert preprocess_nmt("  Go  . ") == "go ." and preprocess_nmt("a   b!") == "a b !"
    assert truncate_pad([1, 2, 3], 5, 0) == [1, 2, 3, 0, 0]
    assert truncate_pad([1, 2, 3], 2, 0) == [1, 2]
    assert truncate_pad([], 2, "<pad>") == ["<pad>", "<pad>"]
    with pytest.raises(DataError):
        truncate_pad([1], 0, 0)


def test_build_array_nmt_valid_lengths():
    lines = [["a", "b"], ["a", "b", "c", "d", "e"], []]
    vocab = Vocab(lines, reserved_tokens=["<pad>", "<bos>", "<eos>"])
    pad, eos = vocab["<pad>"], vocab["<eos>"]
    array, valid = build_array_nmt(lines, vocab, 4)
    assert array.dtype == np.int64 and array.shape == (3, 4)
    assert array[0].tolist() == [vocab["a"], vocab["b"], eos, pad]
    assert array[1].tolist() == vocab[["a", "b", "c", "d"]]  # truncated: <eos> cut off
    assert array[2].tolist() == [eos, pad, pad, pad]
    assert valid.tolist() == [3, 4, 1]


# Sentences of up to 10 tokens joined by one space; "" makes double spaces (empty tokens).
SENTENCE = st.lists(st.sampled_from(["a", "b", "", "é", "<pad>", "<eos>"]), max_size=10).map(
    " ".join
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(SENTENCE, max_size=9),
    st.lists(SENTENCE, max_size=4),
    st.integers(1, 7),
    st.integers(1, 4),
    st.integers(0, 2),
)
def test_sentences_counted_and_encoded_whole_equal_their_token_lists(
    sentences, known, num_steps, chunk, min_freq
):
    """What a translation run builds from sentences (a chunk at a time, no token lists) is what
    tokenize_nmt's lists give: the same Vocab, token order and counts, and the same arrays,
    whatever the spaces (empty tokens), lengths past num_steps or reserved tokens in the text."""
    lines = [sentence.split(" ") for sentence in sentences]
    reserved = ["<pad>", "<bos>", "<eos>"]
    vocab = Vocab(lines, min_freq, reserved)
    counted = Vocab.from_counts(side_counts(sentences, chunk).items(), min_freq, reserved)
    assert counted.idx_to_token == vocab.idx_to_token
    assert list(counted.token_freqs) == list(vocab.token_freqs)
    # Encoded with another text's vocabulary too, so that unknown tokens occur.
    for used in (vocab, Vocab([k.split(" ") for k in known], 0, reserved)):
        array, valid = build_array_sentences(sentences, used, num_steps, chunk)
        expected, expected_valid = build_array_nmt(lines, used, num_steps)
        assert array.dtype == np.int64 and array.shape == (len(sentences), num_steps)
        assert np.array_equal(array, expected) and np.array_equal(valid, expected_valid)
    with pytest.raises(DataError):
        build_array_sentences(sentences, vocab, 0)


def test_preprocess_in_place_replaces_each_pair():
    raw = [("Go.", "Va !"), ("Hi, Tom!", "Salut\u202fTom !"), ("Run!", "Cours\xa0!")] * 3
    pairs = list(raw)
    preprocess_in_place(pairs, chunk=2)
    assert pairs == preprocess_pairs(raw) and len(pairs) == 9


def test_book_arrays(book):
    array, valid = build_array_nmt(book.source, book.src_vocab, 8)
    assert array.shape == (600, 8)
    assert array[0].tolist()[:3] == [book.src_vocab["go"], book.src_vocab["."], 3]
    assert valid[0] == 3
    assert ((array != 1).sum(axis=1) == valid).all()
    # d2l's build_array_nmt, verbatim but numpy for torch.
    pad, eos = book.src_vocab["<pad>"], book.src_vocab["<eos>"]
    lines = [book.src_vocab[line] + [eos] for line in book.source]
    reference = np.array([truncate_pad(line, 8, pad) for line in lines])
    assert np.array_equal(array, reference)
    assert np.array_equal(valid, (reference != pad).astype(np.int32).sum(1))


def test_length_histogram_and_stats():
    lines = [["a"], ["a", "b"], ["a", "b"], ["a", "b", "c", "d"]]
    assert length_histogram(lines) == [(1, 1), (2, 2), (4, 1)]
    assert length_histogram(lines, max_len=2) == [(1, 1), (2, 3)]
    assert length_stats(lines) == {"count": 4, "mean": 2.25, "median": 2.0, "max": 4}
    assert length_stats([]) == {"count": 0, "mean": 0.0, "median": 0.0, "max": 0}
    with pytest.raises(DataError):
        length_histogram(lines, max_len=-1)
