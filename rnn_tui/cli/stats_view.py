"""Rich rendering of `rnn-tui stats` (the human-readable form of `corpus_stats`).

The tables are drawn a line at a time here, in the box rich's tables use: rich's own Table
measures and renders every cell as a renderable, about 170 µs a row (a table inside the
side-by-side grid is measured again), so `--top 100000` on 100 MB of Wikipedia took 204 s where
`--json` took 14 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len, set_cell_size
from rich.console import ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Table

from rnn_tui.cli.console import Console
from rnn_tui.data.token_text import display_token

NGRAM_TITLES = {"1": "unigrams", "2": "bigrams", "3": "trigrams"}
GAP = 2  # columns between tables side by side
MIN_TABLE = 34  # the narrowest a table is laid out beside another
MIN_STRETCH = 5  # the narrowest the token column is cut to


def _summary(stats: dict) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("corpus", str(stats["source"]))
    table.add_row("token level", f"{stats['token']} ({stats['mode']})")
    table.add_row("lines", f"{stats['num_lines']:,}")
    table.add_row("tokens", f"{stats['num_tokens']:,}")
    table.add_row("vocabulary", f"{stats['vocab_size']:,} (min_freq {stats['min_freq']})")
    return table


def _fit(text: str, width: int, right: bool) -> str:
    """`text` in exactly `width` cells: padded, or cut with "…"."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


TITLE, HEADER, INDEX = Style(italic=True), Style(bold=True), Style(color="cyan")
ASCII_BOX = str.maketrans("┃┏━┳┓┡╇┩│└─┴┘…", "|+-+++++|+-++~")


@dataclass
class BoxTable:
    """A titled table of strings: the first column cyan and right-aligned, the `stretch`
    column (the tokens) the one cut to fit, the last right-aligned."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    stretch: int = 1

    def widths(self, room: int | None = None) -> list[int]:
        """Each column's width in cells; with `room`, the stretch column cut so that the whole
        table fits in `room` cells."""
        widths = [cell_len(h) for h in self.headers]
        for row in self.rows:
            widths = [max(w, cell_len(cell)) for w, cell in zip(widths, row, strict=True)]
        if room is not None:
            over = 1 + sum(w + 3 for w in widths) - room
            if over > 0:
                widths[self.stretch] = max(MIN_STRETCH, widths[self.stretch] - over)
        return widths

    def lines(self, room: int | None = None) -> tuple[int, list[list[Segment]]]:
        """The table's width in cells and its lines as segments, every line that wide."""
        widths = self.widths(room)
        width = 1 + sum(w + 3 for w in widths)
        # At least as wide as the title where there is room: a title is not cut.
        widen = min(cell_len(self.title), room or width) - width
        if widen > 0:
            widths[self.stretch] += widen
            width += widen
        last = len(widths) - 1

        def rule(left: str, line: str, mid: str, right: str) -> list[Segment]:
            return [Segment(left + mid.join(line * (w + 2) for w in widths) + right)]

        header = [Segment("┃")]
        for i, (w, name) in enumerate(zip(widths, self.headers, strict=True)):
            header += [Segment(" "), Segment(_fit(name, w, i in (0, last)), HEADER), Segment(" ┃")]
        title = _fit(self.title, width, False)
        out = [[Segment(title, TITLE)], rule("┏", "━", "┳", "┓"), header]
        out.append(rule("┡", "━", "╇", "┩"))
        for row in self.rows:
            cells = " │ ".join(_fit(row[i], widths[i], i == last) for i in range(1, len(row)))
            out.append(
                [
                    Segment("│ "),
                    Segment(_fit(row[0], widths[0], True), INDEX),
                    Segment(f" │ {cells} │"),
                ]
            )
        out.append(rule("└", "─", "┴", "┘"))
        return width, out


def _top_tokens(stats: dict) -> BoxTable:
    rows = [(str(i), display_token(t), f"{f:,}") for t, i, f in stats["top_tokens"]]
    return BoxTable("vocabulary (by frequency)", ("index", "token", "freq"), rows)


def _top_ngrams(n: str, rows: list) -> BoxTable:
    cells = [
        (str(rank), " ".join(map(display_token, tokens)), f"{count:,}")
        for rank, (tokens, count) in enumerate(rows, start=1)
    ]
    return BoxTable(f"top {NGRAM_TITLES.get(n, f'{n}-grams')}", ("#", "tokens", "count"), cells)


class SideBySide:
    """Tables in rows of as many as fit the console (at least MIN_TABLE cells each), each
    row's tables drawn next to one another, GAP cells apart, as plain segments: nothing is
    measured or wrapped again."""

    def __init__(self, tables: list[BoxTable]) -> None:
        self.tables = tables

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.ascii_only:  # a locale that cannot encode the box's lines: ASCII ones
            for segment in self._segments(options):
                yield Segment(segment.text.translate(ASCII_BOX), segment.style)
            return
        yield from self._segments(options)

    def _segments(self, options: ConsoleOptions) -> RenderResult:
        width, tables = options.max_width, self.tables
        per_row = max(1, min(len(tables), (width + GAP) // (MIN_TABLE + GAP)))
        room = max(MIN_TABLE, (width - GAP * (per_row - 1)) // per_row)
        gap, newline = Segment(" " * GAP), Segment.line()
        for start in range(0, len(tables), per_row):
            drawn = [table.lines(room) for table in tables[start : start + per_row]]
            for i in range(max(len(lines) for _, lines in drawn)):
                for j, (size, lines) in enumerate(drawn):
                    if j:
                        yield gap
                    if i < len(lines):
                        yield from lines[i]
                    elif j < len(drawn) - 1:
                        yield Segment(" " * size)
                yield newline


def print_stats(stats: dict, console: Console | None = None) -> None:
    console = console or Console()
    tables = [_top_tokens(stats)] + [
        _top_ngrams(n, rows)
        for n, rows in sorted(stats["top_ngrams"].items(), key=lambda kv: int(kv[0]))
    ]
    console.print(_summary(stats))
    console.print()
    console.print(SideBySide(tables), crop=True)
    console.print()
