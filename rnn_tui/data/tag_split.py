"""The tagging task's data: the bundled Time Machine as (input characters, a tag per character)
(tagging.py), its two vocabularies and a fixed split, the same for every run and for the
screen's held-out report: the first 90 % of the characters train, the last 10 % are held out
(contiguous, like d2l's language-model split, so no held-out sentence is half seen).

No torch: ids are numpy arrays, uint8 for the 30 input characters, int16 for the tags.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rnn_tui.data.errors import DataError
from rnn_tui.data.sources import read_text
from rnn_tui.data.tagging import NONE, make_tags

SOURCE = "timemachine"
HELD_OUT = 0.1
EVAL_WINDOW = 200  # characters per window when tagging the held-out stream (train and screen)


@dataclass(frozen=True)
class TagData:
    """The input alphabet (`chars`, index = id), the tag vocabulary (`tags`, "O" first, then by
    frequency), and the split's ids."""

    chars: str
    tags: tuple[str, ...]
    train_x: np.ndarray
    train_y: np.ndarray
    held_x: np.ndarray
    held_y: np.ndarray

    def encode(self, text: str) -> np.ndarray:
        """The ids of an input text; DataError naming the first character outside `chars`."""
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted({c for c in text if c not in index})
        if unknown:
            raise DataError(f"{unknown[0]!r} is not one of the tagger's characters")
        return np.fromiter((index[c] for c in text), dtype=np.uint8, count=len(text))


def vocabularies(text: str, tags: list[str]) -> tuple[str, tuple[str, ...]]:
    """(the sorted input characters, the tags: "O" first, then by falling count, ties by name)."""
    counts = Counter(tags)
    counts.pop(NONE, None)
    return "".join(sorted(set(text))), (NONE, *sorted(counts, key=lambda t: (-counts[t], t)))


@lru_cache(maxsize=1)
def tag_data() -> TagData:
    """The Time Machine's characters and tags, split once (see the module docstring)."""
    text, tags = make_tags(read_text(SOURCE, "utf-8"))
    chars, tag_names = vocabularies(text, tags)
    tag_index = {t: i for i, t in enumerate(tag_names)}
    x = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    x = np.searchsorted(np.frombuffer(chars.encode("ascii"), dtype=np.uint8), x).astype(np.uint8)
    y = np.fromiter((tag_index[t] for t in tags), dtype=np.int16, count=len(tags))
    cut = round(len(text) * (1 - HELD_OUT))
    return TagData(chars, tag_names, x[:cut], y[:cut], x[cut:], y[cut:])


__all__ = ["EVAL_WINDOW", "HELD_OUT", "TagData", "tag_data", "vocabularies"]
