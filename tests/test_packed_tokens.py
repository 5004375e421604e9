"""PackedTokens: tokens as one UTF-8 blob read back one at a time."""

import pytest

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
