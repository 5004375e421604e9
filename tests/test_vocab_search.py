"""The Dataset screen's vocabulary search: `needle.casefold() in token.casefold()`, the same
whether the tokens are a list of str or packed bytes searched by numpy."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui.data import vocab_search
from rnn_tui.data.packed_tokens import PackedTokens, packed
from rnn_tui.data.token_list import TokenList
from rnn_tui.data.vocab_search import FoldedBlob, FoldedList, fold, folded_vocab

# Characters whose case folding is not a one-to-one ASCII map: ß → ss, İ → i̇ (two code
# points), final sigma, the Kelvin sign → k, the ﬁ ligature → fi, title-case ǅ; a lone
# surrogate (surrogateescape'd bytes); CJK and an emoji (3 and 4 UTF-8 bytes).
TRICKY = "aAbBsSkKiI" + "ßẞİıΣσςKﬁǅ" + "\udc80" + "一😀é"


def brute(tokens, needle):
    folded = needle.casefold()
    shown = [i for i, t in enumerate(tokens) if folded in t.casefold()]
    exact = next((r for r, i in enumerate(shown) if tokens[i].casefold() == folded), 0)
    return shown, exact


def found(index, needle):
    shown, target = index.find(needle.casefold())
    return shown.tolist(), target


def test_fold_keeps_tokens_already_folded():
    tokens = TokenList(["abc", "ABC", "Straße", "ß", "<unk>", "", "İ"] * 20_000)
    folded = fold(tokens)
    assert folded == [t.casefold() for t in tokens]
    kept = [f is t for f, t in zip(folded, tokens, strict=True)]
    assert kept == [t.casefold() == t for t in tokens]  # the same object where unchanged


def test_packed_tokens_are_folded_as_bytes_and_lists_as_str():
    assert isinstance(folded_vocab(packed(["a", "B"])), FoldedBlob)
    assert isinstance(folded_vocab(["a", "B"]), FoldedList)
    assert isinstance(folded_vocab(TokenList(["a", "B"])), FoldedList)


def test_the_exact_match_is_the_target_row_and_casefolding_applies():
    tokens = ["<unk>", "Other", "xTHE", "the", "STRASSE", "Straße", "straßenbahn"]
    for index in (folded_vocab(packed(tokens)), folded_vocab(tokens)):
        assert found(index, "the") == ([1, 2, 3], 2)
        assert found(index, "STRASSE") == ([4, 5, 6], 0)  # ß folds to ss
        assert found(index, "Straßen") == ([6], 0)
        assert found(index, "zz") == ([], 0)
        assert found(index, "t\0h") == ([], 0)


@settings(max_examples=300, deadline=None)
@given(
    tokens=st.lists(st.text(alphabet=TRICKY, max_size=6), max_size=40),
    needle=st.text(alphabet=TRICKY, min_size=1, max_size=3),
    fold_bytes=st.integers(1, 12),
    scan_bytes=st.integers(1, 12),
)
def test_bytes_and_str_searches_agree_at_any_window(tokens, needle, fold_bytes, scan_bytes):
    """Small windows cut the folding and the scan inside tokens and inside characters: a cut
    must neither split a character nor lose or double a match across it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(vocab_search, "FOLD_BYTES", fold_bytes)
        mp.setattr(vocab_search, "SCAN_BYTES", scan_bytes)
        blob = FoldedBlob(packed(tokens))
        expected = brute(tokens, needle)
        assert found(blob, needle) == expected
    assert found(FoldedList(tokens), needle) == expected


@settings(max_examples=100, deadline=None)
@given(tokens=st.lists(st.text(alphabet=TRICKY, max_size=6), min_size=1, max_size=30))
def test_every_token_finds_itself(tokens):
    """A needle taken from a token (a slice of a view too) finds it."""
    view = packed(["pad", *tokens])[1:]
    assert isinstance(view, PackedTokens)
    blob = FoldedBlob(view)
    for i, token in enumerate(tokens):
        if token:
            shown, _ = found(blob, token)
            assert i in shown
            assert found(blob, token) == brute(tokens, token)


def test_a_cancelled_search_answers_none():
    tokens = packed([f"w{i}" for i in range(1000)])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(vocab_search, "SCAN_BYTES", 64)
        assert FoldedBlob(tokens).find("w1", lambda: True) is None
        assert FoldedBlob(tokens).find("w1", lambda: False) is not None
    assert FoldedList(tokens).find("w1", lambda: True) is None
