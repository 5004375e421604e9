"""A plotext plot whose built figure is kept until its data, size or theme changes.

textual-plotext builds the whole figure again on every render (`Plot.build`, then the ANSI text
parsed back into styled text: 11–22 ms for the Pairs tab's histogram). Textual renders a widget
again whenever it is shown, restyled, scrolled past or laid out anew, with nothing new to draw,
so every plot here keeps what it built and builds again only after `figure_changed`, at a new
size, or under another theme.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from rnn_tui.tui.widgets.first_draw import FirstDrawLater


class KeptFigurePlot(FirstDrawLater, PlotextPlot):
    """A PlotextPlot that builds its figure once per data, size and theme (module docstring);
    its first figure waits for the second screen update after the one that shows it
    (first_draw.py)."""

    FIRST_DRAW_UPDATES = 2
    # Rows a readable figure needs; lower, a one-line note in its place. In five rows plotext
    # drew a frame with no curve and its y labels upside down (10 above 20).
    MIN_HEIGHT: ClassVar[int] = 0
    plot_title = ""

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._replots = 0  # bumped by `figure_changed`: the figure built from then on is new
        self._drawn: tuple[Hashable, RenderResult] | None = None  # (key, the built figure)

    def figure_changed(self) -> None:
        """The plotext data or settings changed: the next render builds the figure again."""
        self._replots += 1

    def render(self) -> RenderResult:
        if self._first_draw_waits():
            return ""
        if 0 < self.size.height < self.MIN_HEIGHT:
            note = f"{self.plot_title}: too little room to plot it".lstrip(": ")
            text = Text(note, style="dim")
            text.truncate(self.size.width, overflow="ellipsis")  # one line, as Textual wraps
            return text
        key = (self._replots, self.size, self.theme, self.app.theme)
        if self._drawn is None or self._drawn[0] != key:
            self._drawn = key, self.finish_figure(super().render())
        return self._drawn[1]

    def finish_figure(self, figure: RenderResult) -> RenderResult:
        """What is drawn of a newly built figure (a subclass adds to it here: a legend)."""
        return figure


__all__ = ["KeptFigurePlot"]
