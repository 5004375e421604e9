"""Reading and cleaning corpora; the Time Machine figures of d2l's text preprocessing section."""

import pytest

from rnn_tui.data.corpus import clean_line, load_corpus, tokenize
from rnn_tui.data.errors import DataError
from rnn_tui.data.sources import BUNDLED_CORPORA, read_text, split_lines
from rnn_tui.data.token_cache import load_token_array


@pytest.fixture(scope="module")
def words():
    return load_corpus("timemachine", token="word")


@pytest.fixture(scope="module")
def chars():
    return load_corpus("timemachine", token="char")


def test_time_machine_word_level(words):
    assert words.num_lines == 3221
    assert words.num_tokens == 32775 == len(words.flat)
    assert len(words.vocab) == 4580
    assert words.vocab.idx_to_token[:10] == [
        "<unk>", "the", "i", "and", "of", "a", "to", "was", "in", "that",
    ]  # fmt: skip
    assert words.ids[:3] == words.vocab[words.flat[:3]]
    assert words.lines[0] == "the time machine by h g wells"
    assert words.tokens[0] == ["the", "time", "machine", "by", "h", "g", "wells"]


def test_time_machine_char_level(chars):
    assert chars.num_lines == 3221
    assert chars.num_tokens == 170580
    assert len(chars.vocab) == 28
    assert set(chars.vocab.idx_to_token) == {"<unk>", " "} | set("abcdefghijklmnopqrstuvwxyz")
    assert chars.tokens[0][:3] == ["t", "h", "e"]


def test_max_tokens_cuts_the_stream_not_the_vocab():
    corpus = load_corpus("timemachine", token="char", max_tokens=10000)
    assert corpus.num_tokens == 10000 == len(corpus.flat)
    assert len(corpus.vocab) == 28
    assert "".join(corpus.flat[:16]) == "the time machine"


def test_clean_line_and_tokenize():
    assert clean_line("  The Time-Machine, by H. G. Wells!\n") == "the time machine by h g wells"
    assert clean_line("It's 1895.\r\n", "raw") == "It's 1895."
    assert tokenize(["a bc", ""], "word") == [["a", "bc"], []]
    assert tokenize(["a b"], "char") == [["a", " ", "b"]]
    with pytest.raises(DataError, match="token level"):
        tokenize(["a"], "byte")
    with pytest.raises(DataError, match="cleaning mode"):
        clean_line("a", "fancy")


def test_split_lines_like_readlines():
    assert split_lines("a\nb\n") == ["a", "b"]
    assert split_lines("a\r\nb") == ["a", "b"]
    assert split_lines("a\n\nb\n") == ["a", "", "b"]


def test_raw_mode_keeps_case_and_punctuation(tmp_path):
    path = tmp_path / "raw.txt"
    path.write_text("Hello, World!\n\nBye.\n", encoding="utf-8")
    corpus = load_corpus(str(path), token="word", mode="raw")
    assert corpus.lines == ["Hello, World!", "", "Bye."]
    assert corpus.flat == ["Hello,", "World!", "Bye."]
    clean = load_corpus(str(path), token="word")
    assert clean.flat == ["hello", "world", "bye"]


def test_latin1_encoding(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Café naïve\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"cannot decode .*latin\.txt as utf-8: invalid byte 0xe9"):
        read_text(str(path))
    assert read_text(str(path), encoding="latin-1") == "Café naïve\n"
    corpus = load_corpus(str(path), token="char", mode="raw", encoding="latin-1")
    assert "é" in corpus.vocab.token_to_idx


def test_utf8_bom_is_dropped(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffHi\n".encode())
    assert read_text(str(path)) == "Hi\n"


def test_bundled_sources_read():
    assert set(BUNDLED_CORPORA) == {"timemachine", "fra-eng-en", "fra-eng-fr"}
    assert read_text("timemachine").startswith("The Time Machine, by H. G. Wells")
    english = split_lines(read_text("fra-eng-en"))
    french = split_lines(read_text("fra-eng-fr"))
    assert english[:2] == ["Go.", "Run!"]
    assert french[0] == "Va !"
    assert len(english) == len(french) == 68807
    assert load_corpus("fra-eng-fr", mode="raw").num_lines == 68807


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message and message
    return message


def test_missing_file(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(DataError) as exc:
        read_text(str(path))
    assert one_line(exc) == f"corpus file not found: {path}"


def test_directory(tmp_path):
    with pytest.raises(DataError) as exc:
        load_corpus(str(tmp_path))
    assert "directory" in one_line(exc) and str(tmp_path) in one_line(exc)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(DataError) as exc:
        read_text(str(path))
    assert one_line(exc) == f"empty file: {path}"


def test_binary_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"hello world\x00\x01\x02")
    with pytest.raises(DataError) as exc:
        read_text(str(path))
    assert one_line(exc) == f"not a text file (NUL byte at offset 11): {path}"


def test_a_nul_anywhere_is_not_text(tmp_path):
    # Past the first 8 KB too: a NUL would otherwise become a token.
    path = tmp_path / "late.txt"
    path.write_bytes(b"a" * 9000 + b"\x00")
    with pytest.raises(DataError) as exc:
        read_text(str(path))
    assert one_line(exc) == f"not a text file (NUL byte at offset 9,000): {path}"
    wide = tmp_path / "wide.txt"
    wide.write_bytes(("a" * 5000 + "\x00b").encode("utf-16"))
    with pytest.raises(DataError, match="NUL character at position 5,000"):
        read_text(str(wide), encoding="utf-16")


def test_undecodable_bytes_name_the_offset(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"abc\xffdef")
    with pytest.raises(DataError) as exc:
        read_text(str(path))
    assert one_line(exc) == (
        f"cannot decode {path} as utf-8: invalid byte 0xff at offset 3 "
        "(written in another encoding? e.g. cp1252 or latin-1)"
    )


def test_unknown_encoding(tmp_path):
    path = tmp_path / "ok.txt"
    path.write_text("fine\n")
    with pytest.raises(DataError) as exc:
        read_text(str(path), encoding="klingon-8")
    assert one_line(exc) == f"unknown encoding 'klingon-8' for {path}"
    with pytest.raises(DataError, match="unknown encoding"):
        load_corpus("timemachine", encoding="klingon-8")


def test_utf16_is_not_mistaken_for_binary(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_bytes("two words\n".encode("utf-16"))
    assert load_corpus(str(path), encoding="utf-16").flat == ["two", "words"]


def test_nothing_left_after_cleaning(tmp_path):
    path = tmp_path / "digits.txt"
    path.write_text("123 456!\n... 7?\n")
    with pytest.raises(DataError) as exc:
        load_corpus(str(path))
    assert one_line(exc) == (
        f"nothing left after cleaning: {path} (clean mode keeps only the letters A-Z; raw mode "
        "keeps the text as written)"
    )
    # The same file has tokens when punctuation is kept.
    assert load_corpus(str(path), mode="raw").flat == ["123", "456!", "...", "7?"]
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n\t\n")
    for load in (load_corpus, load_token_array):
        with pytest.raises(DataError) as exc:
            load(str(blank), mode="raw")
        assert one_line(exc) == f"no tokens in {blank}: it holds only whitespace"


def test_bad_options():
    with pytest.raises(DataError, match="token level"):
        load_corpus(token="sentence")
    with pytest.raises(DataError, match="cleaning mode"):
        load_corpus(mode="lower")
    with pytest.raises(DataError, match="min_freq"):
        load_corpus(min_freq=-1)


def test_data_layer_imports_neither_torch_nor_textual():
    import subprocess
    import sys

    modules = ", ".join(
        f"rnn_tui.data.{name}"
        for name in (
            "errors", "vocab", "corpus", "stats", "ngrams", "partition",
            "translation", "timeseries", "names",
        )
    )  # fmt: skip
    code = (
        f"import rnn_tui.data, {modules}; import sys; "
        "bad = [m for m in ('torch', 'textual', 'rich') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
