"""Snapshots of the Train screen following a seq2seq run, fed by the recorded run in
tests/fixtures/recorded-seq2seq (no training; fixed clock, animations off, fixed theme).

- 120×40: the form switched to seq2seq translation next to the finished run (its header with
  BLEU, the 2×2 grid with the BLEU plot, the four translated sentences);
- 80×24: the side panel hidden, the BLEU plot shown alone (v).

Regenerate with `pytest tests/test_snapshots_train_seq2seq.py --snapshot-update` after reading
snapshot_report.html, and only for a change meant to alter the picture.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import ClassVar

import pytest

from rnn_tui.tui.screens.train import TrainScreen

RECORDED = Path(__file__).parent / "fixtures" / "recorded-seq2seq" / "seq2seq-gru-recorded"
T0 = 1_790_000_000


@pytest.fixture
def s2s_app(tui, tmp_path, monkeypatch):
    """The app opening on its Train screen (fixed clock) with ./runs holding only the recorded
    seq2seq run."""
    import rnn_tui.tui.app as app_module

    root = tmp_path / "runs"
    shutil.copytree(RECORDED, root / RECORDED.name)
    for path in (root / RECORDED.name).iterdir():
        os.utime(path, (T0, T0))
    monkeypatch.setenv("RNN_TUI_RUNS", str(root))
    monkeypatch.chdir(tmp_path)

    class TrainFirst(app_module.RnnTuiApp):
        DEFAULT_MODE = "train"
        SUB_TITLE = "Train"
        MODES: ClassVar = {
            **app_module.RnnTuiApp.MODES,
            "train": lambda: TrainScreen(clock=lambda: T0 + 2000.0),
        }

    monkeypatch.setattr(app_module, "RnnTuiApp", TrainFirst)
    return tui.make_app()


def _open_recorded(tui, narrow: bool):
    async def run_before(pilot) -> None:
        await tui.settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, TrainScreen)
        screen.open_run(Path("runs") / RECORDED.name)
        await tui.settle(pilot)
        if narrow:
            await pilot.press("f", "v")  # side panel away, then the BLEU plot
        else:
            form = screen.query_one("#train-form")
            form.set_value("task", "seq2seq")
            await tui.settle(pilot)
            form.control("task").focus()
        await tui.settle(pilot)

    return run_before


def test_snapshot_seq2seq_run_80x24(s2s_app, tui, snap_compare) -> None:
    assert snap_compare(s2s_app, terminal_size=(80, 24), run_before=_open_recorded(tui, True))


def test_snapshot_seq2seq_run_120x40(s2s_app, tui, snap_compare) -> None:
    assert snap_compare(s2s_app, terminal_size=(120, 40), run_before=_open_recorded(tui, False))
