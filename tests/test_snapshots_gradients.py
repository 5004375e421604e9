"""Snapshots of the Gradients screen (a forward and a backward pass, no training; animations
off, fixed theme): the Flow tab, where four fresh cells with seeded weights read one seeded
sequence — the three cases and the linear closed form, with the facts under the plot — and the
Inside tab, where the shipped character LSTM reads the default text.

Regenerate with `pytest tests/test_snapshots_gradients.py --snapshot-update` after reading
snapshot_report.html, and only for a change meant to alter the picture.
"""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import pytest
from test_tui_gradients import open_gradients, until
from textual.widgets import TabbedContent

CHECKPOINTS = Path(__file__).parents[1] / "checkpoints"


async def _flow(pilot, tui) -> None:
    screen = await open_gradients(pilot, tui)
    screen.set_focus(None)
    await tui.settle(pilot)


def test_gradients_flow_120x40(snap_compare, no_checkpoints, tui):
    run_before = partial(_flow, tui=tui)
    assert snap_compare(tui.make_app(), terminal_size=(120, 40), run_before=run_before)


def test_gradients_flow_80x24(snap_compare, no_checkpoints, tui):
    run_before = partial(_flow, tui=tui)
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)


@pytest.fixture
def shipped_lstm(tmp_path, monkeypatch):
    """The shipped character LSTM as the only checkpoint, under ./shipped (so its path on the
    facts line is the same on every machine)."""
    from rnn_tui.runs import discover

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for path in CHECKPOINTS.glob("timemachine-char-lstm.*"):
        shutil.copy(path, shipped / path.name)
    monkeypatch.setattr(discover, "SHIPPED_DIR", shipped)
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(tmp_path / "none"))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(tmp_path)


async def _inside(pilot, tui, back: int = 0) -> None:
    screen = await open_gradients(pilot, tui)
    screen.query_one(TabbedContent).active = "grad-inside"
    await pilot.pause()
    screen._read_text()
    await until(pilot, lambda: screen.inside is not None)
    await tui.settle(pilot)
    screen.set_focus(None)
    for _ in range(back):
        await pilot.press("comma")
    await tui.settle(pilot)
    await until(pilot, lambda: "step" in str(screen.query_one("#inside-step").content))


def test_gradients_inside_120x40(snap_compare, shipped_lstm, tui):
    run_before = partial(_inside, tui=tui, back=3)
    assert snap_compare(tui.make_app(), terminal_size=(120, 40), run_before=run_before)


def test_gradients_inside_80x24(snap_compare, shipped_lstm, tui):
    run_before = partial(_inside, tui=tui)
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)
