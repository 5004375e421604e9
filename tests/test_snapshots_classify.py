"""Snapshots of the Classify screen, fed by the recorded runs in tests/fixtures/recorded-classify
(a names GRU, the one-way and two-way taggers, the bidirectional-LM pair; the reports come from
the checkpoints by a forward pass, no training; animations off, fixed theme):

- 80×24: the names run reopened, the side panel hidden — its scores beside the baselines and a
  typed name's top three;
- 80×24: the confusion matrix alone (v);
- 120×40: the tagging part with both taggers and a typed text restored by each;
- 80×24: the bidirectional-LM part with both runs.

Regenerate with `pytest tests/test_snapshots_classify.py --snapshot-update` after reading
snapshot_report.html, and only for a change meant to alter the picture.
"""

from __future__ import annotations

import os
import shutil
from functools import partial

import pytest
from test_tui_classify import RECORDED, tick_all, wait_for

T0 = 1_790_000_000


@pytest.fixture
def saved_runs(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    shutil.copytree(RECORDED, root)
    for i, folder in enumerate(sorted(root.iterdir())):
        for path in folder.iterdir():
            os.utime(path, (T0 + i, T0 + i))
    monkeypatch.setenv("RNN_TUI_RUNS", str(root))
    monkeypatch.chdir(tmp_path)
    return root


async def _open(pilot, tui, part: str, views: set, typed: tuple = (), matrix: bool = False):
    screen = await tui.open_screen(pilot, "classify")
    screen.show_part(part)
    await tui.settle(pilot)
    await tick_all(pilot, tui, screen, views)
    screen.query_one("#cl-side").hide()
    await pilot.pause()
    if typed:
        selector, text, ready = typed
        screen.query_one(selector).value = text
        await wait_for(pilot, screen, lambda: ready(screen))
    screen.set_focus(None)
    if matrix:
        await pilot.press("v")
    await tui.settle(pilot)


def _guessed(screen) -> bool:
    return "→" in str(screen.query_one("#cl-top").content)


def _restored(screen) -> bool:
    return str(screen.query_one("#cl-restored").content).count("\n") == 1


def test_classify_names_scores_80x24(snap_compare, saved_runs, tui):
    run_before = partial(
        _open, tui=tui, part="names", views={("names", "none")},
        typed=("#cl-name", "Satoshi", _guessed),
    )  # fmt: skip
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)


def test_classify_confusion_matrix_80x24(snap_compare, saved_runs, tui):
    run_before = partial(_open, tui=tui, part="names", views={("names", "none")}, matrix=True)
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)


def test_classify_tagging_120x40(snap_compare, saved_runs, tui):
    run_before = partial(
        _open, tui=tui, part="tag", views={("tag", "uni"), ("tag", "bi")},
        typed=("#cl-tag-text", "the time traveller said so i think", _restored),
    )  # fmt: skip
    assert snap_compare(tui.make_app(), terminal_size=(120, 40), run_before=run_before)


def test_classify_bidirectional_lm_80x24(snap_compare, saved_runs, tui):
    run_before = partial(_open, tui=tui, part="bilm", views=set())
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)
