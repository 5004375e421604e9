"""The Gradients screen's Inside tab while a pass is under way: reading a long text and each
step's connectivity take seconds (1,000 tokens of the shipped 2-layer LSTM), and the tab says
what it is computing instead of showing the last text's step as if it were current."""

from __future__ import annotations

import threading

from test_tui_gradients import FORECAST_RUN, SHIPPED_LSTM, drawn, open_gradients, read_with, until
from textual.widgets import Input, Static

from rnn_tui.tui.widgets.inside_panel import InsidePanel


async def test_a_text_being_read_and_a_step_being_measured_are_said(
    no_checkpoints, tui, monkeypatch
) -> None:
    from rnn_tui.probe import activations as probe_activations
    from rnn_tui.probe import gradients as probe_gradients

    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        await read_with(pilot, tui, screen, SHIPPED_LSTM)
        panel = screen.query_one(InsidePanel)
        influence = screen.query_one("#inside-connectivity", Static)
        assert drawn(influence).startswith("influence on the prediction after step 78:")
        release = threading.Event()
        real_read, real_pass = probe_activations.activations, probe_gradients.connectivity

        def held_read(*args, **kwargs):
            release.wait(20)
            return real_read(*args, **kwargs)

        def held_pass(*args, **kwargs):
            release.wait(20)
            return real_pass(*args, **kwargs)

        monkeypatch.setattr(probe_activations, "activations", held_read)
        monkeypatch.setattr(probe_gradients, "connectivity", held_pass)
        field = screen.query_one("#inside-text", Input)
        field.value = "the time traveller was one of those men " * 30
        field.focus()
        await pilot.press("enter")
        # The last text's step and heatmap stay, dimmed; the row over them says the read.
        await until(pilot, lambda: drawn(influence).startswith("measuring… reading the text"))
        assert panel.has_class("-stale")
        release.set()
        await tui.settle(pilot)
        assert not panel.has_class("-stale")
        T = len(screen.inside["ids"])
        assert T == 1000 and drawn(influence).startswith(
            f"influence on the prediction after step {T}:"
        )
        release.clear()
        screen.set_focus(None)
        await pilot.press("comma")
        # The step moved at once; its influence row is unshaded until its pass is done.
        await until(
            pilot, lambda: drawn(influence).startswith(f"measuring… influence after step {T - 1}")
        )
        step = screen.query_one("#inside-step", Static)
        await until(pilot, lambda: f"step {T - 1}: reads" in drawn(step))
        assert drawn(influence).startswith("measuring…")
        release.set()
        await tui.settle(pilot)
        assert drawn(influence).startswith(f"influence on the prediction after step {T - 1}:")
        # A read that fails leaves what was shown, current again.
        await read_with(pilot, tui, screen, FORECAST_RUN)
        assert tui.errors(pilot.app) and not panel.has_class("-stale")
        assert drawn(influence).startswith(f"influence on the prediction after step {T - 1}:")
