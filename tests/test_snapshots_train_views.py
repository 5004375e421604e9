"""Snapshots of the Train screen's run-management views: the continue dialog over the run list,
and the header's system strip while a trainer works (its numbers faked: they are live values)."""

# ruff: noqa: F811 (pytest fixtures imported from test_tui_train)
from __future__ import annotations

from test_tui_train import runs, show_train, train_app  # noqa: F401
from test_tui_train_manage import highlight

from rnn_tui.runs.followed import FollowedRuns
from rnn_tui.tui.widgets.run_dialogs import AskDialog


def test_snapshot_continue_dialog_80x24(runs, tui, train_app, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await highlight(pilot, tui, "lm-gru-recorded")
        await pilot.press("c")
        await tui.settle(pilot)
        # Fewer epochs than the run has done: refused in the dialog, which stays (nothing runs).
        pilot.app.screen.query_one("#dialog-input").value = "5"
        await pilot.press("enter")
        await tui.settle(pilot)
        assert isinstance(pilot.app.screen, AskDialog)

    assert snap_compare(train_app(), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_system_strip_120x40(runs, tui, train_app, snap_compare, monkeypatch) -> None:
    strip = "trainer pid 4242 · CPU 197 % · RSS 812 MB · GPU 87 % · 3,210 / 143,771 MiB · 61 °C"
    monkeypatch.setattr(FollowedRuns, "system_text", lambda self, key: strip)

    async def run_before(pilot) -> None:
        screen = await show_train(pilot, tui)
        screen.open_run(runs / "lm-rnn-running")
        await tui.settle(pilot)
        await pilot.press("f")
        await tui.settle(pilot)

    assert snap_compare(train_app(), terminal_size=(120, 40), run_before=run_before)
