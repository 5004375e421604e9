"""A confusion matrix normalised per row (rows: the true class, columns: the predicted one), in
percent, one 3-character cell per entry, then each class's precision and support: 18 languages
take 11 + 54 + 12 columns and 19 rows, so the whole matrix fits 80×24. The diagonal (each
class's recall) is green, confusions red, brighter for a larger share; a column head is a
class's two-letter code (its row names it in full). Narrower, precision and support go, then
the rows are named by their codes too."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

LABEL_WIDTH = 11
CELL = 3


def codes(names: Sequence[str]) -> list[str]:
    """A distinct two-letter code per name: its first letter and the first later letter that
    makes it unused ("Polish" Po, then "Portuguese" Pr)."""
    used: set[str] = set()
    out = []
    for i, name in enumerate(names):
        letters = "".join(c for c in name if c.isalnum()) or f"{i:02d}"
        code = next(
            (
                letters[0].upper() + c.lower()
                for c in letters[1:]
                if letters[0].upper() + c.lower() not in used
            ),
            f"{i:02d}",
        )
        used.add(code)
        out.append(code)
    return out


def cell_style(value: float, diagonal: bool) -> Style:
    """Green on the diagonal, red off it, brighter for a larger share; nothing for 0."""
    level = int(round(40 + 160 * float(np.clip(value, 0.0, 1.0))))
    if value <= 0:
        return Style(color="grey42")
    if diagonal:
        return Style(color="white", bgcolor=Color.from_rgb(0, level // 2 + 20, 0), bold=True)
    return Style(color="white", bgcolor=Color.from_rgb(level, 0, 0))


class ConfusionMatrix(Widget):
    """`show(matrix (C × C, rows summing to 1), class names)`; as many rows as its height
    allows (the last line then says how many are left out)."""

    DEFAULT_CSS = """
    ConfusionMatrix {
        height: auto;
        min-height: 2;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.matrix = np.zeros((0, 0))
        self.names: list[str] = []
        self.precision: list[float] = []
        self.support: list[int] = []
        self.caption = ""  # whose matrix it is (a run's model and balance)

    def show(
        self,
        matrix: np.ndarray,
        names: Sequence[str],
        precision: Sequence[float] = (),
        support: Sequence[int] = (),
        caption: str = "",
    ) -> None:
        self.matrix, self.names = np.asarray(matrix, dtype=float), list(names)
        self.caption = caption
        self.precision, self.support = list(precision), list(support)
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return 1 + bool(self.caption) + len(self.names) if self.names else 1

    def full_width(self) -> int:
        """Columns the whole matrix takes, its rows named in full and precision and support
        beside them."""
        return LABEL_WIDTH + CELL * len(self.names) + 12 * bool(self.precision)

    def render(self) -> Text:
        if not self.names:
            return Text("no confusion matrix yet: train or open a names run", style="dim")
        text = Text(no_wrap=True, overflow="crop")
        if self.caption:
            text.append(f"{self.caption}: % of each true language's held-out names\n", "dim")
        names = codes(self.names)
        # Narrower than the whole matrix (the side panel shown at 100 columns): the precision
        # and support columns go first, then the rows are named by their codes. A wrapped row
        # broke the table in two.
        width = self.size.width or 10**6
        label = LABEL_WIDTH
        extras = bool(self.precision) and label + CELL * len(names) + 12 <= width
        if label + CELL * len(names) > width:
            label = 4
        text.append(f"{'true ↓ pred →' if label > 4 else '↓ →'}"[:label].ljust(label), style="dim")
        for code in names:
            text.append(f"{code:>{CELL}}", style="bold")
        if extras:
            text.append("  prec     n", style="bold")
        top = 1 + bool(self.caption)
        room = max(1, self.size.height - top) if self.size.height else len(self.names)
        shown = len(self.names) if room >= len(self.names) else room - 1
        for i in range(shown):
            text.append("\n")
            row_name = self.names[i] if label > 4 else names[i]
            text.append(f"{row_name:<{label}}"[:label])
            for j, value in enumerate(self.matrix[i]):
                cell = f"{round(100 * value):>{CELL}}" if value > 0 else f"{'·':>{CELL}}"
                text.append(cell, style=cell_style(value, i == j))
            if extras and i < len(self.precision):
                text.append(f"  {self.precision[i]:.2f}")
            if extras and i < len(self.support):
                text.append(f"{self.support[i]:>6}", style="dim")
        if shown < len(self.names):
            more = len(self.names) - shown
            text.append(f"\n… {more} more rows: a taller terminal shows them", style="dim")
        return text


__all__ = ["ConfusionMatrix", "codes"]
