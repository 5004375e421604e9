"""How a token is shown on screen: whitespace made visible, controls escaped, length capped.

A token can be as long as its corpus: a 100 MB file with no spaces (a DNA sequence, a minified
file) is one word-level token of 100 MB. A table measures and copies every string it is given,
so tokens are cut to SHOWN_CHARS characters before anything else touches them.
"""

from __future__ import annotations

SHOWN_CHARS = 120  # wider than any token column; what is cut ends in "…"

# Whitespace tokens (char level) would be invisible in a table.
_VISIBLE = str.maketrans({" ": "␣", "\t": "⇥", "\n": "↵", "\r": "␍"})


def clipped(token: str, limit: int = SHOWN_CHARS) -> str:
    """The token's first `limit` − 1 characters and "…" when it is longer than `limit`."""
    return token if len(token) <= limit else token[: limit - 1] + "…"


def display_token(token: str, limit: int = SHOWN_CHARS) -> str:
    """The token as one printable run of cells: spaces and tabs made visible, controls escaped,
    at most about `limit` characters."""
    shown = clipped(token, limit).translate(_VISIBLE)
    return shown if shown.isprintable() else clipped(repr(shown)[1:-1], limit)


def token_repr(token: str, limit: int = SHOWN_CHARS) -> str:
    """repr(token), or for a long one repr of its start followed by "…" and its length."""
    if len(token) <= limit:
        return repr(token)
    return f"{token[: limit - 1]!r}… ({len(token):,} characters)"


__all__ = ["SHOWN_CHARS", "clipped", "display_token", "token_repr"]
