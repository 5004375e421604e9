"""A heatmap of units against tokens, one character cell per value (a word model's: a column as
wide as its word): hidden states (tanh, −1..1, blue to red) or gates (0..1, dark to yellow), with
the tokens along the top and each unit's label on the left. It draws as many tokens as its width
allows, in a window that keeps the cursor column in view, and as many units as its height allows
— so it fits 80×24 and uses more when there is more."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from rich.cells import cell_len
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from rnn_tui.data.token_text import display_token

LABEL_WIDTH = 12
WORD_CHARS = 12  # the widest a word's column grows (a longer word ends in "…")


def shown_token(token: str) -> str:
    """One cell for a token: a space as ␣, a newline as ⏎, a tab as ⇥, a word as its first
    character; one that takes two cells (CJK, emoji) as □ and none (a combining mark, a control
    character) as ·, for each column of the heatmap is one token (a CJK character shifted every
    column after it one cell to the right)."""
    if token == " ":
        return "␣"
    if token == "\n":
        return "⏎"
    if token == "\t":
        return "⇥"
    first = (token or "·")[0]
    width = cell_len(first)
    if width == 1:
        return first
    return "□" if width > 1 else "·"


def column_labels(tokens: Sequence[str], words: bool) -> list[str]:
    """What heads each token's column: a character as one cell (shown_token); a word as itself,
    at most WORD_CHARS characters (its first letter alone read "tttwearmtu")."""
    if not words:
        return [shown_token(token) for token in tokens]
    return [display_token(token, WORD_CHARS) for token in tokens]


def fit(widths: Sequence[int], width: int, cursor: int) -> range:
    """The columns of these `widths` shown in `width` cells: `window`'s for columns one cell
    wide; otherwise the cursor's, then its neighbours on both sides while they fit."""
    count = len(widths)
    if all(w == 1 for w in widths):
        return window(count, width, cursor)
    if not count:
        return range(0)
    lo = hi = min(max(0, cursor), count - 1)
    used = widths[lo]
    grew = True
    while grew:
        grew = False
        if hi + 1 < count and used + widths[hi + 1] <= width:
            hi, used, grew = hi + 1, used + widths[hi + 1], True
        if lo > 0 and used + widths[lo - 1] <= width:
            lo, used, grew = lo - 1, used + widths[lo - 1], True
    return range(lo, hi + 1)


def cell_color(value: float, signed: bool) -> Color:
    """Blue (−1) → black (0) → red (+1) for signed values; black (0) → yellow (1) otherwise."""
    v = float(np.clip(value, -1.0, 1.0)) if signed else float(np.clip(value, 0.0, 1.0))
    if signed:
        level = int(round(abs(v) * 255))
        return Color.from_rgb(level, 40, 40) if v >= 0 else Color.from_rgb(40, 90, level)
    level = int(round(v * 255))
    return Color.from_rgb(level, level, 30)


def window(count: int, width: int, cursor: int) -> range:
    """The columns shown: all when they fit, else `width` of them with the cursor inside (as
    near the middle as the ends allow)."""
    if count <= width:
        return range(count)
    start = min(max(0, cursor - width // 2), count - width)
    return range(start, start + width)


def cell_levels(matrix: np.ndarray, signed: bool) -> np.ndarray:
    """`cell_color`'s level (0–255) of every value, for the whole matrix at once; negative for
    a signed value below zero. In float64, as `cell_color` rounds; NaN draws as 0."""
    matrix = np.nan_to_num(np.asarray(matrix, dtype=np.float64), nan=0.0)
    if signed:
        clipped = np.clip(matrix, -1.0, 1.0)
        levels = np.rint(np.abs(clipped) * 255).astype(np.int16)
        return np.where(clipped >= 0, levels, -levels - 1)  # −1 … −256: below zero
    return np.rint(np.clip(matrix, 0.0, 1.0) * 255).astype(np.int16)


@lru_cache(maxsize=2048)
def level_style(level: int, signed: bool) -> Style:
    """The style of one cell at a `cell_levels` level (shared: one object per colour)."""
    if not signed:
        return Style(color=Color.from_rgb(level, level, 30))
    if level >= 0:
        return Style(color=Color.from_rgb(level, 40, 40))
    return Style(color=Color.from_rgb(40, 90, -level - 1))


class Heatmap(Widget):
    """`show(matrix (units × tokens), tokens, labels, signed, cursor, words, corner)`; redraws on
    resize. `words`: a column per word, as wide as the word; `corner`: a note above the
    labels."""

    DEFAULT_CSS = """
    Heatmap {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.matrix = np.zeros((0, 0))
        self.tokens: list[str] = []
        self.labels: list[str] = []
        self.signed = True
        self.cursor = 0
        self.words = False
        self.corner = ""
        self._levels: np.ndarray | None = None
        self._strips: list[Strip] | None = None
        self._drawn_for: tuple | None = None  # (size, base style) the strips were drawn for

    def show(
        self,
        matrix: np.ndarray,
        tokens: Sequence[str],
        labels: Sequence[str],
        signed: bool,
        cursor: int,
        words: bool = False,
        corner: str = "",
    ) -> None:
        self.matrix, self.tokens, self.labels = matrix, list(tokens), list(labels)
        self.signed, self.cursor, self.words, self.corner = signed, cursor, words, corner
        self._levels = cell_levels(matrix, signed) if matrix.size else None
        self._strips = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        # Drawn as strips of shared styles, a run of one colour as one segment: a Text with a
        # style per cell took ~0.4 s a keypress to lay out (78 tokens × 30 units).
        width, base = self.size.width, self.rich_style
        if self._strips is None or self._drawn_for != (self.size, base):
            self._strips, self._drawn_for = self._draw(width, base), (self.size, base)
        strip = self._strips[y] if y < len(self._strips) else Strip.blank(width, base)
        return strip.crop_extend(0, width, base)

    def _draw(self, width: int, base: Style) -> list[Strip]:
        rows, cols = self.matrix.shape if self.matrix.ndim == 2 else (0, 0)
        if not rows or not cols or self._levels is None:
            note = "no activations yet: choose a checkpoint and type a text"
            return [Strip([Segment(note, base + Style(dim=True))])]
        if self.words:
            return self._draw_words(width, base)
        shown = window(cols, max(1, width - LABEL_WIDTH), self.cursor)
        bold, cursor = base + Style(bold=True), base + Style(bold=True, reverse=True)
        dim = base + Style(dim=True)
        top = [Segment(f"{self.corner:<{LABEL_WIDTH}}"[:LABEL_WIDTH], dim)]
        top += [
            Segment(shown_token(self.tokens[j]), cursor if j == self.cursor else bold)
            for j in shown
        ]
        strips = [Strip(top)]
        for i in range(min(rows, max(0, self.size.height - 1))):
            segments = [Segment(f"{self.labels[i]:<{LABEL_WIDTH}}"[:LABEL_WIDTH], dim)]
            run_style, run = None, ""
            for j in shown:
                style = base + level_style(int(self._levels[i, j]), self.signed)
                mark = "▐" if j == self.cursor else "█"
                if style is run_style or style == run_style:
                    run += mark
                    continue
                if run:
                    segments.append(Segment(run, run_style))
                run_style, run = style, mark
            segments.append(Segment(run, run_style))
            strips.append(Strip(segments))
        return strips

    def _draw_words(self, width: int, base: Style) -> list[Strip]:
        """A column per word, as wide as the word, and a blank cell between columns."""
        labels = column_labels(self.tokens, True)
        widths = [cell_len(label) + 1 for label in labels]
        shown = fit(widths, max(1, width - LABEL_WIDTH), self.cursor)
        bold, cursor = base + Style(bold=True), base + Style(bold=True, reverse=True)
        dim = base + Style(dim=True)
        top = [Segment(f"{self.corner:<{LABEL_WIDTH}}"[:LABEL_WIDTH], dim)]
        for j in shown:
            top.append(Segment(labels[j], cursor if j == self.cursor else bold))
            top.append(Segment(" ", base))
        strips = [Strip(top)]
        for i in range(min(self.matrix.shape[0], max(0, self.size.height - 1))):
            segments = [Segment(f"{self.labels[i]:<{LABEL_WIDTH}}"[:LABEL_WIDTH], dim)]
            for j in shown:
                style = base + level_style(int(self._levels[i, j]), self.signed)
                cells = widths[j] - 1
                mark = "▐" + "█" * (cells - 1) if j == self.cursor else "█" * cells
                segments += [Segment(mark, style), Segment(" ", base)]
            strips.append(Strip(segments))
        return strips


__all__ = [
    "Heatmap",
    "cell_color",
    "cell_levels",
    "column_labels",
    "fit",
    "level_style",
    "shown_token",
    "window",
]
