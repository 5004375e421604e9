"""Text from other systems and scripts: byte-order marks that name the other byte order,
Windows text read as Latin-1, UTF-16 without a mark, accents typed two ways, prefixes with
repeated unknown tokens, and tokens whose width terminals disagree on."""

from __future__ import annotations

import codecs
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from rnn_tui.data import decoding
from rnn_tui.data.errors import DataError
from rnn_tui.data.prefix import encode_prefix
from rnn_tui.data.sources import composed, decode_bytes, read_text
from rnn_tui.data.token_text import display_token
from rnn_tui.data.translation import preprocess_nmt
from rnn_tui.data.vocab import Vocab

TEXT = "the “time” traveller — 5 €\n"


@pytest.mark.parametrize(
    ("mark", "body", "wrong", "family"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-be", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-le", "utf-16"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-be", "utf-32"),
    ],
)
def test_a_mark_read_in_the_other_byte_order_is_refused(mark, body, wrong, family):
    data = mark + TEXT.encode(body)
    with pytest.raises(DataError, match=f"byte-order mark: read it with --encoding {family}$"):
        decode_bytes(data, "f.txt", wrong)
    # The family's name and the mark's own byte order read it, without the mark.
    assert decode_bytes(data, "f.txt", family) == TEXT
    assert decode_bytes(data, "f.txt", body) == TEXT


@pytest.mark.parametrize("order", ["le", "be"])
def test_utf16_without_a_mark_is_named(order):
    with pytest.raises(DataError, match=f"read it with --encoding utf-16-{order}\\)$"):
        decode_bytes(TEXT.encode(f"utf-16-{order}"), "f.txt")


def test_a_nul_in_utf8_text_is_not_called_utf16():
    with pytest.raises(DataError) as caught:
        decode_bytes(b"abc\x00def", "f.txt")
    assert "utf-16" not in str(caught.value)


def test_windows_text_read_as_latin1_is_refused_with_cp1252():
    data = TEXT.encode("cp1252")
    with pytest.raises(DataError, match="0x93 at offset 4.*--encoding cp1252$"):
        decode_bytes(data, "f.txt", "latin-1")
    assert decode_bytes(data, "f.txt", "cp1252") == TEXT
    assert decode_bytes("café\n".encode("latin-1"), "f.txt", "latin-1") == "café\n"
    # UTF-8 read as latin-1 ("—" is E2 80 94): the advice is UTF-8.
    with pytest.raises(DataError, match="UTF-8 text .*--encoding utf-8$"):
        decode_bytes(TEXT.encode("utf-8"), "f.txt", "latin-1")
    # Bytes no other encoding reads (UTF-8 beside a stray Latin-1 byte, 0x81 undefined in
    # cp1252) stay readable as latin-1, which reads any bytes.
    mixed = "Ángel said caf".encode() + b"\xe9 is open\n"
    assert decode_bytes(mixed, "f.txt", "latin-1") == mixed.decode("latin-1")


def test_accents_typed_two_ways_are_one_token(tmp_path):
    nfd = unicodedata.normalize("NFD", "café crème")
    path = tmp_path / "c.txt"
    path.write_text(f"café crème\n{nfd}\n", encoding="utf-8")
    assert read_text(str(path)) == "café crème\ncafé crème\n"
    assert preprocess_nmt(nfd) == "café crème"


def test_composing_pieces_keeps_the_text_and_joins_across_pieces():
    nfd = unicodedata.normalize("NFD", "é")
    pieces = ["ab\ncafe", nfd[1] + " x\n", "tail"]
    out = composed(pieces)
    assert "".join(out) == "ab\ncafé x\ntail"
    assert all(out)


def test_a_line_longer_than_a_piece_is_composed_a_piece_at_a_time(monkeypatch):
    monkeypatch.setattr(decoding, "JOINED_CHARS", 1)  # each composed piece returned as is
    nfd = unicodedata.normalize("NFD", "é")
    pieces = ["a cafe", nfd[1] + " x" + nfd[1], " y" * 5, nfd[1] + "z", " ", nfd[1], "q"]
    out = composed(pieces)
    whole = "".join(pieces)
    assert len(out) >= 4 and all(out)  # not carried to the end as one piece
    assert "".join(out) == unicodedata.normalize("NFC", whole)
    assert "café" in out[1] and "ý" in "".join(out)  # composed across pieces


# Characters whose composing depends on what comes before: Hangul jamo (L + V, then + T),
# Kannada's vowel sign that composes twice (U+0CC6 + U+0CC2, then + U+0CD5), Tamil's two-part
# vowel, a singleton (U+212B, Angstrom), combining marks, a precomposed letter, CJK and ASCII.
_TRICKY = "\u1100\u1161\u11a8\u0cc6\u0cc2\u0cd5\u0bc6\u0bbe\u212b\u0301\u0323\u00e9eA\u4e00"


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=_TRICKY, min_size=1, max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=6),
    search=st.integers(1, 8),
    nfc_chars=st.integers(1, 12),
)
def test_a_line_with_no_space_is_composed_as_a_whole_would_be(text, cuts, search, nfc_chars):
    """Pieces of a line with no space or line end are cut before a character that composes
    with nothing before it, so composing each is composing the whole, in pieces; and so are
    the parts of NFC_CHARS a piece is composed in."""
    bounds = sorted({0, len(text), *(min(c, len(text)) for c in cuts)})
    pieces = [text[a:b] for a, b in zip(bounds, bounds[1:])]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(decoding, "JOINED_CHARS", 1)
        mp.setattr(decoding, "BOUNDARY_SEARCH", search)
        mp.setattr(decoding, "NFC_CHARS", nfc_chars)
        out = composed(list(pieces))
    assert "".join(out) == unicodedata.normalize("NFC", text)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=_TRICKY + " \n", min_size=1, max_size=80),
    nfc_chars=st.integers(1, 12),
)
def test_a_piece_is_composed_in_parts_as_a_whole(text, nfc_chars):
    """A piece is composed NFC_CHARS characters at a time (a C call each, the GIL handed
    over between), cut at spaces, line ends or before a character composing with nothing
    before it; the parts' concatenation is the whole piece composed."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(decoding, "NFC_CHARS", nfc_chars)
        parts = decoding._composed_parts(text)
    assert "".join(parts) == unicodedata.normalize("NFC", text)


def test_a_long_piece_is_composed_in_several_calls(monkeypatch):
    monkeypatch.setattr(decoding, "NFC_CHARS", 8)
    text = unicodedata.normalize("NFD", "café crème " * 20)
    parts = decoding._composed_parts(text)
    assert "".join(parts) == "café crème " * 20
    assert len(parts) > 20 and all(len(part) <= 8 for part in parts)
    assert decoding._composed_parts("plain ascii " * 20) == ["plain ascii " * 20]


def test_a_long_line_with_no_space_is_not_carried_whole(monkeypatch):
    monkeypatch.setattr(decoding, "JOINED_CHARS", 1)
    pieces = ["\u4e00\u4e8c" * 3, "abc", "\u1100\u1161" * 2, "\u11a8xyz"]
    out = composed(list(pieces))
    assert "".join(out) == unicodedata.normalize("NFC", "".join(pieces))
    # Each piece cut before its last character that composes with nothing before it (not
    # the medial vowel U+1161, nor the final consonant U+11A8), none carried to the end.
    assert out == ["\u4e00\u4e8c" * 2 + "\u4e00", "\u4e8cab", "c\uac00", "\uac01xy", "z"]
    marks = ["\u0301" * 5] * 3  # combining marks alone: no boundary, carried to the end
    assert composed(list(marks)) == ["\u0301" * 15]


def test_composed_pieces_are_joined_into_a_few_big_ones(monkeypatch):
    pieces = ["abc\n", "def\n", "ghi\njk", "l\n", "mn"]
    assert composed(pieces) == ["".join(pieces)]
    monkeypatch.setattr(decoding, "JOINED_CHARS", 10)
    out = composed(pieces)
    assert out == ["abc\ndef\nghi\n", "jkl\nmn"]


def test_a_prefix_reads_the_accents_the_vocabulary_has():
    nfd = unicodedata.normalize("NFD", "café")
    for vocab in (Vocab(list(nfd)), Vocab(list("café"))):
        for prefix in (nfd, "café"):
            assert encode_prefix(prefix, vocab, "char", "raw").unknown == []


def test_the_warning_counts_every_unknown_place():
    prefix = encode_prefix("hello", Vocab(list("abc")), "char", "raw")
    assert prefix.warnings() == [
        "5 prefix tokens (4 different) not in the vocabulary → <unk>: 'h', 'e', 'l', 'o'"
    ]


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("बाज़ार", "ब\\u093eज़\\u093eर"),  # spacing vowel signs
        ("👍🏽", "👍\\U0001f3fd"),  # a skin tone
        ("1\ufe0f\u20e3", "1\\ufe0f⃣"),  # a keycap: variation selector
        ("\ufe0f", "\\ufe0f"),
        ("\u20e3", "◌\u20e3"),  # a lone mark on a dotted circle
        ("ा", "\\u093e"),
        ("café", "café"),
        ("日本", "日本"),
        (" ", "␣"),
    ],
)
def test_tokens_take_the_cells_they_are_counted(token, shown):
    assert display_token(token) == shown
    assert cell_len(display_token(token)) >= 1


def test_a_run_read_before_composing_is_told_why_it_cannot_continue():
    # Resuming a run trained on decomposed accents said "the corpus changed", though the file
    # had not: it is now read composed.
    from rnn_tui.data.decoding import vocabulary_changed

    nfd = unicodedata.normalize("NFD", "café")
    told = "before accents were composed"
    assert told in vocabulary_changed("c.txt", list("acfe\u0301"), list("acfeé\u0301"))
    assert told in vocabulary_changed("c.txt", ["a", nfd], ["a", "café"])  # words
    assert vocabulary_changed("c.txt", ["a", "é"], ["a", "é", "b"]).startswith(
        "the corpus c.txt changed since the run started"
    )


def test_a_word_corpus_that_changed_is_not_blamed_on_accents():
    # "ia" is made of the one-letter words "i" and "a": a real change was told as composing.
    from rnn_tui.data.decoding import vocabulary_changed

    told = vocabulary_changed("c.txt", ["a", "i", "cat"], ["a", "i", "cat", "ia"])
    assert told.startswith("the corpus c.txt changed since the run started")
