"""The Train screen at 80x24, an ordinary terminal's size: the header's progress line keeps its
ETA and the title its status word beside the side panel (Pilot, on copies of the recorded
runs)."""

# ruff: noqa: F811 (pytest fixtures imported from test_tui_train)
from __future__ import annotations

import json
import shutil

from test_tui_train import RECORDED, T0, open_path, runs, show_train, train_app  # noqa: F401


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
