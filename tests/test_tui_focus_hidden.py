"""A focused control hidden under the focus (a side panel closed, a form's rows changed) hands
the focus to a control still shown, rather than leaving nothing focused (Pilot)."""

# ruff: noqa: F811 (pytest fixtures imported from test_tui_train)
from __future__ import annotations

import pytest
from test_tui_train import runs, train_app  # noqa: F401
from textual.widgets import Button

from rnn_tui.tui.widgets.train_form import SEQ2SEQ, TrainForm, task_rows
from rnn_tui.tui.widgets.train_side import TrainSide


def shown(widget) -> bool:
    return widget is not None and widget in widget.screen.focus_chain


@pytest.mark.parametrize("mode", ["train", "forecast", "classify"])
async def test_hiding_the_side_panel_moves_the_focus_to_a_control_still_shown(
    no_checkpoints, tui, mode
):
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, mode)
        side = screen.query_one(TrainSide)
        side.query_one("Tabs").focus()
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert not side.display
        assert shown(app.focused) and side not in app.focused.ancestors
        assert not app.focused.check_consume_key("x", "x")  # the screen's keys still work
        await pilot.press("f")
        await pilot.pause()
        assert side.display


@pytest.mark.parametrize(("query", "task"), [("new translation", SEQ2SEQ), ("bidirectional", "lm")])
async def test_the_train_palettes_form_presets_focus_the_forms_first_field(
    no_checkpoints, tui, query, task
):
    """Chosen from the command palette, they left nothing focused (from a form of the other
    task: its rows changed under the field just focused)."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "train")
        screen.query_one(TrainForm).set_value("task", "lm" if task == SEQ2SEQ else SEQ2SEQ)
        await tui.settle(pilot)
        await tui.palette_choose(pilot, query)
        await tui.settle(pilot)
        assert app.screen is screen
        first = screen.query_one(TrainForm).control(task_rows(task)[0])
        await tui.until(pilot, lambda: app.focused is first)  # focused after the rows' refresh
        assert shown(app.focused)


async def test_the_focus_does_not_land_on_a_button_a_stray_enter_would_press(runs, tui, train_app):
    """With a running run shown, the header's Pause button came first: enter paused the run."""
    async with train_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        screen = pilot.app.screen
        screen.open_run(runs / "lm-rnn-running")
        await tui.settle(pilot)
        screen.query_one(TrainSide).query_one("Tabs").focus()
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert shown(pilot.app.focused) and not isinstance(pilot.app.focused, Button)
