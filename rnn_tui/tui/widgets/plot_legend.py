"""A plot's legend, put in the corner of its canvas where it hides no point.

plotext draws its legend in the canvas's top-left corner, over whatever is there: on a training
curve, that is where the first epochs are (the highest perplexities), and the Train screen hid
them under "train", "val" and "trigram". Here the figure is built without plotext's legend and
the legend is laid over the built text afterwards, in the first corner (top-left, top-right,
bottom-left, bottom-right) whose cells are all blank, or else the one that hides fewest; a
LinePlot with no blank corner and the rows to spare writes it under the plot instead
(`legend_lines`): at 80 columns the Flow tab's legend covered the ends of its curves.

Without colour (NO_COLOR) every series is a grey: the train and val curves were the same braille
in two near-identical greys. There each labelled series gets its own marker (`series_markers`),
and its legend entry shows that marker.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from rich.style import Style
from rich.text import Text

MARKER = "⢕⢕"  # plotext's own legend marker, so the legend looks as it did
BLANK = {" ", "\u2800"}  # a space, or a braille cell with no dot
# Without colour, the labelled series' markers in order: braille (the first, as with colour),
# then single characters plotext draws a line of, none of them a box or tick character.
MARKERS = ("braille", "•", "x", "+", "o", "*", "#", "=")

Entry = tuple[str, str] | tuple[str, str, str]  # (label, plotext colour[, what marks it])


def series_markers(labels: Sequence[str], colored: bool) -> list[str]:
    """plotext's marker for each series of `labels` (in drawing order): braille, or without
    colour the labelled ones' own from MARKERS, in turn."""
    if colored:
        return ["braille"] * len(labels)
    markers, k = [], 0
    for label in labels:
        markers.append(MARKERS[k % len(MARKERS)] if label else "braille")
        k += bool(label)
    return markers


def legend_mark(marker: str) -> str:
    """What a legend entry shows of a series drawn with plotext's `marker`."""
    return MARKER if marker == "braille" else marker * len(MARKER)


def _parts(entry: Entry) -> tuple[str, str, str]:
    label, color, *mark = entry
    return label, color, mark[0] if mark else MARKER


@cache
def color_style(color: str) -> Style:
    """The foreground style plotext gives `color` ("cyan+", "gray", …): the legend's marker
    then matches its curve exactly."""
    import plotext

    spans = Text.from_ansi(plotext.colorize("x", color)).spans
    return Style(color=spans[0].style.color) if spans else Style()  # type: ignore[union-attr]


def canvas(lines: Sequence[str]) -> tuple[int, int, int, int] | None:
    """(first row, last row, first column, last column) of the area inside a plotext figure's
    box, or None when the text holds no box."""
    top = next((i for i, line in enumerate(lines) if "┌" in line), None)
    if top is None:
        return None
    left, right = lines[top].find("┌"), lines[top].rfind("┐")
    bottom = next((i for i in range(top + 1, len(lines)) if "└" in lines[i]), None)
    if bottom is None or right - left < 2 or bottom - top < 2:
        return None
    return top + 1, bottom - 1, left + 1, right - 1


def _corner(plain: list[str], entries: Sequence[Entry]):
    """(row, column, width, entries shown, drawn cells hidden) of the legend's best corner, or
    None without a box."""
    box = canvas(plain)
    if box is None:
        return None
    row0, row1, col0, col1 = box
    width = min(max(len(entry[0]) for entry in entries) + len(MARKER) + 3, col1 - col0 + 1)
    shown = entries[: row1 - row0 + 1]
    height = len(shown)
    corners = [
        (row0, col0),
        (row0, col1 - width + 1),
        (row1 - height + 1, col0),
        (row1 - height + 1, col1 - width + 1),
    ]

    def hidden(corner: tuple[int, int]) -> int:
        r, c = corner
        return sum(ch not in BLANK for line in plain[r : r + height] for ch in line[c : c + width])

    row, col = min(corners, key=hidden)  # min keeps the first of equals: top-left first
    return row, col, width, shown, hidden((row, col))


def legend_hides(figure: Text, entries: Sequence[Entry]) -> int:
    """How many drawn cells the legend of `entries` hides in the best corner of `figure`."""
    placed = _corner(figure.plain.split("\n"), entries) if entries else None
    return placed[-1] if placed else 0


def place_legend(figure: Text, entries: Sequence[Entry]) -> Text:
    """`figure` with the legend of `entries` — (label, plotext colour), and the mark shown
    where it is not MARKER (`legend_mark`) — in the corner of its
    canvas that hides the fewest drawn cells (module docstring). Labels too long for the canvas
    are cut; entries beyond its rows are left out."""
    if not entries:
        return figure
    lines = figure.split("\n", allow_blank=True)
    placed = _corner([line.plain for line in lines], entries)
    if placed is None:
        return figure
    row, col, width, shown, _ = placed
    for i, entry in enumerate(shown):
        label, color, mark = _parts(entry)
        line = lines[row + i]
        if len(line) < col + width:
            continue  # a row cut short: nothing to draw over
        cell = line[col : col + width]  # keeps the canvas's background
        cell.plain = f" {mark} {label}".ljust(width)[:width]
        cell.stylize(color_style(color), 1, 1 + len(mark))
        lines[row + i] = line[:col] + cell + line[col + width :]
    return Text("\n").join(lines)


def legend_lines(
    entries: Sequence[Entry], width: int, indent: int, base: Style, label: Style
) -> list[Text]:
    """The legend written under a plot rather than over it: entries side by side, as many rows
    as they need at `width`, from column `indent` (the canvas's left edge)."""
    rows: list[Text] = []
    row = Text(" " * indent, style=base)
    for entry in entries:
        text, color, mark = _parts(entry)
        piece = f"{mark} {text}"
        if row.cell_len > indent and row.cell_len + 2 + len(piece) > width:
            rows.append(row)
            row = Text(" " * indent, style=base)
        if row.cell_len > indent:
            row.append("  ", style=base)
        row.append(mark, style=base + color_style(color))
        row.append(f" {text}", style=base + label)
    rows.append(row)
    for row in rows:
        row.truncate(width, pad=True)
    return rows


__all__ = [
    "MARKERS",
    "canvas",
    "color_style",
    "legend_hides",
    "legend_lines",
    "legend_mark",
    "place_legend",
    "series_markers",
]
