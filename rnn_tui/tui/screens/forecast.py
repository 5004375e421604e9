"""The Forecast screen (d2l §8.1, sequence models): the AR MLP and a latent autoregressive model
trained side by side on one series, their one-step, multi-step and k-step predictions, and the
held-out error per k beside the naive baselines.

Start (s) runs two `rnn-tui train --task forecast` subprocesses with the form's options, one
`--model mlp` and one `--model rnn|gru|lstm`, each writing its own run directory under the runs
folder: the results are saved as they are made, and any of them reopens (o). Each run is one
"slot" (AR, latent), followed like the Train screen follows a run (runs/followed.py) on a timer.
After an epoch (every 2 s at most, less often for costly figures: runs/view_pace.py) and at its
end, a run's best checkpoint becomes the figures (decode.forecast.forecast_view) in a thread
worker: no wait on torch.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Header, Input, Select, SelectionList, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from rnn_tui.data.errors import DataError
from rnn_tui.data.series_files import BUNDLED_SERIES, SINE, load_series
from rnn_tui.decode.math_threads import on_one_math_thread
from rnn_tui.quoting import plain
from rnn_tui.runs.format import fmt_folder
from rnn_tui.runs.pair import RunPair
from rnn_tui.runs.rundir import RunDir, RunError
from rnn_tui.runs.view_pace import ViewPace
from rnn_tui.tui import explanations, guides
from rnn_tui.tui.errors import error_text, name_fields
from rnn_tui.tui.screens.side_runs import FINISHED, SlotRunsScreen
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.forecast_form import FIELD_LABELS, ForecastForm
from rnn_tui.tui.widgets.forecast_results import AR, LATENT, SLOT_COLORS, ForecastResults
from rnn_tui.tui.widgets.option_input import problems_line
from rnn_tui.tui.widgets.train_runs import RunPicker
from rnn_tui.tui.widgets.train_side import TrainSide

# Points a view's curves keep (bucket means beyond): the plots draw about two per column, so
# this leaves room to zoom in ~80× at 120 columns, and a million points cost the event loop
# nothing to draw.
PLOT_POINTS = 20_000


def slot_of(config: dict) -> str:
    """The AR slot for a run of the MLP, the latent slot for a recurrent model's."""
    return AR if config.get("model") == "mlp" else LATENT


class ForecastScreen(SlotRunsScreen):
    """The form and saved runs on the side; progress and the four panels beside them."""

    FIELD_LABELS = FIELD_LABELS

    DEFAULT_CSS = """
    ForecastScreen #fc-body {
        height: 1fr;
    }
    ForecastScreen TrainSide {
        width: 38;
    }
    """

    AUTO_FOCUS = "#fc-side Tabs"
    EXPLAIN = explanations.FORECAST
    WORKER_MODULES = ("rnn_tui.decode.forecast",)
    RUNS_TAB, NEW_TAB = "fc-tab-runs", "fc-tab-new"

    FOOTER_KEPT = ("next_panel", "next_metric")  # a narrow footer keeps them: panels not shown
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start", tooltip="train the MLP and the latent model the form sets"),
        Binding("x", "stop", "Stop", tooltip="stop both runs: finish the batch, save, exit"),
        Binding("o", "open_run", "Open run", tooltip="reopen saved forecast runs"),
        Binding("n", "new_run", "Form", show=False, tooltip="the options of a new pair of runs"),
        Binding("f", "toggle_side", "Panel", tooltip="show or hide the form and run list"),
        Binding("t", "next_metric", "Metric", tooltip="the error the table shows: MSE, RMSE, MAPE"),
        Binding(
            "m", "other_model", "k-step model", show=False, tooltip="whose k-step plot to draw"
        ),
        Binding("v", "next_panel", "Next plot", tooltip="show the next panel (narrow terminals)"),
        Binding("r", "refresh_runs", "Refresh", show=False, tooltip="rescan the runs folder"),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    GUIDE = guides.FORECAST

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pair = self.slots = RunPair(SLOT_COLORS, slot_of, "forecast")
        self.views: dict = {}  # slot → ForecastView
        self._view_paths: dict[str, str] = {}  # slot → the run its view is of
        self._loading_paths: dict[str, str] = {}  # slot → the run its view worker reads
        self._drawn: dict[str, int] = {}  # slot → id of the view the panels show
        self._view_keys: dict[str, tuple] = {}  # slot → what its view was computed from
        self._view_loading: set[str] = set()
        self.view_pace = ViewPace()  # live runs' figures: every 2 s or more (view_pace.py)
        self._tell_points = False  # Enter in the path field: notify the next count's result

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="fc-body"):
            with TrainSide(id="fc-side", initial="fc-tab-new"):
                with TabPane("New runs", id="fc-tab-new"):
                    yield ForecastForm(id="fc-form")
                with TabPane("Runs", id="fc-tab-runs"):
                    yield RunPicker(id="fc-run-picker")
            yield ForecastResults(id="fc-results")
        yield AppFooter()

    def on_mount(self) -> None:
        self.call_after_refresh(self.refresh_runs)  # see SideRunsScreen.refresh_runs
        self.redraw()

    # -- the series' length for the form's counts ---------------------------------------------

    @on(Select.Changed, "#fc-series")
    @on(Input.Changed, "#fc-series-path")
    @on(Input.Changed, "#fc-column")
    @on(Input.Changed, "#fc-encoding")
    def _series_changed(self) -> None:
        series, column = self.query_one(ForecastForm).series_source()
        form = self.query_one(ForecastForm)
        if series == SINE:
            return
        form.set_points(None)
        if series:
            self._series_points(series, column, form.encoding())

    @work(
        thread=True,
        exclusive=True,
        group="series-points",
        exit_on_error=False,
        description="count the series",
    )
    def _series_points(self, series: str, column: str, encoding: str = "utf-8") -> None:
        worker = get_current_worker()
        try:
            if series not in BUNDLED_SERIES and _is_pipe(series):
                # Read here, it would be gone before the models read it, and the figures read
                # it again after every epoch: refused before a byte is taken.
                raise DataError(
                    f"{series} is a pipe (FIFO): this screen reads the series once for each "
                    "model and again after every epoch; save it to a file"
                )
            # A path typed character by character: a newer read cancels this one.
            values = load_series(
                series, column, encoding=encoding, cancelled=lambda: worker.is_cancelled
            ).values
            points, error = len(values), ""
        except (DataError, OSError) as exc:
            # "read it with --encoding utf-16" names the form's field instead of the flag.
            points, error, values = None, name_fields(plain(str(exc)), FIELD_LABELS), None
        if not worker.is_cancelled:
            self.app.call_from_thread(self._points_read, points, error, values)

    def _points_read(self, points: int | None, error: str, values=None) -> None:
        form = self.query_one(ForecastForm)
        form.set_points(points, error, values)
        if self._tell_points:  # Enter in the path field: its answer, where it is seen
            self._tell_points = False
            text, bad = form.counts_text()
            self.notify(f"series: {text}", severity="error" if bad else "information", markup=False)

    @on(Input.Submitted, "#fc-series-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        """Enter in the path field reads the file again and says what came of it: its points
        and the split, or why it cannot be read."""
        event.stop()
        series, column = self.query_one(ForecastForm).series_source()
        if not series:
            self.notify("series: type the path of a CSV file", severity="error", markup=False)
            return
        self._tell_points = True
        self._series_points(series, column, self.query_one(ForecastForm).encoding())

    # -- following ----------------------------------------------------------------------------

    def snapshots(self) -> dict:
        return self.pair.snapshots()

    def redraw(self) -> None:
        self.query_one(ForecastResults).show_progress(self.snapshots())
        # By identity (arrays have no truth value); views computed together, once all are in.
        shown = {slot: id(v) for slot, v in self._shown_views().items()}
        if not self._view_loading and shown != self._drawn:
            self._draw_views()

    def _shown_views(self) -> dict:
        """The views to draw: each slot's while it is of the run the slot shows, or when the
        run started there ended without one (refused or failed): a failed start leaves the
        results it would have replaced on screen."""
        shown = {}
        for slot, snap in self.snapshots().items():
            view = self.views.get(slot)
            if view is None or snap is None:
                continue
            if self._view_paths.get(slot) == str(snap.path) or not snap.active:
                shown[slot] = view
        return shown

    def _draw_views(self, drawn: Callable[[], None] | None = None) -> None:
        shown = self._shown_views()
        self._drawn = {slot: id(view) for slot, view in shown.items()}
        self.query_one(ForecastResults).show_views(shown, drawn)

    def load_views(self) -> None:
        """Turn each run's checkpoint into the figures after an epoch and at its end."""
        live_due: bool | None = None  # one pace for both runs: computed, and drawn, together
        for slot, snap in self.snapshots().items():
            if snap is None or slot in self._view_loading:
                continue
            key = (str(snap.path), snap.epoch, snap.status)
            if key == self._view_keys.get(slot) or (snap.active and snap.epoch == 0):
                continue
            if snap.active:
                live_due = self.view_pace.due() if live_due is None else live_due
                if not live_due:
                    continue  # a later tick computes it
            self._view_keys[slot] = key
            self._view_loading.add(slot)
            self._loading_paths[slot] = str(snap.path)
            self.run_worker(
                partial(self._compute_view, snap.path),
                name=slot,
                group="view",
                thread=True,
                exit_on_error=False,
            )
        self._say_computing()

    def _say_computing(self) -> None:
        names = sorted(Path(self._loading_paths[slot]).name for slot in self._view_loading)
        self.query_one(ForecastResults).show_computing(names)

    @staticmethod
    @on_one_math_thread
    def _compute_view(path: Path):
        """The figures of the run at `path`, or None while it has no checkpoint yet."""
        from rnn_tui.decode.forecast import forecast_view  # torch: on first use, in a thread

        if not RunDir(path).checkpoints.joinpath("best.json").exists():
            return None
        return forecast_view(path).thinned(PLOT_POINTS)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "view" and worker.state in FINISHED:
            self._view_done(worker)

    def _view_done(self, worker: Worker) -> None:
        slot = worker.name
        self._view_loading.discard(slot)
        snap = self.pair.snapshots()[slot]
        if worker.state == WorkerState.SUCCESS and worker.result is not None:
            self.views[slot] = worker.result
            self._view_paths[slot] = self._loading_paths.get(slot, "")
            self._one_series(slot)
        elif worker.state == WorkerState.ERROR and (snap is None or not snap.active):
            # A live run's checkpoint may be mid-write: the next epoch tries again.
            self.notify(f"cannot forecast: {error_text(worker.error)}", severity="error")
        self._say_computing()
        if not self._view_loading:
            # The round's CPU, up to its last plot on screen, paces the next (view_pace.py).
            self._draw_views(drawn=self.view_pace.done)

    def _one_series(self, slot: str) -> None:
        """Runs of different series or splits are never ranked against each other: the run
        just drawn closes the other slot's, with a notice (or, while only the other trains, is
        closed itself)."""
        shown = self._shown_views()
        other = next((s for s in shown if s != slot), None)
        if slot not in shown or other is None or shown[slot].forecasts_as(shown[other]):
            return
        drop, keep = other, slot
        if self.pair.slots[other].training() and not self.pair.slots[slot].training():
            drop, keep = slot, other
        name = {s: plain(Path(self._view_paths.get(s, s)).name) for s in (drop, keep)}
        self.notify(
            f"closed {name[drop]} ({shown[drop].held_out_text()}): {name[keep]} forecasts "
            f"another series or split ({shown[keep].held_out_text()}), not ranked against it",
            severity="warning",
            markup=False,
        )
        self.pair.clear(drop)
        self.views.pop(drop, None)
        self._view_keys.pop(drop, None)
        self._show_runs()

    # -- starting and stopping ----------------------------------------------------------------

    def training(self) -> list:
        return self.pair.training()

    def action_start(self) -> None:
        form = self.query_one(ForecastForm)
        options, latent, problems = form.options()
        counts, bad = form.counts_text()
        if bad:
            problems.append(counts)
        if not problems and form.pending():
            problems.append("the series is still being read")
        if problems:
            self.notify("cannot start: " + problems_line(problems), severity="error", markup=False)
            return
        if self.training():
            self.notify("the runs are still training: stop them first (x)", severity="warning")
            return
        # The MLP reads τ values through one hidden layer: no recurrent options.
        plan = {AR: {**options, "model": "mlp", "layers": None, "num_steps": None}}
        if latent != "none":
            plan[LATENT] = {**options, "model": latent}
        # The views stay: hidden while the new runs train, drawn again if they fail.
        self._told.clear()
        started, notices = self.pair.start(
            self.runs_root, plan, self.command_builder, nice=self.child_nice
        )
        self._tell(notices)
        self.started(started)
        self._draw_views()
        self.redraw()
        self._show_runs()

    @on(Button.Pressed, "#fc-start")
    def _start_pressed(self) -> None:
        self.action_start()

    def action_stop(self) -> None:
        self._tell(self.pair.stop())

    # -- saved runs ---------------------------------------------------------------------------

    def open_run(self, path: str | os.PathLike) -> bool:
        """Show the forecast run at `path` in its model's slot (False after a notification when
        it is not one, or that slot is training)."""
        try:
            slot, key = self.pair.open(path)
        except RunError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return False
        self.views.pop(slot, None)
        self._view_keys.pop(slot, None)
        self._first_read(self.pair.slots[slot], key)
        self._draw_views()
        self._show_runs()
        return True

    def runs_task(self) -> str:
        return "forecast"

    def shown_runs(self) -> list[str]:
        return list(self.pair.shown().values())

    def _show_runs(self) -> None:
        shown = self.pair.shown()
        colors = {key: SLOT_COLORS[slot] for slot, key in shown.items()}
        self.query_one(RunPicker).set_runs(
            self.pair.entries(self._listed),
            list(shown.values()),
            colors,
            fmt_folder(self.runs_root),
        )

    @on(SelectionList.SelectedChanged, "#run-list")
    def _ticked(self, event: SelectionList.SelectedChanged) -> None:
        ticked = event.selection_list.selected
        for slot, key in self.pair.shown().items():
            if key not in ticked and self.pair.slots[slot].training() is None:
                self.pair.clear(slot)
                self.views.pop(slot, None)
        for key in ticked:
            if key not in self.pair.shown().values():
                self.open_run(key)
        self._draw_views()
        self._show_runs()
        self.redraw()

    # -- navigation ---------------------------------------------------------------------------

    def first_field(self):
        return self.query_one(ForecastForm).first_field()

    def _results(self) -> ForecastResults | None:
        """The results panel, or None after saying there are none yet: its keys changed a
        view no one could see, without a word (from the palette, a command that did nothing)."""
        results = self.query_one(ForecastResults)
        if results.views:
            return results
        self.notify("no forecast yet: s trains the two models, o opens a saved run")
        return None

    def action_next_metric(self) -> None:
        if results := self._results():
            results.next_metric()

    def action_other_model(self) -> None:
        if results := self._results():
            results.other_model()

    def action_next_panel(self) -> None:
        if results := self._results():
            results.cycle()

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        return [
            ("Forecast: start", "Train the MLP and the latent model (s)", self.action_start),
            ("Forecast: open runs", "Reopen saved forecast runs (o)", self.action_open_run),
            ("Forecast: stop", "Stop both runs (x)", self.action_stop),
            (
                "Forecast: error metric",
                "MSE, RMSE or MAPE in the table (t)",
                self.action_next_metric,
            ),
            (
                "Forecast: k-step model",
                "The other model's k-step plot (m)",
                self.action_other_model,
            ),
            ("Forecast: side panel", "Show or hide the form and runs (f)", self.action_toggle_side),
        ]


def _is_pipe(path: str) -> bool:
    """Whether `path` is a FIFO (a missing or unreadable one is load_series' to name)."""
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


__all__ = ["ForecastScreen"]
