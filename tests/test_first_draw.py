"""Costly widgets' first draws come in later screen updates (rnn_tui/tui/widgets/first_draw.py),
as in the app: late, never lost."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.first_draw


def _waiting(app) -> list:
    """The screen's costly widgets whose first draw has been put off and has not come yet."""
    from rnn_tui.tui.widgets.first_draw import FirstDrawLater

    return [
        w
        for w in app.screen.query("*")
        if isinstance(w, FirstDrawLater) and w._first_draw_pending and not w._first_draw_done
    ]


async def _drawn(pilot) -> int:
    """Pause until no first draw waits (a few screen updates); how many were drawn late."""
    from rnn_tui.tui.widgets.first_draw import FirstDrawLater

    for _ in range(10):
        await pilot.pause()
        if not _waiting(pilot.app):
            break
    assert _waiting(pilot.app) == []
    late = [w for w in pilot.app.screen.query("*") if isinstance(w, FirstDrawLater)]
    return sum(w._first_draw_done for w in late)


async def test_every_screen_and_dataset_tab_draws_its_plots_and_tables(tui) -> None:
    from rnn_tui.tui.app import SCREEN_SPECS

    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        drawn = {}
        for tab in range(4):  # n-grams, Partitioning, Pairs, back to the Vocabulary
            await pilot.press("right_square_bracket")
            await tui.settle(pilot)
            drawn[f"dataset {tab}"] = await _drawn(pilot)
        for spec in SCREEN_SPECS[1:]:
            await pilot.press(spec.function_key)
            await tui.settle(pilot)
            drawn[spec.mode] = await _drawn(pilot)
        # The n-grams tab's 3 tables and plot, the Pairs tab's tables and histogram: drawn.
        assert drawn["dataset 0"] >= 4 and drawn["dataset 2"] > drawn["dataset 1"], drawn
        assert drawn["train"] >= 4 and drawn["forecast"] >= 3, drawn  # curves, forecasts
        assert tui.errors(app) == []
