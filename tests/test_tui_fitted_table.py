"""FittedTable (the Translate console's tables): a change of width fits the columns and the
rows' heights in place, and each height is the one the DataTable itself measures."""

from __future__ import annotations

import random

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable

from rnn_tui.tui.widgets.translate_tables import FittedTable, cell_height

WIDE = "日本語の文"  # two cells a character


def random_texts(count: int, seed: int) -> list[Text]:
    """Cells of every kind the wrap meets: short and long words, words longer than any column
    (folded), wide characters, line breaks, runs of spaces, empty cells, styled spans."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = []
        for _ in range(rng.choice([0, 1, 2, 5, 9, 17])):
            kind = rng.random()
            if kind < 0.08:
                words.append(WIDE[: rng.randint(1, 5)])
            elif kind < 0.12:
                words.append("x" * rng.randint(20, 70))
            elif kind < 0.16:
                words.append("\n")
            elif kind < 0.19:
                words.append(" " * rng.randint(1, 12))  # runs of spaces, trailing ones too
            else:
                words.append("w" * rng.randint(1, 9))
        text = Text(" ".join(words).replace(" \n ", "\n"), end="")
        if words and rng.random() < 0.3:
            text.stylize("bold red", 0, rng.randint(1, len(text.plain)))
        texts.append(text)
    return texts


class Cells(App):
    def compose(self) -> ComposeResult:
        yield DataTable()


async def test_cell_height_is_the_tables_own_measure() -> None:
    texts = random_texts(240, seed=7)
    app = Cells()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(DataTable)
        for width in (1, 4, 9, 23, 60):
            table.clear(columns=True)
            column = table.add_column("text", width=width)
            keys = [table.add_row(text, height=None) for text in texts]
            await pilot.pause()
            measured = [table.rows[key].height for key in keys]
            console, options = app.console, app.console_options
            found = [cell_height(text, width, console, options) for text in texts]
            assert found == measured, f"width {width}"
            assert table.columns[column].width == width
        assert max(measured) > 1 and min(measured) == 1


class Pairs(FittedTable):
    def columns_spec(self) -> list[tuple[str, int | float]]:
        return [("#", 3), ("left", 0.4), ("right", 0.6)]

    def cells(self, item) -> list[Text]:
        number, left, right = item
        return [Text(str(number), justify="right"), left, right]


class PairsApp(App):
    CSS = "Pairs { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield Pairs()


def heights(table: FittedTable) -> list[int]:
    return [row.height for row in table.ordered_rows]


async def lines_from(pilot, table: FittedTable, y: int) -> list[str]:
    """The table's lines on screen when scrolled to `y`."""
    table.scroll_to(y=y, animate=False, immediate=True)
    await pilot.pause()
    return [line.text for line in table.render_lines(Region(0, 0, *table.size))]


async def test_a_new_width_fits_the_rows_in_place_as_a_rebuild_would() -> None:
    # Rebuilding at each new width re-added and re-measured every row: 0.8 s of held event
    # loop at 1,000 translated sentences. Now no row is added again, and the result is the
    # rebuilt table's: the same column widths, row heights and lines on screen.
    texts = random_texts(300, seed=11)
    items = [(i + 1, texts[i], texts[-1 - i]) for i in range(len(texts))]
    app = PairsApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(Pairs)
        await pilot.pause()
        table.set_items(items)
        await pilot.pause()
        table.move_cursor(row=150, animate=False)
        await pilot.pause()
        added = []
        add_row = table.add_row
        table.add_row = lambda *a, **k: added.append(a) or add_row(*a, **k)
        for size in [(60, 30), (140, 40), (41, 20)]:
            rows_added = len(added)
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
            assert len(added) == rows_added, size
            refitted = (heights(table), [c.width for c in table.ordered_columns])
            assert table.cursor_row == 150
            top = sum(heights(table)[:150])  # the cursor row stays in view
            assert table.scroll_y <= top < table.scroll_y + table.scrollable_content_region.height
            shown = await lines_from(pilot, table, top - 3)
            table.rebuild()
            await pilot.pause()
            rebuilt = (heights(table), [c.width for c in table.ordered_columns])
            assert refitted == rebuilt, size
            assert shown == await lines_from(pilot, table, top - 3)
        assert len(set(heights(table))) > 2


async def test_rows_are_measured_from_their_text_and_draw_as_the_tables_own() -> None:
    # A row of automatic height makes the DataTable render every cell of it to measure it, on
    # screen or not: 64 beam candidates held the event loop 290 ms. The rows' heights are now
    # found from the text, and only the rows on screen are drawn — the same lines as before.
    texts = random_texts(200, seed=5)
    items = [(i + 1, texts[i], texts[-1 - i]) for i in range(len(texts))]
    app = PairsApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(Pairs)
        await pilot.pause()
        rendered = []
        render_cell = table._render_cell
        table._render_cell = lambda row, *a, **k: rendered.append(row) or render_cell(row, *a, **k)
        table.set_items(items)
        await pilot.pause()
        await pilot.pause()
        assert 0 < len(set(rendered)) < 30  # the rows on screen (and the header), not 200
        shown = await lines_from(pilot, table, 40)
        fitted = (heights(table), [c.width for c in table.ordered_columns])
        # The same rows added as rows of automatic height, measured by the table.
        table.clear()
        for item in items:
            table.add_row(*table.cells(item), height=None)
        await pilot.pause()
        assert (heights(table), [c.width for c in table.ordered_columns]) == fitted
        assert await lines_from(pilot, table, 40) == shown
