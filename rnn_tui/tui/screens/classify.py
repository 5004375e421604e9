"""The Classify screen (the seeds' RNN shapes): many-to-one (names → language), many-to-many
(a tag per character restoring the Time Machine's capitals and punctuation, one-way beside
two-way) and the seeds' warning (a bidirectional LSTM language model), as three parts.

Start (s) runs `rnn-tui train --task classify|tag|lm` subprocesses for the part shown, each
writing its own run directory; any reopens (o). The runs and the plans are kept by
runs/classify_lab.py and followed on a timer, as the Forecast screen does; after an epoch
(every 2 s at most, less often for a view costing over 4 % of a core: runs/view_pace.py) and
at a run's end the best checkpoint of a names or tagger run becomes its held-out view in a
thread worker, as does everything typed into the name and text fields (classify_jobs.py):
the screen never waits on torch. A part's form and panel are built when it is first shown:
building all three at the screen's first opening held the event loop 120–150 ms (now 78–102).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import (
    Button,
    Header,
    Input,
    Select,
    SelectionList,
    Tab,
    TabPane,
    Tabs,
)
from textual.worker import Worker, WorkerState

from rnn_tui.quoting import plain
from rnn_tui.runs.classify_lab import BILM, NAMES, NOT_OPENED, PART_TASKS, PARTS, TAG, ClassifyLab
from rnn_tui.runs.format import fmt_folder
from rnn_tui.runs.rundir import RunError
from rnn_tui.train.options import BIDIRECTIONAL_LM
from rnn_tui.tui import explanations, guides
from rnn_tui.tui.errors import error_text, gist
from rnn_tui.tui.screens.classify_jobs import classify_one, compute_view, restore_all
from rnn_tui.tui.screens.side_runs import FINISHED, SlotRunsScreen
from rnn_tui.tui.widgets.classify_bilm import BiLMPanel
from rnn_tui.tui.widgets.classify_forms import FIELD_LABELS, part_form
from rnn_tui.tui.widgets.classify_names import NAME_COLORS, NamesPanel
from rnn_tui.tui.widgets.classify_tagging import TAG_COLORS, TagPanel
from rnn_tui.tui.widgets.confusion import ConfusionMatrix
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.option_input import problems_line
from rnn_tui.tui.widgets.options_form import OptionsForm
from rnn_tui.tui.widgets.train_runs import RunPicker
from rnn_tui.tui.widgets.train_side import TrainSide

COLORS = {NAMES: NAME_COLORS, TAG: TAG_COLORS, BILM: TAG_COLORS}
PANELS: dict[str, type[NamesPanel | TagPanel | BiLMPanel]] = {
    NAMES: NamesPanel,
    TAG: TagPanel,
    BILM: BiLMPanel,
}
P = TypeVar("P", bound=Widget)


class ClassifyScreen(SlotRunsScreen):
    """The part tabs over the part shown; the form and saved runs of that part on the side."""

    FIELD_LABELS = FIELD_LABELS
    DEFAULT_CSS = """
    ClassifyScreen #cl-body {
        height: 1fr;
    }
    ClassifyScreen TrainSide {
        width: 36;
    }
    ClassifyScreen #cl-main {
        width: 1fr;
    }
    """

    AUTO_FOCUS = "#cl-parts"
    EXPLAIN = explanations.CLASSIFY
    WORKER_MODULES = (
        "rnn_tui.decode.classify",
        "rnn_tui.decode.tag",
    )
    RUNS_TAB, NEW_TAB = "cl-tab-runs", "cl-tab-new"

    FOOTER_KEPT = ("cycle",)  # a narrow footer keeps them: keys to panels not shown
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start", tooltip="train this part's runs with the form's options"),
        Binding("x", "stop", "Stop", tooltip="stop this part's runs: finish the batch, save"),
        Binding("o", "open_run", "Open run", tooltip="reopen this part's saved runs"),
        Binding("p", "next_part", "Part", tooltip="names, tagging, bidirectional LM"),
        Binding("n", "new_run", "Form", show=False, tooltip="the options of new runs"),
        Binding("f", "toggle_side", "Panel", tooltip="show or hide the form and run list"),
        Binding("v", "cycle", "Matrix", tooltip="names: the confusion matrix or the scores"),
        Binding("r", "refresh_runs", "Refresh", show=False, tooltip="rescan the runs folder"),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    GUIDE = guides.CLASSIFY

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.part = NAMES
        self.lab = self.slots = ClassifyLab(COLORS, preset=BIDIRECTIONAL_LM)
        self._requests: dict[str, int] = {}  # group → the number of its newest worker
        self._view_paths: dict[Worker, Path] = {}  # a view worker → the run it evaluates
        self._side_for_matrix = False  # the side panel was hidden to show the matrix whole
        self._built = {NAMES}  # the parts whose form and panel are mounted

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="cl-body"):
            with TrainSide(id="cl-side", initial="cl-tab-new"):
                with TabPane("New runs", id="cl-tab-new"):
                    yield part_form(NAMES)
                with TabPane("Runs", id="cl-tab-runs"):
                    yield RunPicker(id="cl-run-picker")
            with Vertical(id="cl-main"):
                yield Tabs(
                    Tab("Names → language", id=f"cl-part-{NAMES}"),
                    Tab("Tagging", id=f"cl-part-{TAG}"),
                    Tab("Bidirectional LM", id=f"cl-part-{BILM}"),
                    id="cl-parts",
                )
                yield NamesPanel(id=f"cl-{NAMES}")
        yield AppFooter()

    def on_mount(self) -> None:
        self._show_part()
        self.call_after_refresh(self.refresh_runs)  # see SideRunsScreen.refresh_runs
        self.redraw()

    # -- parts --------------------------------------------------------------------------------

    @on(Tabs.TabActivated, "#cl-parts")
    async def _part_chosen(self, event: Tabs.TabActivated) -> None:
        part = str(event.tab.id).removeprefix("cl-part-")
        if part in PARTS and part != self.part:
            # The part shown changes once its widgets are there, so a key pressed meanwhile
            # (s, n) acts on the part still shown, never on a half-built one.
            await self._build(part)
            self.part = part
            self._show_part()
            self.refresh_runs()

    async def _build(self, part: str) -> None:
        """Mount the part's form and panel, hidden, and show in them what is already known."""
        if part in self._built:
            return
        form, panel = part_form(part), PANELS[part](id=f"cl-{part}")
        form.display = panel.display = False
        await self.query_one("#cl-tab-new", TabPane).mount(form)
        await self.query_one("#cl-main", Vertical).mount(panel)
        self._built.add(part)
        if part == TAG:
            panel.show_reports({})
        if part == BILM:
            self._bilm_plan()
        self._show_views()
        self.redraw()

    def _panel(self, part: str, kind: type[P]) -> P | None:
        """The part's panel, None until it is built: the poll timer's redraw runs beside a
        build still awaiting its mount, when the panel is in the DOM without its children."""
        return self.query_one(f"#cl-{part}", kind) if part in self._built else None

    def _show_part(self) -> None:
        for part in self._built:
            self.query_one(f"#cl-{part}").display = part == self.part
            self.query_one(f"#cl-form-{part}").display = part == self.part
        self._guess()  # the answer to the name in the field, whatever the field holds

    def action_next_part(self) -> None:
        # From the tab chosen, not the part shown: a part still being built is the one a second
        # quick p moves on from.
        tabs = self.query_one("#cl-parts", Tabs)
        chosen = tabs.active.removeprefix("cl-part-")
        current = chosen if chosen in PARTS else self.part
        tabs.active = f"cl-part-{PARTS[(PARTS.index(current) + 1) % len(PARTS)]}"

    def show_part(self, part: str) -> None:
        self.query_one("#cl-parts", Tabs).active = f"cl-part-{part}"

    # -- following ----------------------------------------------------------------------------

    def redraw(self) -> None:
        for part, kind in PANELS.items():
            if panel := self._panel(part, kind):
                panel.show_progress(self.lab.pairs[part].snapshots())

    def load_views(self) -> None:
        """A names or tagger run's held-out view after an epoch (paced) and at its end."""
        for part, slot, path in self.lab.due_views():
            worker = self.run_worker(
                partial(compute_view, part, path),
                name=f"{part}:{slot}",
                group="view",
                thread=True,
                exit_on_error=False,
            )
            self._view_paths[worker] = path

    def _request(self, group: str) -> str:
        """A name for a new worker of `group`: only the newest one's result is shown (an older
        thread still finishing is not cancelled, its answer is dropped)."""
        self._requests[group] = self._requests.get(group, 0) + 1
        return f"{group}:{self._requests[group]}"

    def _stale(self, worker: Worker) -> bool:
        return worker.name != f"{worker.group}:{self._requests.get(worker.group)}"

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.state not in FINISHED:
            return
        if worker.group in ("guess", "restore") and self._stale(worker):
            return
        if worker.group == "view":
            self._view_done(worker)
        elif worker.group == "guess":
            self._guess_done(worker)
        elif worker.group == "restore":
            self._restore_done(worker)

    def _view_done(self, worker: Worker) -> None:
        part, slot = worker.name.split(":")
        path = self._view_paths.pop(worker, None)
        ok = worker.state == WorkerState.SUCCESS
        failed = worker.state == WorkerState.ERROR
        told = self.lab.view_done(part, slot, worker.result if ok else None, failed, path)
        if told:
            # One short line: the full reason names every checkpoint file and its path.
            name = plain(path.name) if path is not None else slot
            verb = "not opened" if told == NOT_OPENED else "cannot evaluate"
            self.notify(
                f"{name} {verb}: {gist(error_text(worker.error), path)}",
                severity="error",
                markup=False,
            )
            self._show_runs()
            self.redraw()
        self._show_views()
        self.call_after_refresh(self.lab.views_drawn)  # the round's CPU, drawing included
        if part == NAMES:
            self._guess()
        else:
            self._restore()

    def _show_views(self) -> None:
        self.query_one(NamesPanel).show_view(*reversed(self.lab.names_view()))
        if panel := self._panel(TAG, TagPanel):
            tagged = self.lab.shown_views(TAG)
            panel.show_reports(
                {s: v.report for s, v in tagged.items()},
                {s: v.epoch for s, v in tagged.items()},
            )

    # -- typing -------------------------------------------------------------------------------

    @on(Input.Changed, "#cl-name")
    def _guess(self) -> None:
        name = self.query_one("#cl-name", Input).value.strip()
        view = self.lab.names_view()[1]
        if not name or view is None:
            self._request("guess")  # an answer still on its way is for older text
            self.query_one(NamesPanel).show_guess(None)
            return
        self.run_worker(
            partial(classify_one, view, name),
            group="guess",
            name=self._request("guess"),
            thread=True,
            exit_on_error=False,
        )

    def _guess_done(self, worker: Worker) -> None:
        panel = self.query_one(NamesPanel)
        if worker.state == WorkerState.SUCCESS:
            panel.show_guess(worker.result)
        elif worker.state == WorkerState.ERROR:
            panel.show_guess(None, error_text(worker.error))

    @on(Input.Changed, "#cl-tag-text")
    def _restore(self) -> None:
        text = self.query_one("#cl-tag-text", Input).value
        views = self.lab.shown_views(TAG)
        if not text.strip() or not views:
            self._request("restore")
            if panel := self._panel(TAG, TagPanel):
                panel.show_restored({})
            return
        self.run_worker(
            partial(restore_all, views, text),
            group="restore",
            name=self._request("restore"),
            thread=True,
            exit_on_error=False,
        )

    def _restore_done(self, worker: Worker) -> None:
        if worker.state == WorkerState.SUCCESS and (panel := self._panel(TAG, TagPanel)):
            panel.show_restored(worker.result)

    @on(Input.Changed, "#cl-bilm-max_tokens")
    @on(Select.Changed, "#cl-bilm-model")
    def _bilm_plan(self) -> None:
        """The LM part says what its form's Start would train (the model, how much text)."""
        if panel := self._panel(BILM, BiLMPanel):
            options, problems = self.query_one(f"#cl-form-{BILM}", OptionsForm).options()
            if not problems:
                panel.show_plan(str(options["model"]), options["max_tokens"])

    # -- starting and stopping ----------------------------------------------------------------

    def action_start(self) -> None:
        part = self.part
        options, problems = self.query_one(f"#cl-form-{part}", OptionsForm).options()
        if problems:
            self.notify("cannot start: " + problems_line(problems), severity="error", markup=False)
            return
        plan, refusal = self.lab.plan(part, options)
        if refusal:
            self.notify(refusal, severity="warning")
            return
        self._told.clear()
        started, notices = self.lab.start(
            part, self.runs_root, plan, self.command_builder, nice=self.child_nice
        )
        self._tell(notices)
        self.started(started)
        self._show_views()
        self.redraw()
        self._show_runs()

    @on(Button.Pressed, "#cl-names-start, #cl-tag-start, #cl-bilm-start")
    def _start_pressed(self) -> None:
        self.action_start()

    def action_stop(self) -> None:
        self._tell(self.lab.pairs[self.part].stop())

    # -- saved runs ---------------------------------------------------------------------------

    def open_run(self, path: str | os.PathLike) -> bool:
        """Show the run at `path` in its slot of the part shown (False after a notification
        when it is not a run of that part's task, or that slot is training)."""
        try:
            slot, key = self.lab.open(self.part, path)
        except RunError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return False
        self._first_read(self.lab.pairs[self.part].slots[slot], key)
        self._show_views()
        self._show_runs()
        return True

    def runs_task(self) -> str:
        return PART_TASKS[self.part]

    def shown_runs(self) -> list[str]:
        return list(self.lab.pairs[self.part].shown().values())

    def _show_runs(self) -> None:
        pair = self.lab.pairs[self.part]
        shown = pair.shown()
        colors = {key: pair.colors[slot] for slot, key in shown.items()}
        self.query_one(RunPicker).set_runs(
            pair.entries(self._listed), list(shown.values()), colors, fmt_folder(self.runs_root)
        )

    @on(SelectionList.SelectedChanged, "#run-list")
    def _ticked(self, event: SelectionList.SelectedChanged) -> None:
        ticked = set(event.selection_list.selected)
        self.lab.untick(self.part, ticked)
        for key in ticked - set(self.lab.pairs[self.part].shown().values()):
            self.open_run(key)
        self._show_views()
        self._show_runs()
        self.redraw()

    # -- navigation ---------------------------------------------------------------------------

    def first_field(self):
        return self.query_one(f"#cl-form-{self.part}", OptionsForm).first_field()

    def action_cycle(self) -> None:
        self.show_part(NAMES)
        names = self.query_one(NamesPanel)
        names.cycle()
        # The matrix alone, as the key promises: where it does not fit beside the side panel
        # (80 columns: its last columns, precision and support were off the screen), the panel
        # goes while it is shown and comes back with the scores.
        side = self.query_one(TrainSide)
        matrix = names.query_one(ConfusionMatrix)
        if names.matrix_only and side.display:
            panel_width = self.size.width - side.outer_size.width
            if panel_width < matrix.full_width() + 2:
                side.hide()
                self._side_for_matrix = True
        elif not names.matrix_only and self._side_for_matrix and not side.display:
            side.show()
        if not names.matrix_only:
            self._side_for_matrix = False

    def action_leave_field(self) -> None:
        self.query_one("#cl-parts", Tabs).focus()

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        return [
            ("Classify: start", "Train this part's runs (s)", self.action_start),
            ("Classify: open runs", "Reopen this part's saved runs (o)", self.action_open_run),
            ("Classify: stop", "Stop this part's runs (x)", self.action_stop),
            ("Classify: names", "Names → language (many-to-one)", partial(self.show_part, NAMES)),
            (
                "Classify: tagging",
                "Tag every character (many-to-many)",
                partial(self.show_part, TAG),
            ),
            (
                "Classify: bidirectional LM",
                "The seeds' warning: a bidirectional language model",
                partial(self.show_part, BILM),
            ),
            ("Classify: confusion matrix", "The matrix or the scores (v)", self.action_cycle),
            ("Classify: side panel", "Show or hide the form and runs (f)", self.action_toggle_side),
        ]


__all__ = ["ClassifyScreen"]
