"""PartitionPanel: random sampling vs sequential partitioning, driven by keys."""

from __future__ import annotations

import pytest
from panel_harness import errors, panel_app, text_of
from textual.app import App
from textual.widgets import Input

from rnn_tui.data.corpus import load_corpus
from rnn_tui.tui.widgets.partition_panel import PartitionPanel

PanelApp = panel_app(PartitionPanel)


async def type_into(pilot, app: App, selector: str, value: str) -> None:
    field = app.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    field.value = ""
    await pilot.press(*value, "enter")
    await pilot.pause()


async def focus_view(pilot, app: App) -> None:
    app.query_one("#partition-view").focus()
    await pilot.pause()


def continues(layout, batch: int, row: int) -> bool:
    return layout.starts[batch][row] == layout.starts[batch - 1][row] + layout.num_steps


async def test_toy_preset_sequential_rows_continue():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        layout = app.query_one(PartitionPanel).shown_layout
        assert layout is not None
        assert (layout.strategy, layout.batch_size, layout.num_steps) == ("sequential", 2, 5)
        assert layout.num_tokens == 35 and layout.num_batches >= 2
        assert all(continues(layout, 1, r) for r in range(2))
        first, second = layout.starts[0][0], layout.starts[1][0]
        assert second - first == 5
        explain = text_of(app, "#partition-explain")
        assert explain.startswith("sequential: row a of batch 2 continues row a of batch 1")
        assert f"{first}–{first + 4} → {second}–{second + 4}" in explain
        # The toy's tokens are their positions: batch 1 row a reads first … first + 4.
        batches = text_of(app, "#partition-batches")
        x = " ".join(str(p).rjust(2) for p in range(first, first + 5))
        y = " ".join(str(p).rjust(2) for p in range(first + 1, first + 6))
        assert f"{x}  {y}" in batches
        strip = text_of(app, "#partition-strip")
        assert "1a" in strip and "2a" in strip and "·" in strip


async def test_strategy_key_and_new_seed_rerender():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        panel = app.query_one(PartitionPanel)
        await focus_view(pilot, app)
        await pilot.press("s")
        await pilot.pause()
        layouts = [panel.shown_layout]
        assert layouts[0].strategy == "random"
        for _ in range(5):
            await pilot.press("n")
            await pilot.pause()
            layouts.append(panel.shown_layout)
        assert app.query_one("#partition-seed", Input).value == "5"
        assert len({id(layout) for layout in layouts}) == 6
        # Random sampling does not guarantee that a row carries on: some seed breaks it.
        assert any(not continues(layout, 1, 0) for layout in layouts)
        await pilot.press("s")
        await pilot.pause()
        assert panel.shown_layout.strategy == "sequential"
        assert all(continues(panel.shown_layout, 1, r) for r in range(2))
        assert not errors(app)


async def test_random_seed_one_breaks_continuity():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        panel = app.query_one(PartitionPanel)
        await focus_view(pilot, app)
        await pilot.press("s")
        await type_into(pilot, app, "#partition-seed", "1")
        layout = panel.shown_layout
        assert layout.strategy == "random"
        assert not all(continues(layout, 1, r) for r in range(2))
        assert "does not continue" in text_of(app, "#partition-explain")


async def test_batch_too_large_notifies_and_keeps_last_view():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        panel = app.query_one(PartitionPanel)
        await pilot.pause()
        before, summary = panel.shown_layout, text_of(app, "#partition-summary")
        await type_into(pilot, app, "#partition-batch", "20")
        assert any("corpus too short" in message for message in errors(app))
        assert panel.shown_layout is before
        assert text_of(app, "#partition-summary") == summary


async def test_a_corpus_too_short_for_the_shape_leaves_the_source_on_the_toy_preset(tmp_path):
    # The control said "loaded corpus" over the toy preset still drawn.
    from rnn_tui.tui.widgets.partition_panel import TOY

    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        panel = app.query_one(PartitionPanel)
        path = tmp_path / "short.txt"
        path.write_text("one two three four five six seven eight\nnine ten\n", encoding="utf-8")
        panel.set_corpus(load_corpus(str(path), token="word"))
        await focus_view(pilot, app)
        await pilot.press("p")
        await pilot.pause()
        assert any("corpus too short" in message for message in errors(app))
        assert panel.shown_layout.num_tokens == 35
        assert app.query_one("#partition-source").value == TOY


async def showing_the_loaded_corpus(pilot, app) -> PartitionPanel:
    """The panel on "loaded corpus", of The Time Machine's first 2,000 words."""
    panel = app.query_one(PartitionPanel)
    panel.set_corpus(load_corpus("timemachine", max_tokens=2000))
    await focus_view(pilot, app)
    await pilot.press("p")
    await pilot.pause()
    return panel


async def test_a_loaded_corpus_too_short_for_the_shape_does_not_leave_the_last_one_drawn(tmp_path):
    # Loading a 4-word file over The Time Machine on show notified "corpus too short" and kept
    # drawing The Time Machine, a corpus no longer loaded, under "loaded corpus".
    from rnn_tui.tui.widgets.partition_panel import TOY

    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        panel = await showing_the_loaded_corpus(pilot, app)
        assert panel.shown_layout.num_tokens == 2000
        path = tmp_path / "short.txt"
        path.write_text("one two three four\n", encoding="utf-8")
        panel.set_corpus(load_corpus(str(path), token="word"))
        await pilot.pause()
        assert any("corpus too short" in message for message in errors(app))
        assert panel.shown_layout.num_tokens == 35
        assert app.query_one("#partition-source").value == TOY
        assert "timemachine" not in text_of(app, "#partition-summary")


async def test_bad_numbers_notify_inline():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        panel = app.query_one(PartitionPanel)
        await pilot.pause()
        before = panel.shown_layout
        await type_into(pilot, app, "#partition-steps", "0")
        assert errors(app) == ["num_steps must be a positive integer"]
        assert app.query_one("#partition-steps", Input).has_class("-invalid")
        assert panel.shown_layout is before
        await focus_view(pilot, app)  # leaving the field does not repeat the same complaint
        assert len(errors(app)) == 1
        await type_into(pilot, app, "#partition-steps", "3")
        assert panel.shown_layout.num_steps == 3


async def test_loaded_corpus_shows_tokens():
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        panel = app.query_one(PartitionPanel)
        await focus_view(pilot, app)
        await pilot.press("p")
        await pilot.pause()
        assert errors(app) == ["no corpus loaded yet: load one to partition it"]
        assert panel.shown_layout.num_tokens == 35
        corpus = load_corpus("timemachine", max_tokens=2000)
        panel.set_corpus(corpus)
        await pilot.press("p")
        await pilot.pause()
        layout = panel.shown_layout
        assert layout.num_tokens == corpus.num_tokens
        summary = text_of(app, "#partition-summary")
        assert "timemachine (2,000 word tokens)" in summary
        start = layout.starts[0][0]
        words = " ".join(corpus.flat[start : start + layout.num_steps])
        assert words in text_of(app, "#partition-batches")
        assert "not shown" in text_of(app, "#partition-strip", width=98)
        # Dropping the corpus falls back to the toy preset.
        panel.set_corpus(None)
        await pilot.pause()
        assert panel.shown_layout.num_tokens == 35


async def test_a_big_corpus_is_partitioned_over_its_first_tokens(monkeypatch):
    """The layout costs two arrays per token at every change: a corpus beyond
    MAX_PARTITIONED is laid out over its first MAX_PARTITIONED tokens, and says so."""
    import rnn_tui.tui.widgets.partition_panel as partition_panel

    monkeypatch.setattr(partition_panel, "MAX_PARTITIONED", 1500)
    app = PanelApp()
    async with app.run_test(size=(100, 32)) as pilot:
        panel = await showing_the_loaded_corpus(pilot, app)
        assert panel.shown_layout.num_tokens == 1500
        summary = text_of(app, "#partition-summary")
        assert "timemachine (its first 1,500 of 2,000 word tokens)" in summary


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_fits_small_and_large_terminals(size):
    app = PanelApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        view = app.query_one("#partition-view")
        assert view.region.height >= 8
        assert view.max_scroll_x == 0  # no sideways scrolling at either width


def test_snapshot_toy_preset(snap_compare):
    assert snap_compare(PanelApp(), terminal_size=(100, 32))
