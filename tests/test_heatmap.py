"""The Gradients screen's heatmap: the colour of every cell, computed for the whole matrix at
once, is `cell_color`'s; the drawing is a strip per row with one segment per run of a colour."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from textual.app import App, ComposeResult

from rnn_tui.tui.widgets.heatmap import (
    LABEL_WIDTH,
    Heatmap,
    cell_color,
    cell_levels,
    level_style,
)

values = st.floats(allow_nan=False, width=32)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=values))
def test_every_cells_colour_is_cell_colors(matrix: np.ndarray) -> None:
    for signed in (True, False):
        levels = cell_levels(matrix, signed)
        for (i, j), value in np.ndenumerate(matrix):
            assert level_style(int(levels[i, j]), signed).color == cell_color(value, signed)


def test_nan_is_drawn_as_zero() -> None:
    matrix = np.array([[np.nan, 0.0]])
    assert cell_levels(matrix, True).tolist() == [[0, 0]]
    assert cell_levels(matrix, False).tolist() == [[0, 0]]


class HeatmapApp(App):
    def compose(self) -> ComposeResult:
        yield Heatmap()


async def test_a_row_is_one_segment_per_run_of_a_colour() -> None:
    app = HeatmapApp()
    async with app.run_test(size=(LABEL_WIDTH + 6, 4)) as pilot:
        heatmap = app.query_one(Heatmap)
        assert "no activations yet" in heatmap.render_line(0).text
        matrix = np.array([[1.0, 1.0, 1.0, -1.0, -1.0, 0.0], [0.5] * 6])
        heatmap.show(matrix, list("ab cde"), ["u0", "u1"], signed=True, cursor=5)
        await pilot.pause()
        top, first, second, below = (heatmap.render_line(y) for y in range(4))
        assert top.text == " " * LABEL_WIDTH + "ab␣cde"
        assert first.text == "u0".ljust(LABEL_WIDTH) + "█████▐"
        # The label, then red ×3, blue ×2, and the cursor's column (black).
        cells = [s for s in first if s.text.strip() and not s.text.startswith("u0")]
        assert [s.text for s in cells] == ["███", "██", "▐"]
        assert [s.style.color.triplet for s in cells] == [(255, 40, 40), (40, 90, 255), (0, 40, 40)]
        assert len([s for s in second if s.text.strip()]) == 2  # the label and one run
        assert below.text.strip() == ""


async def test_a_wider_terminal_draws_more_tokens() -> None:
    app = HeatmapApp()
    async with app.run_test(size=(LABEL_WIDTH + 6, 4)) as pilot:
        heatmap = app.query_one(Heatmap)
        heatmap.show(np.zeros((2, 10)), list("abcdefghij"), ["u0", "u1"], signed=False, cursor=9)
        await pilot.pause()
        assert heatmap.render_line(0).text.strip() == "efghij"  # the window keeps the cursor
        await pilot.resize_terminal(LABEL_WIDTH + 10, 4)
        await pilot.pause()
        assert heatmap.render_line(0).text.strip() == "abcdefghij"


@given(st.text(max_size=8))
def test_every_token_takes_exactly_one_cell(token: str) -> None:
    # A CJK character took two cells and shifted every column after it; a combining mark none.
    from rich.cells import cell_len

    from rnn_tui.tui.widgets.heatmap import shown_token

    assert cell_len(shown_token(token)) == 1


async def test_wide_tokens_keep_the_columns_under_their_tokens() -> None:
    app = HeatmapApp()
    async with app.run_test(size=(LABEL_WIDTH + 6, 3)) as pilot:
        heatmap = app.query_one(Heatmap)
        heatmap.show(np.zeros((1, 5)), ["丁", "一", "a", "😀", "\u0301"], ["u0"], True, cursor=4)
        await pilot.pause()
        top, row = heatmap.render_line(0), heatmap.render_line(1)
        assert top.text == " " * LABEL_WIDTH + "□□a□· "
        assert top.cell_length == row.cell_length == LABEL_WIDTH + 6


def test_word_columns_fit_around_the_cursor() -> None:
    from rnn_tui.tui.widgets.heatmap import column_labels, fit

    words = ["the", "time", "traveller", "was", "expounding", "a"]
    assert column_labels(words, True) == words
    assert column_labels(words, False) == list("tttwea")
    widths = [len(w) + 1 for w in words]
    assert fit(widths, 100, 5) == range(6)
    shown = fit(widths, 20, 2)  # "traveller " and as many neighbours as fit 20 cells
    assert 2 in shown and sum(widths[j] for j in shown) <= 20
    assert fit(widths, 20, 5)[-1] == 5
    assert fit([1] * 10, 4, 9) == range(6, 10)  # one-cell columns: the character window
    long = column_labels(["x" * 30], True)[0]
    assert len(long) == 12 and long.endswith("…")
