"""The runs table: every listed run's best scores side by side, sortable, with the settings that
differ between the runs compared (the ticked ones, or all when fewer than two are ticked)
highlighted — the Train screen's `t` view. Enter ticks or unticks the highlighted run (its
curves join the overlay); `<`/`>` choose the column to sort by and `i` inverts the order, as in
htop; a click on a heading sorts by it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey

from rnn_tui.quoting import plain
from rnn_tui.runs.compare import COLUMNS, best_first, differing, setting_text, sort_entries
from rnn_tui.tui.widgets.steady_table import SteadyTable
from rnn_tui.tui.widgets.train_curves import RUN_STYLES

DIFF_STYLE = "bold yellow"  # a setting that differs between the runs compared
SORTED_MARK = {False: " ▲", True: " ▼"}
SHOWN_SETTINGS = ("model", "epochs", "attention")  # settings the fixed columns already show
MAX_SETTINGS = 24  # differing settings shown as columns (a hand-made config may have hundreds)
MAX_CELL = 40  # characters of a setting's value (a long path ends in "…")
# Score columns shown only where a listed run has the score (or the table is sorted by it): an
# LM's table showed empty BLEU and macro-F1 columns and cut the last at 120 columns.
SCORES = ("best_bleu", "best_macro_f1", "best_rmse", "best_val_ppl", "tokens_per_s")
MIN_NAME = 12  # a run's name is cut in its middle to leave room for the scores, to this at least


class RunsTable(SteadyTable):
    """One row per run; the fixed score columns, then one per differing setting."""

    DEFAULT_CSS = """
    RunsTable {
        height: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("less_than_sign", "sort_column(-1)", "Sort ◀", show=False),
        Binding("greater_than_sign", "sort_column(1)", "Sort ▶", show=False),
        Binding("i", "invert", "Invert order", show=False),
    ]

    class Toggled(Message):
        """The user asked to tick or untick a run (its path)."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sort_key = "best_val_ppl"
        self.descending = False
        self._entries: list[Mapping] = []
        self._colors: dict[str, str] = {}
        self._keys: list[str] = []  # column keys, in order
        self._shown: tuple | None = None
        self._given: tuple | None = None  # the entries, colours and width the rows were built from

    # -- contents ---------------------------------------------------------------------------

    def show(self, entries: Sequence[Mapping], colors: Mapping[str, str]) -> None:
        """Fill the table with `entries` (list_runs rows); `colors`: the ticked runs' paths and
        their curves' colours. Redraws only when something shown changed; a new order of the
        same rows moves them (`_reorder`): adding 300 rows of 30 cells again held the app's
        loop for half a second, Textual measuring every cell."""
        self._entries = list(entries)
        self._colors = dict(colors)
        given = (self._entries, self._colors, self.size.width)
        if given == self._given and self._shown is not None:
            if self._shown[1:3] != (self.sort_key, self.descending):
                self._reorder()
            return
        ticked = [e for e in self._entries if e.get("path") in self._colors]
        compared = ticked if len(ticked) >= 2 else self._entries
        settings = [k for k in differing(compared) if k not in SHOWN_SETTINGS][:MAX_SETTINGS]
        columns = [
            c
            for c in COLUMNS
            if c.key not in SCORES
            or c.key == self.sort_key
            or any(c.value(e) is not None for e in self._entries)
        ]
        keys = [c.key for c in columns] + [f"config:{k}" for k in settings]
        if self.sort_key not in {k.removeprefix("config:") for k in keys}:
            self.sort_key, self.descending = "best_val_ppl", False
        ordered = sort_entries(self._entries, self.sort_key, self.descending)
        rows = tuple(
            (
                str(e.get("path")),
                self._colors.get(str(e.get("path"))),
                tuple(self._cells(e, columns, settings, e in compared)),
            )
            for e in ordered
        )
        rows = self._names_fitted(rows, keys)
        shown = (tuple(keys), self.sort_key, self.descending, rows)
        self._given = given
        if shown == self._shown:
            return
        self._shown = shown
        path = self._cursor_path()
        self.clear(columns=True)
        self._keys = keys
        for key in keys:
            self.add_column(self._title(key), key=key)
        for row_path, color, cells in rows:
            swatch = Text("█ " if color else "  ", style=RUN_STYLES.get(color or "", ""))
            self.add_row(swatch + cells[0], *cells[1:], key=row_path)
        if path is not None and path in {r[0] for r in rows}:
            self.move_cursor(row=self.get_row_index(path))

    def _reorder(self) -> None:
        """The rows already shown, sorted anew, and the sorted column's mark moved."""
        keys, _, _, rows = self._shown
        if self.sort_key not in {k.removeprefix("config:") for k in keys}:
            self._given = None  # the sorted column is gone: build the table anew
            self.show(self._entries, self._colors)
            return
        path = self._cursor_path()
        ordered = sort_entries(self._entries, self.sort_key, self.descending)
        place = {str(e.get("path")): i for i, e in enumerate(ordered)}
        by_path = {row[0]: row for row in rows}
        rows = tuple(by_path[p] for p in sorted(by_path, key=place.__getitem__))
        self._shown = (keys, self.sort_key, self.descending, rows)
        resized = False
        for key in keys:
            column = self.columns[ColumnKey(key)]
            title = self._title(key)
            if title == column.label.plain:
                continue
            # The sort mark came or went: the column as wide as its title or widest cell.
            column.label = Text(title)
            cells = (cell.cell_len for cell in self.get_column(key))
            width = max(column.label.cell_len, *cells)
            resized |= width != column.content_width
            column.content_width = width
        # The swatch+name cell of each row is its own object, so it tells the rows apart.
        rank = {id(self.get_cell(p, keys[0])): place[p] for p in by_path}
        self.sort(keys[0], key=lambda cell: rank[id(cell)])
        if resized:
            self._require_update_dimensions = True
        if path is not None and path in place:
            self.move_cursor(row=self.get_row_index(path))

    def _names_fitted(self, rows: tuple, keys: Sequence[str]) -> tuple:
        """`rows` with the runs' names cut in their middle ("lm-lstm…04-125836") where the
        table's width would otherwise leave the scores off-screen, beside the side panel."""
        if not rows or not self.size.width:
            return rows
        others = 0  # the fixed columns' cells; the differing settings follow a scroll away
        for i, key in enumerate(keys[1:], start=1):
            if key.startswith("config:"):
                break
            title = self._title(key)
            others += max(len(title), *(r[2][i].cell_len for r in rows)) + 2
        room = max(MIN_NAME, self.size.width - 2 - others - 4)  # 2: scrollbar; 4: swatch, pad
        return tuple(
            (path, color, (_middle_cut(cells[0], room), *cells[1:])) for path, color, cells in rows
        )

    def _title(self, key: str) -> str:
        name = key.removeprefix("config:")
        title = next((c.title for c in COLUMNS if c.key == key), name[:MAX_CELL])
        return title + SORTED_MARK[self.descending] if name == self.sort_key else title

    def on_resize(self) -> None:
        if self._entries:
            self.show(self._entries, self._colors)

    def _cells(
        self, entry: Mapping, columns: Sequence, settings: Sequence[str], compared: bool
    ) -> list[Text]:
        cells = [Text(plain(c.text(entry)), no_wrap=True) for c in columns]
        for key in settings:
            style = DIFF_STYLE if compared else "dim"
            value = plain(setting_text(entry, key))
            if len(value) > MAX_CELL:
                value = value[: MAX_CELL - 1] + "…"
            cells.append(Text(value, style=style, no_wrap=True))
        return cells

    def _cursor_path(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except CellDoesNotExist:  # the cursor is past a table that shrank
            return None

    @property
    def sort_keys(self) -> list[str]:
        return [k.removeprefix("config:") for k in self._keys]

    # -- sorting and ticking ------------------------------------------------------------------

    def sort_by(self, key: str) -> None:
        """Sort by `key`; the same key again inverts the order. A score starts best-first."""
        if key == self.sort_key:
            self.descending = not self.descending
        else:
            self.sort_key, self.descending = key, best_first(key)
        self.show(self._entries, self._colors)

    def action_sort_column(self, step: int) -> None:
        keys = self.sort_keys
        if not keys:
            return
        index = keys.index(self.sort_key) if self.sort_key in keys else 0
        key = keys[(index + step) % len(keys)]
        self.sort_key, self.descending = key, best_first(key)
        self.show(self._entries, self._colors)

    def action_invert(self) -> None:
        self.descending = not self.descending
        self.show(self._entries, self._colors)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value).removeprefix("config:"))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # Enter, or a click on a row, ticks or unticks it.
        event.stop()
        self.post_message(self.Toggled(str(event.row_key.value)))


def _middle_cut(text: Text, width: int) -> Text:
    """`text` in at most `width` cells, its middle replaced by "…" (a run's time stays)."""
    if text.cell_len <= width:
        return text
    words = text.plain
    left = (width - 1) // 2
    cut = Text(f"{words[:left]}…{words[len(words) - (width - 1 - left) :]}", no_wrap=True)
    cut.stylize(text.style)
    return cut


__all__ = ["RunsTable"]
