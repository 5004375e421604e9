"""What the Generate and Translate consoles share: a checkpoint picker, a status bar, and one
job at a time in a thread worker.

A job loads the chosen checkpoint through the app's model cache (rnn_tui.decode.cache; torch is
imported by the loader, in the worker, never when a screen module is imported) and then, unless
it only loads, runs the console's own work (`run_job`). Each job gets a request id: messages
from a job that is no longer the latest are dropped, so a slow old job never overwrites what a
newer one shows. Escape cancels the running job; an error becomes one notification line. A
job started while a cancelled one is still finishing its step waits for it, and says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from rnn_tui.decode.cache import ModelCache
from rnn_tui.decode.math_threads import on_one_math_thread
from rnn_tui.tui.errors import error_text
from rnn_tui.tui.screens.mode_screen import ModeScreen
from rnn_tui.tui.widgets.checkpoint_picker import CheckpointPicker
from rnn_tui.tui.widgets.status_bar import StatusBar

WIDE = 100  # columns from which the optional labels are shown


def model_cache(app: App) -> ModelCache:
    """The app's one model cache, made on first use and kept on the app, so the consoles
    share its bound (two models in memory at most)."""
    cache = getattr(app, "model_cache", None)
    if cache is None:
        cache = app.model_cache = ModelCache()
    return cache


@dataclass(frozen=True)
class Request:
    """One job: load `path`, then (unless `job` is None) do the console's work `job`."""

    path: str
    job: Any = None


class ModelLoaded(Message):
    """The worker has the model of `path` in memory; `fresh` when it was just read from disk."""

    def __init__(self, request_id: int, path: str, facts: dict, warnings: list[str], fresh: bool):
        super().__init__()
        self.request_id, self.path, self.facts = request_id, path, facts
        self.warnings, self.fresh = warnings, fresh


class JobWaiting(Message):
    """The job `request_id` waits for a cancelled one to end its step (`waiting`), or has
    stopped waiting after `waited` seconds."""

    def __init__(self, request_id: int, waiting: bool, waited: float = 0.0):
        super().__init__()
        self.request_id, self.waiting, self.waited = request_id, waiting, waited


class ConsoleScreen(ModeScreen):
    """Base of a console: subclasses compose a CheckpointPicker and a StatusBar, set TASK and
    `loader`, and define these hooks (checked when the subclass is made):

    - `json_of(model, path) -> Path`: the JSON of the checkpoint `model` came from (the cache
      watches it);
    - `model_facts(model, path) -> (checkpoint path, facts, warnings)` of a loaded model;
    - `run_job(model, job, request_id, worker) -> result`: the console's work, in the worker;
    - `done_text(job, result)` and `stopped_text(job)`: the status line after a job.

    `loaded_text`, `checkpoints_found` and `model_loaded` have defaults a console may replace.
    """

    HOOKS = ("json_of", "model_facts", "run_job", "done_text", "stopped_text")

    TASK: ClassVar[str] = ""  # the checkpoints' task: "lm" or "seq2seq"
    # Times the work (and paces the worker's updates); tests pin it for stable pictures.
    clock = staticmethod(time.perf_counter)
    # path -> loaded model (worker thread); tests swap in a fake.
    loader: ClassVar[Callable[[str], Any]]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        missing = [hook for hook in cls.HOOKS if not callable(getattr(cls, hook, None))]
        if missing:
            raise TypeError(f"{cls.__name__} must define {', '.join(missing)}")

    def __init__(self) -> None:
        super().__init__()
        self.job: Worker | None = None  # the latest job
        self.request: Request | None = None  # what it was asked
        self._request_id = 0
        self._loaded_id = 0  # the latest job whose model loaded
        self._shown: Request | None = None  # the request whose results are on screen
        # Held by this console's jobs, one at a time: a cancelled job finishes its current
        # step before the next one starts.
        self._lock = threading.Lock()
        self._job_text = ""  # the status line the current job started with
        self.waited = 0.0  # seconds the current job waited for a cancelled one
        # Whether the search under way was the screen's return's, and how many checkpoints the
        # last one found: a return's search speaks only when that count changes.
        self._quiet_search = False
        self._found_count: int | None = None

    def loaded_text(self, name: str) -> str:
        return f"ready · {name} loaded"

    def checkpoints_found(self, count: int) -> str:
        """The status line for a search that found `count` checkpoints."""
        return f"{count} checkpoint{'s' if count != 1 else ''} found"

    def model_loaded(self, message: ModelLoaded) -> None:
        """The current job's model is loaded (its facts are already shown)."""

    @property
    def shown(self) -> Request | None:
        """The request whose results are on screen (None: none are)."""
        return self._shown

    def results_shown(self) -> None:
        """A subclass calls this when the current request's first results replace those shown."""
        self._shown = self.request

    def forget_results(self) -> None:
        """The results shown were cleared."""
        self._shown = None

    def checkpoint_switched(self, path: str, job: Any) -> None:
        """Another checkpoint, `path`, was chosen while the results of `job` (done with the
        previous one) are shown. The default loads it (a console may clear what no longer
        belongs to the checkpoint named above it once it has loaded); a console may instead do
        the work again."""
        self.start(path)

    # -- parts --------------------------------------------------------------------------------

    @property
    def picker(self) -> CheckpointPicker:
        return self.query_one(CheckpointPicker)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def status(self) -> str:
        """The status line's text."""
        return self.status_bar.text

    @property
    def checkpoint_paths(self) -> list[str]:
        """The paths of the checkpoints the list offers (the last search's)."""
        return self.picker.paths

    def current_path(self) -> str:
        """The checkpoint path a job would use ("" when none is chosen)."""
        return self.picker.current_path()

    @property
    def running(self) -> bool:
        """Whether a job (a load or the console's work) is under way."""
        return self.job is not None and self.job.is_running

    def is_current(self, request_id: int) -> bool:
        """Whether a worker's message comes from the latest job."""
        return request_id == self._request_id

    def set_busy(self, busy: bool, total: int | None = None) -> None:
        self.status_bar.set_busy(busy, total)
        self.refresh_bindings()  # escape (stop) shows only while a job runs

    def on_resize(self, event: events.Resize) -> None:
        for widget in self.query(".-optional-label"):
            widget.display = event.size.width >= WIDE

    # -- checkpoints --------------------------------------------------------------------------

    def refresh_checkpoints(self) -> None:
        """Look for checkpoints again (the picker does, in a worker)."""
        self._quiet_search = False
        self.status_bar.text = "looking for checkpoints…"
        self.picker.search()

    def on_screen_resume(self) -> None:
        # Back from another screen, where a run may have saved checkpoints: the list follows
        # without ctrl+r, and the status line keeps the last job's words unless the count moved.
        if self.picker.found and not self.running:
            self._quiet_search = True
            self.picker.search_again()

    @on(CheckpointPicker.Found)
    def _search_finished(self, message: CheckpointPicker.Found) -> None:
        if message.kept and not self.running:
            self.picker.show_entry_facts()  # perhaps newer metrics: a run still training
        quiet, self._quiet_search = self._quiet_search, False
        moved, self._found_count = message.count != self._found_count, message.count
        if quiet and not moved:
            return
        text = self.checkpoints_found(message.count)
        # A job started meanwhile (the first checkpoint loading, a generation) keeps its own
        # line and progress bar: the search's would say "ready" while the bar still runs.
        if not self.running:
            self.status_bar.text = text

    @on(CheckpointPicker.SearchFailed)
    def _search_failed(self, message: CheckpointPicker.SearchFailed) -> None:
        self.status_bar.text = "could not look for checkpoints"
        self.notify_error(message.error)

    @on(CheckpointPicker.Chosen)
    def _checkpoint_chosen(self, message: CheckpointPicker.Chosen) -> None:
        # Loaded at once, to show its facts; the work is then quick to start. Results of
        # another checkpoint on screen would read as this one's: the console decides.
        shown = self._shown
        if shown is not None and shown.job is not None and shown.path != message.path:
            self.checkpoint_switched(message.path, shown.job)
        else:
            self.start(message.path)

    # -- jobs ---------------------------------------------------------------------------------

    def start(self, path: str, job: Any = None, text: str = "", total: int | None = None) -> None:
        """Run a job: load `path`, then do `job` (None: only load), with `text` on the status
        line and a progress bar out of `total` (None: indeterminate)."""
        self._request_id += 1
        self.request = Request(path, job)
        if job is None:
            text, total = f"loading {Path(path).name or path}…", None
        self.status_bar.text = self._job_text = text
        self.waited = 0.0
        self.set_busy(True, total)
        self.job = self._run(self.request, self._request_id, model_cache(self.app))

    @work(
        thread=True,
        exclusive=True,
        group="console",
        exit_on_error=False,
        description="load and run",
    )
    @on_one_math_thread  # beside trainers: torch's threads would wait for each other
    def _run(self, request: Request, request_id: int, cache: ModelCache) -> Any:
        worker = get_current_worker()
        if not self._lock.acquire(blocking=False):
            # A cancelled job is ending its step: say so rather than look stuck.
            self.post_message(JobWaiting(request_id, True))
            began = self.clock()
            self._lock.acquire()
            self.post_message(JobWaiting(request_id, False, self.clock() - began))
        try:
            if worker.is_cancelled:
                return None
            model, fresh = cache.get(
                self.TASK, request.path, self.loader, lambda m: self.json_of(m, request.path)
            )
            path, facts, warnings = self.model_facts(model, request.path)
            self.post_message(ModelLoaded(request_id, path, facts, warnings, fresh))
            if request.job is None:
                return None
            return self.run_job(model, request.job, request_id, worker)
        finally:
            self._lock.release()

    @on(JobWaiting)
    def _job_waiting(self, message: JobWaiting) -> None:
        if not self.is_current(message.request_id) or not self.running:
            return
        self.waited = message.waited
        if message.waiting:
            self.status_bar.text = f"waiting for the stopped job to end its step · {self._job_text}"
        else:
            self.status_bar.text = self._job_text

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        if not self.is_current(message.request_id):
            return
        self._loaded_id = message.request_id
        self.picker.show_facts(message.facts, message.path)
        self.picker.path_loaded(self.request.path if self.request else message.path)
        self.model_loaded(message)
        if message.fresh:
            for warning in message.warnings:
                self.notify(warning, severity="warning", markup=False)

    @on(Worker.StateChanged)
    def _job_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.job or self.request is None:
            return
        request = self.request
        if event.state == WorkerState.SUCCESS:
            result = event.worker.result
            if result is None:
                self.status_bar.text = self.loaded_text(Path(request.path).name)
            else:
                self.status_bar.text = self.done_text(request.job, result)
        elif event.state == WorkerState.CANCELLED:
            if request.job is not None:
                self.status_bar.text = self.stopped_text(request.job)
        elif event.state == WorkerState.ERROR:
            self.status_bar.text = "ready"
            if self._loaded_id != self._request_id:  # the model itself failed to load
                self.picker.load_failed(request.path)
            self.notify_error(event.worker.error)
        else:
            return
        self.set_busy(False)

    def notify_error(self, error: BaseException | None) -> None:
        """One notification line for `error` (errors.error_text)."""
        self.notify(error_text(error), severity="error", markup=False)

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if self.running else None
        return True

    def action_stop(self) -> None:
        if self.running and self.job is not None:
            self.job.cancel()

    def action_refresh(self) -> None:
        self.refresh_checkpoints()

    def action_open_path(self) -> None:
        self.picker.open_path()

    def action_choose_checkpoint(self) -> None:
        self.picker.open_list()


def checkpoint_bindings(listed: str) -> list[Binding]:
    """The checkpoint picker's keys (ConsoleScreen's actions), for a screen's BINDINGS after its
    own keys, so a narrow footer drops them first; `listed` says which checkpoints the list
    holds."""
    return [
        Binding(
            "ctrl+r",
            "refresh",
            "Refresh",
            tooltip="look for checkpoints again (shipped ones and every run's)",
        ),
        Binding(
            "ctrl+o",
            "open_path",
            "Path",
            show=False,
            tooltip="type the path of a checkpoint or a run directory, then enter",
        ),
        Binding(
            "ctrl+l",
            "choose_checkpoint",
            "Checkpoint",
            show=False,
            tooltip=f"open the list of {listed}",
        ),
    ]


__all__ = [
    "WIDE",
    "ConsoleScreen",
    "JobWaiting",
    "ModelLoaded",
    "Request",
    "checkpoint_bindings",
    "model_cache",
]
