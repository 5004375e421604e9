"""The Translate console's source field: one line, one sentence or several.

A terminal has no comfortable multi-line editor, so sentences are separated by `;` on one line,
and pasting several lines (a column of sentences, or "sentence => reference" pairs copied from a
file) joins them with " ; " instead of keeping only the first line as Textual's Input does.
"""

from __future__ import annotations

from rnn_tui.tui.widgets.text_field import TextField, pasted_lines

SEPARATOR = ";"


def numbered_sentences(text: str) -> list[tuple[int, str]]:
    """(number, piece) of the non-blank pieces of `text` between newlines and `;`, stripped
    (each may still be "sentence => reference"). Blank pieces are counted, so a number says
    where the piece is in the text as typed."""
    pieces = (part.strip() for line in text.splitlines() for part in line.split(SEPARATOR))
    return [(number, piece) for number, piece in enumerate(pieces, 1) if piece]


def split_sentences(text: str) -> list[str]:
    """The non-blank pieces of `text` (numbered_sentences without their numbers)."""
    return [piece for _, piece in numbered_sentences(text)]


def join_lines(text: str) -> str:
    """Pasted lines as one line: the non-blank ones joined by " ; "."""
    return f" {SEPARATOR} ".join(pasted_lines(text))


class SentenceInput(TextField):
    """An Input that keeps every pasted line, joined by " ; "."""

    JOIN = f" {SEPARATOR} "
    TELL_JOINED = False
