"""Where text comes from: the bundled data sets and the user's files, read strictly.

Every reader here returns text or raises a one-line DataError naming the file and the problem
(missing, a directory, empty, binary, undecodable). Corpora (corpus.py) and translation pairs
(translation.py) both read through this module, which imports neither of them.
"""

from __future__ import annotations

import codecs
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from rnn_tui.data.errors import DataError

BUNDLED_CORPORA = {
    "timemachine": "The Time Machine (H. G. Wells)",
    "fra-eng-en": "English side of fra-eng",
    "fra-eng-fr": "French side of fra-eng",
}
BUNDLED_PAIRS = "fra-eng"

# How far read_text looks for a NUL byte to tell a binary file from text (what git and grep do).
BINARY_SNIFF_BYTES = 8000


def bundled_path(*parts: str):
    """The bundled data file rnn_tui/data/bundled/<parts> (an importlib.resources Traversable)."""
    resource = files("rnn_tui.data") / "bundled"
    for part in parts:
        resource = resource / part
    return resource


def check_encoding(encoding: str, label: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise DataError(f"unknown encoding {encoding!r} for {label}") from None


def decode_bytes(data: bytes, label: str, encoding: str = "utf-8") -> str:
    """Strictly decode `data` read from `label`, raising DataError for binary or undecodable bytes.

    A leading byte-order mark is dropped. The NUL-byte test is skipped for UTF-16/32, whose text
    is full of NULs.
    """
    codec = check_encoding(encoding, label)
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
    check_encoding(encoding, str(path))
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
    check_encoding(encoding, source)
    if source == "timemachine":
        return read_bundled("timemachine.txt")
    if source in ("fra-eng-en", "fra-eng-fr"):
        pairs, _ = read_raw_pairs(BUNDLED_PAIRS)
        side = 0 if source == "fra-eng-en" else 1
        return "\n".join(pair[side] for pair in pairs) + "\n"
    return read_path(source, encoding)


def read_raw_pairs(
    source: str = BUNDLED_PAIRS, encoding: str = "utf-8", num_examples: int | None = None
) -> tuple[list[tuple[str, str]], int]:
    """Tab-separated sentence pairs of the bundled fra-eng set or a file, with the number of
    malformed lines skipped (not exactly two fields, or a side that is blank).

    Blank lines are ignored. `num_examples` keeps the first that many pairs (None or ≤ 0: all);
    unlike d2l's `tokenize_nmt`, whose `i > num_examples` test keeps one line more, 600 means 600.
    """
    limit = num_examples if num_examples is not None and num_examples > 0 else None
    if source == BUNDLED_PAIRS:
        pairs, malformed = _bundled_pairs()
        return list(pairs[:limit]), malformed
    return _parse_pairs(read_path(source, encoding), source, limit)


@lru_cache(maxsize=1)
def _bundled_pairs() -> tuple[tuple[tuple[str, str], ...], int]:
    # The bundled set has no malformed lines, so a prefix of it is what a limit would read.
    pairs, malformed = _parse_pairs(read_bundled("fra-eng", "fra.txt"), BUNDLED_PAIRS, None)
    return tuple(pairs), malformed


def _parse_pairs(text: str, source: str, limit: int | None) -> tuple[list[tuple[str, str]], int]:
    pairs: list[tuple[str, str]] = []
    malformed = 0
    for line in split_lines(text):
        if limit is not None and len(pairs) >= limit:
            break
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            malformed += 1
            continue
        pairs.append((parts[0], parts[1]))
    if not pairs:
        raise DataError(
            f"no tab-separated sentence pairs in {source} ({malformed} malformed lines)"
        )
    return pairs, malformed


__all__ = [
    "BINARY_SNIFF_BYTES",
    "BUNDLED_CORPORA",
    "BUNDLED_PAIRS",
    "bundled_path",
    "check_encoding",
    "decode_bytes",
    "read_bundled",
    "read_path",
    "read_raw_pairs",
    "read_text",
    "split_lines",
]
