"""What the Train, Forecast and Classify screens share: a side panel (TrainSide) with a form tab
and a Runs tab (RunPicker: the runs folder's runs and a path field) beside what the runs show.

Runs are `rnn-tui train` children writing run directories under the runs folder; the screen
follows them on a timer and lists the folder in a thread worker, so many runs never stall the
UI. `SideRunsScreen` is the side panel's navigation and the run list; `SlotRunsScreen` adds
what the Forecast and Classify screens do alike: runs started in named slots (runs/pair.py),
each run's backlog read in a thread worker, and a refusal two runs share told once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Protocol

from textual import events, on, work
from textual.widgets import Input, SelectionList, Tabs
from textual.worker import Worker, WorkerState

from rnn_tui.runs.followed import FollowedRuns, Notice
from rnn_tui.runs.listing import list_runs
from rnn_tui.runs.process import CommandBuilder, TrainProcess, sharing_note, train_command
from rnn_tui.runs.rundir import default_runs_root
from rnn_tui.tui.collection_pause import collection_paused
from rnn_tui.tui.errors import error_text, name_fields
from rnn_tui.tui.screens.mode_screen import ModeScreen
from rnn_tui.tui.widgets.train_runs import RunPicker
from rnn_tui.tui.widgets.train_side import TrainSide

POLL_HZ = 4.0
BIG_READ = 256 * 1024  # more new metrics than this are read in a thread worker
WIDE = 100  # below this many columns, starting hides the side panel for what the runs show
CHILD_NICE = 5  # the trainer yields to the UI on a busy machine
FINISHED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)


class SideRunsScreen(ModeScreen):
    """The side panel's keys (o, n, f, r, escape) and the run list. A subclass names its side's
    tabs (RUNS_TAB, NEW_TAB) and provides `open_run(path) -> bool`, `redraw()`,
    `runs_listed(entries)`, `first_field()` (the form's), `shown_runs()` and, for a list of
    one task's runs, `runs_task()`."""

    RUNS_TAB: ClassVar[str] = "tab-runs"
    NEW_TAB: ClassVar[str] = "tab-new"

    def __init__(
        self,
        *,
        poll_hz: float = POLL_HZ,
        command_builder: CommandBuilder = train_command,
        runs_root: str | os.PathLike | None = None,
        child_nice: int = CHILD_NICE,
    ) -> None:
        super().__init__()
        self.poll_hz = poll_hz
        self.command_builder = command_builder
        self._runs_root = Path(runs_root) if runs_root is not None else None
        self.child_nice = child_nice

    @property
    def runs_root(self) -> Path:
        return self._runs_root if self._runs_root is not None else default_runs_root()

    # -- the run list -------------------------------------------------------------------------

    def runs_task(self) -> str | None:
        """The task whose runs the list shows (None: every run)."""
        return None

    def refresh_runs(self) -> None:
        """Rescan the runs folder in a thread worker (many runs must not stall the UI). A
        screen's first scan starts once it has been drawn: the worker's Python shares the GIL
        with the event loop, and 2,001 runs (0.36 s of reading) slowed the first layout and
        drawing (the Train screen's longest gap 128–190 ms, against 72–143 after)."""
        self._list_runs(self.runs_root, self.runs_task())

    @work(
        thread=True, exclusive=True, group="list-runs", exit_on_error=False, description="list runs"
    )
    def _list_runs(self, root: Path, task: str | None) -> list[dict]:
        with collection_paused():  # see CheckpointPicker._discover
            return [e for e in list_runs(root) if task is None or e.get("task") == task]

    @on(Worker.StateChanged)
    def _listing_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "list-runs" and worker.state == WorkerState.SUCCESS:
            self.runs_listed(worker.result)

    @on(Input.Submitted, "#run-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if path and self.open_run(path):
            event.input.value = ""
            # Out of the text field, so the screen's keys (s, x, f, v) work at once.
            self.query_one("#run-list", SelectionList).focus()

    def started(self, processes: Iterable[TrainProcess], pid: bool = False) -> None:
        """Tell what started (and, beside other trainers, its share of the cores); on a narrow
        terminal, make room for what the runs show."""
        processes = list(processes)
        if not processes:
            return
        told = " and ".join(p.path.name for p in processes)
        told += f" (pid {processes[0].pid})" if pid else ""
        note = sharing_note(processes)
        # "starting": the trainer checks its options and data first, and may refuse them.
        self.notify(f"starting {told}" + (f" — {note}" if note else ""), markup=False)
        if self.size.width < WIDE:
            self.query_one(TrainSide).hide()

    # -- navigation ---------------------------------------------------------------------------

    def shown_runs(self) -> list[str]:
        """The keys of the runs the screen shows (`o` highlights one of them)."""
        return []

    def action_open_run(self) -> None:
        self.query_one(TrainSide).show(self.RUNS_TAB)
        # The keys under the list act on the highlighted run: on the one shown, not on the
        # one highlighted when the list was last used.
        self.query_one(RunPicker).highlight_runs(self.shown_runs())
        self.refresh_runs()
        self.call_after_refresh(self.query_one(RunPicker).focus_runs)

    def action_new_run(self) -> None:
        self.query_one(TrainSide).show(self.NEW_TAB)
        # After the refresh: rows a choice made a moment ago has shown are there by then.
        self.call_after_refresh(lambda: self.first_field().focus())

    def action_toggle_side(self) -> None:
        self.query_one(TrainSide).toggle()

    def action_refresh_runs(self) -> None:
        self.refresh_runs()

    def action_leave_field(self) -> None:
        side = self.query_one(TrainSide)
        if side.display:
            side.query_one(Tabs).focus()
        else:
            self.set_focus(None)

    def on_resize(self, event: events.Resize) -> None:
        self.redraw()


class Slots(Protocol):
    """Runs in named slots (runs/pair.py RunPair, runs/classify_lab.py ClassifyLab)."""

    def poll(self, big_read: int) -> tuple[list[Notice], list[tuple[FollowedRuns, str]], bool]: ...

    def training(self) -> list[TrainProcess]: ...


class SlotRunsScreen(SideRunsScreen):
    """The Forecast and Classify screens: runs in slots (`slots`, set by the subclass), whose
    backlogs are read in thread workers and whose notices are told once. A subclass provides
    `load_views()`, called after every tick."""

    slots: Slots
    FIELD_LABELS: ClassVar[dict[str, str]] = {}  # the trainer's flags, as the form's fields

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._listed: list[dict] = []
        self._reading: dict[Worker, tuple[FollowedRuns, str]] = {}  # first reads under way
        self._told: set[Notice] = set()  # errors told since the last start

    def on_mount(self) -> None:
        self.set_interval(1 / self.poll_hz, self.poll, name="follow runs")

    def poll(self) -> None:
        """One tick: read what the runs appended, notice trainers' exits, update the views."""
        notices, to_read, exited = self.slots.poll(BIG_READ)
        for runs, key in to_read:
            self._first_read(runs, key)
        if exited:
            self.refresh_runs()
        self._tell(notices)
        self.redraw()
        self.load_views()

    def _tell(self, notices: Iterable[Notice | None]) -> None:
        for notice in notices:
            if notice is None or notice in self._told:
                continue
            if notice.severity == "error":
                # The runs of a start read the same data: a refused option is told once.
                self._told.add(notice)
            # The trainer's advice names its flags ("try a smaller --lr"): the form's fields here.
            text = name_fields(notice.text, self.FIELD_LABELS)
            self.notify(text, severity=notice.severity, markup=False)

    def _first_read(self, runs: FollowedRuns, key: str) -> None:
        worker = self.run_worker(
            runs.followers[key].poll, group="first-read", thread=True, exit_on_error=False
        )
        self._reading[worker] = (runs, key)

    @on(Worker.StateChanged)
    def _read_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.state not in FINISHED or worker not in self._reading:
            return
        runs, key = self._reading.pop(worker)
        if worker.state == WorkerState.ERROR:
            self.notify(
                f"cannot read {key}: {error_text(worker.error)}", severity="error", markup=False
            )
        self._tell([runs.read_done(key)])
        self.redraw()

    def runs_listed(self, entries: list[dict]) -> None:
        self._listed = entries
        self._show_runs()

    def training(self) -> list[TrainProcess]:
        return self.slots.training()

    def started_trainers(self) -> list[TrainProcess]:
        """The trainers this screen started, for the app's question at quit (alive or not)."""
        return self.training()


__all__ = [
    "BIG_READ",
    "CHILD_NICE",
    "POLL_HZ",
    "WIDE",
    "SideRunsScreen",
    "SlotRunsScreen",
]
