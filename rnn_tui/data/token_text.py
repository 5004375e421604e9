"""How a token is shown on screen: whitespace made visible, controls escaped, length capped.

A token can be as long as its corpus: a 100 MB file with no spaces (a DNA sequence, a minified
file) is one word-level token of 100 MB. A table measures and copies every string it is given,
so tokens are cut to SHOWN_CHARS characters before anything else touches them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

SHOWN_CHARS = 120  # wider than any token column; what is cut ends in "…"

# Whitespace tokens (char level) would be invisible in a table.
_VISIBLE = str.maketrans({" ": "␣", "\t": "⇥", "\n": "↵", "\r": "␍"})


def clipped(token: str, limit: int = SHOWN_CHARS) -> str:
    """The token's first `limit` − 1 characters and "…" when it is longer than `limit`."""
    return token if len(token) <= limit else token[: limit - 1] + "…"


def token_head(tokens: Sequence[str], index: int, chars: int = SHOWN_CHARS + 1) -> str:
    """Token `index`'s first `chars` characters: all a display needs, without decoding a long
    token of packed tokens whole (rnn_tui.data.packed_tokens)."""
    head = getattr(tokens, "head", None)
    return tokens[index][:chars] if head is None else head(index, chars)


def token_length(tokens: Sequence[str], index: int) -> int:
    """len(tokens[index]), likewise without decoding a packed token."""
    length = getattr(tokens, "char_length", None)
    return len(tokens[index]) if length is None else length(index)


def display_token(token: str, limit: int = SHOWN_CHARS) -> str:
    """The token as one printable run of cells: spaces and tabs made visible, controls escaped,
    at most about `limit` characters. Characters whose width terminals disagree on are escaped
    (`_unsure`), and a token that starts with a mark is shown on a dotted circle (◌́), so a
    table's columns stay where they are in every terminal."""
    shown = clipped(token, limit).translate(_VISIBLE)
    if not shown.isprintable():
        shown = clipped(repr(shown)[1:-1], limit)
    if shown.isascii():
        return shown
    if any(_unsure(ch) for ch in shown):
        shown = clipped("".join(_escaped(ch) if _unsure(ch) else ch for ch in shown), limit)
    if shown and unicodedata.category(shown[0]) in ("Mn", "Me"):
        shown = clipped("◌" + shown, limit)
    return shown


def _unsure(ch: str) -> bool:
    """Whether terminals draw `ch` in more cells than the layout counts: a spacing vowel sign
    (category Mc: counted 0, drawn 1 by many), an emoji skin tone (counted 0, drawn 2 alone),
    a variation selector (widens the emoji before it in some terminals only)."""
    return (
        ch in "\ufe0e\ufe0f"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"
        or (ch > "\u02ff" and unicodedata.category(ch) == "Mc")
    )


def _escaped(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def token_repr(token: str, limit: int = SHOWN_CHARS, length: int | None = None) -> str:
    """repr(token), or for a long one repr of its start followed by "…" and its length
    (`length`, where `token` is only the start of it: `token_head`)."""
    length = len(token) if length is None else length
    if length <= limit:
        return repr(token)
    return f"{token[: limit - 1]!r}… ({length:,} characters)"


__all__ = ["SHOWN_CHARS", "clipped", "display_token", "token_head", "token_length", "token_repr"]
