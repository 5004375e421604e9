"""The names of the ways the data layer reads text and cuts it into minibatches, and the longest
sequence it cuts, without numpy: option declarations and the CLI's parser list them before any
data is read."""

from __future__ import annotations

TOKEN_LEVELS = ("word", "char")  # d2l `tokenize`: split on whitespace, or list the characters
CLEAN_MODES = ("clean", "raw")  # the seeds' [^A-Za-z]+ -> space + lower-case, or as written
STRATEGIES = ("random", "sequential")  # d2l's random sampling and sequential partitioning
MAX_NUM_STEPS = 100_000  # time steps per subsequence (or tokens per sentence) at most

__all__ = ["CLEAN_MODES", "MAX_NUM_STEPS", "STRATEGIES", "TOKEN_LEVELS"]
