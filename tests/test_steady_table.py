"""SteadyTable: a DataTable that keeps its drawn lines through restyles that change none of its
styles, and draws exactly what a DataTable draws whatever happens to it."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable, Input

from rnn_tui.tui.widgets.steady_table import SteadyTable

CSS = """
DataTable.-alarm > .datatable--header { background: red; }
DataTable { height: 8; }
"""


def table_app(table_class: type[DataTable]) -> App:
    class TableApp(App):
        def compose(self) -> ComposeResult:
            yield Input(id="field")
            table = table_class(id="table", cursor_type="row", zebra_stripes=True)
            table.add_columns("count", "word")
            for i, word in enumerate(["the", "time", "traveller", "machine", "i", "and"]):
                table.add_row(f"{1000 - 100 * i:,}", word)
            yield table

    TableApp.CSS = CSS
    return TableApp()


async def drawn_through_changes(table_class: type[DataTable]) -> list[list[list]]:
    """The table's lines (text and styles) after each of a person's and the app's changes."""
    app = table_app(table_class)
    frames = []
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one("#table", DataTable)

        async def draw() -> None:
            await pilot.pause()
            lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
            # Cell by cell: the same look may come in differently split segments.
            frames.append([[(ch, seg.style) for seg in line for ch in seg.text] for line in lines])

        await draw()
        table.focus()
        await draw()
        await pilot.press("down", "down")
        await draw()
        app.query_one("#field").focus()
        await draw()
        app.theme = "textual-light"
        await draw()
        table.add_class("-alarm")
        await draw()
        table.remove_class("-alarm")
        table.display = False
        await draw()
        table.display = True
        await pilot.resize_terminal(50, 12)
        await draw()
    return frames


async def test_a_steady_table_draws_what_a_datatable_draws() -> None:
    steady = await drawn_through_changes(SteadyTable)
    plain = await drawn_through_changes(DataTable)
    assert len(steady) == 8
    for step, (ours, textuals) in enumerate(zip(steady, plain, strict=True)):
        assert ours == textuals, f"step {step}"
    assert len({repr(frame) for frame in steady}) >= 5  # the changes did change the lines


async def test_the_ngram_tables_draw_no_cell_again_when_their_tab_comes_back(tui) -> None:
    """The n-grams panel takes the focus when its tab is shown, and Textual restyles a focused
    widget's subtree on focus and blur: a DataTable then draws every cell again, three times
    each showing (8–9 ms a table each time)."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        for _ in range(5):  # every tab shown once, then the n-grams again
            await pilot.press("right_square_bracket")
            await tui.settle(pilot)
        tables = [app.screen.query_one(f"#ngram-{n}", DataTable) for n in (1, 2, 3)]
        drawn = []
        for table in tables:
            render_cell = table._render_cell

            def counted(*args, render_cell=render_cell, **kwargs):
                drawn.append(args)
                return render_cell(*args, **kwargs)

            table._render_cell = counted
        for _ in range(4):  # round the tabs again, back to the n-grams
            await pilot.press("right_square_bracket")
            await tui.settle(pilot)
        assert app.screen.query_one("#tabs").active == "tab-ngrams"
        assert app.focused is app.screen.query_one("#ngram-panel")
        assert drawn == []
