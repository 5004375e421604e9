"""A plot's title is cut to the width it has, keeping its bracketed note ("(3/4, v: next)"):
plotext draws no title at all where it does not fit, and at 80 columns the Train screen's
gradient-norm and held-out-RMSE plots went untitled."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from rnn_tui.tui.widgets.plot import LinePlot, Series
from rnn_tui.tui.widgets.plot_ticks import TITLE_MARGIN, fit_title

LONG = "gradient norm (before clipping) (3/4, v: next)"


def test_a_long_title_keeps_its_note_and_a_short_one_stays_whole():
    assert fit_title(LONG, 46) == "gradient norm (befo… (3/4, v: next)"
    assert fit_title("perplexity (1/4, v: next)", 46) == "perplexity (1/4, v: next)"
    assert fit_title("held-out scores, 0–1 and more words", 30) == "held-out scores, 0…"  # 30 - 11


@given(title=st.text(min_size=0, max_size=80), width=st.integers(0, 200))
def test_a_fitted_title_never_exceeds_the_room(title, width):
    fitted = fit_title(title, width)
    room = width - TITLE_MARGIN
    assert fitted == title or len(fitted) <= room


class OnePlot(App):
    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        yield LinePlot(title=self.title_text, xlabel="epoch")


@pytest.mark.parametrize("width", [46, 60])
async def test_a_narrow_plot_draws_its_title(tui, width) -> None:
    app = OnePlot(LONG)
    async with app.run_test(size=(width, 14)) as pilot:
        plot = app.query_one(LinePlot)
        x = np.arange(1.0, 31.0)
        plot.set_series([Series("‖g‖", x, 1257000 * np.exp(-x / 10) + 0.25)])
        # The first figure waits for a later screen update: for as long as a busy machine takes.
        await tui.until(pilot, lambda: "gradient norm" in plot.render_line(0).text)
        top = plot.render_line(0).text
        assert "(3/4, v: next)" in top and "gradient norm" in top
