"""What following a live run costs the Train screen (issue 13, "The app never waits"): new points
alone replot the curves at most once per PLOT_EVERY_S, and the header's changing numbers repaint
without a layout pass. Over a recorded run grown by hand (no trainer, no torch); benchmarks/
bench_ui.py measures the effect on a real run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from rnn_tui.tui.screens.train import TrainScreen
from rnn_tui.tui.widgets.plot import LinePlot
from rnn_tui.tui.widgets.train_curves import ALL_PLOTS, PLOT_EVERY_S, CurvePanel
from rnn_tui.tui.widgets.train_header import RunHeader

RECORDED = Path(__file__).parent / "fixtures" / "recorded" / "lm-lstm-recorded"
LINES = (RECORDED / "metrics.jsonl").read_text(encoding="utf-8").splitlines(True)
T0 = 1_790_000_000
ONE = len(ALL_PLOTS)  # replots of one redraw of the curves


@pytest.fixture
def live(tmp_path, monkeypatch) -> Path:
    """A run still being written: the recorded LSTM's first 70 lines, status running."""
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "live"
    run.mkdir()
    (run / "config.json").write_bytes((RECORDED / "config.json").read_bytes())
    (run / "metrics.jsonl").write_text("".join(LINES[:70]), encoding="utf-8")
    (run / "status.json").write_text(json.dumps({"status": "running"}), encoding="utf-8")
    return run


def grow(run: Path, start: int, stop: int) -> None:
    with (run / "metrics.jsonl").open("a", encoding="utf-8") as f:
        f.write("".join(LINES[start:stop]))


@pytest.fixture
def train_app(tui, monkeypatch):
    import rnn_tui.tui.app as app_module

    class TrainFirst(app_module.RnnTuiApp):
        DEFAULT_MODE = "train"
        MODES: ClassVar = {
            **app_module.RnnTuiApp.MODES,
            "train": lambda: TrainScreen(clock=lambda: T0 + 100.0),
        }

    monkeypatch.setattr(app_module, "RnnTuiApp", TrainFirst)
    return tui.make_app


async def opened(pilot, tui, run: Path, clock=None) -> TrainScreen:
    await tui.settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TrainScreen)
    if clock is not None:
        screen.query_one(CurvePanel).clock = clock
    assert screen.open_run(run)
    await tui.settle(pilot)
    return screen


def count_replots(screen: TrainScreen, monkeypatch) -> list[str]:
    replots: list[str] = []
    for plot in screen.query(LinePlot):
        original = plot.replot

        def replot(plot=plot, original=original) -> None:
            replots.append(plot.id or "")
            original()

        monkeypatch.setattr(plot, "replot", replot)
    return replots


def count_layouts(screen: TrainScreen) -> list[int]:
    """A list that grows by one at each layout pass of `screen`."""
    layouts: list[int] = []
    original = screen._refresh_layout

    def refresh_layout(*args, **kwargs) -> None:
        layouts.append(1)
        original(*args, **kwargs)

    screen._refresh_layout = refresh_layout
    return layouts


async def test_new_points_replot_at_most_once_per_interval(
    live, tui, train_app, monkeypatch
) -> None:
    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        now = [1000.0]
        screen = await opened(pilot, tui, live, clock=lambda: now[0])
        replots = count_replots(screen, monkeypatch)
        step = screen.query_one("#plot-loss", LinePlot)

        grow(live, 70, 90)  # the first new points after opening: drawn at once
        screen.poll()
        await pilot.pause()
        assert len(replots) == ONE
        points = len(step._series[0][1])

        grow(live, 90, 110)  # more within the interval: they wait, the header does not
        now[0] += PLOT_EVERY_S / 4
        screen.poll()
        await pilot.pause()
        assert len(replots) == ONE and len(step._series[0][1]) == points
        # 4 epochs done, the 5th's last minibatch logged: the header has moved on
        assert "epoch 5/12 · batch 40/40" in str(screen.query_one("#run-eta").render())

        now[0] += PLOT_EVERY_S / 4  # no new data: nothing to draw
        screen.poll()
        await pilot.pause()
        assert len(replots) == ONE

        # The interval passed (PLOT_EVERY_S, or longer after a costly drawing): the waiting
        # points are drawn.
        interval = screen.query_one(CurvePanel).replot_interval()
        assert interval >= PLOT_EVERY_S
        now[0] += interval
        screen.poll()
        await pilot.pause()
        assert len(replots) == 2 * ONE and len(step._series[0][1]) > points

        # A status change is drawn at once, with every point the run brought.
        grow(live, 110, len(LINES))
        (live / "status.json").write_text(json.dumps({"status": "finished"}), encoding="utf-8")
        screen.poll()
        await pilot.pause()
        assert len(replots) == 3 * ONE
        assert step._series[0][1][-1] == pytest.approx(12.0, abs=0.05)


async def test_the_header_repaints_without_a_layout_pass(live, tui, train_app) -> None:
    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        # Opening takes the token, time stands still: the plots stay as they are.
        screen = await opened(pilot, tui, live, clock=lambda: 0.0)
        await pilot.pause()
        eta = str(screen.query_one("#run-eta").render())
        layouts = count_layouts(screen)
        for start in (70, 80, 90):
            grow(live, start, start + 10)
            screen.poll()
            await pilot.pause()
        assert str(screen.query_one("#run-eta").render()) != eta  # the header did change
        assert layouts == []
        # A metrics line that no longer fits on its rows still gets the rows it needs.
        header = screen.query_one(RunHeader)
        metrics = screen.query_one("#run-metrics")
        rows = metrics.size.height
        # The screen's poll timer would put the run's own metrics back meanwhile.
        header.show = lambda *args, **kwargs: None
        header._update("run-metrics", "lr 1.0 · " * 40)
        for _ in range(40):  # the layout pass it asked for, on a busy machine
            await pilot.pause(0.05)
            if metrics.size.height > rows:
                break
        assert metrics.size.height > rows
        assert metrics.size.height == metrics.get_content_height(
            metrics.content_size, app.size, metrics.content_size.width
        )


async def test_the_numbers_line_keeps_its_rows_while_the_run_keeps_its_status(
    live, tui, train_app
) -> None:
    """Numbers that change length wrapped the line onto one more row and back every few
    seconds; each time, a layout pass moved the plots and built them again."""
    from dataclasses import replace

    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot, tui, live, clock=lambda: 0.0)
        await pilot.pause()
        header = screen.query_one(RunHeader)
        metrics = screen.query_one("#run-metrics")
        snap = screen.runs.shown()
        # The screen's poll timer would draw the run's own state meanwhile.
        show, header.show = header.show, lambda *args, **kwargs: None
        layouts = count_layouts(screen)

        async def shown(snap, system: str) -> int:
            show(snap, None, system=system)
            for _ in range(5):
                await pilot.pause(0.02)
            return metrics.size.height

        strip = "trainer pid 1 · CPU 100 %"  # the system strip, while a trainer is at work
        rows = await shown(snap, strip)
        assert await shown(snap, strip * 4) == rows + 1  # more rows: at once
        grown = len(layouts)
        assert grown >= 1
        assert await shown(snap, strip) == rows + 1  # fewer: the rows stay, nothing moves
        assert await shown(snap, strip * 3) == rows + 1
        assert len(layouts) == grown
        # Another status (here the run ends) gives them back, and so does the trainer's exit.
        finished = replace(snap, status="finished")
        assert await shown(finished, strip) == rows
        assert await shown(finished, "") == rows - 1
        assert await shown(None, "") < rows + 1


async def test_the_curves_replot_within_one_percent_of_a_core(live, tui, train_app) -> None:
    """New points alone wait until the latest drawing's CPU time is at most 1 % of the time
    between two drawings (never less than PLOT_EVERY_S)."""
    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot, tui, live, clock=lambda: 0.0)
        panel = screen.query_one(CurvePanel)
        shown = [plot for plot in panel.query(LinePlot) if plot.display]
        assert len(shown) == 4  # the 2×2 grid
        for plot in panel.query(LinePlot):
            plot.draw_seconds = 0.012  # a plotext figure of this size: 8–16 ms
        assert panel.replot_interval() == pytest.approx(4 * 0.012 / 0.01)
        for plot in shown:
            plot.draw_seconds = 0.001
        assert panel.replot_interval() == PLOT_EVERY_S


async def test_no_screen_lays_itself_out_again_while_nothing_changes(tui, tmp_path, monkeypatch):
    """Idle, with no run to follow, no screen repaints by polling: the lab screens poll their
    runs 4 times a second, and the Classify screen's panels updated their texts with the
    same content each time, a whole-screen layout pass (12–16 ms of CPU) every 250 ms."""
    from rnn_tui.tui.app import SCREEN_SPECS

    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        idle = {}
        for spec in SCREEN_SPECS:
            await pilot.press(spec.function_key)
            await tui.settle(pilot)
            await pilot.pause(0.6)  # the first polls draw what there is
            layouts = count_layouts(app.screen)
            await pilot.pause(1.1)  # 4 polls of a lab screen, 1 of the Train screen
            idle[spec.mode] = len(layouts)
        assert idle == dict.fromkeys(idle, 0), idle
