"""Snapshots of the Forecast screen, fed by the recorded runs in tests/fixtures/recorded-forecast
(the seeds' MLP and a GRU; their checkpoints give the figures by a forward pass, no training;
animations off, fixed theme):

- 120×40: both runs reopened from the run list — progress, the one-step, multi-step and k-step
  plots and the error table with the verdict;
- 80×24: the side panel hidden, the table alone (v three times);
- 80×24: the empty screen with its form.

Regenerate with `pytest tests/test_snapshots_forecast.py --snapshot-update` after reading
snapshot_report.html, and only for a change meant to alter the picture.
"""

from __future__ import annotations

import os
import shutil
from functools import partial

import pytest
from test_tui_forecast import RECORDED, open_saved

T0 = 1_790_000_000


@pytest.fixture
def saved_runs(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    shutil.copytree(RECORDED, root)
    for i, name in enumerate(("forecast-gru-recorded", "forecast-mlp-recorded")):
        for path in (root / name).iterdir():
            os.utime(path, (T0 + i, T0 + i))
    monkeypatch.setenv("RNN_TUI_RUNS", str(root))
    monkeypatch.chdir(tmp_path)
    return root


async def _open(pilot, tui, panels: int = 0, hide: bool = False) -> None:
    screen = await tui.open_screen(pilot, "forecast")
    await open_saved(pilot, tui, screen)
    if hide:
        await pilot.press("escape")
        screen.query_one("#fc-side").hide()
        await pilot.pause()
    screen.set_focus(None)
    for _ in range(panels):
        await pilot.press("v")
    await tui.settle(pilot)


def test_forecast_two_saved_runs_120x40(snap_compare, saved_runs, tui):
    run_before = partial(_open, tui=tui)
    assert snap_compare(tui.make_app(), terminal_size=(120, 40), run_before=run_before)


def test_forecast_table_alone_80x24(snap_compare, saved_runs, tui):
    run_before = partial(_open, tui=tui, panels=3, hide=True)
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)


def test_forecast_empty_80x24(snap_compare, saved_runs, tui):
    async def run_before(pilot):
        await tui.open_screen(pilot, "forecast")
        await tui.settle(pilot)

    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)
