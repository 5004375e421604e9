"""Where text comes from: the bundled data sets and the user's files, read strictly.

Every reader here returns text or raises a one-line DataError naming the file and the problem
(missing, a directory or a device, too large, empty, binary, undecodable, in another encoding).
Files are read through rnn_tui.files (regular files and pipes only, with a size cap, never
blocking for good) and decoded by decoding.py (encodings, byte-order marks, composed text).
Corpora (corpus.py) and translation pairs (translation.py) both read through this module, which
imports neither of them.
"""

from __future__ import annotations

import codecs
import hashlib
import os
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

from rnn_tui.data.decoding import (
    check_encoding,
    composed,
    decode_bytes,
    decode_pieces,
    encoding_problem,
    nfc,
)
from rnn_tui.data.errors import DataError
from rnn_tui.files import (
    DEFAULT_LIMIT_MB,
    LIMIT_ENV,
    MAX_LIMIT_MB,
    FileProblem,
    expanded,
    open_regular,
    read_bytes,
)
from rnn_tui.options import Option

BUNDLED_CORPORA = {
    "timemachine": "The Time Machine (H. G. Wells)",
    "fra-eng-en": "English side of fra-eng",
    "fra-eng-fr": "French side of fra-eng",
}
BUNDLED_PAIRS = "fra-eng"

# The size cap on a file the user names (corpus, pairs, sentences to translate). The CLI's
# --max-file-mb sets it for the process and the trainers it starts.
MAX_FILE_MB = Option(
    "max_file_mb",
    int,
    None,
    "largest file read, in MiB (a corpus, a file of pairs or sentences)",
    minimum=1,
    maximum=MAX_LIMIT_MB,  # $RNN_TUI_MAX_FILE_MB is held to the same range
    unset=None,
    unset_label=f"{DEFAULT_LIMIT_MB} MiB or ${LIMIT_ENV}",
    metavar="MB",
)

# The text encoding of a file the user names; commands declare theirs from this one. A form
# checks it as typed with the backend's own check (extra "check": the problem, or None).
ENCODING = Option(
    "encoding",
    str,
    "utf-8",
    "text encoding of the file",
    metavar="NAME",
    empty_ok=False,
    extra={"check": lambda text: encoding_problem(text)},
)


def bundled_path(*parts: str):
    """The bundled data file rnn_tui/data/bundled/<parts> (an importlib.resources Traversable)."""
    resource = files("rnn_tui.data") / "bundled"
    for part in parts:
        resource = resource / part
    return resource


def read_path(
    path: str | Path,
    encoding: str = "utf-8",
    what: str = "corpus file",
    cancelled: Callable[[], bool] | None = None,
) -> str:
    """Read a text file (or a pipe) strictly; every failure is a one-line DataError naming it.

    `cancelled` is polled while a pipe is waited on (a worker told to stop stops)."""
    return "".join(read_path_pieces(path, encoding, what, cancelled))


def read_path_pieces(
    path: str | Path,
    encoding: str = "utf-8",
    what: str = "corpus file",
    cancelled: Callable[[], bool] | None = None,
) -> list[str]:
    """`read_path` as pieces of a few MiB whose concatenation is the text: joining 100 MB
    holds the GIL (78 ms), which a worker's reader need not pay."""
    return _read_path_digest(path, encoding, what, cancelled)[0]


def _read_path_digest(
    path: str | Path,
    encoding: str,
    what: str,
    cancelled: Callable[[], bool] | None,
) -> tuple[list[str], str]:
    data, digest = _read_path_bytes(path, encoding, what, cancelled)
    return text_of_bytes(data, str(path), encoding), digest


def _read_path_bytes(
    path: str | Path,
    encoding: str,
    what: str,
    cancelled: Callable[[], bool] | None,
) -> tuple[bytes, str]:
    check_encoding(encoding, str(path))
    if not str(path).strip():
        raise DataError(f"no {what} named (the path is empty)")
    p = expanded(path)
    try:
        data = read_bytes(p, what=what, cancelled=cancelled)
    except FileProblem as exc:
        raise DataError(str(exc)) from None
    return data, hashlib.blake2b(data, digest_size=20).hexdigest()


def text_of_bytes(data: bytes, label: str, encoding: str = "utf-8") -> list[str]:
    """A file's bytes as the pieces of its text, decoded strictly and composed (NFC), as
    `read_text_pieces` reads them."""
    return composed(decode_pieces(data, label, encoding))


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


def read_text(
    source: str, encoding: str = "utf-8", cancelled: Callable[[], bool] | None = None
) -> str:
    """The text of a bundled corpus (a BUNDLED_CORPORA key) or of a file path, decoded strictly.

    "fra-eng-en" / "fra-eng-fr" give one side of the bundled sentence pairs, one sentence a line.
    Bundled data is UTF-8 whatever `encoding` says, but a bad encoding name is still an error.
    """
    return "".join(read_text_pieces(source, encoding, cancelled)[0])


def read_text_pieces(
    source: str, encoding: str = "utf-8", cancelled: Callable[[], bool] | None = None
) -> tuple[list[str], str | None]:
    """`read_text` as pieces whose concatenation is the text (a big file's is never built as
    one string: see `_decode`), and, for a file, a BLAKE2b digest of its bytes (None for
    bundled data): what rnn_tui.data.token_cache keys a file's cached token array by."""
    check_encoding(encoding, source)
    if not source.strip():
        raise DataError(
            f"no corpus named: give {', '.join(BUNDLED_CORPORA)} or the path of a text file"
        )
    if source == "timemachine":
        return [read_bundled("timemachine.txt")], None
    if source in ("fra-eng-en", "fra-eng-fr"):
        pairs = read_raw_pairs(BUNDLED_PAIRS).pairs
        side = 0 if source == "fra-eng-en" else 1
        return ["\n".join(pair[side] for pair in pairs) + "\n"], None
    return _read_path_digest(source, encoding, "corpus file", cancelled)


START_MARGIN = 64  # characters read past those asked for: one cut after a combining mark
# composes as the whole text does


def read_text_start(source: str, encoding: str, chars: int) -> str:
    """The first `chars` characters of `read_text(source, encoding)`, reading no more of a
    regular file than they take: a corpus of 100 MB was read, checked and joined whole for
    4,000 characters of it (3.75 s, 1.3 GB, the GIL held 244 ms). The start is checked as a
    whole file is (`text_of_bytes`), cut where the decoder has whole characters. A bundled
    corpus, or a path that is not a regular file (a pipe), is read as `read_text` reads it."""
    check_encoding(encoding, source)
    if source in BUNDLED_CORPORA or not source.strip():
        return read_text(source, encoding)[:chars]
    try:
        handle = open_regular(expanded(source))
    except OSError:
        return read_text(source, encoding)[:chars]  # its one-line error, or a pipe read
    codec = codecs.lookup(encoding).name
    want = chars + START_MARGIN
    size = want * 4 + 16  # 4 bytes a character at most in UTF-8, UTF-16 and UTF-32
    with handle:
        total = os.fstat(handle.fileno()).st_size
        while True:
            handle.seek(0)
            data = handle.read(size)
            whole = len(data) < size or size >= total
            if not whole:
                decoder = codecs.getincrementaldecoder(codec)("strict")
                try:
                    decoder.decode(data, False)
                    data = data[: len(data) - len(decoder.getstate()[0])]  # whole characters
                except UnicodeError:
                    pass  # text_of_bytes raises it, naming the byte and its offset
            text = "".join(text_of_bytes(data, source, encoding))
            if whole or len(text) >= want:
                return text[:chars]
            size *= 2  # a wider encoding (UTF-7), or characters that composed into fewer


def read_corpus_bytes(
    source: str, encoding: str = "utf-8", cancelled: Callable[[], bool] | None = None
) -> tuple[bytes, str] | None:
    """A corpus file's bytes, not yet decoded (`text_of_bytes` decodes them), and their
    BLAKE2b digest, with `read_text_pieces`' checks and errors; None for a bundled corpus.
    What a cache keyed by the digest needs: a hit then costs no decoding."""
    check_encoding(encoding, source)
    if not source.strip():
        raise DataError(
            f"no corpus named: give {', '.join(BUNDLED_CORPORA)} or the path of a text file"
        )
    if source in BUNDLED_CORPORA:
        return None
    return _read_path_bytes(source, encoding, "corpus file", cancelled)


def rereader(
    source: str,
    encoding: str,
    digest: str | None,
    cancelled: Callable[[], bool] | None = None,
) -> Callable[[], list[str]] | None:
    """What reads a corpus file's text again for a scan that let its first pieces go
    (`scan_text`'s `reread`): DataError should the bytes have changed since (their digest).
    None for a bundled corpus (`digest` None): small, it is kept."""
    if digest is None:
        return None

    def again() -> list[str]:
        pieces, now = read_text_pieces(source, encoding, cancelled=cancelled)
        if now != digest:
            raise DataError(f"{source} changed while it was read: read it again")
        return pieces

    return again


class RawPairs(NamedTuple):
    """Sentence pairs as read, with what reading them skipped or cut."""

    pairs: list[tuple[str, str]]
    malformed: int  # lines skipped: not two or three fields, or a blank side
    third_column: int  # lines whose third field (manythings.org's attribution) was dropped


def read_raw_pairs(
    source: str = BUNDLED_PAIRS,
    encoding: str = "utf-8",
    num_examples: int | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> RawPairs:
    """Tab-separated sentence pairs of the bundled fra-eng set or a file.

    A line is "English<TAB>French", or "English<TAB>French<TAB>attribution" as manythings.org
    now ships them (the third field is dropped and counted). Other lines with a blank side (a
    line of a tab alone too) or another number of fields are skipped and counted as malformed;
    blank lines (no tab) are ignored.
    `num_examples` keeps the first that many pairs (None or ≤ 0: all); unlike d2l's
    `tokenize_nmt`, whose `i > num_examples` test keeps one line more, 600 means 600.
    """
    limit = num_examples if num_examples is not None and num_examples > 0 else None
    if not source.strip():
        raise DataError(f"no sentence pairs named: give {BUNDLED_PAIRS} or the path of a file")
    if source == BUNDLED_PAIRS:
        pairs, malformed, third = _bundled_pairs()
        return RawPairs(list(pairs[:limit]), malformed, third)
    text = read_path(source, encoding, what="pairs file", cancelled=cancelled)
    return _parse_pairs(text, source, limit)


@lru_cache(maxsize=1)
def _bundled_pairs() -> tuple[tuple[tuple[str, str], ...], int, int]:
    # The bundled set has no malformed lines, so a prefix of it is what a limit would read.
    raw = _parse_pairs(read_bundled("fra-eng", "fra.txt"), BUNDLED_PAIRS, None)
    return tuple(raw.pairs), raw.malformed, raw.third_column


def _parse_pairs(text: str, source: str, limit: int | None) -> RawPairs:
    pairs: list[tuple[str, str]] = []
    malformed = third = 0
    for line in split_lines(text):
        if limit is not None and len(pairs) >= limit:
            break
        if not line.strip() and "\t" not in line:
            continue  # a blank line; one holding a tab meant a pair, and counts as malformed
        parts = line.split("\t")
        if len(parts) not in (2, 3) or not parts[0].strip() or not parts[1].strip():
            malformed += 1
            continue
        third += len(parts) == 3
        pairs.append((parts[0], parts[1]))
    if not pairs:
        raise DataError(
            f"no tab-separated sentence pairs in {source} ({malformed:,} malformed "
            f"line{'s' if malformed != 1 else ''})"
        )
    return RawPairs(pairs, malformed, third)


def pairs_remarks(raw: RawPairs, source: str) -> list[str]:
    """What reading `source` skipped or cut, for a person to read ([] when nothing)."""
    remarks = []
    if raw.third_column:
        remarks.append(
            f"took English and French from the first two of three tab-separated fields on "
            f"{raw.third_column:,} lines of {source} (the third, an attribution, is dropped)"
        )
    if raw.malformed:
        lines = "line" if raw.malformed == 1 else "lines"
        remarks.append(f"skipped {raw.malformed:,} malformed {lines} in {source}")
    return remarks


__all__ = [
    "BUNDLED_CORPORA",
    "BUNDLED_PAIRS",
    "ENCODING",
    "MAX_FILE_MB",
    "RawPairs",
    "bundled_path",
    "check_encoding",
    "composed",
    "decode_bytes",
    "nfc",
    "pairs_remarks",
    "read_bundled",
    "read_corpus_bytes",
    "read_path",
    "read_path_pieces",
    "read_raw_pairs",
    "read_text",
    "read_text_pieces",
    "read_text_start",
    "rereader",
    "split_lines",
    "text_of_bytes",
]
