"""Where text comes from: the bundled data sets and the user's files, read strictly.

Every reader here returns text or raises a one-line DataError naming the file and the problem
(missing, a directory or a device, too large, empty, binary, undecodable, in another encoding).
Files are read through rnn_tui.files (regular files and pipes only, with a size cap, never
blocking for good). Corpora (corpus.py) and translation pairs (translation.py) both read through
this module, which imports neither of them.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

from rnn_tui.data.errors import DataError
from rnn_tui.files import (
    DEFAULT_LIMIT_MB,
    LIMIT_ENV,
    MAX_LIMIT_MB,
    FileProblem,
    expanded,
    read_bytes,
)
from rnn_tui.options import Option
from rnn_tui.quoting import plain

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

# Byte-order marks that say a file is UTF-16 or UTF-32 (UTF-32's first: FF FE 00 00 starts
# with UTF-16-LE's FF FE).
# A codec of the mark's family that names the other byte order reads every character swapped.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"),
)
# Latin-1 maps 0x80–0x9F to C1 control characters, which no text holds; Windows text (cp1252)
# has its quotes, dashes and € there, so a Latin-1 read of it would train on control codes.
_C1 = re.compile("[\x80-\x9f]")


def bundled_path(*parts: str):
    """The bundled data file rnn_tui/data/bundled/<parts> (an importlib.resources Traversable)."""
    resource = files("rnn_tui.data") / "bundled"
    for part in parts:
        resource = resource / part
    return resource


def check_encoding(encoding: str, label: str) -> str:
    """The codec's canonical name if `encoding` names a text encoding; DataError otherwise.

    Python's codec registry also holds bytes-to-bytes and str-to-str codecs (hex, base64,
    rot13, zlib): their lookup succeeds but `bytes.decode` refuses them, so they are refused
    here, before a file is read."""
    if not isinstance(encoding, str) or not encoding.strip():
        raise DataError(f"no encoding given for {label} (for example utf-8)")
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError, ValueError):
        raise DataError(f"unknown encoding {encoding!r} for {label}") from None
    try:
        b"".decode(encoding)
        "".encode(encoding)
    except (LookupError, TypeError, ValueError):
        raise DataError(
            f"{encoding!r} is not a text encoding (for {label}; try utf-8, latin-1, utf-16)"
        ) from None
    return name


def encoding_problem(encoding: str, label: str = "the file") -> str | None:
    """Why `encoding` cannot read text (check_encoding's line), or None when it can."""
    try:
        check_encoding(encoding, label)
    except DataError as exc:
        return str(exc)
    return None


DECODE_PIECE = 1 << 20  # bytes decoded per call for a big UTF-8 / ASCII / Latin-1 file


def _decode(data: bytes, codec: str) -> list[str]:
    """`data.decode(codec)` as pieces whose concatenation is the text, a piece at a time for a
    big file in UTF-8, ASCII or Latin-1: one long C call would hold the GIL (a UI thread
    waiting on a worker reading 100 MB stalls), and so would joining the pieces (0.1–0.2 s for
    100 MB with a character outside Latin-1, which widens every piece). A decoding error is
    raised as the one call would raise it (same offset and bytes)."""
    if len(data) <= DECODE_PIECE or codec not in ("utf-8", "ascii", "iso8859-1"):
        return [data.decode(codec)]
    decoder = codecs.getincrementaldecoder(codec)("strict")
    view = memoryview(data)
    pieces = []
    for start in range(0, len(data), DECODE_PIECE):
        pending = len(decoder.getstate()[0])
        try:
            pieces.append(
                decoder.decode(
                    view[start : start + DECODE_PIECE], start + DECODE_PIECE >= len(data)
                )
            )
        except UnicodeDecodeError as exc:
            offset = start - pending
            raise UnicodeDecodeError(
                exc.encoding, data, offset + exc.start, offset + exc.end, exc.reason
            ) from None
    return [piece for piece in pieces if piece]


def decode_bytes(data: bytes, label: str, encoding: str = "utf-8") -> str:
    """Strictly decode `data` read from `label`, raising DataError for binary or undecodable bytes.

    A leading byte-order mark is dropped; a UTF-16/32 one read as another encoding is named.
    Text holds no NUL character anywhere: a NUL means a binary file (or the wrong encoding).
    """
    return "".join(decode_pieces(data, label, encoding))


def decode_pieces(data: bytes, label: str, encoding: str = "utf-8") -> list[str]:
    """`decode_bytes` as pieces of a few MB whose concatenation is the text (what a tokenizer
    reading chunk by chunk needs; no 100 MB string is built)."""
    codec = check_encoding(encoding, label)
    if not data:
        raise DataError(f"empty file: {label}")
    mark = next((names for bom, *names in _BOMS if data.startswith(bom)), None)
    if mark is not None and codec not in mark:
        family, exact = mark
        raise DataError(
            f"{label} starts with a {exact.upper()} byte-order mark: read it with "
            f"--encoding {family}"
        )
    wide = codec.startswith(("utf-16", "utf-32"))  # their text is full of NUL bytes
    nul = -1 if wide else data.find(b"\x00")
    if nul >= 0:
        raise DataError(f"not a text file (NUL byte at offset {nul:,}): {label}{_wide_hint(data)}")
    try:
        pieces = _decode(data, codec)
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.end][:4]
        shown = " ".join(f"0x{b:02x}" for b in bad)
        # Text from Windows or an older system is the usual cause; say which names to try.
        other = " (written in another encoding? e.g. cp1252 or latin-1)" if codec == "utf-8" else ""
        raise DataError(
            f"cannot decode {label} as {encoding}: invalid byte {shown} at offset {exc.start:,}"
            + other
        ) from None
    except (UnicodeError, ValueError) as exc:
        # Codecs such as punycode and idna fail with a bare UnicodeError, without an offset.
        raise DataError(f"cannot decode {label} as {encoding}: {plain(str(exc))}") from None
    if wide:
        offset = 0
        for piece in pieces:
            nul = piece.find("\x00")
            if nul >= 0:
                where = offset + nul
                raise DataError(f"not a text file (NUL character at position {where:,}): {label}")
            offset += len(piece)
    if codec == "iso8859-1":
        _refuse_c1(pieces, data, label)
    if pieces and pieces[0].startswith("\ufeff"):
        pieces[0] = pieces[0][1:]
    return [piece for piece in pieces if piece]


def _wide_hint(data: bytes) -> str:
    """ " (UTF-16 without a byte-order mark? …)" when the file's opening bytes have NULs in
    every other place (Latin letters in UTF-16) and few in the others; "" otherwise."""
    head = data[:256] if len(data) % 2 == 0 else b""
    for order, start in (("le", 1), ("be", 0)):
        zeros, others = head[start::2], head[1 - start :: 2]
        if zeros.count(0) >= max(2, len(zeros) // 2) and others.count(0) <= len(others) // 10:
            return f" (UTF-16 without a byte-order mark? read it with --encoding utf-16-{order})"
    return ""


def _refuse_c1(pieces: list[str], data: bytes, label: str) -> None:
    """DataError when Latin-1 text holds a C1 control character and the file reads as UTF-8 or
    cp1252, which would give its real characters; a file neither reads (bytes of several
    encodings) stays Latin-1's, which reads any bytes."""
    offset = 0
    for piece in pieces:
        found = _C1.search(piece)
        if found:
            where = f"0x{ord(found.group()):02x} at offset {offset + found.start():,}"
            for codec, what in (("utf-8", "UTF-8 text"), ("cp1252", "Windows text (cp1252)")):
                try:
                    data.decode(codec)
                except UnicodeDecodeError:
                    continue
                raise DataError(
                    f"{label} read as latin-1 has a control character ({where}) where {what} "
                    f"has a character of its own: read it with --encoding {codec}"
                )
            return
        offset += len(piece)


def read_path(
    path: str | Path,
    encoding: str = "utf-8",
    what: str = "corpus file",
    cancelled: Callable[[], bool] | None = None,
) -> str:
    """Read a text file (or a pipe) strictly; every failure is a one-line DataError naming it.

    `cancelled` is polled while a pipe is waited on (a worker told to stop stops)."""
    return "".join(_read_path_digest(path, encoding, what, cancelled)[0])


def _read_path_digest(
    path: str | Path,
    encoding: str,
    what: str,
    cancelled: Callable[[], bool] | None,
) -> tuple[list[str], str]:
    check_encoding(encoding, str(path))
    if not str(path).strip():
        raise DataError(f"no {what} named (the path is empty)")
    p = expanded(path)
    try:
        data = read_bytes(p, what=what, cancelled=cancelled)
    except FileProblem as exc:
        raise DataError(str(exc)) from None
    digest = hashlib.blake2b(data, digest_size=20).hexdigest()
    return composed(decode_pieces(data, str(path), encoding)), digest


def composed(pieces: list[str]) -> list[str]:
    """The text's pieces in Unicode's composed form (NFC): "é" typed as e + U+0301 (macOS file
    names, some editors) and as U+00E9 look the same, so they are one token, not two vocabulary
    entries that look identical and a prefix that misses one. Each piece's text after its last
    line end moves to the next piece, since nothing composes across a line end."""
    out: list[str] = []
    carry = ""
    for piece in pieces:
        piece = carry + piece
        cut = piece.rfind("\n") + 1
        piece, carry = (piece[:cut], piece[cut:]) if cut else ("", piece)
        if piece:
            out.append(nfc(piece))
    if carry:
        out.append(nfc(carry))
    return out


def vocabulary_changed(source: str, tokens: list[str], now: list[str]) -> str:
    """Why a run's vocabulary `tokens` differs from `now`, its corpus `source`'s read now: the
    file changed, or the run read it before corpora were composed (a word token not composed,
    or a character now read whose decomposed parts are the run's tokens)."""
    old = set(tokens)
    decomposed = any(not unicodedata.is_normalized("NFC", token) for token in tokens) or any(
        token not in old
        and (parts := unicodedata.normalize("NFD", token)) != token
        and set(parts) <= old
        for token in now
    )
    if not decomposed:
        return (
            f"the corpus {source} changed since the run started: its vocabulary differs from "
            "the checkpoint's"
        )
    return (
        f"the run read {source} before accents were composed (a letter and a combining mark, "
        "now one character): this version cannot continue it (its checkpoints still generate); "
        "start a new run"
    )


def nfc(text: str) -> str:
    """`text` in Unicode's composed form (NFC); itself when it is already (the usual case,
    checked without copying)."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


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
    "read_path",
    "read_raw_pairs",
    "read_text",
    "read_text_pieces",
    "split_lines",
]
