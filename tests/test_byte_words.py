"""Words numbered by their bytes (byte_words) against str.split() and a dict."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data import byte_words
from rnn_tui.data.byte_words import ByteWords, raw_word_bytes, word_keys, word_spans
from rnn_tui.data.hashed_words import HashCollision


def test_raw_words_split_where_str_split_does_at_every_character():
    # Every code point between two letters, lone surrogates too: a space where split() cuts.
    text = " ".join(f"a{chr(c)}b" for c in range(0x110000))
    data = raw_word_bytes(text)
    want = [word.encode("utf-8", "surrogatepass") for word in text.split()]
    assert [word for word in data.split(b" ") if word] == want
    ascii_text = "".join(f"a{chr(c)}b" for c in range(128))
    assert raw_word_bytes(ascii_text).split() == [w.encode() for w in ascii_text.split()]


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            ["a", "ab", "abcdefgh", "abcdefghi", "abcdefghj", "é", "噉" * 3, "x" * 40, "y" * 99]
            + ["y" * 98 + "z", "z" * 150, "噉" * 50]
        ),
        max_size=60,
    ),
    cuts=st.lists(st.integers(0, 60), max_size=5),
    short=st.sampled_from([byte_words.SHORT, 0, 2]),
    group=st.sampled_from([byte_words.GROUP_BYTES, 1, 7]),
    hash_bytes=st.sampled_from([byte_words.HASH_BYTES, 100, 7]),
)
def test_ids_are_one_dicts_in_first_seen_order_in_any_chunks(words, cuts, short, group, hash_bytes):
    """In any chunks, a word is one id: a long one's key is the same whether its chunk holds
    a word of more than HASH_BYTES (hashed a piece at a time) or not."""
    index: dict[str, int] = {}
    want = [index.setdefault(word, len(index)) for word in words]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(byte_words, "SHORT", short)
        patch.setattr(byte_words, "GROUP_BYTES", group)
        patch.setattr(byte_words, "HASH_BYTES", hash_bytes)
        numbered = ByteWords()
        got: list[int] = []
        bounds = [0, *sorted(cuts), len(words)]
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            text = (" ".join(words[lo:hi]) + "  " * (hi % 2)).encode()
            got += numbered.ids(text).tolist()
    assert got == want
    assert len(numbered) == len(index)
    tokens = numbered.tokens()
    assert [tokens[i] for i in range(len(tokens))] == list(index)
    assert tokens.token_list() == list(index)


def test_a_short_word_is_its_own_key():
    data = np.frombuffer(b"ab  abcdefgh \xc3\xa9", dtype=np.uint8)
    starts, lengths = word_spans(data)
    assert (starts.tolist(), lengths.tolist()) == ([0, 4, 13], [2, 8, 2])
    keys = word_keys(data, starts, lengths).tolist()
    assert keys == [int.from_bytes(w, "little") for w in (b"ab", b"abcdefgh", b"\xc3\xa9")]


def test_long_words_that_differ_in_one_byte_or_their_length_differ_in_key():
    words = [b"abcdefghi", b"abcdefghj", b"bbcdefghi", b"abcdefghi" + b"a", b"a" * 9, b"a" * 10]
    words += [b"a" * 64, b"a" * 65, b"a" * 63 + b"b", b"a" * 64 + b"b"]  # either side of PY_HASHED
    data = np.frombuffer(b" ".join(words), dtype=np.uint8)
    starts, lengths = word_spans(data)
    keys = word_keys(data, starts, lengths)
    assert len(set(keys.tolist())) == len(words)


@pytest.mark.parametrize("known", [["abcdefghi"], ["ab"]])
def test_two_words_sharing_a_key_raise_rather_than_merging(monkeypatch, known):
    monkeypatch.setattr(byte_words, "SHORT", 0)
    monkeypatch.setattr(byte_words, "_long_keys", lambda d, s, n: np.full(len(s), 7, np.uint64))
    numbered = ByteWords()
    numbered.ids(" ".join(known).encode())
    with pytest.raises(HashCollision):
        numbered.ids(b"zz")


@pytest.mark.parametrize("known, given", [(b"ab", b"abcdefghi"), (b"abcdefghi", b"ab")])
def test_a_long_words_hash_equal_to_a_short_words_bytes_raises(monkeypatch, known, given):
    ab = int.from_bytes(b"ab", "little")
    monkeypatch.setattr(byte_words, "_long_keys", lambda d, s, n: np.full(len(s), ab, np.uint64))
    numbered = ByteWords()
    assert numbered.ids(known).tolist() == [0]
    with pytest.raises(HashCollision):
        numbered.ids(given)


@pytest.mark.parametrize("group", [1, 4, 9])
def test_a_long_words_key_is_the_same_hashed_in_blocks(monkeypatch, group):
    words = [b"abcdefghi", b"x" * 40, "東京".encode() * 7, b"z" * 200]
    data = np.frombuffer(b" ".join(words), dtype=np.uint8)
    starts, lengths = word_spans(data)
    whole = word_keys(data, starts, lengths)
    monkeypatch.setattr(byte_words, "GROUP_BYTES", group)  # words longer: a block at a time
    assert word_keys(data, starts, lengths).tolist() == whole.tolist()


@pytest.mark.parametrize("group", [1, byte_words.GROUP_BYTES])
def test_a_shared_key_of_two_words_of_one_length_raises(monkeypatch, group):
    monkeypatch.setattr(byte_words, "GROUP_BYTES", group)  # compared as runs, or byte by byte
    monkeypatch.setattr(byte_words, "_long_keys", lambda d, s, n: np.full(len(s), 7, np.uint64))
    numbered = ByteWords()
    assert numbered.ids(b"abcdefghi abcdefghi").tolist() == [0, 0]
    with pytest.raises(HashCollision):
        numbered.ids(b"abcdefghj")
