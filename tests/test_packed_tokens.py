"""PackedTokens: tokens as one UTF-8 blob read back one at a time."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data import packed_tokens
from rnn_tui.data.packed_tokens import PackedTokens, packed
from rnn_tui.data.token_list import TokenList


def test_packed_tokens_read_back_as_given(monkeypatch):
    monkeypatch.setattr(packed_tokens, "PIECE", 3)  # several pieces
    tokens = ["the", "é", "naïve", "噉", "IV", "\ud800", "a b", "\t", "x" * 300]
    out = packed(TokenList(tokens))
    assert isinstance(out, PackedTokens)
    assert len(out) == len(tokens)
    assert [out[i] for i in range(len(out))] == tokens
    assert out[-1] == tokens[-1] and out[2:4] == tokens[2:4]
    with pytest.raises(IndexError):
        out[len(tokens)]
    assert len(packed([])) == 0


def test_a_token_holding_a_nul_stays_as_it_was():
    tokens = ["a", "b\0c"]
    assert packed(tokens) is tokens


def test_packing_holds_no_second_copy_of_the_blob_or_offsets():
    import tracemalloc

    tokens = TokenList(f"w{i:07d}" for i in range(300_000))
    tracemalloc.start()
    try:
        out = packed(tokens)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(out) == len(tokens) and out[123_456] == "w0123456"
    assert held >= 300_000 * (9 + 8)  # the blob and the offsets
    assert peak < 1.3 * held  # joined and concatenated at the end, they took twice


def test_a_slice_reads_the_same_tokens_as_one_at_a_time():
    tokens = ["the", "", "é", "\ud800", "", "x" * 50, "a b"]
    out = packed(tokens)
    assert isinstance(out, PackedTokens)
    for start in range(-len(tokens) - 1, len(tokens) + 2):
        for stop in range(-len(tokens) - 1, len(tokens) + 2):
            assert out[start:stop] == tokens[start:stop], (start, stop)
            assert out[start:stop:2] == tokens[start:stop:2]
            assert out[start:stop:-1] == tokens[start:stop:-1]


@pytest.mark.parametrize("piece", [1, 2, 1 << 16])
@pytest.mark.parametrize("gather_bytes", [1, 5, packed_tokens.GATHER_BYTES])
@pytest.mark.parametrize("find_bytes", [1, 3, packed_tokens.FIND_BYTES])
def test_take_find_and_iteration_are_a_lists(monkeypatch, piece, gather_bytes, find_bytes):
    monkeypatch.setattr(packed_tokens, "PIECE", piece)
    monkeypatch.setattr(packed_tokens, "GATHER_BYTES", gather_bytes)  # long runs as slices
    monkeypatch.setattr(packed_tokens, "FIND_BYTES", find_bytes)  # a match across windows
    tokens = ["the", "", "é", "\ud800", "x" * 50, "a b", "the"]
    out = packed(tokens)
    view = out[2:6]
    assert isinstance(view, PackedTokens) and view == tokens[2:6] and list(view) == tokens[2:6]
    for token in [*tokens, "th", "he", "zz", "é\0", "\0é", "é\0\ud800"]:
        want = tokens.index(token) if token in tokens else -1
        assert out.find(token) == want, token
        inside = tokens[2:6].index(token) if token in tokens[2:6] else -1
        assert view.find(token) == inside, token
    positions = np.array([6, 0, 3, 3, 1, 4])
    taken = view.take(np.array([3, 0]), ["<unk>", "<pad>"])
    assert taken == ["<unk>", "<pad>", "a b", "é"]
    assert out.take(positions) == [tokens[i] for i in positions]
    assert out.take(positions, ["<unk>"])[1:].tolist() == [tokens[i] for i in positions]
    assert out != tokens[:-1] and out != [*tokens[:-1], "then"]
    assert packed(out) is out


def test_pick_is_a_lists_gather():
    tokens = ["the", "", "é", "\ud800", "x" * 50]
    out = packed(tokens)
    for positions in ([], [4, 0, 0, 3], [1], [2, 1]):
        assert out.pick(np.array(positions, dtype=np.int64)) == [tokens[i] for i in positions]


@settings(max_examples=200, deadline=None)
@given(
    tokens=st.lists(st.text(alphabet="ab\u00e9\0", max_size=4), max_size=12),
    query=st.text(alphabet="ab\u00e9", max_size=4),
    find_bytes=st.integers(1, 12),
    begin=st.integers(0, 3),
)
def test_find_a_window_at_a_time_is_a_lists_index(tokens, query, find_bytes, begin):
    """The first index of a token at any window size, in a slice too (a match may straddle
    two windows, or sit in a window's last bytes)."""
    tokens = [t.replace("\0", "") for t in tokens]
    view = packed(tokens)[begin:]
    wanted = tokens[begin:]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(packed_tokens, "FIND_BYTES", find_bytes)
        for token in {query, *wanted}:
            assert view.find(token) == (wanted.index(token) if token in wanted else -1), token


@settings(max_examples=200, deadline=None)
@given(
    tokens=st.lists(st.text(alphabet="ab\u00e9\u0800\U0001f600\ud800", max_size=9), max_size=6),
    chars=st.integers(0, 10),
    window=st.integers(1, 9),
    begin=st.integers(0, 2),
)
def test_a_tokens_head_length_and_equality_are_its_strings(tokens, chars, window, begin):
    """A table shows a token's first characters and its length, and the Vocab checks two
    tokens equal, without decoding a token of a whole file (a character of 1 to 4 bytes may
    straddle where the head is cut or where a window ends)."""
    view, wanted = packed(tokens)[begin:], tokens[begin:]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(packed_tokens, "HEAD_BYTES", window)
        patch.setattr(packed_tokens, "COUNT_BYTES", window)
        patch.setattr(packed_tokens, "GATHER_BYTES", window)
        patch.setattr(packed_tokens.PackedTokens, "__getitem__", None)  # never decoded whole
        for i, token in enumerate(wanted):
            assert view.head(i, chars) == token[:chars]
            assert view.char_length(i) == len(token)
            for j, other in enumerate(wanted):
                assert view.same(i, view, j) == (token == other)
                assert packed_tokens.same_token(view, i, packed(wanted), j) == (token == other)
    for i, token in enumerate(wanted):  # a list beside: its strings compared
        assert all(
            packed_tokens.same_token(view, i, wanted, j) == (token == other)
            for j, other in enumerate(wanted)
        )


def test_gathering_a_long_token_appends_it_a_window_at_a_time(monkeypatch):
    monkeypatch.setattr(packed_tokens, "GATHER_BYTES", 4)
    appended = []
    real = packed_tokens.append_bytes

    def append(blob, data):
        appended.append(len(data))
        real(blob, data)

    monkeypatch.setattr(packed_tokens, "append_bytes", append)
    tokens = ["ab", "x" * 10, "é"]
    assert packed(tokens).take(np.array([1, 2, 0])) == ["x" * 10, "é", "ab"]
    assert appended == [10]
