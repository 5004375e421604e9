"""PairsPanel: fra-eng before/after preprocess_nmt, lengths, truncate/pad, driven by keys."""

from __future__ import annotations

from panel_harness import count_builds, errors, panel_app, text_of
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, Static, TabbedContent, TabPane

from rnn_tui.tui.widgets.pairs_histogram import LengthHistogram, count_ticks
from rnn_tui.tui.widgets.pairs_panel import PairsPanel

PanelApp = panel_app(PairsPanel)


def sample_rows(app: App) -> list[list[str]]:
    table = app.query_one("#pairs-sample", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def loaded(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_into(pilot, app: App, selector: str, value: str) -> None:
    field = app.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    field.value = ""
    await pilot.press(*value, "enter")
    await pilot.pause()


async def test_loads_and_shows_preprocessed_pairs():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await loaded(pilot)
        rows = sample_rows(app)
        assert len(rows) == 10
        assert rows[0] == ["0", "Go.", "Va !", "go .", "va !"]
        # The narrow no-break space of "Cours !" is drawn, and preprocess_nmt made it a space.
        assert rows[1][2] == "Cours⍽!" and rows[1][4] == "cours !"
        status = text_of(app, "#pairs-status")
        assert "68,807 pairs" in status and "0 malformed" in status
        stats = text_of(app, "#pairs-stats")
        assert "English" in stats and "French" in stats and "5,326" in stats
        # The histogram draws both sides' bars, with comma-grouped counts on the y axis.
        histogram = app.query_one(LengthHistogram)
        drawn = "\n".join(histogram.render_line(y).text for y in range(histogram.size.height))
        assert "tokens per sentence" in drawn
        assert "██ English" in drawn and "██ French" in drawn
        assert "15,000┤" in drawn and "0┤█" in drawn
        assert not app.query_one("#pairs-view").loading


async def test_the_histogram_is_built_once_when_the_pairs_arrive_and_kept_after():
    """plotext builds the histogram's figure once for the loaded pairs, at the view's final
    width (the scrollbar that appears with them has had its room from the start), and keeps it
    while the view is scrolled or repainted; a new size or theme builds it again."""
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        histogram = app.query_one(LengthHistogram)
        built = count_builds(histogram)
        await loaded(pilot)
        await pilot.pause()
        view = app.query_one("#pairs-view")
        assert view.max_scroll_y > 0  # the scrollbar is there
        with_data = [figure for figure in built if "English" in figure]
        assert len(with_data) == 1
        count = len(built)
        view.scroll_end(animate=False)
        await pilot.pause()
        view.scroll_home(animate=False)
        histogram.refresh()
        await pilot.pause()
        assert len(built) == count
        await pilot.resize_terminal(90, 32)
        await pilot.pause()
        assert len(built) == count + 1
        app.theme = "textual-light"
        await pilot.pause()
        assert len(built) == count + 2


async def test_resample_key_draws_another_sample():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await loaded(pilot)
        first = sample_rows(app)
        app.query_one("#pairs-sample").focus()
        await pilot.press("n")
        await pilot.pause()
        second = sample_rows(app)
        assert len(second) == 10 and second != first
        numbers = [int(row[0]) for row in second]
        assert numbers == sorted(numbers)


async def test_truncate_pad_book_setting():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await loaded(pilot)
        source = text_of(app, "#pairs-padded-source")
        assert "English #0: valid length 3 of 10" in source
        assert "<eos>" in source and source.count("<pad>") == 7
        target = text_of(app, "#pairs-padded-target")
        assert "French #0: valid length 3 of 10" in target


async def test_typed_sentence_is_truncated_and_padded():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await loaded(pilot)
        await type_into(pilot, app, "#pairs-steps", "3")
        await type_into(pilot, app, "#pairs-sentence", "Tom xyzzy!")
        source = text_of(app, "#pairs-padded-source")
        # "tom xyzzy !" fill the 3 steps, so truncation drops the <eos> itself.
        assert "English (typed): valid length 3 of 3" in source
        assert source.count("truncated") == 1 and "<eos>" in source
        assert "not in vocab → <unk>" in source
        assert "typed text has no French side" in text_of(app, "#pairs-padded-target")
        await type_into(pilot, app, "#pairs-steps", "6")
        source = text_of(app, "#pairs-padded-source")
        assert "valid length 4 of 6" in source
        assert "truncated" not in source and source.count("<pad>") == 2
        assert not errors(app)


async def test_bad_input_notifies_and_keeps_tables():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await loaded(pilot)
        before = text_of(app, "#pairs-padded-source")
        await type_into(pilot, app, "#pairs-steps", "0")
        assert errors(app) == ["num_steps must be from 1 to 200"]
        assert text_of(app, "#pairs-padded-source") == before
        await type_into(pilot, app, "#pairs-steps", "10")
        await type_into(pilot, app, "#pairs-sentence", "70000")
        assert errors(app)[-1] == "no pair 70000: pairs are numbered 0 to 68806"
        assert text_of(app, "#pairs-padded-source") == before
        # isdigit() passed these and int() raised: the app closed.
        field = app.query_one("#pairs-sentence", Input)
        field.value = "9" * 5000  # as pasted: 5,000 key presses would take minutes
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert errors(app)[-1].startswith("no pair '999999999999…' (5,000 characters): pairs")
        shown = errors(app)
        await type_into(pilot, app, "#pairs-sentence", "-²")
        assert app.is_running and errors(app) == shown  # "-²" is read as a typed sentence


def test_count_ticks_are_round():
    assert count_ticks(19481) == [0, 5000, 10000, 15000]
    assert count_ticks(3) == [0, 1, 2, 3]
    assert count_ticks(0) == [0]


def test_snapshot_after_load(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)

    assert snap_compare(PanelApp(), terminal_size=(100, 32), run_before=run_before)


class TabbedApp(App):
    """The panel in a tab that is not shown at first, as on the Dataset screen."""

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="first"):
            with TabPane("first", id="first"):
                yield Static("another tab")
            with TabPane("pairs", id="pairs"):
                yield PairsPanel()


async def test_loads_only_once_shown():
    app = TabbedApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "loading fra-eng" in text_of(app, "#pairs-status")
        assert app.query_one("#pairs-sample", DataTable).row_count == 0
        app.query_one(TabbedContent).active = "pairs"
        await pilot.pause()
        await loaded(pilot)
        assert sample_rows(app)[0][3:] == ["go .", "va !"]
