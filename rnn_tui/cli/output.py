"""How the commands report problems: one line on stderr, and exit status 2 for bad input."""

from __future__ import annotations

import sys


def say(text: str) -> None:
    """Write one line to stderr in a single write.

    `print` writes the text and its newline separately, so when several processes share
    stderr (torchrun's ranks) their lines can interleave mid-line; one write of a short
    line to a pipe is atomic.
    """
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def fail(message: str) -> int:
    """Report bad input as one line on stderr; the exit status for it is 2."""
    say(f"rnn-tui: error: {message}")
    return 2


def warn(message: str) -> None:
    """A warning line on stderr (the command goes on)."""
    say(f"rnn-tui: warning: {message}")


__all__ = ["fail", "say", "warn"]
