"""Data layer: corpora, Vocab, n-grams, partitioning, translation pairs, time series, names.

Imports neither textual nor torch, so `rnn-tui stats` starts fast.
"""

from rnn_tui.data.errors import DataError

__all__ = ["DataError"]
