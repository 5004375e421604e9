"""Decoded text cut into chunks between tokens, so a big text is tokenized a chunk at a time
(rnn_tui.data.token_array) with the tokens the whole text gives: after a line feed, or inside
a line longer than a chunk after a character the token level's rule may cut after (`CUT_AFTER`:
a 100 MB file of one line, as text8 is, is read in pieces too), never inside a "\r\n". A text
decoded into pieces (never joined) is cut into the very chunks of their concatenation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

CUT_SEARCH = 1 << 12  # characters looked at for a place to cut a long line
# Characters one string operation (a search, an encoding, a count) is given at a time. Python
# holds the GIL through each, and the app's event loop waits for it: a file of one 100 MB word
# is a single chunk, and one search through it held the loop 350 ms. A million characters take
# a few milliseconds at most.
WINDOW = 1 << 20
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def line_chunks(
    text: str, size: int, cut_after: Callable[[str], bool] | None = None
) -> list[tuple[int, int]]:
    """(start, end) spans of about `size` characters that cut `text` after a "\\n", or, inside a
    line longer than `size`, after a character `cut_after` accepts (a single 100 MB line, as
    text8 is, is then read in pieces too). Where no such character is near, the span ends at
    the next one; without `cut_after`, a long line stays whole. A "\\r\\n" is never cut in two."""
    spans, start, n = [], 0, len(text)
    size = max(1, int(size))
    while start < n:
        end = start + size
        if end < n:
            cut = text.rfind("\n", start, end)
            if cut >= 0:
                end = cut + 1
            else:
                end = _cut_inside_line(text, start, end, cut_after)
        else:
            end = n
        spans.append((start, end))
        start = end
    return spans


def piece_chunks(
    pieces: Sequence[str],
    size: int,
    cut_after: Callable[[str], bool] | None = None,
    consume: bool = False,
) -> Iterator[tuple[str, bool, int]]:
    """The chunks `line_chunks` cuts the concatenation of `pieces` into, without building it:
    (chunk, whether it starts a line, characters up to its end). Each piece is cut with the
    unfinished end of the one before (its last span: that span's end may depend on what
    follows), so the spans are the whole text's. `consume`: each piece is taken out of the
    list (`pieces`, a list, then holds "" there) once its chunks are made."""
    carry, carry_at_line_start, done = "", True, 0
    for i, piece in enumerate(pieces):
        if consume:
            pieces[i] = ""  # type: ignore[index]
        # Appended in place: CPython resizes a str that nothing else holds, so each piece is
        # copied once. Pieces where no span can end (one 100 MB word) were joined in one call,
        # which held the GIL ~50 ms, and copied anew at each piece before that.
        carry += piece
        if i < len(pieces) - 1 and len(carry) > len(piece) and _uncuttable(piece, cut_after):
            continue
        text, carry = carry, ""
        spans = line_chunks(text, size, cut_after)
        if i < len(pieces) - 1 and spans:
            start, _ = spans.pop()
            carry = text[start:]
        else:
            carry = ""
        for start, end in spans:
            line_start = carry_at_line_start if start == 0 else text[start - 1] == "\n"
            yield text[start:end], line_start, done + end
        if spans:
            last_end = spans[-1][1]
            carry_at_line_start = text[last_end - 1] == "\n"
            done += last_end
        text = ""  # the carry can be all of it (text[0:] is text): now held by `carry` alone


def _cut_inside_line(
    text: str, start: int, end: int, cut_after: Callable[[str], bool] | None
) -> int:
    """Where to end a span that has no line feed: after the last acceptable character before
    `end` (looking at most CUT_SEARCH characters back), else after the first one or line feed
    past it: however far for a rule of `_CUT_PATTERN` (the regex engine's search), within
    CUT_SEARCH characters for another; else after the next line feed."""
    if cut_after is not None:
        for p in range(end, max(start, end - CUT_SEARCH), -1):
            if text[p - 1] != "\r" and cut_after(text[p - 1]):
                return p
        pattern = _CUT_PATTERN.get(cut_after)
        if pattern is not None:
            found = search(pattern, text, end)
            return len(text) if found is None else found.end()
        for p in range(end + 1, min(len(text), end + CUT_SEARCH) + 1):
            if text[p - 1] == "\n" or (text[p - 1] != "\r" and cut_after(text[p - 1])):
                return p
    cut = text.find("\n", end)
    return len(text) if cut < 0 else cut + 1


def _uncuttable(piece: str, cut_after: Callable[[str], bool] | None) -> bool:
    """Whether `piece` surely holds no place where a span may end (False where unknown)."""
    if cut_after is None:
        return "\n" not in piece
    pattern = _CUT_PATTERN.get(cut_after)
    return pattern is not None and search(pattern, piece) is None


def search(pattern: re.Pattern[str], text: str, pos: int = 0) -> re.Match[str] | None:
    """`pattern.search(text, pos)` for a pattern of one character, WINDOW characters at a time
    (see WINDOW: the GIL is let go between them)."""
    for start in range(pos, len(text), WINDOW):
        found = pattern.search(text, start, start + WINDOW)
        if found is not None:
            return found
    return None


def windowed(convert: Callable[[str], bytes], text: str) -> bytes | bytearray:
    """`convert(text)` for a conversion that maps each character on its own (an encoding, a
    translation), done WINDOW characters at a time (see WINDOW) into a bytearray, for a long
    text (one join of the windows held the GIL ~40 ms for 100 MB)."""
    if len(text) <= WINDOW:
        return convert(text)
    out = bytearray()
    for i in range(0, len(text), WINDOW):
        out += convert(text[i : i + WINDOW])
    return out


def line_ends(text: str) -> int:
    """The line ends in `text`: "\\n", "\\r" and "\\r\\n" one each, WINDOW characters at a
    time (see WINDOW; a "\\r\\n" across two windows is one)."""
    ends = 0
    for i in range(0, len(text), WINDOW):
        j = i + WINDOW
        ends += text.count("\n", i, j) + text.count("\r", i, j) - text.count("\r\n", i, j)
        if text.startswith("\r\n", j - 1):
            ends -= 1
    return ends


def _is_ascii_letter(c: str) -> bool:
    return c in _ASCII_LETTERS


def _not_ascii_letter(c: str) -> bool:
    return c not in _ASCII_LETTERS


def _any(c: str) -> bool:
    return True


# Where a line may be cut without changing its tokens: words end at any non-letter (clean) or
# whitespace (raw); a clean line's characters after a letter (no run of separators, which
# become one space, is cut in two); raw characters anywhere.
CUT_AFTER = {
    ("word", "clean"): _not_ascii_letter,
    ("word", "raw"): str.isspace,
    ("char", "clean"): _is_ascii_letter,
    ("char", "raw"): _any,
}
# Each rule's characters to cut after, or a line feed ("\r" never: a "\r\n" stays whole), as a
# pattern: a long line with no such character near its span's end (a word of megabytes) ends
# at the next one, where it ran to the next line feed (the rest of a one-line file).
# `\s` in a str pattern is str.isspace.
_CUT_PATTERN = {
    _not_ascii_letter: re.compile("[^A-Za-z\r]"),
    str.isspace: re.compile(r"[^\S\r]"),
    _is_ascii_letter: re.compile("[A-Za-z\n]"),
    _any: re.compile("[^\r]"),
}


__all__ = [
    "CUT_AFTER",
    "CUT_SEARCH",
    "WINDOW",
    "line_chunks",
    "line_ends",
    "piece_chunks",
    "search",
    "windowed",
]
