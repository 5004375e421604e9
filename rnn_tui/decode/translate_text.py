"""A sentence as the translator reads it, and the lines people type: the training pairs'
preprocessing (`preprocess_nmt`, `tokenize_nmt`'s split) and "sentence => reference" lines."""

from __future__ import annotations

from collections.abc import Sequence

from rnn_tui.data.translation import preprocess_nmt
from rnn_tui.quoting import quoted


class TranslateError(ValueError):
    """A checkpoint or a sentence that cannot be translated; the message is one line."""


def normalize(sentence: str) -> str:
    """A sentence as the corpus lines read after d2l's `preprocess_nmt` (outer whitespace
    stripped, inner runs collapsed to one space first)."""
    return preprocess_nmt(" ".join(sentence.split()))


def tokenize(sentence: str) -> list[str]:
    """The sentence's tokens as training saw them: `normalize`, then `tokenize_nmt`'s
    split on single spaces. [] for a blank sentence."""
    text = normalize(sentence)
    return text.split(" ") if text else []


def parse_line(line: str) -> tuple[str, str | None]:
    """ "sentence => reference" → (sentence, reference); a line without "=>" has no reference.
    Splits at the first "=>"; both sides are stripped. TranslateError for an empty side."""
    sentence, arrow, reference = line.partition("=>")
    sentence = sentence.strip()
    if not sentence:
        if not line.strip():  # "no sentence to translate in ''" of a line of spaces
            raise TranslateError("no sentence to translate: the text is blank")
        raise TranslateError(f"no sentence to translate in {quoted(line.strip())}")
    if not arrow:
        return sentence, None
    reference = reference.strip()
    if not reference:
        raise TranslateError(f"{quoted(line.strip())} has '=>' but no reference after it")
    return sentence, reference


def parse_lines(lines: Sequence[str]) -> list[tuple[str, str | None]]:
    """`parse_line` of each line; with several, an error names its line ("sentence 2: …")."""
    parsed = []
    for i, line in enumerate(lines, 1):
        try:
            parsed.append(parse_line(line))
        except TranslateError as exc:
            raise TranslateError(f"sentence {i}: {exc}" if len(lines) > 1 else str(exc)) from None
    return parsed


__all__ = ["TranslateError", "normalize", "parse_line", "parse_lines", "tokenize"]
