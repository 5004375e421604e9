"""Bytes to text, strictly: a text encoding checked before a file is read, byte-order marks,
NUL bytes (a binary file), bytes the encoding cannot read, Latin-1's control codes where another
encoding reads the file, and the composed form (NFC) a corpus is read in. Every failure is a
one-line DataError naming the file and what to change. sources.py reads files through it.
"""

from __future__ import annotations

import codecs
import functools
import re
import time
import unicodedata

from rnn_tui.data.errors import DataError
from rnn_tui.quoting import plain

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


DECODE_PIECE = 1 << 20  # bytes decoded per call for a big file
# Characters of the pieces `composed` returns, at least (the last excepted): a 100 MB text in
# pieces of a MiB lay in the heap among the tokenizer's blocks, which kept their pages after
# the text was freed (`stats` on 11.6M distinct words peaked 60 MiB higher than with 8 MiB).
JOINED_CHARS = 8 << 20
NFC_CHARS = 1 << 16  # characters composed per C call (~8 ms where most of them change)


def _decode(data: bytes, codec: str) -> list[str]:
    """`data.decode(codec)` as pieces whose concatenation is the text, a piece at a time for a
    big file, in any encoding with an incremental decoder (every one Python ships): one long C
    call would hold the GIL (a UI thread waiting on a worker reading 100 MB stalls: 141 ms for
    100 MB of UTF-16, read whole until 2026-12-08), and so would joining the pieces (0.1–0.2 s
    for 100 MB with a character outside Latin-1, which widens every piece). A decoding error
    is raised as the one call would raise it (same offset and bytes)."""
    incremental = codecs.lookup(codec).incrementaldecoder
    if len(data) <= DECODE_PIECE or incremental is None:
        return [data.decode(codec)]
    decoder = incremental("strict")
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
    if not codec.startswith(NO_SURROGATES):
        _refuse_surrogates(pieces, label, encoding)
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


# Codecs whose strict decoding never gives a surrogate (UTF-16 and -32 refuse a lone one).
NO_SURROGATES = ("utf-8", "utf-16", "utf-32", "ascii", "iso8859-1")


def _refuse_surrogates(pieces: list[str], label: str, encoding: str) -> None:
    """DataError where the text holds a surrogate: a codec such as unicode_escape or utf-7
    turns "\\ud800" into one, which is not a character (a vocabulary holding it could not be
    saved: the trainer failed with a traceback)."""
    offset = 0
    for piece in pieces:
        if not piece.isascii():
            try:
                piece.encode("utf-8")
            except UnicodeEncodeError as exc:
                code = ord(piece[exc.start])
                raise DataError(
                    f"cannot decode {label} as {encoding}: it gives a lone surrogate "
                    f"(\\u{code:04x}) at position {offset + exc.start:,}, not a character"
                ) from None
        offset += len(piece)


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


# How far back from a piece's end `composed` looks for a boundary when the piece has no line
# end or space (a line of combining marks alone has none: it is carried whole instead).
BOUNDARY_SEARCH = 4096


@functools.cache
def _composes_backward() -> frozenset[str]:
    """The characters of combining class 0 that compose with the character before them, the
    second of a pair that composes (NFC_Quick_Check=Maybe): Hangul's medial vowels and final
    consonants, and some two-part vowel signs (Indic, Sinhala, Myanmar, Balinese...). Read from
    the running Python's Unicode tables (0.3 s, once, and only for a line longer than a piece
    with no space in it)."""
    hangul = [chr(c) for c in (*range(0x1161, 0x1176), *range(0x11A8, 0x11C3))]
    seconds = set(hangul)
    for code in range(0x110000):
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) != 2 or parts[0].startswith("<"):
            continue
        first, second = (chr(int(p, 16)) for p in parts)
        if unicodedata.combining(second) == 0 and nfc(first + second) == chr(code):
            seconds.add(second)
    return frozenset(seconds)


def _boundary(piece: str) -> int:
    """Where `piece` may be cut so that composing each part alone is composing the whole: at
    its last line end or space, else before the last character that composes with nothing
    before it (class 0, already composed, never a pair's second: CJK, Latin, digits...), within
    BOUNDARY_SEARCH characters of the end; 0 where there is none."""
    cut = piece.rfind("\n") + 1 or max(piece.rfind(" "), 0)
    if cut:
        return cut
    backward = None
    for i in range(len(piece) - 1, max(len(piece) - BOUNDARY_SEARCH, 0), -1):
        ch = piece[i]
        if ch < "\u0300":  # Latin-1 and the Latin and IPA blocks: class 0, composed, no second
            return i
        if unicodedata.combining(ch) == 0 and unicodedata.is_normalized("NFC", ch):
            backward = backward or _composes_backward()
            if ch not in backward:
                return i
    return 0


def composed(pieces: list[str]) -> list[str]:
    """The text's pieces in Unicode's composed form (NFC): "é" typed as e + U+0301 (macOS file
    names, some editors) and as U+00E9 look the same, so they are one token, not two vocabulary
    entries that look identical and a prefix that misses one. Each piece's text after its last
    line end moves to the next piece, since nothing composes across a line end; a piece with no
    line end is cut before its last space, or another character that composes with nothing
    before it (`_boundary`): a 100 MB file of one line, as text8 is, was carried whole from
    piece to piece, 4 s of copying, and one with no space (a line of Chinese, or one 100 MB
    word) still was: 2.5 s, rising as the square of its length.
    The composed pieces are joined into pieces of JOINED_CHARS characters or more."""
    out: list[str] = []
    done: list[str] = []  # composed, not yet joined into a piece of JOINED_CHARS
    carry, size = "", 0
    for piece in pieces:
        piece = carry + piece
        cut = _boundary(piece)
        piece, carry = (piece[:cut], piece[cut:]) if cut else ("", piece)
        if piece:
            done.extend(_composed_parts(piece))
            size += len(piece)
            if size >= JOINED_CHARS:
                out.append("".join(done))
                done, size = [], 0
    if carry:
        done.extend(_composed_parts(carry))
    if done:
        out.append("".join(done))
    return out


def _composed_parts(piece: str) -> list[str]:
    """`nfc(piece)` in parts of about NFC_CHARS characters, cut where `_boundary` may cut,
    the GIL handed over between them (a zero sleep, as token_list.let_others_run): a piece of
    287k characters that composing changes took 48 ms in one call (a 100 MB file of every
    code point), and the Dataset screen's event loop waited behind such calls for 60-90 ms."""
    if piece.isascii():  # composed already
        return [piece]
    parts, start = [], 0
    while len(piece) - start > NFC_CHARS:
        cut = _boundary(piece[start : start + NFC_CHARS])
        if not cut:
            break  # nowhere to cut in the window: the rest at once
        parts.append(nfc(piece[start : start + cut]))
        start += cut
        time.sleep(0)
    parts.append(nfc(piece[start:]))
    return parts


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


__all__ = [
    "DECODE_PIECE",
    "check_encoding",
    "composed",
    "decode_bytes",
    "decode_pieces",
    "encoding_problem",
    "nfc",
    "vocabulary_changed",
]
