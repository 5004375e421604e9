"""A token stream as a compact numpy array: d2l's `tokenize` + `Vocab` without Python lists.

`scan_text` reads a decoded text in chunks of whole lines (a very long line in pieces cut
where no token is split) and gives what `load_corpus` (d2l's
`load_corpus_time_machine`) would, at a few bytes per token instead of ~60:

* the distinct tokens in first-seen order and their counts (so `Vocab.from_counts` builds the
  very Vocab `Vocab(flat)` builds: ties in frequency keep first-seen order);
* the stream as first-seen ids in the smallest unsigned dtype that holds them (uint8 for up to
  256 distinct tokens, then uint16, uint32);
* the number of lines, counted as `split_lines` splits them.

Cleaning follows `clean_line` exactly: "clean" turns every run of non-ASCII-letters into one
space, strips the line and lower-cases it (done here on UTF-8 bytes with `bytes.translate`,
so every character costs one byte); "raw" keeps each line as written. Word tokens are
`line.split()`, char tokens the characters of each line (line ends are not tokens).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rnn_tui.data.byte_words import ByteWords, raw_word_bytes
from rnn_tui.data.errors import DataError
from rnn_tui.data.first_seen import WORD_PIECE, FirstSeenIndex
from rnn_tui.data.hashed_words import HashCollision
from rnn_tui.data.kinds import check_options
from rnn_tui.data.packed_tokens import same_token
from rnn_tui.data.text_chunks import CUT_AFTER, line_chunks, line_ends, piece_chunks, windowed
from rnn_tui.data.token_list import TokenList
from rnn_tui.data.vocab import Vocab, count_order

CHUNK_CHARS = 8 << 20  # characters of text handled at once (whole lines)
TABLE_PIECE = 1 << 20  # vocabulary indices written into an id table at a time
COUNT_MAX = (1 << 32) - 1  # counts are uint32 until the tokens read pass this
# Known ids counted by one bincount at a time (its int64 counts: 32 MB at most, not 8 bytes
# for each of millions of distinct words beside them).
COUNT_BLOCK = 1 << 22
# Characters handled at once at char level: its temporaries (bytes, translations, codes) stay
# under glibc's 4 MiB memory-map threshold and are reused from the heap; at 8M each was a
# fresh map, faulted in page by page (100 MB of text: +1 s of system time).
CHAR_CHUNK_CHARS = 1 << 20

Progress = Callable[[int, int], None]  # (done, total)
Cancelled = Callable[[], bool]

_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# "clean": letters lower-cased, every other byte (UTF-8 continuation bytes too) a space; for
# char tokens line ends stay line ends ("\r" too: an extra empty line holds no characters).
_CLEAN_WORDS = bytes(c + 32 if 65 <= c <= 90 else c if c in _LETTERS else 32 for c in range(256))
_CLEAN_CHARS = bytes(10 if c in (10, 13) else _CLEAN_WORDS[c] for c in range(256))
_SPACES = re.compile(rb" {2,}")
# A space before or after a line end; a bare line end is no match (each match costs ~100 ns:
# 100 MB of empty lines took 10 s with " ?\n ?").
_LINE_EDGES = re.compile(rb" \n ?|\n ")


def compact_dtype(size: int) -> np.dtype:
    """The smallest unsigned dtype whose values cover ids 0..size-1 (uint8, uint16, uint32)."""
    if size <= 1 << 8:
        return np.dtype(np.uint8)
    if size <= 1 << 16:
        return np.dtype(np.uint16)
    if size <= 1 << 32:
        return np.dtype(np.uint32)
    raise DataError(f"{size:,} distinct tokens: too many for a token array")


def count_lines(text: str) -> int:
    """len(split_lines(text)): "\\n", "\\r\\n" and "\\r" end lines; a final one adds none."""
    if not text:
        return 0
    ends = text.count("\n") + text.count("\r") - text.count("\r\n")
    return ends + (0 if text.endswith(("\n", "\r")) else 1)


@dataclass(eq=False)
class TokenScan:
    """A token stream counted and encoded (see the module docstring)."""

    token: str
    mode: str
    num_lines: int
    tokens: Sequence[str]  # distinct tokens, first-seen order: a TokenList or PackedTokens
    counts: np.ndarray  # counts[i] = occurrences of tokens[i]: uint32 (int64 past COUNT_MAX read)
    ids: np.ndarray  # the stream as first-seen ids (compact dtype)

    @property
    def num_tokens(self) -> int:
        return len(self.ids)

    def count_order(self) -> np.ndarray:
        """The first-seen ids by descending count, ties in first-seen order (the Vocab's), in
        4 bytes each where they fit: the order is held beside the Vocab's tables as they are
        built, the peak of `stats`' memory (14M distinct words: 56 MB less)."""
        order = count_order(self.counts)
        return order.astype(np.uint32) if len(order) <= 1 << 32 else order

    def vocab(self, min_freq: int = 0, order: np.ndarray | None = None) -> Vocab:
        """d2l `Vocab(flat, min_freq)`, built from the counts (`order`: `count_order()`)."""
        return Vocab.from_token_counts(self.tokens, self.counts, min_freq, order=order)

    def vocab_ids(
        self,
        vocab: Vocab,
        chunk: int = 1 << 20,
        order: np.ndarray | None = None,
        table: np.ndarray | None = None,
    ) -> np.ndarray:
        """`vocab[flat]` as a compact array (tokens outside the vocabulary → 0, `<unk>`), for
        `vocab`, the Vocab of these counts (`self.vocab`; `order`: `count_order()`; `table`:
        `id_table(vocab, order)`, whose caller may then let the order go first)."""
        table = self.id_table(vocab, order) if table is None else table
        out = np.empty(len(self.ids), dtype=compact_dtype(len(vocab)))
        for start in range(0, len(self.ids), chunk):
            out[start : start + chunk] = table[self.ids[start : start + chunk]]
        return out

    def id_table(self, vocab: Vocab, order: np.ndarray | None = None) -> np.ndarray:
        """The vocabulary index of each first-seen id. The Vocab sorts the counts stably, so
        the counted token of rank r sits at `counted_offset + r` if kept: no lookups (a dict of
        millions of tokens would hold the GIL for a tenth of a second each time it grows)."""
        offset, size = vocab.counted_offset, len(self.tokens)
        dtype = compact_dtype(len(vocab))
        if offset is not None and size:
            order = self.count_order() if order is None else order
            kept = len(vocab) - offset
            ends = sorted({0, kept - 1}) if 0 < kept <= size else ()
            if kept == 0 or all(
                same_token(vocab.idx_to_token, offset + r, self.tokens, int(order[r])) for r in ends
            ):
                table = np.zeros(size, dtype=dtype)
                # A million at a time: the indices of all of them at once were made beside
                # the Vocab's tables, the peak of `stats`' memory (14M distinct words: 53 MB).
                for start in range(0, kept, TABLE_PIECE):
                    end = min(start + TABLE_PIECE, kept)
                    table[order[start:end]] = np.arange(offset + start, offset + end, dtype=dtype)
                return table
        get, tokens = vocab.token_to_idx.get, self.tokens
        # A piece at a time: one fromiter over millions of lookups would hold the GIL ~1 s.
        table = np.empty(size, dtype=dtype)
        for start in range(0, size, WORD_PIECE):
            piece = tokens[start : start + WORD_PIECE]
            table[start : start + len(piece)] = np.fromiter(
                map(get, piece, itertools.repeat(0)), np.int64, len(piece)
            )
        return table


class _Encoder:
    """First-seen numbering of tokens, chunk by chunk: the ids and their counts."""

    def __init__(self) -> None:
        self.pieces: list[np.ndarray] = []
        # 4 bytes a count until the tokens read could pass 2³² - 1: the counts of millions of
        # distinct words are held beside them to the end of the scan, its peak of memory.
        self.counts = np.zeros(0, dtype=np.uint32)
        self.read = 0
        self.known = 0  # distinct tokens before the chunk being added

    def add_ids(self, ids: np.ndarray, size: int) -> None:
        """Append the ids of a chunk; `size` is the number of distinct tokens so far."""
        self.read += len(ids)
        if self.read > COUNT_MAX and self.counts.dtype != np.int64:
            self.counts = self.counts.astype(np.int64)
        if len(self.counts) < size:
            # Room for twice as many: a vocabulary of millions grows chunk by chunk, and a
            # copy of all its counts each time cost a second on a 100 MB file of ids.
            grown = np.zeros(max(size, 2 * len(self.counts)), self.counts.dtype)
            grown[: len(self.counts)] = self.counts
            self.counts = grown
        if len(ids) >= size:  # characters, or words early on: one bincount
            counts = self.counts[:size]
            np.add(counts, np.bincount(ids, minlength=size), out=counts, casting="unsafe")
        elif len(ids):  # more tokens known than the chunk has: its own ids, not all of them
            # The chunk's new tokens (ids from the size before it) by one bincount of their
            # range, the others by a bincount of each block of known ids: np.add.at took
            # ~0.1 µs a token (23M words, 5.7M distinct: 1.5 s), ten times a bincount.
            new = ids >= self.known
            fresh = ids[new] - self.known
            counts = self.counts[self.known : size]
            np.add(counts, np.bincount(fresh, minlength=len(counts)), out=counts, casting="unsafe")
            old = ids[~new]
            for low in range(0, self.known, COUNT_BLOCK) if len(old) else ():
                high = min(low + COUNT_BLOCK, self.known)
                chosen = old if self.known <= COUNT_BLOCK else old[(old >= low) & (old < high)]
                counts = self.counts[low:high]
                found = np.bincount(chosen - low, minlength=high - low)
                np.add(counts, found, out=counts, casting="unsafe")
        self.known = size
        self.pieces.append(ids.astype(compact_dtype(max(size, 1)), copy=False))

    def finish_with(self, tokens: Sequence[str]) -> tuple[Sequence[str], np.ndarray, np.ndarray]:
        size = len(tokens)
        counts = self.counts[:size].copy()
        if len(counts) < size:
            counts = np.concatenate((counts, np.zeros(size - len(counts), counts.dtype)))
        self.counts = np.zeros(0, dtype=np.uint32)
        total = sum(len(p) for p in self.pieces)
        ids = np.empty(total, dtype=compact_dtype(max(size, 1)))
        pos = 0
        while self.pieces:
            piece = self.pieces.pop(0)
            ids[pos : pos + len(piece)] = piece
            pos += len(piece)
        return tokens, counts, ids


class _WordEncoder(_Encoder):
    """First-seen numbering of words (rnn_tui.data.first_seen)."""

    def __init__(self, sharded: bool = False, hashing: bool = True, encoded: bool = False) -> None:
        super().__init__()
        self.index = FirstSeenIndex(sharded, hashing, encoded)

    def add_words(self, words: list) -> None:
        self.add_ids(self.index.number(words), len(self.index))

    def finish(self, decode: Callable | None = None) -> tuple[TokenList, np.ndarray, np.ndarray]:
        return self.finish_with(self.index.tokens(decode))


class _ByteWordEncoder(_Encoder):
    """First-seen numbering of words by their bytes (rnn_tui.data.byte_words)."""

    def __init__(self) -> None:
        super().__init__()
        self.index = ByteWords()

    def add_text(self, text: bytes | bytearray) -> None:
        self.add_ids(self.index.ids(text), len(self.index))

    def finish(self, packed: bool = False) -> tuple[Sequence[str], np.ndarray, np.ndarray]:
        tokens = self.index.tokens()
        return self.finish_with(tokens if packed else tokens.token_list())


class _CharEncoder(_Encoder):
    """First-seen numbering of characters through a code point → id table."""

    def __init__(self) -> None:
        super().__init__()
        self.table = np.full(0x110000, -1, dtype=np.int64)
        self.chars: list[str] = []

    def add_codes(self, codes: np.ndarray) -> None:
        ids = self.table[codes]
        new = ids < 0
        if new.any():
            where = np.flatnonzero(new)
            fresh, first = np.unique(codes[where], return_index=True)
            for code in fresh[np.argsort(first, kind="stable")].tolist():
                self.table[code] = len(self.chars)
                self.chars.append(chr(code))
            ids = self.table[codes]
        self.add_ids(ids, len(self.chars))

    def finish(self, decode: Callable | None = None) -> tuple[TokenList, np.ndarray, np.ndarray]:
        return self.finish_with(TokenList(self.chars))


def _clean_bytes(chunk: str) -> bytes | bytearray:
    """The clean words of `chunk` (ASCII letters, lower-cased), a space between them."""
    return windowed(_clean_word_bytes, chunk)  # a chunk of one 100 MB word is whole


def _clean_word_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass").translate(_CLEAN_WORDS)


def _clean_words(chunk: str) -> list[bytes]:
    return bytes(_clean_bytes(chunk)).split()  # words as bytes, which hash


def _clean_chars(chunk: str, line_start: bool = True) -> np.ndarray:
    """The clean characters of whole lines, or of a piece of a line: a piece that starts inside
    a line keeps its leading space (the line's edges are stripped, not the piece's)."""
    data = chunk.encode("utf-8", "surrogatepass").translate(_CLEAN_CHARS)
    data = _LINE_EDGES.sub(b"\n", _SPACES.sub(b" ", data))
    data = data.strip(b" ") if line_start else data.rstrip(b" ")
    return np.frombuffer(data.translate(None, b"\n"), dtype=np.uint8)


def _raw_chars(chunk: str) -> np.ndarray:
    if chunk.isascii():
        data = chunk.encode("ascii").translate(None, b"\r\n")
        return np.frombuffer(data, dtype=np.uint8)
    codes = np.frombuffer(chunk.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return codes[(codes != 10) & (codes != 13)]


def scan_text(
    text: str | Sequence[str],
    token: str = "word",
    mode: str = "clean",
    chunk_chars: int | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    label: str = "the corpus",
    sharded: bool = False,
    reread: Callable[[], Sequence[str]] | None = None,
    packed: bool = False,
) -> TokenScan:
    """Clean and tokenize `text` as `load_corpus` does, chunk by chunk (module docstring).
    `text` may be given as pieces whose concatenation is the text (`read_text_pieces`).

    `progress(done, total)` is called after each chunk with characters handled so far;
    `cancelled()` is polled between chunks (DataError "stopped ..." when it says so).
    Words are numbered by their UTF-8 bytes in numpy (rnn_tui.data.byte_words). Should two
    share a key, the text is numbered again by Python objects: in one dict, or (`sharded`) in
    many small ones (rnn_tui.data.first_seen; no single C call grows a dict of millions of
    words, for a thread beside an event loop), past 3M distinct words by sorted hashes
    (rnn_tui.data.hashed_words); should two share a hash, in dicts alone.

    `packed`: words numbered by their bytes (rnn_tui.data.byte_words) are given as
    PackedTokens (a byte a character, not a str object each: for a caller that reads a few).

    `reread` (with `text` a list) gives the text again: the pieces are then taken out of
    `text` and let go as they are read (100 MB less at the end of a 100 MB file, where the
    scan holds the most), and read again only should two words share a key or a hash."""
    check_options(token, mode)
    consume = reread is not None and isinstance(text, list)
    pieces = [piece for piece in ([text] if isinstance(text, str) else text) if piece]
    if consume:
        text.clear()  # type: ignore[union-attr]
    del text
    args = (token, mode, chunk_chars, progress, cancelled, label, sharded, packed)
    for numbering in ("bytes", "hashes"):
        try:
            return _scan(pieces, *args, numbering=numbering, consume=consume)
        except HashCollision:  # two words share a key or a hash
            pass  # numbered again the next way, once the handler has let go of this index
        if consume:
            pieces = [piece for piece in reread() if piece]  # type: ignore[misc]
    return _scan(pieces, *args, numbering="dicts", consume=consume)


def _scan(
    pieces: list[str],
    token: str,
    mode: str,
    chunk_chars: int | None,
    progress: Progress | None,
    cancelled: Cancelled | None,
    label: str,
    sharded: bool,
    packed: bool,
    numbering: str,
    consume: bool,
) -> TokenScan:
    encoder: _Encoder
    if token == "char":
        encoder = _CharEncoder()
    elif numbering == "bytes":
        encoder = _ByteWordEncoder()
    else:
        encoder = _WordEncoder(sharded, numbering == "hashes", mode == "clean")
    total, num_lines = sum(map(len, pieces)), 0
    # The last line has no line end (count_lines): known before the pieces are let go.
    unended = bool(pieces) and not pieces[-1].endswith(("\n", "\r"))
    cut_after = CUT_AFTER[token, mode]
    size = chunk_chars or (CHAR_CHUNK_CHARS if token == "char" else CHUNK_CHARS)
    for chunk, line_start, end in piece_chunks(pieces, size, cut_after, consume):
        if cancelled is not None and cancelled():
            raise DataError(f"stopped reading {label}")
        # Chunks end after a "\n" or inside a line, never after a "\r": no "\r\n" is cut in
        # two, and the line ends add up.
        num_lines += line_ends(chunk)
        if isinstance(encoder, _ByteWordEncoder):
            encoder.add_text(_clean_bytes(chunk) if mode == "clean" else raw_word_bytes(chunk))
        elif isinstance(encoder, _WordEncoder):
            encoder.add_words(_clean_words(chunk) if mode == "clean" else chunk.split())
        else:
            codes = _clean_chars(chunk, line_start) if mode == "clean" else _raw_chars(chunk)
            encoder.add_codes(codes)
        if progress is not None:
            progress(end, total)
    if isinstance(encoder, _WordEncoder):
        tokens, counts, ids = encoder.finish(bytes.decode if mode == "clean" else None)
    else:
        tokens, counts, ids = encoder.finish(packed)  # type: ignore[call-arg]
    if unended:
        num_lines += 1
    return TokenScan(token, mode, num_lines, tokens, counts, ids)


__all__ = [
    "CHUNK_CHARS",
    "TokenScan",
    "check_options",
    "compact_dtype",
    "count_lines",
    "line_chunks",
    "scan_text",
]
