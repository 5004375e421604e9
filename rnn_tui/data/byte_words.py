"""First-seen numbering of words by their UTF-8 bytes, in numpy: no str object per word.

A text's words were split into str (or bytes) objects, hashed one by one, looked up in a dict
or among sorted hashes, and kept as objects: ~0.5 µs and ~60 bytes a word. 100 MB of random
four-character words (17.6M distinct) took 15 s and 1.8 GB to number that way. Here a chunk
of text is one bytes object in which a single space separates words (`raw_word_bytes`: what
`str.split()` splits at becomes a space), and numpy finds the words' spans, gives each word a
64-bit key, and numbers the keys as rnn_tui.data.hashed_words does (sorted runs). The words
are kept packed, a byte a byte and 8 bytes of offset each (rnn_tui.data.packed_tokens).

A word of up to 8 bytes is its own key: its bytes, little-endian (no word holds a NUL byte,
so the zero bytes past its end cannot be its own). A longer word's key is a hash of all its
bytes (`_long_keys`). Two long words could share a key, or a long word's key be a short
word's: every id such a word is given is checked against the bytes it stands for, and a
mismatch raises HashCollision (the caller numbers the text again by Python objects).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from rnn_tui.data.hashed_words import HashCollision, SortedKeys, first_unique
from rnn_tui.data.packed_tokens import PackedTokens, append_bytes, byte_groups
from rnn_tui.data.text_chunks import windowed
from rnn_tui.data.token_list import let_others_run

SHORT = 8  # bytes a word may have and be its own key
GROUP_BYTES = 1 << 22  # bytes of words handled at once when hashing, comparing or copying
_SPACE = 32
# Raw words are `str.split()`'s: ASCII whitespace includes \x1c-\x1f, and other characters
# (U+0085, U+00A0, U+2000-U+200A, ...) are whitespace too; `re`'s \s is the same set.
_ASCII_SPACES = bytes.maketrans(b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f", b" " * 9)
_OTHER_SPACES = re.compile(r"[^\S ]")
_MASKS = np.array([(1 << 8 * n) - 1 for n in range(SHORT)] + [(1 << 64) - 1], dtype=np.uint64)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
PY_HASHED = 64  # bytes past which a word is hashed by Python, not by numpy (_long_keys)
# Bytes of a word Python hashes at once: a 100 MB word copied and hashed whole held the GIL, and
# so the app's event loop, ~90 ms.
HASH_BYTES = 1 << 20


def raw_word_bytes(chunk: str) -> bytes | bytearray:
    """`chunk` in UTF-8 with every character `str.split()` splits at made a space (a window at
    a time: a chunk of one 100 MB word is whole, see text_chunks.WINDOW)."""
    return windowed(_spaced, chunk)


def _spaced(text: str) -> bytes:
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_SPACES)
    return _OTHER_SPACES.sub(" ", text).encode("utf-8", "surrogatepass")


def word_spans(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each word (a run of bytes other than a space) of `data` starts and its length."""
    inside = np.zeros(len(data) + 2, dtype=bool)
    np.not_equal(data, _SPACE, out=inside[1:-1])
    edges = np.flatnonzero(inside[1:] != inside[:-1])
    starts = edges[0::2]
    return starts, edges[1::2] - starts


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place on uint64 values (their bits spread over all 64)."""
    values ^= values >> np.uint64(30)
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(31)
    return values


# The odd pseudo-random weight of each place in a word of up to PY_HASHED bytes.
_PLACE_WEIGHTS = _mix(np.arange(PY_HASHED, dtype=np.uint64) + _GOLDEN) | np.uint64(1)


def _groups(lengths: np.ndarray) -> Iterator[slice]:
    """Slices of consecutive words of about GROUP_BYTES bytes (a longer word alone)."""
    return byte_groups(lengths, GROUP_BYTES)


def _byte_positions(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the words' bytes, one word after another, and each one's place in its
    word (8 bytes each: for a group of words of GROUP_BYTES at most)."""
    offsets = np.cumsum(lengths) - lengths
    place = np.arange(int(offsets[-1] + lengths[-1]), dtype=np.int64)
    place -= np.repeat(offsets, lengths)
    return np.repeat(starts, lengths) + place, place


def _py_hash(data: np.ndarray, start: int, length: int) -> int:
    """Python's hash of the word's bytes; for a word over HASH_BYTES, of the tuple of the
    hashes of its pieces of HASH_BYTES (each C call short: the GIL is let go between them)."""
    if length <= HASH_BYTES:
        return hash(data[start : start + length].tobytes())
    end = start + length
    pieces = range(start, end, HASH_BYTES)
    return hash(tuple(hash(data[at : min(at + HASH_BYTES, end)].tobytes()) for at in pieces))


def _long_keys(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Hashes of long words, the length mixed in, then mixed. Up to PY_HASHED bytes:
    Σ byte · w(place) mod 2⁶⁴ with odd pseudo-random weights (so two words that differ in one
    byte never share it), in numpy. Longer ones (lines of CJK with no space, a 100 MB word):
    Python's hash of their bytes, read in place, at ~1 GB/s where the weights cost 6x that."""
    out = np.empty(len(starts), dtype=np.uint64)
    longer = np.flatnonzero(lengths > PY_HASHED)
    if len(longer):
        spans = zip(starts[longer].tolist(), lengths[longer].tolist(), strict=True)
        if int(lengths[longer].max()) <= HASH_BYTES:
            # A memoryview hashes only over a hashable exporter (bytes: one copy of the chunk;
            # its hash is the bytes' hash).
            view = memoryview(data.tobytes())
            hashes = (hash(view[start : start + length]) for start, length in spans)
        else:  # a word of megabytes: no copy of it whole, no hash of it in one call
            hashes = (_py_hash(data, start, length) for start, length in spans)
        out[longer] = np.fromiter(hashes, np.int64, len(longer)).view(np.uint64)
    some = np.flatnonzero(lengths <= PY_HASHED)
    for group in _groups(lengths[some]):
        chosen = some[group]
        positions, place = _byte_positions(starts[chosen], lengths[chosen])
        weights = _PLACE_WEIGHTS[place]
        weights *= data[positions]
        offsets = np.cumsum(lengths[chosen]) - lengths[chosen]
        out[chosen] = np.add.reduceat(weights, offsets)
    return _mix(out ^ (lengths.view(np.uint64) * _GOLDEN))


def word_keys(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each word's key (module docstring)."""
    padded = np.zeros(len(data) + 8, dtype=np.uint8)
    padded[: len(data)] = data
    # Every 8 bytes from each position as one little-endian number (unaligned reads).
    windows = np.ndarray((len(data) + 1,), dtype="<u8", buffer=padded, strides=(1,))
    keys = windows[starts].astype(np.uint64)
    keys &= _MASKS[np.minimum(lengths, SHORT)]
    long = np.flatnonzero(lengths > SHORT)
    if len(long):
        keys[long] = _long_keys(data, starts[long], lengths[long])
    return keys


def _in_order(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, blob: bytearray
) -> np.ndarray:
    """`gather(data, starts, lengths, blob)` for words in text order (ascending starts,
    apart): the bytes of the words and the one after each, marked by one cumulative sum over
    the text and picked, that one made a NUL. No index per byte (8 bytes each): 3x faster."""
    marks = np.zeros(len(data) + 2, dtype=np.int8)
    marks[starts] = 1
    # The spans, the byte after included, never overlap, but one may end where the next
    # starts: subtracted, not written.
    marks[starts + lengths + 1] -= 1
    inside = np.cumsum(marks[:-1], dtype=np.int8).view(bool)
    text = np.empty(len(data) + 1, dtype=np.uint8)
    text[: len(data)] = data
    text[starts + lengths] = 0
    nuls = np.cumsum(lengths + 1) - 1
    append_bytes(blob, text[inside])
    return nuls


class ByteWords:
    """Words → first-seen ids by their keys; the words kept packed (module docstring)."""

    def __init__(self) -> None:
        self._keys = SortedKeys()
        self._blob = bytearray()  # the words by id, each followed by a NUL byte
        self._ends = np.zeros(0, dtype=np.int64)  # where each word's NUL byte is in _blob
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def ids(self, text: bytes | bytearray) -> np.ndarray:
        """The first-seen ids of the words of `text` (words split at single spaces: see
        `raw_word_bytes`); new words get the next ids in the order they first occur."""
        data = np.frombuffer(text, dtype=np.uint8)
        starts, lengths = word_spans(data)
        count = len(starts)
        if not count:
            return np.zeros(0, dtype=np.int64)
        unique = first_unique(word_keys(data, starts, lengths), stable=True)
        let_others_run()
        # `taken`: where each new word was taken from (its own bytes, not compared).
        ids, taken = self._keys.number(*unique, self._size)
        if taken is not None:
            self._append(data, starts[taken], lengths[taken])
        self._check(data, starts, lengths, ids, taken)
        return ids

    def _append(self, data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        if self._size + len(starts) > 1 << 32:
            raise HashCollision  # ids past uint32: the dicts (and their error) handle that
        if len(self._ends) < self._size + len(starts):
            grown = np.zeros(max(self._size + len(starts), 2 * len(self._ends)), np.int64)
            grown[: self._size] = self._ends[: self._size]
            self._ends = grown
        at, before = self._size, len(self._blob)
        nuls = _in_order(data, starts, lengths, self._blob)
        self._ends[at : at + len(nuls)] = nuls + before
        self._size += len(nuls)
        let_others_run()

    def _check(
        self,
        data: np.ndarray,
        starts: np.ndarray,
        lengths: np.ndarray,
        ids: np.ndarray,
        taken: np.ndarray | None,
    ) -> None:
        """HashCollision unless each id given to a long word, or of a long word, stands for
        the very bytes it was given for (short words are their keys); the positions `taken`
        made their ids from their own bytes and are not compared."""
        stored_ends = self._ends[ids]
        stored_starts = np.where(ids > 0, self._ends[np.maximum(ids - 1, 0)] + 1, 0)
        suspect = (lengths > SHORT) | (stored_ends - stored_starts > SHORT)
        if taken is not None:
            suspect[taken] = False
        where = np.flatnonzero(suspect)
        if not len(where):
            return
        if (stored_ends[where] - stored_starts[where] != lengths[where]).any():
            raise HashCollision
        blob = np.frombuffer(self._blob, dtype=np.uint8)
        try:
            for group in _groups(lengths[where]):
                chosen = where[group]
                if len(chosen) == 1 and lengths[chosen[0]] > GROUP_BYTES:  # compared as runs
                    start, stored, length = (
                        int(starts[chosen[0]]),
                        int(stored_starts[chosen[0]]),
                        int(lengths[chosen[0]]),
                    )
                    if (
                        data[start : start + length].tobytes()
                        != self._blob[stored : stored + length]
                    ):
                        raise HashCollision
                    continue
                given, place = _byte_positions(starts[chosen], lengths[chosen])
                stored = np.repeat(stored_starts[chosen], lengths[chosen]) + place
                if (data[given] != blob[stored]).any():
                    raise HashCollision
                let_others_run()
        finally:
            del blob  # a view of the bytearray keeps it from growing

    def tokens(self) -> PackedTokens:
        """The words by id, packed; the index is emptied."""
        self._keys.clear()
        blob, self._blob = self._blob, bytearray()
        ends, self._ends = self._ends[: self._size].copy(), np.zeros(0, dtype=np.int64)
        self._size = 0
        return PackedTokens(blob, ends)


__all__ = ["SHORT", "ByteWords", "raw_word_bytes", "word_keys", "word_spans"]
