"""The start of a corpus (the Gradients screen's "checkpoint · corpus" curve) is the start of
`read_text`, read from the file's first bytes only: a 100 MB corpus was read whole for 4,000
characters (3.75 s, 1.3 GB, the GIL held 244 ms)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_tui import files
from rnn_tui.data import sources
from rnn_tui.data.errors import DataError
from rnn_tui.data.sources import read_text, read_text_start

ENCODINGS = ["utf-8", "utf-16", "utf-16-le", "utf-32", "utf-7", "latin-1", "gb18030"]
ALPHABET = "ab \n\r\u00e9e\u0301\u4e2d\U0001f600\u0915\u093f"  # combining marks, wide, astral


@settings(max_examples=60, deadline=None)
@given(
    piece=st.text(ALPHABET, min_size=1, max_size=60),
    times=st.integers(1, 80),  # files longer than the first window read, and shorter
    chars=st.integers(1, 300),
    encoding=st.sampled_from(ENCODINGS),
)
def test_the_start_is_read_texts_start(tmp_path_factory, piece, times, chars, encoding):
    text = piece * times
    if encoding == "latin-1":
        text = text.encode("latin-1", "replace").decode("latin-1")
    path = tmp_path_factory.mktemp("start") / "corpus.txt"
    path.write_bytes(text.encode(encoding))
    try:
        whole = read_text(str(path), encoding)
    except DataError as exc:  # a text of spaces and line ends alone reads, and so on
        with pytest.raises(DataError, match="."):
            read_text_start(str(path), encoding, len(text) + 1)
        assert str(exc)
        return
    assert read_text_start(str(path), encoding, chars) == whole[:chars]


def test_only_the_start_of_a_big_file_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    start = "the time traveller é\u4e2d\n" * 40
    # Past the start, bytes no decoder reads: the whole file would be refused.
    path.write_bytes(start.encode("utf-8") + b"\xff\x00" * 100_000)
    with pytest.raises(DataError):
        read_text(str(path))
    reads = []
    real_read = sources.open_regular

    def counted(p):
        handle = real_read(p)
        original = handle.read
        handle.read = lambda n=-1: reads.append(n) or original(n)
        return handle

    monkeypatch.setattr(sources, "open_regular", counted)
    assert read_text_start(str(path), "utf-8", 100) == start[:100]
    assert reads and max(reads) < 1_000 and os.path.getsize(path) > 100_000


def test_a_bad_start_is_the_same_one_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine text\n\xff then more\n" + b"x" * 10_000)
    with pytest.raises(DataError, match=r"invalid byte 0xff at offset 10"):
        read_text_start(str(path), "utf-8", 5)
    with pytest.raises(DataError, match="unknown encoding"):
        read_text_start(str(path), "no-such-codec", 5)
    with pytest.raises(DataError, match="not found|No such file|does not exist"):
        read_text_start(str(tmp_path / "missing.txt"), "utf-8", 5)


def test_bundled_corpora_and_pipes_are_read_as_read_text_reads_them(tmp_path, monkeypatch):
    assert read_text_start("timemachine", "utf-8", 50) == read_text("timemachine")[:50]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(files, "FIRST_DATA_S", 0.2)
    with pytest.raises(DataError, match="no data"):  # nobody writes: read_text's wait
        read_text_start(str(fifo), "utf-8", 5)


@pytest.mark.parametrize("encoding", ["utf-7", "utf-8"])
def test_a_start_wider_than_the_first_read_is_read_further(tmp_path, encoding):
    # e + U+0301 composes into one character (NFC): twice the characters decoded, 6 bytes
    # each in UTF-7, so the first read (4 bytes a character) holds too few.
    path = tmp_path / "marks.txt"
    path.write_bytes(("e\u0301" * 3000).encode(encoding))
    assert read_text_start(str(path), encoding, 500) == "\u00e9" * 500
