"""How the commands report problems: one line on stderr, and exit status 2 for bad input."""

from __future__ import annotations

import sys


def fail(message: str) -> int:
    """Report bad input as one line on stderr; the exit status for it is 2."""
    print(f"rnn-tui: error: {message}", file=sys.stderr)
    return 2


def warn(message: str) -> None:
    """A warning line on stderr (the command goes on)."""
    print(f"rnn-tui: warning: {message}", file=sys.stderr)


__all__ = ["fail", "warn"]
