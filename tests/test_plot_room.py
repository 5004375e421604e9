"""A plot given too few rows says so in one line instead of drawing a frame with no curve and
its y labels upside down (17.5 above 26.1: the Train screen at 80x24 with the explanation open)."""

from __future__ import annotations

import numpy as np
import pytest
from textual.app import App, ComposeResult

from rnn_tui.tui.widgets.plot import LinePlot, Series


class OnePlot(App):
    def compose(self) -> ComposeResult:
        yield LinePlot(title="perplexity", xlabel="epoch")


async def rows_shown(tui, height: int) -> list[str]:
    app = OnePlot()
    async with app.run_test(size=(60, height)) as pilot:
        plot = app.query_one(LinePlot)
        x = np.arange(1.0, 31.0)
        plot.set_series([Series("val", x, 20 * np.exp(-x / 10) + 8)])
        # The first figure waits for a later screen update: for as long as a busy machine takes.
        await tui.until(
            pilot, lambda: "room" in plot.render_line(0).text or "┌" in plot.render_line(1).text
        )
        return [plot.render_line(i).text.rstrip() for i in range(height)]


@pytest.mark.parametrize("height", [4, 5, 6])
async def test_a_plot_without_room_says_so_in_one_line(tui, height) -> None:
    rows = await rows_shown(tui, height)
    assert rows[0] == "perplexity: too little room to plot it", rows
    assert not any(rows[1:]), rows


async def test_a_plot_with_room_is_drawn(tui) -> None:
    rows = await rows_shown(tui, 7)
    assert rows[0].strip() == "perplexity" and "┌" in rows[1], rows


async def test_the_note_stays_on_one_line(tui) -> None:
    app = OnePlot()
    async with app.run_test(size=(20, 5)) as pilot:
        plot = app.query_one(LinePlot)
        await tui.until(pilot, lambda: plot.render_line(0).text.strip())
        rows = [plot.render_line(i).text.rstrip() for i in range(5)]
        assert rows[0] == "perplexity: too lit…" and not any(rows[1:]), rows
