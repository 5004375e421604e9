"""Surnames by language, the data of PyTorch's "classifying names with a character-level RNN".

unicode_to_ascii is that tutorial's unicodeToAscii: NFD-decompose, drop combining marks, keep
only ASCII letters and " .,;'".
"""

from __future__ import annotations

import string
import unicodedata
from functools import lru_cache

from rnn_tui.data.sources import bundled_path, decode_bytes, split_lines

ALL_LETTERS = string.ascii_letters + " .,;'"
N_LETTERS = len(ALL_LETTERS)


def unicode_to_ascii(s: str) -> str:
    """'Bélanger' → 'Belanger'; characters outside ALL_LETTERS are dropped, as in the tutorial."""
    return "".join(
        c
        for c in unicodedata.normalize("NFD", s)
        if unicodedata.category(c) != "Mn" and c in ALL_LETTERS
    )


def not_read(s: str) -> str:
    """The characters of `s` that unicode_to_ascii drops whole, each once: 'Øster2' → 'Ø2'. An
    accent is not one of them ('é' is read as 'e')."""
    return "".join(
        c for c in dict.fromkeys(s) if not unicode_to_ascii(c) and unicodedata.category(c) != "Mn"
    )


NAME_PAD = 0  # id 0 pads; character c is 1 + ALL_LETTERS.index(c)
NAME_VOCAB = 1 + N_LETTERS


def name_ids(name: str) -> list[int]:
    """The ids of a name's characters (after unicode_to_ascii; others are dropped)."""
    return [1 + ALL_LETTERS.index(c) for c in unicode_to_ascii(name)]


@lru_cache(maxsize=2)
def _load(ascii: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    folder = bundled_path("names")
    result = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".txt"):
            continue
        text = decode_bytes(entry.read_bytes(), f"names/{entry.name}", "utf-8")
        names = [line.strip() for line in split_lines(text)]
        if ascii:
            names = [unicode_to_ascii(name) for name in names]
        result.append((entry.name[: -len(".txt")], tuple(name for name in names if name)))
    return tuple(result)


def load_names(ascii: bool = True) -> dict[str, list[str]]:
    """language → its names, languages sorted; with ascii, names pass through unicode_to_ascii."""
    return {language: list(names) for language, names in _load(bool(ascii))}


def languages() -> list[str]:
    """The 18 languages, sorted."""
    return [language for language, _ in _load(True)]


def name_counts() -> dict[str, int]:
    """language → number of names."""
    return {language: len(names) for language, names in _load(True)}
