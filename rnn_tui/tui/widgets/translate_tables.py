"""The Translate console's two tables: one row per sentence (greedy and beam side by side), and
the final beam of the selected sentence with each candidate's score (d2l §9.8).

Both fit their text columns to the table's width and wrap long cells onto more lines, so a
sentence is never cut off. When the width changes, the columns and the rows' heights are fitted
in place: only the rows on screen are drawn again (rebuilding the table re-rendered every row,
0.8 s at 1,000).
Tokens the vocabularies do not know show as `<unk>`, highlighted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich._wrap import divide_line  # Text.wrap's line breaker (rich is pinned exactly)
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widgets._data_table import default_cell_formatter

from rnn_tui.quoting import visible
from rnn_tui.tui.muted import muted_style
from rnn_tui.tui.widgets.steady_table import SteadyTable

UNK = "<unk>"
EMPTY = "(empty)"
SOURCE_CHARS = 600  # of a source shown in its cell: a pasted book is measured at every redraw
# The beam table's rows: the best candidates. Every step's ended hypotheses are candidates
# (decode/search.py), so beam 64 and max length 200 found 4,246 of them for one long sentence,
# and building a row for each held the event loop 5 s when the result came.
BEAM_ROWS = 64


@dataclass(frozen=True)
class ResultRow:
    """One translated sentence as the console shows it.

    `translation` is a rnn_tui.decode.translate.Translation (used by attribute only, so this
    module never imports torch); `candidate_texts` are the texts of `translation.candidates`
    (the final beam, or the greedy candidate when there was no beam); `greedy_bleu` is the
    seeds' BLEU (k = 2) of the greedy text when the sentence has a reference."""

    number: int
    translation: Any
    candidate_texts: tuple[str, ...]
    greedy_bleu: float | None = None
    candidate_count: int = 0  # the beam's candidates before the best BEAM_ROWS were kept

    @property
    def candidates(self) -> list:
        t = self.translation
        return list(t.beam) if t.beam else [t.greedy]

    @property
    def source_shown(self) -> str:
        """The source as the model reads it: its tokens, unknown ones as `<unk>`; past about
        SOURCE_CHARS characters, "…" and how many tokens are left out (a 300 KB paste held the
        event loop for seconds at each click, measuring its cell)."""
        unknown = set(self.translation.unknown)
        tokens = self.translation.source_tokens
        shown: list[str] = []
        size = 0
        for tok in tokens:
            tok = UNK if tok in unknown else tok
            if size + len(tok) > SOURCE_CHARS:
                if not shown:
                    shown.append(tok[:SOURCE_CHARS] + "…")
                break
            shown.append(tok)
            size += len(tok) + 1
        rest = len(tokens) - len(shown)
        return " ".join(shown) + (f" … (+{rest:,} tokens)" if rest else "")


def token_text(text: str, unk: Style, muted: Style | None = None) -> Text:
    """`text` (space-separated tokens) with every `<unk>` token in the `unk` style; an empty
    text (the model said `<eos>` first) as a muted "(empty)"."""
    if not text:
        return Text(EMPTY, style=muted or "", end="")
    out = Text(end="")
    for i, token in enumerate(text.split(" ")):
        if i:
            out.append(" ")
        # A control character a vocabulary holds (ESC) would reach the terminal: an escape.
        out.append(visible(token), unk if token == UNK else None)
    return out


def cell_height(cell: object, width: int, console: Console, options: ConsoleOptions) -> int:
    """Lines a DataTable cell takes at content `width` in a row of automatic height: a Text's
    line count is its wrap's, as Text.__rich_console__ wraps it; anything else is rendered."""
    renderable: RenderableType = default_cell_formatter(cell)
    if isinstance(renderable, Text):
        plain = renderable.plain
        if "\n" not in plain and cell_len(plain) <= width:
            return 1  # fits on its line: most cells, found without wrapping them
        overflow = renderable.overflow or options.overflow or "fold"
        plain_wrap = not (renderable.no_wrap or overflow == "ignore" or "\t" in plain)
        if plain_wrap and not plain[-1].isspace():
            # Text.wrap's own line breaker on the plain text: the same count without building
            # a Text for every line (a refit of 1,000 rows took 15-42 ms through Text.wrap).
            # Its last line is never blank here, so each line counts.
            fold = overflow == "fold"
            return sum(len(divide_line(part, width, fold=fold)) + 1 for part in plain.split("\n"))
        lines = renderable.wrap(
            console,
            width,
            justify=renderable.justify or options.justify or "default",
            overflow=overflow,
            tab_size=renderable.tab_size or console.tab_size or 8,
            no_wrap=bool(renderable.no_wrap),
        )
        # Rendered, the lines are joined by "\n": an empty last line (the text ended with a
        # line break) gives no line of its own.
        return max(1, len(lines) - (len(lines) > 1 and not lines[-1].plain))
    return max(1, len(console.render_lines(renderable, options.update_width(width))))


def fmt_bleu(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


class FittedTable(SteadyTable):
    """A row-cursor DataTable whose columns are sized to its width: fixed columns keep their
    width, the text columns share what is left by weight. Subclasses give `columns()` and
    `cells(item)` (checked when the subclass is made); `items` holds what the rows show."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"translate-table--unk"}
    MIN_TEXT = 6

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.items: list = []
        self._width = 0

    def on_mount(self) -> None:
        # The rows' muted text is a colour worked out for the theme: drawn again for a new one.
        self.app.theme_changed_signal.subscribe(self, lambda _: self.rebuild())

    def __init_subclass__(cls, **kwargs) -> None:
        # A table says its columns — columns_spec() -> [(label, width)]: an int is a fixed
        # width, a float a share of the remaining width — and cells(item) -> a row's cells.
        super().__init_subclass__(**kwargs)
        missing = [name for name in ("columns_spec", "cells") if not hasattr(cls, name)]
        if missing:
            raise TypeError(f"{cls.__name__} must define {', '.join(missing)}")

    def _widths(self, width: int) -> list[int]:
        spec = self.columns_spec()
        padding = 2 * self.cell_padding * len(spec)
        fixed = sum(w for _, w in spec if isinstance(w, int))
        shares = sum(w for _, w in spec if isinstance(w, float)) or 1.0
        room = max(width - padding - fixed - 1, 0)  # 1: the vertical scrollbar's gutter
        return [
            w if isinstance(w, int) else max(self.MIN_TEXT, int(room * w / shares)) for _, w in spec
        ]

    def rebuild(self) -> None:
        """Columns for the current width, then every item's row (the cursor row kept)."""
        cursor = self.cursor_row
        self.clear(columns=True)
        self._width = self.size.width
        for (label, width_spec), width in zip(
            self.columns_spec(), self._widths(self._width), strict=True
        ):
            # Fixed-width columns hold numbers: their labels sit right, over the digits.
            justify = "right" if isinstance(width_spec, int) and label != "end" else "left"
            self.add_column(Text(label, justify=justify), width=width)
        self._add_rows(self.items)
        if self.items:
            self.move_cursor(row=min(cursor, len(self.items) - 1), animate=False)

    def refit(self) -> None:
        """Fit the columns to the current width without adding the rows again: each row's
        height is its tallest cell wrapped at its column's new width (what the table measures
        for a row of automatic height, found here from the text alone, not by drawing it)."""
        spec, columns = self.columns_spec(), self.ordered_columns
        if len(spec) != len(columns) or any(
            isinstance(w, int) and column.width != w
            for (_, w), column in zip(spec, columns, strict=True)
        ):
            self.rebuild()  # the fixed columns changed as well
            return
        self._width = self.size.width
        for column, width in zip(columns, self._widths(self._width), strict=True):
            column.width = width
        console, options = self.app.console, self.app.console_options
        for key, row in self.rows.items():
            cells = self._data[key]
            row.height = max(cell_height(cells[c.key], c.width, console, options) for c in columns)
        self._clear_caches()
        self._update_dimensions(())  # the virtual size, from the new widths and heights
        self.refresh()
        if self.row_count:
            self.move_cursor(row=self.cursor_row, animate=False)  # keeps it in view

    def append(self, items: Sequence) -> None:
        """Add rows for `items` after the existing ones."""
        self.items.extend(items)
        if not self.columns:
            self.rebuild()
            return
        self._add_rows(items)

    def _add_rows(self, items: Sequence) -> None:
        """A row for each item, as tall as its tallest cell wraps. Found from the text here,
        not left to the table (a row of automatic height): the table renders every cell of such
        a row to measure it, on screen or not — 64 beam candidates held the loop 290 ms."""
        console, options = self.app.console, self.app.console_options
        columns = self.ordered_columns
        for item in items:
            cells = self.cells(item)
            height = max(
                cell_height(cell, column.width, console, options)
                for cell, column in zip(cells, columns, strict=True)
            )
            self.add_row(*cells, height=height)

    def set_items(self, items: Sequence) -> None:
        self.items = list(items)
        self.rebuild()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:
            if self.columns:
                self.refit()
            else:
                self.rebuild()

    @property
    def unk_style(self) -> Style:
        return self.get_component_rich_style("translate-table--unk", partial=True)

    @property
    def muted_style(self) -> Style:
        return muted_style(self)


class SentenceTable(FittedTable):
    """One row per sentence: number, source (as the model reads it), greedy, beam, the beam's
    BLEU."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.beam_size = 4
        self.with_bleu = False
        self.expected = 1  # sentences the request holds: the # column is as wide from the start

    def begin(self, beam_size: int, with_bleu: bool, expected: int = 1) -> None:
        """Empty the table for a new request of `expected` sentences."""
        self.beam_size, self.with_bleu, self.expected = beam_size, with_bleu, max(1, expected)
        self.set_items([])

    def columns_spec(self) -> list[tuple[str, int | float]]:
        last = max((row.number for row in self.items), default=1)
        spec: list[tuple[str, int | float]] = [
            ("#", len(str(max(last, self.expected)))),
            ("source", 0.3),
            ("greedy", 0.35),
            (f"beam k={self.beam_size}", 0.35),
        ]
        if self.with_bleu:  # the beam's: the greedy text's is on the detail line
            spec.append(("beam BLEU", 9))
        return spec

    def cells(self, row: ResultRow) -> list[Text | str]:
        t, unk = row.translation, self.unk_style
        cells: list[Text | str] = [
            Text(str(row.number), justify="right"),
            token_text(row.source_shown, unk, self.muted_style),
            token_text(t.greedy_text, unk, self.muted_style),
            token_text(t.beam_text, unk, self.muted_style),
        ]
        if self.with_bleu:
            cells.append(Text(fmt_bleu(t.bleu), justify="right"))
        return cells

    def append(self, items: Sequence) -> None:
        # A number wider than the column: re-fit the columns. That re-renders every row (half
        # a second at 1,000), so begin() sizes the column for the whole request.
        shown = max((r.number for r in self.items), default=1)
        widen = bool(items) and len(str(items[-1].number)) > len(str(max(shown, self.expected)))
        super().append(items)
        if widen:
            self.rebuild()


class BeamTable(FittedTable):
    """The selected sentence's final beam, best first (its BEAM_ROWS best): text, Σ log P,
    length L (with <eos>), score (1/L^α) Σ log P, and whether it ended with <eos>."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.row: ResultRow | None = None

    def show(self, row: ResultRow | None) -> None:
        if row is not None and row is self.row:
            return  # shown already: a new result selects its first row, then its highlight does
        self.row = row
        if row is None:
            self.set_items([])
            return
        shown = zip(row.candidates[:BEAM_ROWS], row.candidate_texts[:BEAM_ROWS], strict=True)
        self.set_items(list(enumerate(shown, 1)))

    def columns_spec(self) -> list[tuple[str, int | float]]:
        return [
            ("#", len(str(max(len(self.items), 1)))),
            ("translation", 1.0),
            ("log P", 8),
            ("L", 3),
            ("score", 7),
            ("end", 3),
        ]

    def cells(self, item) -> list[Text | str]:
        rank, (candidate, text) = item
        shown = token_text(text, self.unk_style, self.muted_style)
        if self.row is not None and tuple(candidate.tokens) == tuple(
            self.row.translation.greedy.tokens
        ):
            shown.append("  = greedy", self.muted_style)
        return [
            Text(str(rank), justify="right"),
            shown,
            Text(f"{candidate.log_prob:.3f}", justify="right"),
            Text(str(candidate.length), justify="right"),
            Text(f"{candidate.score:.3f}", justify="right"),
            Text("eos" if candidate.finished else "cut", justify="left"),
        ]
