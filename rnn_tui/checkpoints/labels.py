"""Labels a checkpoint lists for people (a classifier's class names, a tagger's tags), checked
as they are read.

The JSON is not trusted: a label reaches the terminal and the screens as it is written there, so
one edited to hold an escape sequence would set the window's title or clear the screen, and one
of 100,000 characters would fill it. A label is a short line of printable text; anything else
refuses the checkpoint in one line. (A language model's tokens are another matter: its corpus
may hold any character, and what shows them escapes them.)
"""

from __future__ import annotations

from rnn_tui.quoting import quoted

MAX_LABEL_CHARS = 100  # a language's name or a tag is a word or two


def label_problem(value: object, what: str, fewest: int = 1) -> str | None:
    """What is wrong with `value` as a list of at least `fewest` distinct labels, in words that
    follow the checkpoint's path and a colon ("class 3 holds …"); None when nothing is. `what`
    names one label ("class", "tag")."""
    if not isinstance(value, list) or len(value) < fewest:
        return f"no list of its {what}s (at least {fewest}, distinct strings)"
    for number, label in enumerate(value, start=1):
        if not isinstance(label, str) or not label:
            return f"{what} {number} is not a word: {quoted(label)}"
        if len(label) > MAX_LABEL_CHARS:
            return (
                f"{what} {number} is {len(label):,} characters long "
                f"(at most {MAX_LABEL_CHARS}): {quoted(label)}"
            )
        if not label.isprintable():
            return f"{what} {number} holds characters that are not printable: {quoted(label)}"
    # Distinct too: a repeated label would make two ids read as one.
    if len(set(value)) != len(value):
        return f"a {what} is listed twice"
    return None


__all__ = ["MAX_LABEL_CHARS", "label_problem"]
