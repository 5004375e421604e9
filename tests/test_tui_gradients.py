"""The Gradients screen with Pilot: the Flow tab's curves and facts (fresh seeded cells, no
training), its refusals, and the Inside tab reading a text with the shipped character LSTM
(connectivity, heatmap, one step unrolled, moving the step)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static, TabbedContent

from rnn_tui.tui.widgets.checkpoint_picker import CheckpointPicker
from rnn_tui.tui.widgets.gradient_flow import FlowPanel
from rnn_tui.tui.widgets.heatmap import Heatmap
from rnn_tui.tui.widgets.plot import LinePlot

SHIPPED_LSTM = Path(__file__).parents[1] / "checkpoints" / "timemachine-char-lstm.json"
FORECAST_RUN = Path(__file__).parent / "fixtures" / "recorded-forecast" / "forecast-gru-recorded"


def drawn(widget: Static) -> str:
    """The text a Static was given (its lines, as plain text)."""
    return str(widget.content)


async def until(pilot, condition, timeout: float = 60.0) -> None:
    """Pause until `condition()` holds (a worker started by a message may not be running yet
    when the app's workers are first waited on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def open_gradients(pilot, tui):
    screen = await tui.open_screen(pilot, "gradients")
    await tui.settle(pilot)
    await pilot.pause()  # the facts' new height is laid out
    return screen


async def test_flow_draws_the_three_cases_and_the_linear_closed_form(no_checkpoints, tui) -> None:
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        plot = screen.query_one("#flow-plot", LinePlot)
        labels = [label for label, *_ in plot._series]
        assert labels == ["tanh ρ=0.8", "tanh ρ=2", "lstm f-bias 2", "linear ρ=0.8", "closed form"]
        facts = drawn(screen.query_one("#flow-facts", Static))
        assert "its closed form (W_hh^(T−t))ᵀ: the same within 1e-12" in facts
        assert "cosine 1.000000" in facts and "truncated after τ=10" in facts
        # Small vanishes, large explodes, the gated one keeps it (‖g_1‖/‖g_T‖).
        assert "4.1e-13" in facts and "9.5e+05" in facts and "1.7e+00" in facts


async def test_a_bad_field_is_one_line_and_the_curves_stay(no_checkpoints, tui) -> None:
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        field = screen.query_one("#flow-length", Input)
        field.value = "0"
        field.focus()
        await pilot.press("enter")
        await tui.settle(pilot)
        assert tui.errors(pilot.app) == ["T: an integer in [1, 5,000]"] or tui.errors(pilot.app)[
            -1
        ].startswith("length")
        assert len(screen.query_one("#flow-plot", LinePlot)._series) == 5


async def test_a_small_rho_above_the_large_one_is_measured_with_a_warning(
    no_checkpoints, tui
) -> None:
    async with tui.make_app().run_test(size=(120, 40), notifications=True) as pilot:
        screen = await open_gradients(pilot, tui)
        for name, value in (("length", "6"), ("small", "3"), ("large", "0.5")):
            screen.query_one(f"#flow-{name}", Input).value = value
        screen.query_one("#flow-length", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: "tanh ρ=3" in drawn(screen.query_one("#flow-facts", Static)))
        # What the app said: the warning's toast may have expired while the flow was computed.
        warnings = [message for message, severity in pilot.app.notified if severity == "warning"]
        assert warnings == [
            "small ρ 3 is not below large ρ 0.5: the RNN meant to vanish may explode (each "
            "curve is labelled with its ρ)"
        ]


async def test_the_note_says_how_far_a_measurement_is_and_a_newer_one_stops_it(
    no_checkpoints, tui, monkeypatch
) -> None:
    # At 5,000 steps and 1,024 units a measurement takes minutes: the note says how far it is,
    # and one that a newer measurement replaced stops instead of running on in its thread.
    from rnn_tui.tui.screens import gradients

    monkeypatch.setattr(gradients, "PROGRESS_EVERY_S", 0.0)
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        panel = screen.query_one(FlowPanel)
        note = screen.query_one("#flow-note", Static)
        assert drawn(note) == FlowPanel.NOTE
        shown: list[str] = []
        panel.measuring = lambda text: shown.append(text) or FlowPanel.measuring(panel, text)
        stopped = []
        progress_of = screen._progress

        def watched(worker, show):
            progress = progress_of(worker, show)

            def line(text: str) -> None:
                try:
                    progress(text)
                except gradients.Superseded:
                    stopped.append(worker)
                    raise

            return line

        screen._progress = watched
        screen.query_one("#flow-length", Input).value = "3000"
        screen.query_one("#flow-hidden", Input).value = "64"
        screen.action_measure()
        await until(pilot, lambda: len(shown) > 5)
        assert drawn(note).startswith("measuring…\ntanh ρ=0.8: step ")
        first = next(w for w in screen.workers if w.group == "flow")
        screen.query_one("#flow-length", Input).value = "50"
        screen.action_measure()
        await until(pilot, lambda: stopped == [first])
        await tui.settle(pilot)
        await pilot.pause()
        assert drawn(note) == FlowPanel.NOTE
        assert len(screen.query_one("#flow-plot", LinePlot)._series[0][1]) == 50
        assert "gradient flow, clipping and BPTT terms: back to step 1 of 50" in shown


async def test_the_fifth_curves_tooltip_names_the_corpus_it_reads(no_checkpoints, tui) -> None:
    # "checkpoint · corpus" reads the start of the checkpoint's own corpus (probe/report.py): the
    # tooltip said the Time Machine's, whatever the model was trained on.
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        tooltip = str(screen.query_one("#flow-also", Select).tooltip)
        assert "Time Machine" not in tooltip
        assert "the first T tokens of the corpus it was trained on" in tooltip


async def test_the_fifth_curve_is_a_gru_or_needs_a_checkpoint(no_checkpoints, tui) -> None:
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        plot = screen.query_one("#flow-plot", LinePlot)
        screen.query_one("#flow-also", Select).value = "gru"
        await until(pilot, lambda: plot._series[-1][0] == "gru (fresh)")
        await pilot.pause()
        assert "fresh gru (ρ 1):\n  clipping" in drawn(screen.query_one("#flow-facts", Static))
        screen.query_one("#flow-also", Select).value = "corpus"
        await until(pilot, lambda: bool(tui.errors(pilot.app)))
        assert tui.errors(pilot.app) == ["also: choose a checkpoint on the Inside tab first"]


async def test_a_stacked_checkpoints_curve_says_it_is_its_top_layers(no_checkpoints, tui) -> None:
    # The shipped 2-layer LSTM's curve was "lstm · random", as if it had one layer.
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        await shipped_lstms_fifth_curve(pilot, tui, "random")


async def shipped_lstms_fifth_curve(pilot, tui, also: str):
    """The Flow tab at length 30 with the shipped 2-layer LSTM's curve beside the cases, on
    `also` ("random" or "corpus"); the screen, once that curve is drawn."""
    screen = await open_gradients(pilot, tui)
    await read_with(pilot, tui, screen, SHIPPED_LSTM)
    screen.query_one(TabbedContent).active = "grad-flow"
    await pilot.pause()
    screen.query_one("#flow-length", Input).value = "30"
    screen.query_one("#flow-also", Select).value = also
    plot = screen.query_one("#flow-plot", LinePlot)
    await until(pilot, lambda: plot._series[-1][0] == f"lstm top of 2 · {also}")
    return screen


async def read_with(pilot, tui, screen, path: Path) -> None:
    screen.query_one(TabbedContent).active = "grad-inside"
    await pilot.pause()
    picker_select = screen.query_one("#inside-checkpoint", Select)
    picker_select.value = "path"
    await pilot.pause()
    field = screen.query_one("#inside-path", Input)
    field.value = str(path)
    field.focus()
    await pilot.press("enter")
    await tui.settle(pilot)


async def test_inside_reads_a_text_with_a_trained_model(no_checkpoints, tui) -> None:
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        await read_with(pilot, tui, screen, SHIPPED_LSTM)
        assert not tui.errors(pilot.app)
        inside = screen.inside
        T = len(inside["ids"])
        heatmap = screen.query_one(Heatmap)
        assert heatmap.matrix.shape == (256, T) and heatmap.signed
        assert screen.t == T - 1
        step = drawn(screen.query_one("#inside-step", Static))
        assert f"step {T}: reads 'g' with h_{T - 1} → h_{T}" in step
        assert "one matrix product does both" in step
        # An LSTM's unrolled products are its memory candidate's: d2l's W_xc and W_hc.
        assert "x_t·W_xc" in step and "concat(W_xc, W_hc)" in step
        screen.set_focus(None)
        await pilot.press("comma", "comma")
        await tui.settle(pilot)
        assert screen.t == T - 3
        assert f"step {T - 2}:" in drawn(screen.query_one("#inside-step", Static))
        line = drawn(screen.query_one("#inside-connectivity", Static))
        assert f"after step {T - 2}" in line
        # A gate: values in [0, 1], drawn on the sequential scale.
        screen.query_one("#inside-gate", Select).value = "f"
        await tui.settle(pilot)
        assert not heatmap.signed and heatmap.matrix.min() >= 0 and heatmap.matrix.max() <= 1


async def test_a_step_moved_past_stops_its_connectivity_pass(
    no_checkpoints, tui, monkeypatch
) -> None:
    # At 1,000 tokens of the shipped LSTM each step's connectivity is a pass of seconds: one
    # the cursor moved past ran on in its thread, so six presses of , showed their step only
    # after six passes (9.6 s against 1.7 s for one).
    import threading

    from rnn_tui.probe import gradients as probe_gradients
    from rnn_tui.tui.screens import gradients

    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        screen.query_one("#inside-text", Input).value = "the time traveller " * 60
        await read_with(pilot, tui, screen, SHIPPED_LSTM)
        T = len(screen.inside["ids"])
        assert T == gradients.MAX_TOKENS
        ends: dict[int, str] = {}
        started, moved_on = threading.Event(), threading.Event()
        real = probe_gradients.connectivity

        def watched(cell, tokens, position, *args, **kwargs):
            ends[position] = "started"
            if position == T - 1:  # the cursor moves on while this pass is under way
                started.set()
                moved_on.wait(20)
            try:
                weights = real(cell, tokens, position, *args, **kwargs)
            except gradients.Superseded:
                ends[position] = "stopped"
                raise
            ends[position] = "done"
            return weights

        monkeypatch.setattr(probe_gradients, "connectivity", watched)
        screen.set_focus(None)
        await pilot.press("comma")
        await until(pilot, started.is_set)
        await pilot.press("comma")
        moved_on.set()
        await tui.settle(pilot)
        await until(pilot, lambda: ends[T - 1] != "started" and ends.get(T - 2) == "done")
        assert ends == {T - 1: "stopped", T - 2: "done"}
        await tui.settle(pilot)
        assert f"after step {T - 2}:" in drawn(screen.query_one("#inside-connectivity", Static))


async def test_the_influence_row_is_fitted_again_when_the_terminal_narrows(
    no_checkpoints, tui
) -> None:
    # Fitted to the width it was drawn at, the line over the row stayed 120 columns' at 80:
    # from step 1,000 on it wrapped, and its second line hid the shaded tokens.
    from rich.cells import cell_len

    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        screen.query_one("#inside-text", Input).value = "the time traveller " * 60
        await read_with(pilot, tui, screen, SHIPPED_LSTM)
        widget = screen.query_one("#inside-connectivity", Static)
        assert drawn(widget).splitlines()[0].endswith("(, . move)")
        await pilot.resize_terminal(80, 24)
        await tui.settle(pilot)
        await pilot.pause()
        head, row = drawn(widget).splitlines()
        assert head.startswith("influence on the prediction after step 1000")
        assert cell_len(head) <= widget.size.width and cell_len(row) <= widget.size.width


async def test_inside_says_what_of_the_text_is_not_read_as_typed(
    no_checkpoints, tui, monkeypatch
) -> None:
    # Characters outside the vocabulary (cleaned to spaces) and a text past MAX_TOKENS went
    # without a word: the default text is read as typed, these are said in a warning.
    from rnn_tui.tui.screens import gradients

    monkeypatch.setattr(gradients, "MAX_TOKENS", 5)
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        field = screen.query_one("#inside-text", Input)
        assert field.value == ""  # the seeds' text, as the placeholder
        field.value = field.placeholder[:5]
        await read_with(pilot, tui, screen, SHIPPED_LSTM)
        await until(pilot, lambda: screen.inside is not None)
        assert [n for n in pilot.app.notified if n[1] == "warning"] == []
        field.value = "日本語 émoji 🎉 x"
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: "".join(screen.inside["tokens"]) == " moji")
        warnings = [message for message, severity in pilot.app.notified if severity == "warning"]
        assert warnings == [
            "⚠ cleaned as the corpus was (letters a–z only): '日', '本', '語', 'é', '🎉' read as "
            "spaces · the text is 7 char tokens long: only the first 5 are read"
        ]


async def test_inside_refuses_a_checkpoint_that_is_not_a_language_model(
    no_checkpoints, tui
) -> None:
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        await read_with(pilot, tui, screen, FORECAST_RUN)
        # A search ending after the path was typed chooses it again (the picker posts Chosen
        # once more): it is not read, nor told, twice.
        picker = screen.query_one(CheckpointPicker)
        picker.post_message(CheckpointPicker.Chosen(str(FORECAST_RUN)))
        await pilot.pause()
        await tui.settle(pilot)
        errors = tui.errors(pilot.app)
        assert len(errors) == 1, errors
        assert "'forecast' checkpoint; looking inside a cell needs a language model" in errors[0]
        assert screen.inside is None and pilot.app.is_running


async def test_a_unit_typed_in_the_search_goes_to_the_top(no_checkpoints, tui) -> None:
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        await read_with(pilot, tui, screen, SHIPPED_LSTM)
        heatmap = screen.query_one(Heatmap)
        assert not heatmap.labels[0].startswith("u7 ")
        field = screen.query_one("#inside-unit", Input)
        field.value = "7"
        await pilot.pause()
        assert heatmap.labels[0].startswith("u7 ")
        acts = screen.inside["acts"].values["h"]
        assert (heatmap.matrix[0] == acts[:, 7]).all()
        field.value = "999"  # no such unit: marked, and the ranking stays
        await pilot.pause()
        assert field.has_class("-invalid") and not heatmap.labels[0].startswith("u999")
        # Enter on it says so (it went without a word).
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert tui.errors(pilot.app) == [
            "unit must be an integer in [0, 255]: the model has 256 units (got '999')"
        ]
        # isdigit() passed these and int() raised: the app closed.
        for typed in ("9" * 5000, "²", "１２"):  # full-width digits: refused as elsewhere
            field.value = typed
            await pilot.pause()
            assert pilot.app.is_running and field.has_class("-invalid")


async def test_square_brackets_switch_the_tab_and_leave_no_field_focused(
    no_checkpoints, tui
) -> None:
    async with tui.make_app().run_test(size=(80, 24)) as pilot:
        screen = await open_gradients(pilot, tui)
        tabs = screen.query_one(TabbedContent)
        screen.query_one("#flow-length", Input).focus()
        await pilot.press("escape", "right_square_bracket")
        await pilot.pause()
        assert tabs.active == "grad-inside"
        assert not isinstance(pilot.app.focused, Input)  # a letter next is the screen's key
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert tabs.active == "grad-flow"
        # The command palette has it too.
        (switch,) = [c for title, _, c in screen.palette_commands() if "other tab" in title]
        switch()
        await pilot.pause()
        assert tabs.active == "grad-inside"
        # The Inside tab's own commands, run on the Flow tab, show it (they changed a hidden
        # tab, or nothing, without a word).
        (step,) = [c for title, _, c in screen.palette_commands() if "next step" in title]
        for command in (step, screen.action_next_feature):
            tabs.active = "grad-flow"
            await pilot.pause()
            command()
            await pilot.pause()
            assert tabs.active == "grad-inside"


async def test_coming_back_lists_checkpoints_saved_meanwhile(no_checkpoints, tui, tmp_path) -> None:
    from lm_fixtures import copy_checkpoint

    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        assert screen.query_one(CheckpointPicker).paths == []
        run = tmp_path / "runs" / "lm-lstm-1" / "checkpoints"
        run.mkdir(parents=True)
        saved = copy_checkpoint(SHIPPED_LSTM.with_suffix(".safetensors"), run / "best.safetensors")
        await tui.open_screen(pilot, "dataset")
        await tui.open_screen(pilot, "gradients")
        await tui.settle(pilot)
        assert screen.query_one(CheckpointPicker).paths == [str(saved)]


async def test_a_drop_down_is_as_wide_as_its_longest_choice_at_80_columns(tui) -> None:
    """The Flow form's column is 24 cells at 80 × 24; its "also" choices used to wrap over
    two or three lines each in a list as narrow as the field."""
    from textual.widgets._select import SelectOverlay

    from rnn_tui.tui.widgets.gradient_flow import ALSO

    async with tui.make_app().run_test(size=(80, 24)) as pilot:
        screen = await open_gradients(pilot, tui)
        select = screen.query_one("#flow-also", Select)
        select.expanded = True
        await pilot.pause()
        overlay = select.query_one(SelectOverlay)
        assert overlay.region.height == len(ALSO)  # one line each: none wraps
        assert overlay.content_region.width >= max(len(label) for label, _ in ALSO)
        assert overlay.region.right <= 80


async def test_the_facts_and_legend_say_a_whole_sequence_tau_and_where_a_curve_overflowed(
    no_checkpoints, tui
) -> None:
    # τ past the length showed τ=1 while the field said 10; a curve that overflowed to inf
    # read "g_1/g_T inf" with no word of where its drawn part stops.
    from dataclasses import replace

    from rnn_tui.probe.options import GRADIENT_OPTIONS
    from rnn_tui.probe.report import compare_flows, gradient_report

    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        options = {o.name: o.default for o in GRADIENT_OPTIONS} | {"length": 4, "truncate": 10}
        report = gradient_report(options)
        flows = compare_flows(4, 8, 0.8, 2.0, 2.0)
        label, large = flows[1]
        flows[1] = (label, replace(large, norms=[float("inf"), float("inf"), 5.0, 1.0]))
        screen.query_one(FlowPanel).show(flows, report)
        await pilot.pause()
        facts = drawn(screen.query_one("#flow-facts", Static))
        assert "truncated after τ=10 (the whole sequence of 4)" in facts
        assert "g_1/g_T inf to t=2" in facts
        labels = [label for label, *_ in screen.query_one(LinePlot)._series]
        assert "tanh ρ=2 (inf to t=2)" in labels


async def test_a_checkpoint_that_fails_to_load_gives_way_to_the_one_shown(
    no_checkpoints, tui, tmp_path
) -> None:
    """Inside: a listed checkpoint whose tensors are cut short fails to read; the picker and
    its facts line name again the checkpoint whose numbers are still shown, and r reads it."""
    from lm_fixtures import copy_checkpoint

    runs = tmp_path / "runs"
    good = copy_checkpoint(
        SHIPPED_LSTM.with_suffix(".safetensors"), runs / "lm-a" / "checkpoints" / "best.safetensors"
    )
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        screen.query_one(TabbedContent).active = "grad-inside"
        select = screen.query_one("#inside-checkpoint", Select)
        await until(pilot, lambda: screen.inside is not None)
        assert select.value == str(good)
        await tui.settle(pilot)  # the facts line fitted to its width
        facts = drawn(screen.query_one("#inside-facts", Static))
        inside = screen.inside
        broken = copy_checkpoint(good, runs / "lm-b" / "checkpoints" / "best.safetensors")
        with open(broken, "r+b") as handle:
            handle.truncate(100)
        await tui.open_screen(pilot, "dataset")
        await tui.open_screen(pilot, "gradients")
        await tui.settle(pilot)
        select.value = str(broken)
        await until(pilot, lambda: bool(tui.errors(pilot.app)))
        await tui.settle(pilot)
        assert "best.safetensors has 100 bytes" in tui.errors(pilot.app)[-1]
        assert select.value == str(good)
        assert drawn(screen.query_one("#inside-facts", Static)) == facts
        assert screen.inside is inside
        # Chosen again, it fails again: it was taken as read already, its name over the
        # other checkpoint's numbers and no error.
        select.value = str(broken)
        await until(pilot, lambda: len(tui.errors(pilot.app)) == 2)
        await tui.settle(pilot)
        assert select.value == str(good)
        assert drawn(screen.query_one("#inside-facts", Static)) == facts
        screen.set_focus(None)
        await pilot.press("r")
        await until(pilot, lambda: screen.inside is not inside)
        assert len(tui.errors(pilot.app)) == 2


def test_the_facts_columns_stay_aligned_whatever_the_widths_of_the_numbers() -> None:
    # A three-decimal ρ (0.727) or a long rate shifted the columns after it on its line.
    from dataclasses import replace

    from rnn_tui.probe.options import GRADIENT_OPTIONS
    from rnn_tui.probe.report import compare_flows, gradient_report
    from rnn_tui.tui.widgets.gradient_flow import facts

    options = {o.name: o.default for o in GRADIENT_OPTIONS} | {"length": 4}
    flows = compare_flows(4, 8, 0.8, 2.0, 2.0)
    label, flow = flows[0]
    flows[0] = (label, replace(flow, spectral_radius=0.727))
    label, flow = flows[1]
    flows[1] = (label, replace(flow, norms=[1e-30, 1e-20, 1e-10, 1.0]))
    lines = [line for line in facts(flows, gradient_report(options)).plain.split("\n")]
    cases = [line for line in lines if line.startswith("█ ")]
    assert len(cases) == 4 and "ρ 0.727 " in cases[0] and "/step" in cases[1]
    assert len({line.index("ρ ") for line in cases}) == 1
    assert len({line.index("×") for line in cases}) == 1
    assert len({line.index("g_1/g_T") for line in cases}) == 1


def test_the_flow_facts_name_an_lstms_recurrent_weight() -> None:
    from rnn_tui.probe.options import GRADIENT_OPTIONS
    from rnn_tui.probe.report import compare_flows, gradient_report
    from rnn_tui.tui.widgets.gradient_flow import facts

    options = {o.name: o.default for o in GRADIENT_OPTIONS} | {"length": 12}
    flows = compare_flows(12, 8, 0.8, 2.0, 2.0)
    lstm = facts(flows, gradient_report(options | {"cell": "lstm"})).plain
    assert "‖dropped‖/‖∂L/∂W_hc‖" in lstm and "W_hh‖" not in lstm
    assert "‖dropped‖/‖∂L/∂W_hh‖" in facts(flows, gradient_report(options)).plain


def test_the_closed_form_agreement_leaves_out_steps_that_overflowed() -> None:
    # ρ 100 over 5,000 steps overflowed both the measured norms and the closed form: inf − inf
    # made the comparison read "the same within nan".
    from dataclasses import replace

    from rnn_tui.probe.options import GRADIENT_OPTIONS
    from rnn_tui.probe.report import compare_flows, gradient_report
    from rnn_tui.tui.widgets.gradient_flow import facts

    inf = float("inf")
    report = gradient_report({o.name: o.default for o in GRADIENT_OPTIONS} | {"length": 4})
    flows = compare_flows(4, 8, 0.8, 2.0, 2.0)
    label, linear = flows[3]
    assert linear.predicted is not None

    def agreement(norms, predicted):
        flows[3] = (label, replace(linear, norms=norms, predicted=predicted))
        text = facts(flows, report).plain
        start = text.index("closed form")
        end = text.index("\n", start)
        if text[end + 1 :].startswith("    where"):
            end = text.index("\n", end + 1)
        return " ".join(text[start:end].split(": ", 1)[1].split())

    assert agreement([inf, inf, 2.0, 1.0], [inf, inf, 2.0, 1.0]) == (
        "the same within 1e-12 where finite (2 of 4 steps overflowed)"
    )
    assert agreement([inf, 4.4, 2.0, 1.0], [inf, 4.0, 2.0, 1.0]) == (
        "the same within 1.0e-01 where finite (1 of 4 steps overflowed)"
    )
    assert agreement([inf] * 4, [inf] * 4) == "both overflowed at every step"
    assert agreement([3.0, 2.0, 1.0, 1.0], [3.0, 2.0, 1.0, 1.0]) == "the same within 1e-12"


async def test_the_influence_row_keeps_its_line_at_80_columns_past_step_1000(tui) -> None:
    # From step 1,000 on the line over it wrapped at 80 columns and pushed the row out.
    from rnn_tui.tui.widgets.inside_panel import InsidePanel

    async with tui.make_app().run_test(size=(80, 24)) as pilot:
        screen = await open_gradients(pilot, tui)
        screen.query_one(TabbedContent).active = "grad-inside"
        await pilot.pause()
        panel = screen.query_one(InsidePanel)
        tokens = list("abcdefghij" * 101)
        panel.show_connectivity(tokens, [1.0] * 1000, 999)
        await pilot.pause()
        widget = screen.query_one("#inside-connectivity", Static)
        head, row = (widget.render_line(y).text for y in range(2))
        assert head.startswith("influence on the prediction after step 1000")
        assert row.strip() and set(row.strip()) <= set("abcdefghij")


async def test_inside_says_when_a_runs_best_failed_its_check(no_checkpoints, tui, tmp_path) -> None:
    # The last checkpoint was read in its place without a word.
    from lm_fixtures import copy_checkpoint

    run = tmp_path / "run"
    for name in ("last", "best"):
        copy_checkpoint(SHIPPED_LSTM.with_suffix(".safetensors"), run / f"{name}.safetensors")
    best = run / "best.safetensors"
    best.write_bytes(best.read_bytes()[:-1] + bytes([best.read_bytes()[-1] ^ 1]))
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        await read_with(pilot, tui, screen, run)
        await until(pilot, lambda: screen.inside is not None)
        warnings = [message for message, severity in pilot.app.notified if severity == "warning"]
        assert len(warnings) == 1 and warnings[0].startswith(
            "⚠ loaded the last checkpoint instead (best: incomplete checkpoint "
        )


def test_the_fifth_curves_corpus_is_the_checkpoints_own(tmp_path) -> None:
    """ "checkpoint · corpus" read The Time Machine whatever the model was trained on: a model
    of another text saw mostly <unk>, and nothing said so."""
    import pytest

    from rnn_tui.data.errors import DataError
    from rnn_tui.probe.report import corpus_start
    from rnn_tui.runs.rundir import RunDir
    from rnn_tui.train.config import Config
    from rnn_tui.train.engine import Trainer

    corpus = tmp_path / "greek.txt"
    corpus.write_text("αβγ δεζ ηθι κλμ " * 400, encoding="utf-8")
    config = Config("lm", corpus=str(corpus), mode="raw", hidden=8, epochs=1, device="cpu")
    assert Trainer(config).run(RunDir(tmp_path / "run"))["status"] == "finished"
    assert corpus_start(str(tmp_path / "run"), 30) == ("αβγ δεζ ηθι κλμ " * 2)[:30]
    corpus.unlink()
    with pytest.raises(DataError, match="cannot read the checkpoint's corpus"):
        corpus_start(str(tmp_path / "run"), 30)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_fifth_curves_label_in_the_facts_is_whole(no_checkpoints, tui, size) -> None:
    # The facts cut every label to 14 characters: "lstm top of 2 · corpus" read "lstm top of 2 ".
    async with tui.make_app().run_test(size=size) as pilot:
        screen = await shipped_lstms_fifth_curve(pilot, tui, "corpus")
        await tui.settle(pilot)
        await pilot.pause()
        facts = screen.query_one("#flow-facts", Static)
        lines = [facts.render_line(y).text.rstrip() for y in range(facts.size.height)]
        cases = [line for line in lines if line.startswith("█ ")]
        fifth = cases[4]
        # Whole where it fits (120 columns); at 80 in the picker's short form of its layers;
        # the numbers after it whole either way.
        label = "lstm top of 2 · corpus" if size[0] > 80 else "lstm ×2 · corpus"
        assert fifth.startswith(f"█ {label} ") and not fifth.endswith("…")
        if size[0] > 80:  # fitted again when the terminal narrows
            await pilot.resize_terminal(80, 24)
            await tui.until(pilot, lambda: "█ lstm ×2 · corpus " in drawn(facts))
        assert len({line.index("g_1/g_T") for line in cases}) == 1


def test_the_fifth_label_has_shorter_forms_that_fit_the_facts_column() -> None:
    from dataclasses import replace

    from rnn_tui.probe.options import GRADIENT_OPTIONS
    from rnn_tui.probe.report import gradient_report
    from rnn_tui.tui.widgets.gradient_flow import LABEL, fifth_labels, fitted_label

    report = gradient_report({o.name: o.default for o in GRADIENT_OPTIONS} | {"length": 4})
    assert fifth_labels(report, "") == ("gru (fresh)",)
    stacked = replace(report, source="lstm from x", cell="lstm", layers=2)
    forms = fifth_labels(stacked, "corpus")
    assert forms == ("lstm top of 2 · corpus", "lstm ×2 · corpus", "lstm · corpus")
    scratch = replace(report, source="lstm-scratch from x", cell="lstm")
    assert fifth_labels(scratch, "random") == ("lstm-scratch · random", "lstm · random")
    assert fitted_label(forms[0], 22, forms[1:]) == "lstm top of 2 · corpus"
    assert fitted_label(forms[0], 17, forms[1:]) == "lstm ×2 · corpus"
    assert fitted_label(forms[0], LABEL, forms[1:]) == "lstm · corpus"
    assert fitted_label(forms[0], 10) == "lstm top…"


@pytest.mark.parametrize("explain", [False, True])
async def test_the_flow_facts_are_all_readable_at_80x24(no_checkpoints, tui, explain) -> None:
    # With the explain panel open the clipping and truncation lines were cut off below the
    # plot, and the checkpoint's whole path cut its "(ρ 6.56):" off the line naming it.
    from test_tui_placeholders import screen_lines

    async with tui.make_app().run_test(size=(80, 24)) as pilot:
        screen = await open_gradients(pilot, tui)
        await read_with(pilot, tui, screen, SHIPPED_LSTM)
        screen.query_one(TabbedContent).active = "grad-flow"
        await pilot.pause()
        screen.query_one("#flow-also", Select).value = "corpus"
        plot = screen.query_one("#flow-plot", LinePlot)
        await until(pilot, lambda: len(plot._series) == 6)
        screen.set_focus(None)
        if explain:
            await pilot.press("e")
        await tui.settle(pilot)
        await pilot.pause()
        column = screen.query_one("#flow-right")
        assert column.allow_focus() is explain  # a tab stop only while it scrolls
        seen: list[str] = []
        for _ in range(2):  # as drawn, then scrolled to its end
            seen += screen_lines(pilot.app)
            column.scroll_end(animate=False)
            await pilot.pause()
        shown = "\n".join(line.rstrip() for line in seen)
        assert "lstm from timemachine-char-lstm (ρ 6.56):" in shown
        assert "clipping θ=1: ‖g‖ 2.58 → 1, cosine 1.000000" in shown
        assert "truncated after τ=10: ‖dropped‖/‖∂L/∂W_hc‖ 2.07 %" in shown
        assert "closed form (W_hh^(T−t))ᵀ: the same within 1e-12" in shown  # not cut by "…"
        assert plot.region.height >= 8
        facts = screen.query_one("#flow-facts", Static)
        assert "timemachine-char-lstm.safetensors" in str(facts.tooltip)  # the whole path


def test_the_flow_facts_name_a_checkpoint_as_the_picker_lists_it() -> None:
    from rnn_tui.tui.widgets.gradient_flow import source_name

    assert source_name("fresh rnn") == "fresh rnn"
    shipped = "lstm from /x/checkpoints/timemachine-char-lstm.safetensors"
    assert source_name(shipped) == "lstm from timemachine-char-lstm"
    run = "gru from /x/runs/lm-a/checkpoints/best.safetensors"
    assert source_name(run) == "gru from lm-a/best"
    assert source_name("rnn from /x/lm-b/last.safetensors") == "rnn from lm-b/last"
