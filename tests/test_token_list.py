"""TokenList: a read-only list of tokens that the garbage collector does not walk."""

from __future__ import annotations

import gc
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data import token_list
from rnn_tui.data.token_list import TokenList

TOKENS = st.lists(st.sampled_from(["a", "b", "<unk>", "ab", " ", "é"]), max_size=30)


@settings(max_examples=200, deadline=None)
@given(tokens=TOKENS, data=st.data())
def test_it_reads_as_the_list_it_was_made_from(tokens, data):
    piece = token_list.PIECE
    try:
        token_list.PIECE = data.draw(st.integers(1, 4))  # many pieces, cut anywhere
        tl = TokenList(iter(tokens), len(tokens))
        assert tl == tokens and tokens == tl and tl == tuple(tokens) and tl == TokenList(tl)
        assert list(tl) == tl.tolist() == tokens and len(tl) == len(tokens)
        start, stop = data.draw(st.integers(-35, 35)), data.draw(st.integers(-35, 35))
        assert tl[start:stop] == tokens[start:stop]
        assert isinstance(tl[start:stop], TokenList)
        positions = data.draw(st.lists(st.integers(0, max(len(tokens) - 1, 0)), max_size=12))
        if tokens:
            assert tl.take(np.array(positions, dtype=np.int64)) == [tokens[i] for i in positions]
            assert tl.pick(np.array(positions, dtype=np.int64)) == [tokens[i] for i in positions]
            assert tl[-1] == tokens[-1]
        for token in ("a", "<unk>", "zz"):
            assert tl.find(token) == (tokens.index(token) if token in tokens else -1)
        head = data.draw(st.lists(st.sampled_from(["<unk>", "<pad>"]), max_size=3))
        assert TokenList.concat(head, tl) == head + tokens
        if tokens:
            picked = [tokens[i] for i in positions]
            assert tl.take(np.array(positions, dtype=np.int64), head) == head + picked
    finally:
        token_list.PIECE = piece


def test_equality_is_a_lists_and_nothing_elses():
    tl = TokenList(["a", "b"])
    assert tl != ["a"] and tl != ["a", "c"] and tl != "ab" and tl != 1
    assert not (tl == ["b", "a"])
    with pytest.raises(TypeError):
        hash(tl)
    with pytest.raises(IndexError):
        tl[2]


def test_tuples_stay_items_and_pickling_keeps_the_tokens():
    grams = TokenList([("a", "b"), ("c", "d")], 2)  # n-gram tokens: not read as a 2-D array
    assert len(grams) == 2 and grams[1] == ("c", "d")
    assert pickle.loads(pickle.dumps(TokenList(["x", "y"]))) == ["x", "y"]


def test_the_collector_does_not_walk_the_tokens():
    tl = TokenList([f"t{i}" for i in range(1000)])
    assert not gc.is_tracked(tl._items)
    assert all(not isinstance(r, list) for r in gc.get_referents(tl))


def test_work_over_many_tokens_hands_the_gil_over_between_pieces(monkeypatch):
    # A thread waiting for the GIL (the app's event loop) gets it at least once a piece: the
    # numpy calls between pieces alone let it wait out the whole loop (benchmarks/README.md).
    monkeypatch.setattr(token_list, "PIECE", 4)
    handed = []
    monkeypatch.setattr(token_list.time, "sleep", handed.append)
    tokens = TokenList([f"t{i}" for i in range(40)])  # 10 pieces
    assert len(handed) >= 10
    for work in (
        lambda: tokens.take(np.arange(40)[::-1]),
        lambda: tokens.pick(np.arange(40)),
        lambda: tokens.find("absent"),
        lambda: TokenList.concat(["<unk>"], tokens),
    ):
        handed.clear()
        work()
        assert len(handed) >= 10 and set(handed) == {0}
