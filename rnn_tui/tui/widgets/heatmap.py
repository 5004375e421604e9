"""A heatmap of units against tokens, one character cell per value: hidden states (tanh, −1..1,
blue to red) or gates (0..1, dark to yellow), with the tokens along the top and each unit's label
on the left. It draws as many tokens as its width allows, in a window that keeps the cursor
column in view, and as many units as its height allows — so it fits 80×24 and uses more when
there is more."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

LABEL_WIDTH = 12


def shown_token(token: str) -> str:
    """One cell for a token: a space as ␣, a newline as ⏎, a word as its first character."""
    if token == " ":
        return "␣"
    if token == "\n":
        return "⏎"
    return (token or "·")[0]


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


class Heatmap(Widget):
    """`show(matrix (units × tokens), tokens, labels, signed, cursor)`; redraws on resize."""

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

    def show(
        self,
        matrix: np.ndarray,
        tokens: Sequence[str],
        labels: Sequence[str],
        signed: bool,
        cursor: int,
    ) -> None:
        self.matrix, self.tokens, self.labels = matrix, list(tokens), list(labels)
        self.signed, self.cursor = signed, cursor
        self.refresh()

    def render(self) -> Text:
        rows, cols = self.matrix.shape
        if not rows or not cols:
            return Text("no activations yet: choose a checkpoint and type a text", style="dim")
        width = max(1, self.size.width - LABEL_WIDTH)
        shown = window(cols, width, self.cursor)
        text = Text(no_wrap=True, overflow="crop")
        text.append(" " * LABEL_WIDTH)
        for j in shown:
            style = "reverse bold" if j == self.cursor else "bold"
            text.append(shown_token(self.tokens[j]), style=style)
        for i in range(min(rows, max(0, self.size.height - 1))):
            text.append("\n")
            text.append(f"{self.labels[i]:<{LABEL_WIDTH}}"[:LABEL_WIDTH], style="dim")
            for j in shown:
                color = cell_color(self.matrix[i, j], self.signed)
                mark = "▐" if j == self.cursor else "█"
                text.append(mark, style=Style(color=color))
        return text


__all__ = ["Heatmap", "cell_color", "shown_token", "window"]
