"""The Train screen at 80x24, an ordinary terminal's size: the header's progress line keeps its
ETA and the title its status word beside the side panel (Pilot, on copies of the recorded
runs)."""

# ruff: noqa: F811 (pytest fixtures imported from test_tui_train)
from __future__ import annotations

import json
import shutil

from test_tui_train import RECORDED, T0, open_path, runs, show_train, train_app  # noqa: F401

from rnn_tui.tui.widgets.runs_table import RunsTable


def shown(widget) -> str:
    """The widget's first row as the terminal shows it."""
    return "".join(segment.text for segment in widget.render_line(0))


def live_run(tmp_path):
    live = tmp_path / "elsewhere" / "lm-lstm-20261204-124259"
    live.mkdir(parents=True)
    shutil.copy(RECORDED / "lm-lstm-recorded" / "config.json", live)
    lines = (RECORDED / "lm-lstm-recorded" / "metrics.jsonl").read_text().splitlines(True)
    (live / "metrics.jsonl").write_text("".join(lines[:70]))
    (live / "status.json").write_text(json.dumps({"status": "running"}))
    return live


async def test_the_header_keeps_its_eta_and_status_at_80_columns(runs, tui, train_app, tmp_path):
    live = live_run(tmp_path)
    app = train_app(clock=lambda: T0 + 100.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_train(pilot, tui)
        await open_path(pilot, tui, live)
        await tui.settle(pilot)
        assert screen.query_one("#train-side").display  # the side panel leaves 46 columns
        progress = shown(screen.query_one("#run-eta"))
        assert "ETA 4m" in progress and "elapsed" in progress, progress
        title = shown(screen.query_one("#run-title"))
        assert title.startswith("● running  lm-"), title
        assert "…" in title and title.rstrip().endswith("124259"), title


async def test_the_runs_table_shows_its_scores_at_80_columns(runs, tui, train_app):
    shutil.copytree(runs / "lm-lstm-recorded", runs / "lm-lstm-bidir-20261203-183412")
    app = train_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await show_train(pilot, tui)
        side = screen.query_one("#train-side")
        assert side.display
        await pilot.press("t")
        table = screen.query_one(RunsTable)
        await tui.until(pilot, lambda: table.row_count >= 4, 60)  # from a thread worker
        await tui.settle(pilot)
        assert not side.display  # the panel made way for the table
        keys = [str(k.value) for k in table.columns]
        # No run has a BLEU or macro-F1: no empty columns for them.
        assert keys[:6] == ["name", "model", "status", "epoch", "best_val_ppl", "tokens_per_s"]
        # The scores on screen; the settings that differ follow, a scroll away.
        width = sum(c.get_render_width(table) for c in list(table.columns.values())[:6])
        assert width <= table.size.width, (width, table.size.width)
        names = [str(table.get_row_at(i)[0]).strip(" █") for i in range(table.row_count)]
        # Cut in the middle: the run's time stays.
        assert any(n.startswith("lm-") and "…" in n and n.endswith("183412") for n in names), names
        await pilot.press("t")
        await tui.settle(pilot)
        assert side.display  # back as it was
