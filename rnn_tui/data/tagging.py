"""Many-to-many data with free labels: restore capitalisation and punctuation, one tag per
character (the seeds' sequence-labelling shape, where reading ahead helps: whether a word ends a
sentence shows in what follows it).

The text is first normalised: runs of whitespace become one space, only letters, digits, spaces
and the punctuation marks in PUNCTUATION are kept, punctuation at the very start is dropped. The
*input* is then the lower-cased text without its punctuation; each input character's *tag* says
whether it was upper case ("C") and which punctuation followed it ("." "," "\\"" "." + "\\"" …),
so that `restore(input, tags)` gives the normalised text back exactly:

    "I am not happy." → input "i am not happy", tags C · · · · · · · · · · · · .
"""

from __future__ import annotations

import re

from rnn_tui.data.errors import DataError

PUNCTUATION = ".,;:!?\"'()-"
CAPITAL = "C"
NONE = "O"  # neither capitalised nor followed by punctuation
_KEEP = re.compile(rf"[^A-Za-z0-9 {re.escape(PUNCTUATION)}]+")


def normalise(text: str) -> str:
    """Whitespace runs → one space; characters outside letters, digits, space and PUNCTUATION
    dropped; leading punctuation and spaces dropped (no character for it to follow)."""
    text = re.sub(r"\s+", " ", text)
    text = _KEEP.sub("", text)
    return text.lstrip(PUNCTUATION + " ")


def make_tags(text: str) -> tuple[str, list[str]]:
    """(input, tags) of `text` (normalised first): one tag per input character."""
    text = normalise(text)
    chars: list[str] = []
    tags: list[str] = []
    for c in text:
        if c in PUNCTUATION:
            # Follows the previous kept character (there is one: leading marks were dropped).
            tag = tags[-1]
            tags[-1] = (tag if tag != NONE else "") + c
            continue
        chars.append(c.lower())
        tags.append(CAPITAL if c.isupper() else NONE)
    return "".join(chars), tags


def restore(text: str, tags: list[str]) -> str:
    """The text `make_tags` was given (normalised), from its input and tags."""
    if len(text) != len(tags):
        raise DataError(f"{len(text)} characters but {len(tags)} tags")
    out = []
    for c, tag in zip(text, tags, strict=True):
        capital = tag.startswith(CAPITAL)
        out.append(c.upper() if capital else c)
        marks = tag[1:] if capital else tag
        if marks != NONE:
            out.append(marks)
    return "".join(out)


def tag_parts(tag: str) -> tuple[bool, str]:
    """(capitalised, the punctuation that follows: "" for none) of a tag."""
    capital = tag.startswith(CAPITAL)
    marks = tag[1:] if capital else tag
    return capital, "" if marks == NONE else marks


__all__ = ["CAPITAL", "NONE", "PUNCTUATION", "make_tags", "normalise", "restore", "tag_parts"]
