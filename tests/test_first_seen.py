"""The first-seen word index, in one dict, sharded or in hash arrays, against one dict's
`setdefault`."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data import first_seen, hashed_words
from rnn_tui.data.first_seen import SHARDS, FirstSeenIndex
from rnn_tui.data.hashed_words import HashCollision, HashedWords, all_distinct

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


@settings(max_examples=200, deadline=None)
@given(
    words=WORDS,
    cuts=st.lists(st.integers(0, 120), max_size=6),
    sharded=st.booleans(),
    hashed_from=st.integers(0, 6),
    piece=st.integers(1, 4),
    share=st.sampled_from([0, 1, 3, 8]),  # 0: the recent run is never merged
    page_bits=st.sampled_from([0, 1, 2, 20]),  # pages of 1, 2, 4 words, or one page
    block=st.sampled_from([1, 2, 3, 1 << 20]),  # known hashes moved up at once by a merge
    encoded=st.booleans(),  # bytes (clean words), hashed without their length mixed in
)
def test_numbering_moved_to_hash_arrays_gives_one_dicts_ids(
    words, cuts, sharded, hashed_from, piece, share, page_bits, block, encoded
):
    if encoded:
        words = [w.encode() for w in words]
    index = FirstSeenIndex(sharded, encoded=encoded)
    bounds = sorted({0, len(words), *(c for c in cuts if c <= len(words))})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(first_seen, "HASHED_FROM", hashed_from)
        patch.setattr(first_seen, "WORD_PIECE", piece)
        patch.setattr(hashed_words, "RECENT_SHARE", share)
        patch.setattr(hashed_words, "PAGE_BITS", page_bits)
        patch.setattr(hashed_words, "MERGE_BLOCK", block)
        got = [index.number(words[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    ids, tokens = reference(words)
    assert np.concatenate([np.zeros(0, np.int64), *got]).tolist() == ids
    assert (index._hashed is not None) == (len(tokens) >= hashed_from and len(words) > 0)
    assert len(index) == len(tokens)
    assert index.tokens() == tokens


def test_hashed_words_are_decoded_in_place_in_first_seen_order():
    hashed = HashedWords(np.array([b"b", b"a"], dtype=object))
    assert hashed.ids([b"c", b"a", b"c", b"d"]).tolist() == [2, 1, 2, 3]
    # 12 bytes a known word (its hash and its id), where a dict takes ~120, in two sorted runs.
    keys = hashed._keys
    runs = (keys._keys, keys._key_ids, keys._recent, keys._recent_ids)
    assert sum(run.nbytes for run in runs) == 12 * len(hashed)
    assert (keys._keys[1:] > keys._keys[:-1]).all()
    held = []  # the hashes still held while each word is decoded

    def decode(word: bytes) -> str:
        held.append(len(keys._keys) + len(keys._key_ids) + len(keys._recent))
        return word.decode()

    # The hashes are let go first: decoding is a scan's moment of highest memory.
    assert hashed.tokens(decode) == ["b", "a", "c", "d"]
    assert held == [0, 0, 0, 0]


def test_new_hashes_wait_in_a_recent_run_until_it_holds_an_eighth_as_many():
    hashed = HashedWords(np.array([f"w{i}" for i in range(80)], dtype=object))
    keys = hashed._keys
    assert hashed.ids([f"n{i}" for i in range(10)]).tolist() == list(range(80, 90))
    assert (len(keys._keys), len(keys._recent)) == (80, 10)  # 10 · 8 = 80: not past it
    assert (keys._recent[1:] > keys._recent[:-1]).all()
    # Known in either run, and the next new word merges the recent run into the main one.
    assert hashed.ids(["n3", "w5", "x", "n3"]).tolist() == [83, 5, 90, 83]
    assert (len(keys._keys), len(keys._recent)) == (91, 0)
    assert (keys._keys[1:] > keys._keys[:-1]).all()
    # Merged in place, as np.insert would: each hash still beside its word's id.
    words = [*(f"w{i}" for i in range(80)), *(f"n{i}" for i in range(10)), "x"]
    hashes = hashed_words._hashes(np.array(words, dtype=object))
    assert keys._keys.tolist() == np.sort(hashes).tolist()
    assert keys._key_ids.tolist() == np.argsort(hashes).tolist()


def test_words_whose_python_hashes_collide_are_kept_apart():
    # Python hashes a string's stored bytes: "IV" (1 byte a character) and "噉" (U+5649, 2
    # bytes) store the same two, so they share a hash (found in a Wikipedia dump).
    assert hash("IV") == hash("噉")
    hashed = HashedWords(np.array(["IV"], dtype=object))
    assert hashed.ids(["噉", "IV", "噉"]).tolist() == [1, 0, 1]
    # Bytes are hashed as they are: equal hashes are equal bytes (up to a 64-bit collision).
    words = np.array([b"IV", "噉".encode(), b"ab"], dtype=object)
    assert hashed_words._hashes(words, encoded=True).tolist() == [
        hash(w) % (1 << 64) for w in words
    ]
    assert (
        hashed_words._hashes(words).tolist() != hashed_words._hashes(words, encoded=True).tolist()
    )


@pytest.mark.parametrize("known", [["a", "bb"], ["a"]])
def test_a_hash_shared_by_two_words_raises_rather_than_merging_them(monkeypatch, known):
    monkeypatch.setattr(hashed_words, "hash_of", lambda word: 7)
    with pytest.raises(HashCollision):
        HashedWords(np.array(known, dtype=object)).ids(["a", "c"])


@settings(max_examples=200, deadline=None)
@given(words=WORDS, collide=st.booleans())
def test_all_distinct_is_a_sets_answer_even_where_hashes_repeat(words, collide):
    with pytest.MonkeyPatch.context() as patch:
        if collide:  # every word of a length shares a hash
            patch.setattr(hashed_words, "hash_of", lambda word: 3)
        assert all_distinct(words) == (len(set(words)) == len(words))
    assert all_distinct(["IV", "噉"]) and not all_distinct(["噉", "IV", "噉"])


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(0, 9), max_size=60), stable=st.booleans())
def test_first_unique_is_numpys_unique_with_first_indices(values, stable):
    """Its unstable sort must still give each value's first position, as the stable one does."""
    array = np.array(values, dtype=np.uint64)
    got = hashed_words.first_unique(array, stable)
    want = np.unique(array, return_index=True, return_inverse=True)
    for mine, numpys in zip(got, want, strict=True):
        assert mine.tolist() == numpys.reshape(-1).tolist()


@given(keys=st.lists(st.integers(0, 40), unique=True, max_size=40))
def test_in_order_of_sorts_items_by_their_distinct_keys(keys):
    items = np.arange(len(keys)) * 7
    got = hashed_words.in_order_of(np.array(keys, dtype=np.int64), items, 41)
    assert got.tolist() == items[np.argsort(keys, kind="stable")].tolist()
