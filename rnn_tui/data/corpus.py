"""Text corpora: reading, cleaning, tokenizing (d2l text preprocessing chapter).

`load_corpus` is d2l's `load_corpus_time_machine` generalised to any text file:
read lines → `[^A-Za-z]+` → space, strip, lower-case → tokenize (word or char) → Vocab → ids.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from rnn_tui.data.errors import DataError
from rnn_tui.data.vocab import Vocab

BUNDLED_CORPORA = {
    "timemachine": "The Time Machine (H. G. Wells)",
    "fra-eng-en": "English side of fra-eng",
    "fra-eng-fr": "French side of fra-eng",
}
TOKEN_LEVELS = ("word", "char")
CLEAN_MODES = ("clean", "raw")

# How far read_text looks for a NUL byte to tell a binary file from text (what git and grep do).
BINARY_SNIFF_BYTES = 8000

_NON_LETTERS = re.compile("[^A-Za-z]+")


def bundled_path(*parts: str):
    """The bundled data file rnn_tui/data/bundled/<parts> (an importlib.resources Traversable)."""
    resource = files("rnn_tui.data") / "bundled"
    for part in parts:
        resource = resource / part
    return resource


def _check_encoding(encoding: str, label: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise DataError(f"unknown encoding {encoding!r} for {label}") from None


def decode_bytes(data: bytes, label: str, encoding: str = "utf-8") -> str:
    """Strictly decode `data` read from `label`, raising DataError for binary or undecodable bytes.

    A leading byte-order mark is dropped. The NUL-byte test is skipped for UTF-16/32, whose text
    is full of NULs.
    """
    codec = _check_encoding(encoding, label)
    if not data:
        raise DataError(f"empty file: {label}")
    if not codec.startswith(("utf-16", "utf-32")):
        nul = data.find(b"\x00", 0, BINARY_SNIFF_BYTES)
        if nul >= 0:
            raise DataError(f"not a text file (NUL byte at offset {nul}): {label}")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.end][:4]
        shown = " ".join(f"0x{b:02x}" for b in bad)
        raise DataError(
            f"cannot decode {label} as {encoding}: invalid byte {shown} at offset {exc.start}"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def read_path(path: str | Path, encoding: str = "utf-8") -> str:
    """Read a text file strictly; every failure is a one-line DataError naming the file."""
    _check_encoding(encoding, str(path))
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"corpus file not found: {path}")
    if p.is_dir():
        raise DataError(f"is a directory, not a text file: {path}")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    return decode_bytes(data, str(path), encoding)


def read_bundled(*parts: str) -> str:
    """Read a bundled UTF-8 data file."""
    return decode_bytes(bundled_path(*parts).read_bytes(), "/".join(parts), "utf-8")


def split_lines(text: str) -> list[str]:
    """Split like reading a file in text mode with `readlines()` (d2l's read_time_machine):
    `\\n`, `\\r\\n` and `\\r` end lines, and a final newline does not start an empty line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_text(source: str, encoding: str = "utf-8") -> str:
    """The text of a bundled corpus (a BUNDLED_CORPORA key) or of a file path, decoded strictly.

    "fra-eng-en" / "fra-eng-fr" give one side of the bundled sentence pairs, one sentence a line.
    Bundled data is UTF-8 whatever `encoding` says, but a bad encoding name is still an error.
    """
    _check_encoding(encoding, source)
    if source == "timemachine":
        return read_bundled("timemachine.txt")
    if source in ("fra-eng-en", "fra-eng-fr"):
        from rnn_tui.data.translation import read_raw_pairs  # translation imports this module

        pairs, _ = read_raw_pairs("fra-eng")
        side = 0 if source == "fra-eng-en" else 1
        return "\n".join(pair[side] for pair in pairs) + "\n"
    return read_path(source, encoding)


def clean_line(line: str, mode: str = "clean") -> str:
    """Clean one line.

    "clean": d2l's read_time_machine, `re.sub('[^A-Za-z]+', ' ', line).strip().lower()`;
    "raw": the line without its line ending, case and punctuation kept.
    """
    if mode == "clean":
        return _NON_LETTERS.sub(" ", line).strip().lower()
    if mode == "raw":
        return line.rstrip("\r\n")
    raise DataError(f"unknown cleaning mode {mode!r} (choose from {', '.join(CLEAN_MODES)})")


def tokenize(lines: list[str], token: str = "word") -> list[list[str]]:
    """d2l `tokenize`: "word" splits each line on whitespace, "char" lists its characters."""
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise DataError(f"unknown token level {token!r} (choose from {', '.join(TOKEN_LEVELS)})")


@dataclass(eq=False)
class Corpus:
    """A tokenized corpus and its vocabulary (d2l `load_corpus_time_machine`'s corpus, vocab)."""

    source: str
    token: str
    mode: str
    min_freq: int
    lines: list[str]  # cleaned lines, empty ones kept (3,221 for the Time Machine)
    tokens: list[list[str]]  # per line
    flat: list[str]  # all tokens in order, lines concatenated (truncated to max_tokens)
    vocab: Vocab
    ids: list[int]  # vocab[flat], d2l's `corpus`

    @property
    def num_lines(self) -> int:
        return len(self.lines)

    @property
    def num_tokens(self) -> int:
        return len(self.ids)


def source_label(source: str) -> str:
    """A short human name for a corpus source (the bundled title or the file path)."""
    return BUNDLED_CORPORA.get(source, source)


def load_corpus(
    source: str = "timemachine",
    token: str = "word",
    mode: str = "clean",
    min_freq: int = 0,
    encoding: str = "utf-8",
    max_tokens: int = -1,
) -> Corpus:
    """d2l `load_corpus_time_machine(max_tokens)` for any corpus.

    The vocabulary is built from every token (as d2l does); `flat` and `ids` are then cut to the
    first `max_tokens` when it is positive.
    """
    if token not in TOKEN_LEVELS:
        raise DataError(f"unknown token level {token!r} (choose from {', '.join(TOKEN_LEVELS)})")
    if mode not in CLEAN_MODES:
        raise DataError(f"unknown cleaning mode {mode!r} (choose from {', '.join(CLEAN_MODES)})")
    if min_freq < 0:
        raise DataError(f"min_freq must be 0 or more, got {min_freq}")
    text = read_text(source, encoding)
    lines = [clean_line(line, mode) for line in split_lines(text)]
    tokens = tokenize(lines, token)
    flat = [tok for line in tokens for tok in line]
    if not flat:
        raise DataError(f"nothing left after cleaning: {source}")
    vocab = Vocab(flat, min_freq=min_freq)
    if max_tokens > 0:
        flat = flat[:max_tokens]
    return Corpus(
        source=source,
        token=token,
        mode=mode,
        min_freq=min_freq,
        lines=lines,
        tokens=tokens,
        flat=flat,
        vocab=vocab,
        ids=vocab[flat],
    )
