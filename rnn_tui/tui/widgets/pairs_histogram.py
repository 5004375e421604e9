"""Side-by-side bars of sentence lengths, English vs French (d2l's "tokens per sentence" figure)."""

from __future__ import annotations

from itertools import count

from rnn_tui.tui.widgets.kept_figure import KeptFigurePlot

# Series colours, fixed so the English and French bars keep their look across themes.
SERIES_COLOURS = ("blue+", "orange+")


def count_ticks(top: int, most: int = 5) -> list[int]:
    """0 and multiples of a round step (1, 2, 5, 10, 20, …) up to `top`, fewer than `most`+1;
    plotext would label 19481 sentences as "19481.0"."""
    steps = (base * 10**k for k in count() for base in (1, 2, 5))
    step = next(s for s in steps if top // s < most)
    return list(range(0, max(top, 0) + 1, step))


class LengthHistogram(KeptFigurePlot):
    """Counts of sentences per token length for two sides, as plotext `multiple_bar`."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._bars: tuple[list[str], list[list[int]], list[str]] | None = None

    def set_histograms(
        self, series: dict[str, list[tuple[int, int]]], capped_at: int | None = None
    ) -> None:
        """`series`: name → (length, count) pairs; a length equal to `capped_at` reads "N+"."""
        lengths = sorted({length for pairs in series.values() for length, _ in pairs})
        names = list(series)
        counts = []
        for name in names:
            by_length = dict(series[name])
            counts.append([by_length.get(length, 0) for length in lengths])
        ticks = [
            f"{length}+" if capped_at is not None and length == capped_at else str(length)
            for length in lengths
        ]
        self._bars = (ticks, counts, names)
        self.replot()

    def replot(self) -> None:
        """Rebuild plotext's data, then repaint this widget (refreshing the app would not)."""
        plt = self.plt
        plt.clear_data()
        plt.title("tokens per sentence")
        plt.xlabel("tokens")
        plt.ylabel("sentences")
        if self._bars is not None:
            ticks, counts, names = self._bars
            colours = [SERIES_COLOURS[i % len(SERIES_COLOURS)] for i in range(len(names))]
            plt.multiple_bar(ticks, counts, labels=names, color=colours)
            y_ticks = count_ticks(max((max(c, default=0) for c in counts), default=0))
            plt.yticks(y_ticks, [f"{t:,}" for t in y_ticks])
        self.figure_changed()
        self.refresh()
