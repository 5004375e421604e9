"""The Train screen: start a language-model or seq2seq translation run, or open any run
directory, and watch it learn (a seq2seq run adds held-out BLEU to the header and the plots, and
its samples are the seeds' four sentences translated).

Training is a subprocess (`rnn-tui train ... --run-dir DIR`, see rnn_tui/runs/process.py); this
screen only follows run directories (rnn_tui/runs/follow.py) on a timer of at most 4 Hz and
draws what they hold. A run started in another terminal is followed the same way. The first
read of a run's metrics (possibly a big file) happens in a thread worker, later polls read only
what was appended; plots are redrawn only when new data arrived.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import (
    Button,
    Header,
    Input,
    Select,
    SelectionList,
    TabbedContent,
    TabPane,
    Tabs,
)
from textual.worker import Worker, WorkerState

from rnn_tui.runs.follow import RunFollower, check_run_dir
from rnn_tui.runs.listing import list_runs
from rnn_tui.runs.process import CommandBuilder, TrainProcess, train_command
from rnn_tui.runs.rundir import RunDir, RunError, default_runs_root, new_run_dir
from rnn_tui.tui import explanations
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.train_curves import RUN_COLORS, Curve, CurvePanel
from rnn_tui.tui.widgets.train_form import SEQ2SEQ, TrainForm
from rnn_tui.tui.widgets.train_header import RunHeader, fmt_bleu, fmt_number
from rnn_tui.tui.widgets.train_quit import QuitChoice, QuitRunDialog
from rnn_tui.tui.widgets.train_runs import RunPicker
from rnn_tui.tui.widgets.train_samples import SampleLog

DEFAULT_POLL_HZ = 2.0
MAX_POLL_HZ = 4.0
RUN_LIST_SECONDS = 5.0  # how often the run list is rescanned while it is shown
BIG_READ = 256 * 1024  # more new metrics than this are read in a thread worker
WIDE = 100  # below this many columns, starting a run hides the side panel for the plots
CHILD_NICE = 5  # the trainer yields to the UI on a busy machine


class TrainScreen(Screen):
    """A form and a run list on the side; the followed run's header, curves and samples."""

    AUTO_FOCUS = "#train-side Tabs"
    EXPLAIN = explanations.TRAIN

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start", tooltip="start training with the form's options"),
        Binding("p", "pause", "Pause/Resume", tooltip="pause or resume the run shown"),
        Binding(
            "x",
            "stop",
            "Stop",
            tooltip="stop the run shown: finish the batch, save a checkpoint, exit",
        ),
        Binding("o", "open_run", "Open run", tooltip="type a run directory or tick listed runs"),
        Binding("n", "new_run", "Form", show=False, tooltip="the options of a new run"),
        Binding("f", "toggle_side", "Panel", tooltip="show or hide the form and run list"),
        Binding("v", "next_plot", "Next plot", tooltip="show the next plot (narrow terminals)"),
        Binding("r", "refresh_runs", "Refresh", show=False, tooltip="rescan the runs folder"),
        Binding(
            "escape",
            "leave_field",
            "Leave field",
            show=False,
            tooltip="from a text field or drop-down back to the screen's keys",
        ),
    ]

    GUIDE = """\
**Training a language model** (d2l *RNNs from scratch*, *concise*, *GRU*, *LSTM*): the model
reads `num_steps` tokens at a time and predicts each next one; the loss is the cross-entropy
over all time steps, and **perplexity** = exp(mean loss per token) — 1 is perfect, the
vocabulary size is uniform guessing. Gradients are clipped to norm θ before each update.

**Start** (s) runs `rnn-tui train` with the form's options as a separate process writing a run
directory (runs/ or $RNN_TUI_RUNS); **Pause/Resume** (p) and **Stop** (x) write its control
file (stop = finish the batch, save a checkpoint, exit). A run started here and left running
when you quit keeps training.

**Open** (o) any run directory, even one a headless `rnn-tui train` in another terminal is
writing: it is followed live. Tick several runs in the list to overlay their curves, one
colour each.

**Curves** — perplexity on a log axis (train per logged batch, val per epoch, the smoothed
trigram baseline as a grey line), loss, the gradient norm before clipping (with θ) and
tokens/s, against epochs. On a narrow terminal one plot shows at a time (v: next).

**Translation** (task *seq2seq translation*, d2l §9.7): a GRU encoder–decoder on
English–French pairs, trained with teacher forcing on the masked cross-entropy (perplexity
per target token). After each epoch it reports **BLEU** (0–100, greedy translations of the
held-out pairs, and of those of at most five English words) — its plot replaces tokens/s in
the grid (v still reaches it) — and translates the seeds' four sentences (✓: the book's
reference).
"""

    def __init__(
        self,
        *,
        poll_hz: float = DEFAULT_POLL_HZ,
        command_builder: CommandBuilder = train_command,
        runs_root: str | os.PathLike | None = None,
        clock: Callable[[], float] = time.time,
        child_nice: int = CHILD_NICE,
    ) -> None:
        super().__init__()
        if not 0 < poll_hz <= MAX_POLL_HZ:
            raise ValueError(f"poll_hz must be in (0, {MAX_POLL_HZ}], got {poll_hz}")
        self.poll_hz = poll_hz
        self.command_builder = command_builder
        self._runs_root = Path(runs_root) if runs_root is not None else None
        self.clock = clock
        self.child_nice = child_nice
        self.followers: dict[str, RunFollower] = {}
        self.selected: list[str] = []  # ticked runs, in the order they were ticked
        self.run_colors: dict[str, str] = {}
        self.primary: str | None = None  # the run the header, samples and buttons are about
        self.process: TrainProcess | None = None  # the trainer this screen started
        self._loading: set[str] = set()
        self._seen_status: dict[str, str] = {}
        self._extra: list[str] = []  # runs opened by path from outside the runs folder
        self._entries: list[dict] = []

    @property
    def runs_root(self) -> Path:
        return self._runs_root if self._runs_root is not None else default_runs_root()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="train-body"):
            with TabbedContent(id="train-side", initial="tab-new"):
                with TabPane("New run", id="tab-new"):
                    yield TrainForm(id="train-form")
                with TabPane("Runs", id="tab-runs"):
                    yield RunPicker(id="run-picker")
            with Vertical(id="train-main"):
                yield RunHeader(id="run-header")
                yield CurvePanel(id="curves")
                yield SampleLog(id="samples")
        yield AppFooter()

    def on_mount(self) -> None:
        self.set_interval(1 / self.poll_hz, self.poll, name="follow runs")
        self.set_interval(RUN_LIST_SECONDS, self._auto_refresh_runs, name="list runs")
        self.refresh_runs()

    # -- following ----------------------------------------------------------------------------

    @staticmethod
    def _key(path: str | os.PathLike) -> str:
        return os.path.abspath(os.path.expanduser(path))

    def open_run(self, path: str | os.PathLike) -> bool:
        """Follow the run directory at `path` and show it (False, after a notification, when it
        is not one)."""
        try:
            folder = check_run_dir(path)
        except RunError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return False
        key = self._key(folder)
        if key not in self.followers:
            self.followers[key] = RunFollower(key, clock=self.clock)
            self._loading.add(key)
            self._first_read(key)
        if not self._listed(key) and key not in self._extra:
            self._extra.append(key)
        if key not in self.selected:
            self.selected.append(key)
            self._assign_color(key)
        self.primary = key
        self._show_runs()
        self.redraw()
        return True

    def _listed(self, key: str) -> bool:
        return any(self._key(e["path"]) == key for e in self._entries)

    def _first_read(self, key: str) -> None:
        follower = self.followers[key]
        self.run_worker(
            follower.poll, name=key, group="first-read", thread=True, exit_on_error=False
        )

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "first-read" and worker.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            key = worker.name
            self._loading.discard(key)
            if worker.state == WorkerState.ERROR:
                self.notify(f"cannot read {key}: {worker.error}", severity="error", markup=False)
            follower = self.followers.get(key)
            if follower is not None:
                self._check_status(key, follower)
            self._show_runs()  # a run opened by path now has its status and epochs
            self.redraw()
        elif worker.group == "list-runs" and worker.state == WorkerState.SUCCESS:
            self._entries = worker.result
            self._show_runs()

    def poll(self) -> None:
        """One timer tick: read what every followed run appended, notice the trainer's exit,
        redraw (plots only if data arrived)."""
        # Ticked runs and the trainer's own; an unticked run catches up when ticked again.
        process = self.process
        wanted = set(self.selected) | ({self._key(process.path)} if process is not None else set())
        for key, follower in list(self.followers.items()):
            if key in self._loading or key not in wanted:
                continue
            if follower.pending_bytes() > BIG_READ:
                self._loading.add(key)
                self._first_read(key)
                continue
            if follower.poll():
                self._check_status(key, follower)
        self._check_process()
        self.redraw()

    def _check_status(self, key: str, follower: RunFollower) -> None:
        """Notify a change of a run's status: a failure always (with its message), the rest
        only when seen happening (not when a finished run is opened)."""
        status, previous = follower.status, self._seen_status.get(key)
        self._seen_status[key] = status
        if status == previous:
            return
        name = follower.path.name
        message = follower.message
        if status == "failed":
            self.notify(f"{name} failed: {message or 'no message'}", severity="error", markup=False)
        elif previous is None:
            return
        elif status == "finished":
            best = follower.best_val_ppl
            extra = f", best val ppl {fmt_number(best)}" if best is not None else ""
            if follower.best_bleu is not None:
                extra += f", best BLEU {fmt_bleu(follower.best_bleu)}"
            self.notify(f"{name} finished{extra}", markup=False)
        elif status == "stopped":
            self.notify(f"{name} stopped (checkpoint saved)", markup=False)
        elif status == "paused":
            self.notify(f"{name} paused", markup=False)
        elif status == "running" and previous == "paused":
            self.notify(f"{name} resumed", markup=False)

    def _check_process(self) -> None:
        process = self.process
        if process is None:
            return
        code = process.poll()
        if code is None:
            return
        self.process = None
        key = self._key(process.path)
        follower = self.followers.get(key)
        if follower is not None and key not in self._loading and follower.poll():
            self._check_status(key, follower)
        message = process.log_message()
        if code == 2:
            self.notify(
                message or "the trainer refused the options (exit status 2)",
                severity="error",
                markup=False,
            )
            if process.discard_if_empty():
                self._forget(key)
        elif code != 0 and (follower is None or follower.status not in ("failed", "stopped")):
            self.notify(
                f"the trainer exited with status {code}: {message or 'no message in train.log'}",
                severity="error",
                markup=False,
            )
        self.refresh_runs()

    def _forget(self, key: str) -> None:
        self.followers.pop(key, None)
        self._seen_status.pop(key, None)
        if key in self.selected:
            self.selected.remove(key)
        if key in self._extra:
            self._extra.remove(key)
        if self.primary == key:
            self.primary = self.selected[-1] if self.selected else None
        self._show_runs()
        self.redraw()

    # -- drawing ------------------------------------------------------------------------------

    def _assign_color(self, key: str) -> None:
        """Keep a run's colour while ticked; a new one gets the first colour not in use."""
        used = {self.run_colors[k] for k in self.selected if k != key and k in self.run_colors}
        if key in self.run_colors and self.run_colors[key] not in used:
            return
        free = [c for c in RUN_COLORS if c not in used]
        self.run_colors[key] = free[0] if free else RUN_COLORS[len(used) % len(RUN_COLORS)]

    def _curves(self) -> list[Curve]:
        snaps = [
            self.followers[k].snapshot()
            for k in self.selected
            if k in self.followers and k not in self._loading
        ]
        models = [s.model for s in snaps]
        curves = []
        for snap in snaps:
            label = snap.model if models.count(snap.model) == 1 else f"{snap.model} {snap.name}"
            curves.append(Curve(snap, label, self.run_colors[self._key(snap.path)]))
        return curves

    def memory_mb(self, key: str) -> float | None:
        """GPU memory on CUDA (from the epoch events); else the live resident memory of a
        trainer this screen started, else what its epoch events recorded."""
        follower = self.followers[key]
        process = self.process
        if (
            not (follower.device or "").startswith("cuda")
            and process is not None
            and self._key(process.path) == key
            and process.alive
        ):
            return process.rss_mb() or follower.memory_mb
        return follower.memory_mb

    def redraw(self) -> None:
        """Header and samples every tick (the ETA counts down); plots only on new data."""
        header = self.query_one(RunHeader)
        primary = self.primary
        if primary is None or primary not in self.followers or primary in self._loading:
            header.show(None)
            self.query_one(SampleLog).show(())
        else:
            snap = self.followers[primary].snapshot()
            process = self.process
            starting = process is not None and self._key(process.path) == primary
            header.show(snap, self.memory_mb(primary), starting=starting and process.alive)
            self.query_one(SampleLog).show(snap.samples, translations=snap.task == SEQ2SEQ)
        self.query_one(CurvePanel).show(self._curves())

    # -- the run list -------------------------------------------------------------------------

    def refresh_runs(self) -> None:
        """Rescan the runs folder in a thread worker (many runs must not stall the UI)."""
        self._list_runs(self.runs_root)

    @work(thread=True, exclusive=True, group="list-runs", exit_on_error=False)
    def _list_runs(self, root: Path) -> list[dict]:
        return list_runs(root)

    def _auto_refresh_runs(self) -> None:
        side = self.query_one("#train-side", TabbedContent)
        if side.display and side.active == "tab-runs":
            self.refresh_runs()

    def _root_label(self) -> str:
        root = self.runs_root
        try:
            return str(root.absolute().relative_to(Path.cwd())) or "."
        except ValueError:
            return str(root)

    def _show_runs(self) -> None:
        entries = list(self._entries)
        listed = {self._key(e["path"]) for e in entries}
        for key in self._extra:
            if key in listed:
                continue
            follower = self.followers.get(key)
            entries.append(
                {
                    "name": Path(key).name,
                    "path": key,
                    "model": follower.config.get("model") if follower else None,
                    "status": follower.status if follower else "unknown",
                    "epoch": follower.epoch if follower else 0,
                    "epochs": follower.epochs if follower else None,
                    "best_val_ppl": follower.best_val_ppl if follower else None,
                }
            )
        entries = [{**e, "path": self._key(e["path"])} for e in entries]
        self.query_one(RunPicker).set_runs(
            entries, self.selected, self.run_colors, self._root_label()
        )

    @on(SelectionList.SelectedChanged, "#run-list")
    def _ticked(self, event: SelectionList.SelectedChanged) -> None:
        now = set(event.selection_list.selected)
        before = set(self.selected)
        for key in [k for k in self.selected if k not in now]:
            self.selected.remove(key)
        added = [k for k in event.selection_list.selected if k not in before]
        for key in added:
            if not self.open_run(key):
                self._show_runs()  # untick a run that cannot be opened
        if self.primary not in self.selected:
            self.primary = self.selected[-1] if self.selected else None
        self._show_runs()
        self.redraw()

    @on(Input.Submitted, "#run-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            return
        if self.open_run(path):
            event.input.value = ""
            # Out of the text field, so the screen's keys (p, x, f, v) work at once.
            self.query_one("#run-list", SelectionList).focus()

    # -- starting and steering ----------------------------------------------------------------

    def action_start(self) -> None:
        form = self.query_one(TrainForm)
        options, problems = form.options()
        if problems:
            self.notify("cannot start: " + "; ".join(problems), severity="error", markup=False)
            return
        if self.process is not None and self.process.alive:
            self.notify(
                f"{self.process.path.name} is still training: stop it first (x)",
                severity="warning",
                markup=False,
            )
            return
        try:
            # A seq2seq run's model is always the encoder–decoder: seq2seq-<time>.
            folder = new_run_dir(
                self.runs_root,
                prefix=str(options.get("task") or "lm"),
                model=str(options.get("model") or ""),
            )
            process = TrainProcess(
                self.command_builder(options, folder), folder, nice=self.child_nice
            )
            process.start()
        except RunError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.process = process
        key = self._key(folder)
        # A fresh run: show it alone (tick others to compare).
        self.selected = [key]
        self._assign_color(key)
        self.followers[key] = RunFollower(key, clock=self.clock)
        self._extra.append(key)
        self.primary = key
        self._seen_status.pop(key, None)
        self.notify(f"started {folder.name} (pid {process.pid})", markup=False)
        if self.size.width < WIDE:
            self._hide_side()
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

    def _steer(self, command: str) -> None:
        key = self.primary
        follower = self.followers.get(key) if key else None
        if key is None or follower is None:
            self.notify("no run shown: start one (s) or open one (o)", severity="warning")
            return
        name = follower.path.name
        try:
            process = self.process
            if process is not None and self._key(process.path) == key and process.alive:
                done = process.request(command)
            elif follower.status in ("running", "paused") and not follower.stale():
                # A run started elsewhere reads the same control file.
                RunDir(key).request(command)
                done = {"pause": "pausing", "resume": "resuming", "stop": "stopping"}[command]
            else:
                raise RunError(f"{name} is not running ({follower.status})")
        except RunError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        note = " (at the end of the batch, after a checkpoint)" if command == "stop" else ""
        self.notify(f"{done} {name}{note}", markup=False)

    def action_pause(self) -> None:
        follower = self.followers.get(self.primary) if self.primary else None
        self._steer("resume" if follower is not None and follower.status == "paused" else "pause")

    def action_stop(self) -> None:
        self._steer("stop")

    # -- quitting -----------------------------------------------------------------------------

    def confirm_quit(self) -> bool:
        """Called by the app before quitting: while a run started here is alive, ask whether to
        stop it or leave it running (True: the question took over the quit)."""
        process = self.process
        if process is None or not process.alive:
            return False
        if not isinstance(self.app.screen, QuitRunDialog):
            self.app.push_screen(QuitRunDialog(process.path.name), partial(self._quit, process))
        return True

    def _quit(self, process: TrainProcess, choice: QuitChoice | None) -> None:
        if choice == "stop":
            try:
                process.request("stop")
            except RunError:
                process.terminate()
        if choice in ("stop", "leave"):
            self.app.exit()

    # -- navigation ---------------------------------------------------------------------------

    def _show_side(self, tab: str) -> TabbedContent:
        side = self.query_one("#train-side", TabbedContent)
        side.display = True
        side.query_one(Tabs).focus()
        side.active = tab
        return side

    def action_open_run(self) -> None:
        self._show_side("tab-runs")
        self.refresh_runs()
        self.call_after_refresh(self.query_one("#run-path", Input).focus)

    def action_new_run(self) -> None:
        self._show_side("tab-new")
        form = self.query_one(TrainForm)
        # The drop-down's value, not the form's task: it may have been set a moment ago.
        first = "#form-pairs" if form.control("task").value == SEQ2SEQ else "#form-model"
        self.call_after_refresh(form.query_one(first, Select).focus)

    def action_new_translation(self) -> None:
        """The form, switched to a seq2seq translation run."""
        self.query_one(TrainForm).set_value("task", SEQ2SEQ)
        self.action_new_run()

    def action_toggle_side(self) -> None:
        side = self.query_one("#train-side", TabbedContent)
        side.display = not side.display
        if side.display:
            side.query_one(Tabs).focus()
        else:
            self._hide_side()

    def _hide_side(self) -> None:
        side = self.query_one("#train-side", TabbedContent)
        side.display = False
        # Textual would move the focus to another (hidden) field of the panel, which would
        # then swallow the screen's keys.
        self.set_focus(None)
        self.call_after_refresh(self._unfocus_hidden)

    def _unfocus_hidden(self) -> None:
        focused = self.focused
        if focused is not None and self.query_one("#train-side") in focused.ancestors:
            self.set_focus(None)

    def action_next_plot(self) -> None:
        self.query_one(CurvePanel).cycle()

    def action_refresh_runs(self) -> None:
        self.refresh_runs()

    def action_leave_field(self) -> None:
        side = self.query_one("#train-side", TabbedContent)
        if side.display:
            side.query_one(Tabs).focus()
        else:
            self.set_focus(None)

    @on(TabbedContent.TabActivated, "#train-side")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-runs":
            self.refresh_runs()

    def on_resize(self, event: events.Resize) -> None:
        self.redraw()

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
            ("Train: side panel", "Show or hide the form and runs (f)", self.action_toggle_side),
            ("Train: next plot", "On narrow terminals (v)", self.action_next_plot),
        ]
