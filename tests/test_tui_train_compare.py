"""The Train screen's comparing: the runs table (sorting, differing settings, ticking), the x
axis of the curves, the smoothing slider, and zoom, pan and log/linear on the plots (Pilot, on
copies of the recorded runs)."""

# ruff: noqa: F811 (pytest fixtures imported from test_tui_train)
from __future__ import annotations

import json

import numpy as np
from test_tui_train import runs, show_train, train_app  # noqa: F401
from textual import events

from rnn_tui.runs.follow import RunFollower
from rnn_tui.tui.widgets.plot import RAW_COLOR, LinePlot
from rnn_tui.tui.widgets.runs_table import DIFF_STYLE, MAX_CELL, MAX_SETTINGS, RunsTable
from rnn_tui.tui.widgets.slider import Slider
from rnn_tui.tui.widgets.train_curves import CurvePanel
from rnn_tui.tui.widgets.train_view import RunView


async def table_of(pilot, tui) -> tuple[object, RunsTable]:
    screen = await show_train(pilot, tui)
    await pilot.press("t")
    table = screen.query_one(RunsTable)
    await tui.until(pilot, lambda: table.row_count >= 3, 60)  # from a thread worker
    assert table.row_count == 3 and table.has_focus
    return screen, table


def names(table: RunsTable) -> list[str]:
    return [str(table.get_row_at(i)[0]).strip(" █") for i in range(table.row_count)]


def column(table: RunsTable, key: str) -> list[str]:
    return [str(c) for c in table.get_column(key)]


async def test_the_table_sorts_by_scores_and_inverts(runs, tui, train_app):
    async with train_app().run_test(size=(160, 40)) as pilot:
        screen, table = await table_of(pilot, tui)
        assert screen.query_one(RunView).table_shown
        assert (
            not screen.query_one(CurvePanel).display
            or not screen.query_one(CurvePanel).is_on_screen
        )
        # Best validation perplexity first (lowest), a run without one last.
        ppl = [float(v.replace(",", "")) for v in column(table, "best_val_ppl") if v != "—"]
        assert ppl == sorted(ppl) and len(ppl) >= 2
        while table.sort_key != "tokens_per_s":
            await pilot.press("greater_than_sign")
        speeds = [float(v.replace(",", "")) for v in column(table, "tokens_per_s") if v != "—"]
        assert speeds == sorted(speeds, reverse=True)  # a speed sorts fastest first
        await pilot.press("i")
        speeds = [float(v.replace(",", "")) for v in column(table, "tokens_per_s") if v != "—"]
        assert speeds == sorted(speeds)
        assert "▲" in str(table.ordered_columns[table.get_column_index("tokens_per_s")].label)
        await pilot.press("less_than_sign")
        # No run has a BLEU or macro-F1 (no column for them): the column shown before it.
        assert table.sort_key == "best_val_ppl"
        assert not tui.errors(pilot.app)


async def test_sorting_moves_the_rows_and_a_refresh_of_the_same_runs_builds_nothing(
    runs, tui, train_app, monkeypatch
):
    # Adding every row again held the app's loop for half a second with 300 runs.
    async with train_app().run_test(size=(160, 40)) as pilot:
        screen, table = await table_of(pilot, tui)
        table.move_cursor(row=names(table).index("lm-gru-recorded"))
        built = []
        monkeypatch.setattr(table, "add_row", lambda *a, **k: built.append(a))
        monkeypatch.setattr(table, "_cells", lambda *a, **k: built.append(a))
        table.show([dict(e) for e in screen.runs.entries()], dict(table._colors))
        while table.sort_key != "tokens_per_s":
            await pilot.press("greater_than_sign")
        speeds = [float(v.replace(",", "")) for v in column(table, "tokens_per_s") if v != "—"]
        assert speeds == sorted(speeds, reverse=True) and len(speeds) >= 2
        await pilot.press("i")
        await pilot.pause()
        speeds = [float(v.replace(",", "")) for v in column(table, "tokens_per_s") if v != "—"]
        assert speeds == sorted(speeds)
        labels = [str(c.label) for c in table.ordered_columns]
        assert sum("▲" in label or "▼" in label for label in labels) == 1
        assert "▲" in labels[table.get_column_index("tokens_per_s")]
        assert names(table)[table.cursor_row] == "lm-gru-recorded"  # the cursor kept its run
        assert built == []
        # Each column as wide as built anew: the mark's room left with it.
        await pilot.press("greater_than_sign")
        moved = [c.content_width for c in table.ordered_columns]
        monkeypatch.undo()
        table._given = table._shown = None
        table.show(screen.runs.entries(), dict(table._colors))
        await pilot.pause()  # the widths of added rows are measured when the table is idle
        assert moved == [c.content_width for c in table.ordered_columns]
        assert not tui.errors(pilot.app)


async def test_a_forecast_run_shows_and_sorts_by_its_best_rmse(runs, tui, train_app):
    # A forecast run's score had no column: its row read "—" under every score.
    async with train_app().run_test(size=(160, 40)) as pilot:
        screen, table = await table_of(pilot, tui)
        assert "best_rmse" not in [str(k.value) for k in table.columns]  # none has one
        entries = [dict(e) for e in screen.runs.entries()]
        for entry, rmse in zip(entries, (0.25, None, 0.125), strict=True):
            entry["best_rmse"] = rmse
        table.show(entries, {})
        await pilot.pause()
        assert "best_rmse" in [str(k.value) for k in table.columns]
        while table.sort_key != "best_rmse":
            await pilot.press("greater_than_sign")
        assert column(table, "best_rmse") == ["0.125", "0.25", "—"]  # lowest first
        assert not tui.errors(pilot.app)


async def test_the_table_highlights_the_settings_that_differ(runs, tui, train_app):
    async with train_app().run_test(size=(160, 40)) as pilot:
        screen, table = await table_of(pilot, tui)
        keys = [str(k.value) for k in table.columns]
        # Over all three runs: the scratch RNN has 512 hidden units, the others 256.
        assert "config:hidden" in keys and "config:lr" not in keys
        cells = [table.get_row_at(i)[keys.index("config:hidden")] for i in range(3)]
        assert {str(c) for c in cells} == {"256", "512"}
        assert all(c.style == DIFF_STYLE for c in cells)
        # Tick the GRU and the LSTM (Enter on their rows): compared alone, their hidden sizes
        # agree, so that column goes; the ticked rows carry their curves' colour.
        for name in ("lm-gru-recorded", "lm-lstm-recorded"):
            table.move_cursor(row=names(table).index(name))
            await pilot.press("enter")
            await tui.settle(pilot)
        assert sorted(p.rsplit("/", 1)[-1] for p in screen.runs.selected) == [
            "lm-gru-recorded",
            "lm-lstm-recorded",
        ]
        keys = [str(k.value) for k in table.columns]
        assert "config:hidden" not in keys
        swatches = {names(table)[i]: str(table.get_row_at(i)[0])[:1] for i in range(3)}
        assert swatches == {"lm-gru-recorded": "█", "lm-lstm-recorded": "█", "lm-rnn-running": " "}
        # Enter again unticks; t brings the curves back with both runs overlaid.
        table.move_cursor(row=names(table).index("lm-gru-recorded"))
        await pilot.press("enter")
        await tui.settle(pilot)
        assert [p.rsplit("/", 1)[-1] for p in screen.runs.selected] == ["lm-lstm-recorded"]
        await pilot.press("t")
        assert not screen.query_one(RunView).table_shown
        assert screen.query_one(CurvePanel).display
        assert not tui.errors(pilot.app)


async def test_a_hand_made_config_cannot_flood_the_table(runs, tui, train_app):
    odd = runs / "odd-run"
    odd.mkdir()
    config = {f"k{i}": i for i in range(300)}
    config["corpus"] = "/very/long/" * 30 + "\x1b[31mred"
    (odd / "config.json").write_text(json.dumps(config))
    async with train_app().run_test(size=(160, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await pilot.press("t")
        table = screen.query_one(RunsTable)
        await tui.until(pilot, lambda: table.row_count >= 4, 60)
        assert table.row_count == 4
        settings = [str(k.value) for k in table.columns if str(k.value).startswith("config:")]
        assert len(settings) == MAX_SETTINGS
        cells = [str(c) for i in range(4) for c in table.get_row_at(i)]
        assert max(map(len, cells)) <= MAX_CELL and not any("\x1b" in c for c in cells)
        assert not tui.errors(pilot.app)


async def test_a_click_on_a_heading_sorts_by_it(runs, tui, train_app):
    async with train_app().run_test(size=(160, 40)) as pilot:
        screen, table = await table_of(pilot, tui)
        index = table.get_column_index("tokens_per_s")
        x = sum(c.get_render_width(table) for c in list(table.columns.values())[:index]) + 2
        await pilot.click(RunsTable, offset=(x, 0))
        await pilot.pause()
        assert table.sort_key == "tokens_per_s" and table.descending
        assert not tui.errors(pilot.app)


def _follow(path) -> dict:
    follower = RunFollower(path)
    follower.poll()
    return follower.snapshot().series


async def test_the_x_axis_cycles_epoch_step_time(runs, tui, train_app):
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        screen.open_run(runs / "lm-gru-recorded")
        await tui.settle(pilot)
        loss = screen.query_one("#plot-loss", LinePlot)
        epochs_x = loss._series[0][1].copy()
        assert loss.xlabel == "epoch" and epochs_x.max() <= 12
        await pilot.press("a")
        await tui.settle(pilot)
        assert loss.xlabel == "step"
        steps = _follow(runs / "lm-gru-recorded")["clock_step"][1]
        assert loss._series[0][1].max() == steps.max() == 480  # 12 epochs of 40 batches
        await pilot.press("a")
        await tui.settle(pilot)
        # The last batch came 289.5 s in (its epoch ended at 306 s, after validation): past
        # two minutes, so minutes.
        assert loss.xlabel == "wall time (min)"
        assert abs(loss._series[0][1].max() - 289.5 / 60) < 1e-6
        await pilot.press("a")
        await tui.settle(pilot)
        assert loss.xlabel == "epoch"
        assert np.allclose(loss._series[0][1], epochs_x)
        assert not tui.errors(pilot.app)


async def test_the_smoothing_slider_keeps_the_raw_points(runs, tui, train_app):
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        screen.open_run(runs / "lm-gru-recorded")
        await tui.settle(pilot)
        loss = screen.query_one("#plot-loss", LinePlot)
        raw = loss._series[0][2].copy()
        assert [c for *_, c in loss._series].count(RAW_COLOR) == 0
        slider = screen.query_one(Slider)
        slider.focus()
        for _ in range(12):
            await pilot.press("right")
        await tui.settle(pilot)
        assert slider.value == 0.6
        labels = [(label, color) for label, _, _, color in loss._series]
        assert labels[0] == ("", RAW_COLOR) and labels[1][0] == "train"
        assert np.array_equal(loss._series[0][2], raw)  # the raw points, unchanged
        smoothed = loss._series[1][2]
        assert np.abs(np.diff(smoothed)).sum() < np.abs(np.diff(raw)).sum()
        # The validation curve (one point per epoch) is not smoothed.
        assert [label for label, *_ in loss._series].count("val") == 1
        await pilot.press("home")
        await tui.settle(pilot)
        assert slider.value == 0 and len(loss._series) == 2
        assert "off" in str(slider.render())
        assert not tui.errors(pilot.app)


async def test_a_plot_zooms_pans_and_switches_log_linear(runs, tui, train_app):
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        screen.open_run(runs / "lm-gru-recorded")
        await tui.settle(pilot)
        plot = screen.query_one("#plot-ppl", LinePlot)
        await pilot.click("#plot-ppl")
        assert plot.has_focus
        (x_lo, x_hi), _ = plot.bounds()
        labels = [label for label, *_ in plot._legend]
        assert any(label.startswith("trigram") for label in labels)
        await pilot.press("plus")
        lo, hi = plot.x_view
        assert abs((hi - lo) - (x_hi - x_lo) / 2) < 1e-9
        # The baseline's line crosses the zoomed view: its entry stays (its two ends, both
        # outside the view, lost it).
        await pilot.pause()
        assert [label for label, *_ in plot._legend] == labels
        await pilot.press("left")  # already at the middle: a fifth of the view to the left
        assert plot.x_view[0] < lo
        await pilot.press("right", "right", "right", "right", "right", "right", "right")
        assert plot.x_view[1] == x_hi  # stops at the data's end
        await pilot.press("0")
        assert plot.x_view is None and plot.y_view is None
        assert plot.logy
        await pilot.press("l")
        assert not plot.logy and plot._series[0][2].max() > 10  # perplexities, not their logs
        await pilot.press("l")
        assert plot.logy
        # The wheel zooms around the pointer; a drag pans.
        scroll = events.MouseScrollUp(plot, 10, 5, 0, 1, 0, False, False, False)
        plot.post_message(scroll)
        await pilot.pause()
        assert plot.x_view is not None and plot.x_view[1] - plot.x_view[0] < x_hi - x_lo
        before = plot.x_view
        await pilot.mouse_down("#plot-ppl", offset=(40, 8))
        await pilot.hover("#plot-ppl", offset=(30, 8))
        await pilot.mouse_up("#plot-ppl", offset=(30, 8))
        assert plot.x_view[0] > before[0]  # dragged left: later epochs come into view
        # Zooming out past the data shows all of it.
        await pilot.press("minus", "minus", "minus")
        assert plot.x_view is None
        assert not tui.errors(pilot.app)


# -- snapshots ---------------------------------------------------------------------------------


def test_snapshot_runs_table_120x40(runs, tui, train_app, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_train(pilot, tui)
        # The side panel hidden first, so the table is laid out at its final width once.
        await pilot.press("f")
        await tui.settle(pilot)
        screen, table = await table_of(pilot, tui)
        # Tick the GRU and the scratch RNN: their differing settings are highlighted.
        for name in ("lm-gru-recorded", "lm-rnn-running"):
            table.move_cursor(row=names(table).index(name))
            await pilot.press("enter")
            await tui.settle(pilot)

    assert snap_compare(train_app(), terminal_size=(120, 40), run_before=run_before)


def test_snapshot_smoothed_zoomed_curves_80x24(runs, tui, train_app, snap_compare) -> None:
    async def run_before(pilot) -> None:
        screen = await show_train(pilot, tui)
        screen.open_run(runs / "lm-lstm-recorded")
        await tui.settle(pilot)
        await pilot.press("f", "v")  # the loss plot, alone at 80×24
        await tui.settle(pilot)
        screen.query_one(Slider).focus()
        await pilot.press(*["right"] * 14)  # smoothing 0.7
        await pilot.click("#plot-loss")
        await pilot.press("plus", "right")
        await tui.settle(pilot)

    assert snap_compare(train_app(), terminal_size=(80, 24), run_before=run_before)
