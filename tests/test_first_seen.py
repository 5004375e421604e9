"""The first-seen word index, in one dict or sharded, against one dict's `setdefault`."""

from __future__ import annotations

import gc

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data.first_seen import SHARDS, FirstSeenIndex

WORDS = st.lists(st.text(alphabet="abcdé", min_size=1, max_size=3), max_size=120)


def reference(words: list) -> tuple[list[int], list]:
    index: dict = {}
    ids = [index.setdefault(w, len(index)) for w in words]
    return ids, list(index)


@settings(max_examples=300, deadline=None)
@given(words=WORDS, cuts=st.lists(st.integers(0, 120), max_size=6), sharded=st.booleans())
def test_ids_and_tokens_are_one_dicts_in_any_pieces(words, cuts, sharded):
    index = FirstSeenIndex(sharded)
    bounds = sorted({0, len(words), *(c for c in cuts if c <= len(words))})
    got = [index.ids(words[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    ids, tokens = reference(words)
    assert np.concatenate([np.zeros(0, np.int64), *got]).tolist() == ids
    assert len(index) == len(tokens)
    assert index.tokens() == tokens


def test_bytes_are_decoded_in_first_seen_order():
    for sharded in (False, True):
        index = FirstSeenIndex(sharded)
        assert index.ids([b"b", b"a", b"b"]).tolist() == [0, 1, 0]
        assert index.ids([b"c"]).tolist() == [2]
        assert index.ids([]).tolist() == []
        assert index.tokens(bytes.decode) == ["b", "a", "c"]


def test_a_big_vocabulary_is_spread_over_small_untracked_dicts():
    """What the sharding is for: no dict holds much more than 1/SHARDS of the words (a rebuild
    of a dict of millions holds the GIL for a tenth of a second), and the garbage collector
    never walks them."""
    words = [f"w{i}" for i in range(40_000)]
    index = FirstSeenIndex(sharded=True)
    for start in range(0, len(words), 4096):
        index.ids(words[start : start + 4096])
    sizes = [len(shard) for shard in index._shards]
    assert sum(sizes) == len(words) and max(sizes) < 1.3 * len(words) / SHARDS
    assert not any(gc.is_tracked(shard) for shard in index._shards)
    assert index.tokens() == words
    assert all(len(shard) == 0 for shard in index._shards)  # emptied as it went
