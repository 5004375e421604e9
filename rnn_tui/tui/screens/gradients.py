"""The Gradients screen (d2l §8.7, §9.1–9.2): backpropagation through time made visible.

Flow: the gradient of a loss at step T reaching each earlier h_t, for the seeds' three cases side
by side and a linear RNN beside its closed form; clipping and truncation. Inside: a trained
language model reading a text — connectivity, the hidden units as a heatmap, one step unrolled.
Everything is computed by rnn_tui.probe in thread workers (torch is imported there, on first
use), so the screen stays responsive.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Input, Select, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from rnn_tui.decode.math_threads import on_one_math_thread
from rnn_tui.quoting import quoted
from rnn_tui.tui import explanations, guides
from rnn_tui.tui.errors import error_text
from rnn_tui.tui.screens.mode_screen import ModeScreen
from rnn_tui.tui.widgets.checkpoint_picker import CheckpointPicker
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.gradient_flow import FlowPanel, fifth_labels
from rnn_tui.tui.widgets.heatmap import Heatmap
from rnn_tui.tui.widgets.inside_panel import InsidePanel
from rnn_tui.tui.widgets.option_input import problems_line

PROGRESS_EVERY_S = 0.25  # how often the Flow tab's note says how far a measurement has come
MAX_TOKENS = 1000  # of the typed text: connectivity at the last step is a backward through all


class Superseded(Exception):
    """Raised in a measurement's thread (Flow, an Inside step) once a newer one replaced it."""


class GradientsScreen(ModeScreen):
    """Two tabs: Flow (fresh cells) and Inside (a checkpoint reading a text)."""

    DEFAULT_CSS = """
    GradientsScreen #grad-tabs {
        height: 1fr;  /* not auto: the explain panel below gets its rows */
    }
    GradientsScreen TabPane {
        padding: 0 1;
    }
    """

    EXPLAIN = explanations.GRADIENTS
    WORKER_MODULES = (
        "rnn_tui.probe.activations",
        "rnn_tui.probe.cell",
        "rnn_tui.probe.gradients",
        "rnn_tui.probe.report",
    )
    AUTO_FOCUS = "#grad-tabs Tabs"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "measure", "Measure", tooltip="compute the tab again with its options"),
        Binding("comma", "move(-1)", "Step", tooltip="the previous / next step (, and .)"),
        Binding("full_stop", "move(1)", "Step →", show=False),
        Binding("u", "next_feature", "Rank by", show=False, tooltip="the next feature to rank by"),
        Binding("escape", "leave_field", "Leave field", show=False),
        # As on the Dataset screen: the other tab without reaching for the tab bar.
        Binding("right_square_bracket", "next_tab", "Next tab", show=False, key_display="]"),
        Binding("left_square_bracket", "next_tab", "Previous tab", show=False, key_display="["),
    ]

    GUIDE = guides.GRADIENTS

    def __init__(self) -> None:
        super().__init__()
        self.inside: dict | None = None  # the checkpoint's cell, tokens and activations
        self.t = 0  # the Inside tab's step (0-based)
        # (checkpoint, text) being read, and the last one read: the picker may choose the same
        # path again (when its search ends), which must not read (or fail) twice.
        self._reading: tuple[str, str] | None = None
        self._read: tuple[str, str] | None = None
        self._failed: tuple[str, str] | None = None  # a typed path that failed, still shown

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="grad-tabs", initial="grad-flow"):
            with TabPane("Flow", id="grad-flow"):
                yield FlowPanel(id="flow-panel")
            with TabPane("Inside a model", id="grad-inside"):
                yield InsidePanel(id="inside-panel")
        yield AppFooter()

    def on_mount(self) -> None:
        self.action_measure()
        self.query_one(CheckpointPicker).search()

    def on_screen_resume(self) -> None:
        # Checkpoints saved on another screen meanwhile join the Inside tab's list.
        self.query_one(CheckpointPicker).search_again()

    # -- flow -------------------------------------------------------------------------------

    def action_measure(self) -> None:
        if self.query_one(TabbedContent).active == "grad-inside":
            self._read_text()
            return
        values, problems = self.query_one(FlowPanel).options()
        checkpoint = self._flow_checkpoint(values)
        if checkpoint is None:
            problems.append("also: choose a checkpoint on the Inside tab first")
        if problems:
            self.notify(problems_line(problems), severity="error", markup=False)
            return
        if values["small"] >= values["large"]:
            # Measured as asked (an experiment may want it); the explain panel's roles swap.
            self.notify(
                f"small ρ {values['small']:g} is not below large ρ {values['large']:g}: the "
                "RNN meant to vanish may explode (each curve is labelled with its ρ)",
                severity="warning",
            )
        self._flows(values, checkpoint)

    def _flow_checkpoint(self, values: dict) -> str | None:
        """The Inside tab's checkpoint when the fifth curve needs one (None: none chosen)."""
        if values["also"] not in ("corpus", "random"):
            return ""
        path = self.query_one(CheckpointPicker).current_path()
        return path or None

    @work(thread=True, exclusive=True, group="flow", exit_on_error=False, description="flows")
    @on_one_math_thread
    def _flows(self, v: dict, checkpoint: str):
        from rnn_tui.probe.report import compare_flows, corpus_start, gradient_report

        progress = self._progress(get_current_worker(), self.query_one(FlowPanel).measuring)
        sizes = (v["length"], v["hidden"], v["small"], v["large"], v["gate_bias"], v["seed"])
        flows = compare_flows(*sizes, progress=progress)
        # Clipping and truncation of the fifth cell when there is one, else the large RNN.
        options = {**v, "cell": "rnn", "checkpoint": "", "init_scale": v["large"], "text": ""}
        if v["also"] == "gru":
            options.update(cell="gru", init_scale=1.0)
        elif checkpoint:
            text = corpus_start(checkpoint, 20 * v["length"]) if v["also"] == "corpus" else ""
            options.update(checkpoint=checkpoint, text=text)
        report = gradient_report(options, progress)
        if v["also"] == "none":
            return flows, report, {}
        label, *shorter = fifth_labels(report, v["also"] if checkpoint else "")
        flows.append((label, report.flow))  # the facts take a shorter form where it fits
        return flows, report, {label: tuple(shorter)}

    def _progress(self, worker: Worker, show: Callable[[str], None]) -> Callable[[str], None]:
        """A measurement's progress lines, given to `show` at most every PROGRESS_EVERY_S (a
        Flow pass takes minutes at 5,000 steps and 1,024 units, an Inside one seconds at 1,000
        tokens). A measurement that a newer one replaced stops at its next step instead of
        running on in its thread, and says nothing more."""
        shown = 0.0

        def progress(text: str) -> None:
            nonlocal shown
            if worker.is_cancelled:
                raise Superseded
            now = time.monotonic()
            if now - shown >= PROGRESS_EVERY_S:
                shown = now
                self.app.call_from_thread(lambda: worker.is_cancelled or show(text))

        return progress

    @on(Input.Submitted, "#flow-panel Input")
    @on(Select.Changed, "#flow-also")
    def _flow_submitted(self) -> None:
        self.action_measure()

    # -- inside -----------------------------------------------------------------------------

    @on(CheckpointPicker.Chosen)
    def _chosen(self, message: CheckpointPicker.Chosen) -> None:
        if message.path:  # "Path…" with nothing typed yet chooses nothing
            self._read_text(again=False)

    @on(Input.Submitted, "#inside-text")
    def _text_submitted(self) -> None:
        self._read_text()

    def _read_text(self, again: bool = True) -> None:
        """Read the text with the chosen checkpoint; `again`: even if that was the last read."""
        path = self.query_one(CheckpointPicker).current_path()
        field = self.query_one("#inside-text", Input)
        text = field.value or field.placeholder
        if not path:
            self.notify("choose a language-model checkpoint first", severity="warning")
            return
        if not text.strip():
            self.notify("type a text for the model to read", severity="warning")
            return
        request = (path, text)
        if request == self._reading or (not again and request in (self._read, self._failed)):
            return
        self._reading = request
        self.workers.cancel_group(self, "step")  # the last text's step: not drawn over this one
        self.query_one(InsidePanel).measuring("reading the text", everything=True)
        self._inside(path, text)

    @work(thread=True, exclusive=True, group="inside", exit_on_error=False, description="read")
    @on_one_math_thread
    def _inside(self, path: str, text: str) -> dict:
        from rnn_tui.probe.activations import activations
        from rnn_tui.probe.cell import layer_inputs
        from rnn_tui.probe.report import cut_message, encode_text, load_cell

        cell, lm = load_cell(path)
        encoded = encode_text(text, lm)
        ids, tokens = encoded.ids[:MAX_TOKENS], encoded.tokens[:MAX_TOKENS]
        # What the model does not read as typed, said as the Generate screen says it.
        cut = cut_message(len(encoded.ids), MAX_TOKENS, lm.token)
        warnings = [w for w in [*lm.warnings, *encoded.warnings(), cut] if w]
        show = partial(self.query_one(InsidePanel).measuring, everything=True)
        acts = activations(cell, ids, tokens, self._progress(get_current_worker(), show))
        inputs = layer_inputs(cell, cell.encode(ids))  # what the top layer reads, for each step
        return {"cell": cell, "ids": ids, "tokens": tokens, "acts": acts, "inputs": inputs,
                "warnings": warnings, "token": lm.token, "mode": lm.mode,
                "unk": lm.vocab.unk}  # fmt: skip

    @work(thread=True, exclusive=True, group="step", exit_on_error=False, description="step")
    @on_one_math_thread
    def _at_step(self, inside: dict, t: int):
        import torch

        from rnn_tui.probe.activations import step_at
        from rnn_tui.probe.gradients import connectivity

        cell, ids, tokens = inside["cell"], inside["ids"], inside["tokens"]
        hs = torch.from_numpy(inside["acts"].values["h"])
        one = step_at(cell, inside["inputs"], hs, tokens, t + 1)
        if ids[t] == inside.get("unk") and tokens[t] != "<unk>":
            # The step reads what the model does: a word it lacks was shown as if read.
            typed = f"typed {tokens[t]!r}, which the vocabulary lacks"
            one = replace(one, token="<unk>", note="; ".join(filter(None, (typed, one.note))))
        worker, panel = get_current_worker(), self.query_one(InsidePanel)
        # The step itself is instant: shown while its connectivity pass runs (seconds).
        self.app.call_from_thread(lambda: worker.is_cancelled or panel.show_step(one, cell.hidden))
        show = partial(self._step_progress, t)
        return t, connectivity(cell, ids, t + 1, self._progress(worker, show)), one

    def _step_progress(self, t: int, line: str = "") -> None:
        """Say over the influence row that step t's is being measured (and how far)."""
        self.query_one(InsidePanel).measuring(f"influence after step {t + 1}: {line}".rstrip(": "))

    def _draw_heatmap(self) -> None:
        inside = self.inside
        if not inside:
            return
        # Only here, once a worker has read a text (and imported torch): the drop-downs change
        # as the screen mounts, and importing torch then would hold the event loop for seconds,
        # waiting on the import lock of the Flow worker importing it too.
        from rnn_tui.probe.activations import feature_values, rank_units

        panel = self.query_one(InsidePanel)
        acts = inside["acts"]
        gate = str(panel.query_one("#inside-gate", Select).value)
        matrix = acts.values.get(gate, acts.values["h"])
        feature = str(panel.query_one("#inside-feature", Select).value)
        words = inside["token"] == "word"
        if feature not in panel.feature_names:  # the drop-down not yet given this model's
            feature = panel.feature_names[0]
        values = feature_values(feature, acts.tokens)
        # A feature the text never varies (no quote in it) ranks nothing: every unit read 0.
        flat = bool(values.min() == values.max())
        ranked = [(j, 0.0) for j in range(matrix.shape[1])] if flat else rank_units(matrix, values)
        pinned = self._pinned_unit(matrix.shape[1])
        if pinned is not None:  # the unit searched for goes first
            ranked.sort(key=lambda unit: unit[0] != pinned)
        order = [j for j, _ in ranked]
        labels = [f"u{j}" if flat else f"u{j:<3} {r:+.2f}" for j, r in ranked]
        signed = gate in ("h", "c")
        corner = "not ranked" if flat else ""
        heatmap = panel.query_one(Heatmap)
        heatmap.show(matrix[:, order].T, acts.tokens, labels, signed, self.t, words, corner)

    def _pinned_unit(self, hidden: int) -> int | None:
        """The unit typed in the search field, when it names one of the `hidden` units."""
        field = self.query_one("#inside-unit", Input)
        text = field.value.strip()
        unit = None
        # ASCII digits: int() takes "１２" as every number field refuses it, and refuses "²";
        # past 4,300 digits it refuses any.
        if text.isascii() and text.isdecimal() and len(text) <= len(str(hidden)):
            unit = int(text)
        valid = unit is None and not text or unit is not None and unit < hidden
        field.set_class(not valid, "-invalid")
        return unit if valid else None

    @on(Input.Submitted, "#inside-unit")
    def _unit_submitted(self) -> None:
        """A unit the model does not have, said on enter (typing it only marks the field)."""
        text = self.query_one("#inside-unit", Input).value.strip()
        if not self.inside or not text:
            return
        hidden = self.inside["acts"].hidden
        if self._pinned_unit(hidden) is None:
            self.notify(
                f"unit must be an integer in [0, {hidden - 1:,}]: the model has {hidden:,} "
                f"units (got {quoted(text)})",
                severity="error",
                markup=False,
            )

    @on(Select.Changed, "#inside-gate")
    @on(Select.Changed, "#inside-feature")
    @on(Input.Changed, "#inside-unit")
    def _view_changed(self) -> None:
        self._draw_heatmap()

    def _show_inside(self) -> None:
        """The Inside tab, shown for its own commands run from the Flow tab (the palette's
        "next step" and "rank by" changed a hidden tab, or nothing, without a word)."""
        tabs = self.query_one(TabbedContent)
        if tabs.active != "grad-inside":
            self.set_focus(None)  # Textual re-shows the pane holding the focus
            tabs.active = "grad-inside"

    def action_move(self, step: int) -> None:
        self._show_inside()
        if not self.inside:
            return
        self.t = max(0, min(len(self.inside["ids"]) - 1, self.t + step))
        self._draw_heatmap()
        self._step_progress(self.t)
        self._at_step(self.inside, self.t)

    def action_next_feature(self) -> None:
        self._show_inside()
        select = self.query_one("#inside-feature", Select)
        names = list(self.query_one(InsidePanel).feature_names)
        select.value = names[(names.index(select.value) + 1) % len(names)]

    # -- results ----------------------------------------------------------------------------

    @on(Worker.StateChanged)
    def _done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        failed = None
        if worker.group == "inside" and worker.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            # Only a read that worked is the last read: remembered on failure, choosing the
            # same checkpoint again was taken as read already, its name over another's results.
            if worker.state == WorkerState.SUCCESS:
                self._read, self._failed = self._reading, None
            else:
                failed = self._reading
            self._reading = None
        if worker.state == WorkerState.ERROR:
            if worker.group in ("inside", "step"):
                self.query_one(InsidePanel).stopped()  # what is shown stays, current again
            if worker.group == "flow":
                self.query_one(FlowPanel).stopped()
            elif failed is not None:
                # What is shown stays the last checkpoint read's: the picker names it again.
                picker = self.query_one(CheckpointPicker)
                picker.load_failed(failed[0])
                # A typed path stays in its field, and the picker's search may choose it once
                # more: not read, nor told, twice. Chosen from the list, it gave way, and
                # choosing it again reads it again.
                self._failed = failed if picker.current_path() == failed[0] else None
            self.notify(error_text(worker.error), severity="error", markup=False)
            return
        if worker.state != WorkerState.SUCCESS or worker.group not in ("flow", "inside", "step"):
            return
        if worker.group == "flow":
            # No warnings told: the text read is an excerpt of the model's own corpus, cut and
            # cleaned as its training read it (the form shows τ itself).
            self.query_one(FlowPanel).show(*worker.result)
        elif worker.group == "inside" and worker.result:
            if self._read is not None:
                self.query_one(CheckpointPicker).path_loaded(self._read[0])
            self.inside = worker.result
            if self.inside["warnings"]:
                warning = "⚠ " + " · ".join(self.inside["warnings"])
                self.notify(warning, severity="warning", markup=False)
            self.t = len(self.inside["ids"]) - 1
            panel = self.query_one(InsidePanel)
            panel.set_gates(list(self.inside["acts"].values))
            panel.set_features(self.inside["token"], self.inside["mode"])
            self._draw_heatmap()
            self._step_progress(self.t)
            self._at_step(self.inside, self.t)
        elif worker.group == "step" and self.inside:
            t, weights, one = worker.result
            panel = self.query_one(InsidePanel)
            words = self.inside["token"] == "word"
            panel.show_connectivity(self.inside["tokens"], weights, t, words)
            panel.show_step(one, self.inside["cell"].hidden)

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def action_next_tab(self) -> None:
        """The other of the two tabs, with the focus on the tab bar (its own keys then work;
        a text field kept would type them)."""
        tabs = self.query_one(TabbedContent)
        self.set_focus(None)  # Textual re-shows the pane holding the focus
        tabs.active = "grad-inside" if tabs.active == "grad-flow" else "grad-flow"
        self.query_one("#grad-tabs Tabs").focus()

    def on_resize(self, event: events.Resize) -> None:
        self._draw_heatmap()

    def palette_commands(self):
        return [
            ("Gradients: measure", "Compute the tab again (r)", self.action_measure),
            ("Gradients: next step", "Inside: the next token (.)", partial(self.action_move, 1)),
            (
                "Gradients: previous step",
                "Inside: the token before (,)",
                partial(self.action_move, -1),
            ),
            ("Gradients: other tab", "Flow ⇄ Inside a model (] or [)", self.action_next_tab),
        ]


__all__ = ["GradientsScreen"]
