"""The names of the ways the data layer reads text and cuts it into minibatches, and the longest
sequence it cuts, without numpy: option declarations and the CLI's parser list them before any
data is read."""

from __future__ import annotations

from rnn_tui.data.errors import DataError

TOKEN_LEVELS = ("word", "char")  # d2l `tokenize`: split on whitespace, or list the characters
CLEAN_MODES = ("clean", "raw")  # the seeds' [^A-Za-z]+ -> space + lower-case, or as written
STRATEGIES = ("random", "sequential")  # d2l's random sampling and sequential partitioning
MAX_NUM_STEPS = 100_000  # time steps per subsequence (or tokens per sentence) at most


def check_options(token: str, mode: str, min_freq: int = 0) -> None:
    """DataError for a token level, cleaning mode or min_freq `load_corpus` refuses."""
    if token not in TOKEN_LEVELS:
        raise DataError(f"unknown token level {token!r} (choose from {', '.join(TOKEN_LEVELS)})")
    if mode not in CLEAN_MODES:
        raise DataError(f"unknown cleaning mode {mode!r} (choose from {', '.join(CLEAN_MODES)})")
    if min_freq < 0:
        raise DataError(f"min_freq must be 0 or more, got {min_freq}")


__all__ = ["CLEAN_MODES", "MAX_NUM_STEPS", "STRATEGIES", "TOKEN_LEVELS", "check_options"]
