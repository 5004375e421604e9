"""The lines the Train, Classify and Forecast screens show before any run fit their room at
80×24 and 120×40, whole: they were cut mid-word ("after each epo…", "o opens …") (Pilot)."""

from __future__ import annotations

import pytest


def screen_lines(app) -> list[str]:
    """The screen as drawn, line by line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


PLACEHOLDERS = {
    "train": ["no samples yet: one is logged each epoch"],
    "classify": ["no run: s starts, o opens one", "(needs a run)"],
    "forecast": ["no run: s starts, o opens one"],
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_no_run_lines_are_shown_whole(no_checkpoints, tui, size):
    app = tui.make_app()
    async with app.run_test(size=size) as pilot:
        for mode, texts in PLACEHOLDERS.items():
            await tui.open_screen(pilot, "dataset")
            await tui.open_screen(pilot, mode)
            await pilot.pause(0.2)
            lines = screen_lines(app)
            for text in texts:
                assert any(text in line for line in lines), (mode, text)
            cut = [line for line in lines if "…" in line and ("no run" in line or "no sam" in line)]
            assert not cut, (mode, cut)
