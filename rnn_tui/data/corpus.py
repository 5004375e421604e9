"""Text corpora: reading, cleaning, tokenizing (d2l text preprocessing chapter).

`load_corpus` is d2l's `load_corpus_time_machine` generalised to any text file:
read lines → `[^A-Za-z]+` → space, strip, lower-case → tokenize (word or char) → Vocab → ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rnn_tui.data.errors import DataError, nothing_left
from rnn_tui.data.kinds import CLEAN_MODES, TOKEN_LEVELS, check_options
from rnn_tui.data.sources import BUNDLED_CORPORA, read_text, split_lines
from rnn_tui.data.vocab import Vocab

_NON_LETTERS = re.compile("[^A-Za-z]+")


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
    cancelled: Callable[[], bool] | None = None,
) -> Corpus:
    """d2l `load_corpus_time_machine(max_tokens)` for any corpus.

    The vocabulary is built from every token (as d2l does); `flat` and `ids` are then cut to the
    first `max_tokens` when it is positive. `cancelled` is polled while a pipe is waited on.
    """
    check_options(token, mode, min_freq)
    text = read_text(source, encoding, cancelled=cancelled)
    lines = [clean_line(line, mode) for line in split_lines(text)]
    tokens = tokenize(lines, token)
    flat = [tok for line in tokens for tok in line]
    if not flat:
        raise nothing_left(source, mode)
    vocab = Vocab(flat, min_freq=min_freq)
    vocab.check_not_empty(source_label(source))
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
