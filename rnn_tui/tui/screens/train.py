"""The Train screen: start a language-model or seq2seq translation run, or open any run
directory, and watch it learn (a seq2seq run adds held-out BLEU to the header and the plots, and
its samples are the seeds' four sentences translated).

Training is a subprocess (`rnn-tui train ... --run-dir DIR`, see rnn_tui/runs/process.py); this
screen only follows run directories on a timer of at most 4 Hz and draws what they hold: which
runs are followed, ticked and shown, and what their changes deserve to be told, is
`FollowedRuns` (rnn_tui/runs/followed.py); reading one run is rnn_tui/runs/follow.py. A run
started in another terminal is followed the same way. The first read of a run's metrics
(possibly a big file) happens in a thread worker, later polls read only what was appended; plots
are redrawn only when new data arrived, and for new points alone at most every few seconds
(train_curves.py), so that a live run loses little to the UI (benchmarks/bench_ui.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Header, SelectionList, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from rnn_tui.runs.follow import RunFollower
from rnn_tui.runs.followed import FollowedRuns, Notice, run_key
from rnn_tui.runs.format import fmt_folder
from rnn_tui.runs.liveness import first_alive
from rnn_tui.runs.process import CommandBuilder, TrainProcess, train_command
from rnn_tui.runs.rundir import RunError
from rnn_tui.train.options import BIDIRECTIONAL_LM, BIDIRECTIONAL_LM_NOTE
from rnn_tui.tui import explanations, guides
from rnn_tui.tui.errors import error_text, name_fields
from rnn_tui.tui.screens.side_runs import BIG_READ, CHILD_NICE, SideRunsScreen
from rnn_tui.tui.screens.train_compare import RunCompare
from rnn_tui.tui.screens.train_run_actions import RunActions
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.option_input import problems_line
from rnn_tui.tui.widgets.train_curves import RUN_COLORS, Curve, CurvePanel
from rnn_tui.tui.widgets.train_form import FIELD_LABELS, SEQ2SEQ, TrainForm, task_rows
from rnn_tui.tui.widgets.train_runs import RunPicker
from rnn_tui.tui.widgets.train_side import TrainSide
from rnn_tui.tui.widgets.train_view import RunView

if TYPE_CHECKING:
    from rnn_tui.data.corpus_analysis import CorpusRequest

# Each poll that finds news repaints the header and sends it to the terminal: CPU taken from a
# trainer on the same small machine, whose two threads both wait when one loses its core. The
# header's numbers and ETA need no finer than a second (benchmarks/README.md, the live view).
DEFAULT_POLL_HZ = 1.0
MAX_POLL_HZ = 4.0
RUN_LIST_SECONDS = 5.0  # how often the run list is rescanned while it is shown


class TrainScreen(RunActions, RunCompare, SideRunsScreen):
    """A form and a run list on the side; the followed run's header, curves and samples."""

    DEFAULT_CSS = """
    TrainScreen #train-body {
        height: 1fr;
    }
    """

    AUTO_FOCUS = "#train-side Tabs"
    EXPLAIN = explanations.TRAIN

    FOOTER_KEPT = ("next_plot",)  # a narrow footer keeps them: keys to panels not shown
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start", tooltip="start training with the form's options"),
        Binding("p", "pause", "Pause/Resume", tooltip="pause or resume the run shown"),
        Binding(
            "x",
            "stop",
            "Stop",
            tooltip="stop the run shown: finish the batch, save a checkpoint, exit",
        ),
        Binding("o", "open_run", "Open run", tooltip="tick listed runs (shift+tab: a path)"),
        Binding("n", "new_run", "Form", show=False, tooltip="the options of a new run"),
        Binding("f", "toggle_side", "Panel", tooltip="show or hide the form and run list"),
        Binding("v", "next_plot", "Next plot", tooltip="show the next plot (narrow terminals)"),
        Binding(
            "t",
            "toggle_table",
            "Table",
            show=False,
            tooltip="the runs table: scores side by side, sortable, differing settings",
        ),
        Binding(
            "a",
            "next_axis",
            "X axis",
            show=False,
            tooltip="draw the curves against epochs, steps or wall time",
        ),
        Binding("r", "refresh_runs", "Refresh", show=False, tooltip="rescan the runs folder"),
        Binding(
            "escape",
            "leave_field",
            "Leave field",
            show=False,
            tooltip="from a text field or drop-down back to the screen's keys",
        ),
    ]

    GUIDE = guides.TRAIN

    def __init__(
        self,
        *,
        poll_hz: float = DEFAULT_POLL_HZ,
        command_builder: CommandBuilder = train_command,
        runs_root: str | os.PathLike | None = None,
        clock: Callable[[], float] = time.time,
        child_nice: int = CHILD_NICE,
    ) -> None:
        if not 0 < poll_hz <= MAX_POLL_HZ:
            raise ValueError(f"poll_hz must be in (0, {MAX_POLL_HZ}], got {poll_hz}")
        super().__init__(
            poll_hz=poll_hz,
            command_builder=command_builder,
            runs_root=runs_root,
            child_nice=child_nice,
        )
        self.clock = clock
        self.runs = FollowedRuns(RUN_COLORS, clock=clock, start_notes=True)
        self._listed_once = False  # the first listing follows a run still training

    # The followed state, under the names the screen has always offered.
    @property
    def followers(self) -> dict[str, RunFollower]:
        return self.runs.followers

    @property
    def selected(self) -> list[str]:
        return self.runs.selected

    @property
    def run_colors(self) -> dict[str, str]:
        return self.runs.run_colors

    @property
    def primary(self) -> str | None:
        return self.runs.primary

    @property
    def process(self) -> TrainProcess | None:
        return self.runs.process

    @property
    def _loading(self) -> set[str]:
        return self.runs.loading

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="train-body"):
            with TrainSide(id="train-side", initial="tab-new"):
                with TabPane("New run", id="tab-new"):
                    yield TrainForm(id="train-form")
                with TabPane("Runs", id="tab-runs"):
                    yield RunPicker(manage=True, id="run-picker")
            yield RunView(id="train-main")
        yield AppFooter()

    def on_mount(self) -> None:
        self.set_interval(1 / self.poll_hz, self.poll, name="follow runs")
        self.set_interval(RUN_LIST_SECONDS, self._auto_refresh_runs, name="list runs")
        self.call_after_refresh(self.refresh_runs)  # see SideRunsScreen.refresh_runs

    # -- following ----------------------------------------------------------------------------

    def open_run(self, path: str | os.PathLike) -> bool:
        """Follow the run directory at `path` and show it (False, after a notification, when it
        is not one)."""
        try:
            key, new = self.runs.open(path)
        except RunError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return False
        if new:
            self._first_read(key)
        self._show_runs()
        self.redraw()
        return True

    def _tell(self, notices: Iterable[Notice | None]) -> None:
        for notice in notices:
            if notice is not None:
                text = name_fields(notice.text, FIELD_LABELS)  # the form's fields, not flags
                self.notify(text, severity=notice.severity, markup=False)

    def _first_read(self, key: str) -> None:
        follower = self.runs.followers[key]
        self.run_worker(
            follower.poll, name=key, group="first-read", thread=True, exit_on_error=False
        )

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "follow-live" and worker.state == WorkerState.SUCCESS:
            self._live_run_found(worker.result)
        if worker.group == "first-read" and worker.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            key = worker.name
            if worker.state == WorkerState.ERROR:
                self.notify(
                    f"cannot read {key}: {error_text(worker.error)}",
                    severity="error",
                    markup=False,
                )
            self._tell([self.runs.read_done(key)])
            self._show_runs()  # a run opened by path now has its status and epochs
            self.redraw()

    def poll(self) -> None:
        """One timer tick: read what every followed run appended, notice the trainer's exit,
        redraw (plots only if data arrived)."""
        notices, to_read = self.runs.poll(BIG_READ)
        for key in to_read:
            self._first_read(key)
        self._tell(notices)
        exited = self.runs.check_process()
        if exited is not None:
            self._tell(exited)
            self._show_runs()  # a refused run's folder may be gone
            self.refresh_runs()
        self.redraw()

    def memory_mb(self, key: str) -> float | None:
        """GPU memory on CUDA, else the live resident memory of a trainer this screen started,
        else what its epoch events recorded (FollowedRuns.memory_mb)."""
        return self.runs.memory_mb(key)

    def redraw(self) -> None:
        """Header and samples every tick (the ETA counts down); plots only on new data."""
        snap = self.runs.shown()
        curves = [Curve(*overlaid) for overlaid in self.runs.overlay()]
        if snap is None:
            # A run opened is read first (a long run's file takes seconds): said meanwhile.
            primary = self.runs.primary
            reading = f"reading {os.path.basename(primary)}…" if primary in self._loading else ""
            self.query_one(RunView).show(None, curves, reading=reading)
            return
        key = run_key(snap.path)
        trainer = self.runs.live_trainer(key)
        starting = None
        if trainer is not None and snap.status == "unknown":
            # Its last log line (a few KiB read at most, while it prepares for seconds): how far
            # tokenizing a large corpus has got.
            starting = trainer.log_message()
        system = self.runs.system_text(key)
        self.query_one(RunView).show(snap, curves, self.memory_mb(key), starting, system)

    # -- the run list -------------------------------------------------------------------------

    def runs_listed(self, entries: list[dict]) -> None:
        self.runs.listed = entries
        self._show_runs()
        if not self._listed_once:
            self._listed_once = True
            self._follow_live_run(entries)

    def _follow_live_run(self, entries: list[dict]) -> None:
        """On the first listing, with no run shown: follow the newest run still training
        (left running at the last quit, or a headless `rnn-tui train`), as someone coming back
        over SSH wants to see first. Runs whose trainer died are listed "died", not followed."""
        live = [e for e in entries if e.get("status") in ("running", "paused")]
        if live and not self.selected and self.process is None:
            live.sort(key=lambda e: -(e.get("updated") or 0))
            # Only a run whose trainer is known alive (its lock held), probed in a thread.
            self.run_worker(
                partial(first_alive, live),
                group="follow-live",
                thread=True,
                exit_on_error=False,
                description="find a run still training",
            )

    def _live_run_found(self, entry: dict | None) -> None:
        if entry is None or self.selected or self.process is not None:
            return
        if self.open_run(entry["path"]):
            self.notify(f"following {entry['name']}, still {entry['status']}", markup=False)

    def on_screen_resume(self) -> None:
        self._auto_refresh_runs()  # not rescanned while away: at once, not up to 5 s later

    def _auto_refresh_runs(self) -> None:
        if not self.is_current:  # another screen is shown: its timer keeps running
            return
        side = self.query_one(TrainSide)
        if (side.display and side.active == "tab-runs") or self.query_one(RunView).table_shown:
            self.refresh_runs()

    def _show_runs(self) -> None:
        self.query_one(RunPicker).set_runs(
            self.runs.entries(), self.selected, self.run_colors, fmt_folder(self.runs_root)
        )
        self.show_table()

    @on(SelectionList.SelectedChanged, "#run-list")
    def _ticked(self, event: SelectionList.SelectedChanged) -> None:
        self.tick_runs(event.selection_list.selected)

    def tick_runs(self, keys: Iterable[str]) -> None:
        """Overlay exactly the runs `keys` (the run list's ticks, or the runs table's)."""
        for key in self.runs.tick(keys):
            if not self.open_run(key):
                self._show_runs()  # untick a run that cannot be opened
        self._show_runs()
        self.redraw()

    # -- starting and steering ----------------------------------------------------------------

    def action_start(self) -> None:
        form = self.query_one(TrainForm)
        options, problems = form.options()
        if problems:
            self.notify("cannot start: " + problems_line(problems), severity="error", markup=False)
            return
        if self.refuse_while_training():
            return
        try:
            process = self.runs.start(
                self.runs_root, options, self.command_builder, nice=self.child_nice
            )
        except RunError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.started([process], pid=True)
        self._show_runs()
        self.redraw()
        self.refresh_runs()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#pause")
    def _pause_pressed(self) -> None:
        self.action_pause()

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self) -> None:
        self.action_stop()

    def action_pause(self) -> None:
        self._tell([self.runs.pause_or_resume()])

    def action_stop(self) -> None:
        self._tell([self.runs.steer("stop")])

    # -- quitting -----------------------------------------------------------------------------

    def started_trainers(self) -> list[TrainProcess]:
        """The trainer this screen started, for the app's question at quit (alive or not)."""
        return [self.process] if self.process is not None else []

    # -- navigation ---------------------------------------------------------------------------

    def first_field(self):
        return self.query_one(TrainForm).first_field()

    def action_new_translation(self) -> None:
        """The form, switched to a seq2seq run, its first field focused once its rows show."""
        self.query_one(TrainSide).show(self.NEW_TAB)
        self.query_one(TrainForm).apply({"task": SEQ2SEQ}, focus=task_rows(SEQ2SEQ)[0])

    def train_corpus(self, settings: CorpusRequest) -> None:
        """The form set to a language model on the Dataset screen's corpus, read as it is there."""
        self.query_one(TrainSide).show(self.NEW_TAB)
        self.notify(self.query_one(TrainForm).set_corpus(settings), markup=False)

    def action_bidirectional_lm(self) -> None:
        """The form set to the seeds' warning (train/options.py BIDIRECTIONAL_LM)."""
        self.query_one(TrainSide).show(self.NEW_TAB)
        first = task_rows(BIDIRECTIONAL_LM["task"])[0]  # focused once its rows show
        self.query_one(TrainForm).apply(BIDIRECTIONAL_LM, focus=first, preset=True)
        self.notify(BIDIRECTIONAL_LM_NOTE, markup=False, timeout=12)

    def action_next_plot(self) -> None:
        self.query_one(CurvePanel).cycle()

    @on(TabbedContent.TabActivated, "#train-side")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-runs":
            self.refresh_runs()

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) entries the command palette offers on this screen."""
        return [
            ("Train: start a run", "Train with the form's options (s)", self.action_start),
            ("Train: open a run", "Follow any run directory (o)", self.action_open_run),
            ("Train: pause or resume", "The run shown (p)", self.action_pause),
            ("Train: stop", "Checkpoint, then exit (x)", self.action_stop),
            ("Train: new run options", "Show the form (n)", self.action_new_run),
            (
                "Train: new translation run",
                "The form for a seq2seq English→French run",
                self.action_new_translation,
            ),
            (
                "Train: bidirectional LM (the wrong tool)",
                "The seeds' warning: a bidirectional LSTM language model on 10,000 characters",
                self.action_bidirectional_lm,
            ),
            ("Train: side panel", "Show or hide the form and runs (f)", self.action_toggle_side),
            ("Train: next plot", "On narrow terminals (v)", self.action_next_plot),
        ]
