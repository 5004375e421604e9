"""Following a run directory while it is written: what the Train screen draws, without Textual.

A `RunFollower` tails metrics.jsonl incrementally (`MetricsTail`: a half-written last line waits
for the next poll) and re-reads status.json only when it changed. Every curve is a
`BoundedSeries`, so memory and plotting cost stay bounded however long the run (the plot keeps
about two points per column). `snapshot(now)` freezes the current state for the UI. The ETA
agrees with the trainer's (eta.py: its mean epoch time, smoothed, counting down with the
injected clock); the epoch's progress comes from its latest step event.

A seq2seq run's epoch events also carry `bleu` (corpus BLEU 0–100 of the greedy translations of
the held-out pairs) and `bleu_short` (held-out pairs of at most five English words): the "bleu"
and "bleu_short" series and the snapshot's `bleu`, `bleu_short` and `best_bleu`.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable

from rnn_tui.data.ngrams import baseline_name
from rnn_tui.files import regular_file_problem
from rnn_tui.quoting import plain
from rnn_tui.runs.eta import ETA_WINDOW, Eta
from rnn_tui.runs.line_tail import READ_PIECE, MetricsTail
from rnn_tui.runs.liveness import ACTIVE, DIED, died_message, is_dead
from rnn_tui.runs.rundir import RunDir, RunError
from rnn_tui.runs.series import (
    DEFAULT_CAPACITY,
    BoundedSeries,
    event_notes,
    event_text,
    int_or_none,
    is_number,
    number,
    sound_epoch,
)
from rnn_tui.runs.snapshot import Sample, Snapshot

# Series every run keeps: per logged batch (x = fractional epoch) and per epoch (x = epoch).
STEP_SERIES = ("step_loss", "step_ppl", "grad_norm", "tokens_per_s")
EPOCH_SERIES = ("train_loss", "val_loss", "train_ppl", "val_ppl")
BLEU_SERIES = ("bleu", "bleu_short")  # per epoch, seq2seq runs only (empty for a language model)
# Per epoch, held-out scores: classify's and tag's, a forecast's 1-step RMSE and MAPE (%).
SCORE_SERIES = ("accuracy", "macro_f1", "f1_capital", "f1_punct", "rmse", "mape")
# The clocks: (epoch position, global step) and (epoch position, seconds of training) at every
# step and epoch event, which put any series on a step or wall-time x axis (runs/x_axis.py).
CLOCK_SERIES = ("clock_step", "clock_time")
SERIES = STEP_SERIES + EPOCH_SERIES + BLEU_SERIES + SCORE_SERIES + CLOCK_SERIES


class RunFollower:
    """Polls one run directory and keeps its curves, samples and status."""

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        clock: Callable[[], float] = time.time,
        capacity: int = DEFAULT_CAPACITY,
        sample_limit: int = 8,
        eta_window: int = ETA_WINDOW,
    ):
        self.run = RunDir(path)
        self.path = self.run.path
        self.clock = clock
        self.tail = MetricsTail(self.run.metrics_path)
        self.series = {name: BoundedSeries(capacity) for name in SERIES}
        self.samples: deque[Sample] = deque(maxlen=sample_limit)
        self.version = 0
        self.events = 0
        self._config: dict = {}
        self._config_read = False
        self.problem = ""  # a broken config.json or status.json: what is shown comes from metrics
        self.metrics_problem = ""  # a metrics.jsonl not read: a FIFO, or over the size limit
        self._status: dict = {}
        self._status_key: tuple | None = None
        self._event_status: tuple[str, str] | None = None  # from the latest "status" event
        self._info: dict = {}  # start event fields
        self._latest: dict = {}  # latest value of each live metric
        self.epoch = 0
        self.epochs: int | None = None
        self._batch = 0
        self._batches = 0
        self._step_epoch = 0
        self.best_val_ppl: float | None = None
        self.best_bleu: float | None = None
        self._eta = Eta(eta_window)
        self._elapsed: float | None = None
        self._bytes_read = 0
        self._last_time: float | None = None  # of the latest event read
        self._first_since: float | None = None  # a session's start, until its first step ends
        self._gone = False  # says running/paused, but its trainer is gone (liveness.py)
        self._gone_message = ""

    # -- reading ----------------------------------------------------------------------------

    def pending_bytes(self) -> int:
        """Bytes of metrics.jsonl not read yet (a cheap stat): big → read in a worker thread."""
        try:
            size = os.stat(self.run.metrics_path).st_size
        except OSError:
            return 0
        return max(0, size - self._bytes_read)

    def poll(self) -> bool:
        """Read what was appended and whether the status changed; True when anything did."""
        changed = False
        if not self._config_read and self.run.config_path.exists():
            try:
                self._config = {**self.run.read_config(), **self._config}
                self._config_read = True
                changed = True
            except RunError as exc:
                self.problem = str(exc)  # written atomically: only a broken file lands here
        changed |= self._poll_status()
        # Before any event: a FIFO (read as nothing) or a file over the size limit is refused.
        if not self.events:
            self.metrics_problem = regular_file_problem(self.run.metrics_path, "run file")
        more = not self.metrics_problem
        while more:
            # A piece at a time: each piece's events are applied, then dropped.
            events = self.tail.read_new(READ_PIECE)
            more = self.tail.more
            for event in events:
                self._apply(event)
            if events:
                self.events += len(events)
                changed = True
        try:
            self._bytes_read = os.stat(self.run.metrics_path).st_size
        except OSError:
            self._bytes_read = 0
        changed |= self._check_trainer()
        if changed:
            self.version += 1
        return changed

    def _poll_status(self) -> bool:
        try:
            st = os.stat(self.run.status_path)
        except OSError:
            return False
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if key == self._status_key:
            return False
        try:
            status = self.run.read_status()
        except RunError as exc:
            self.problem = str(exc)
            return False
        self._status_key = key
        self._status = status
        return True

    def _check_trainer(self) -> bool:
        """Whether the trainer's fate changed: a run saying running or paused while its trainer
        is gone (killed, crashed without a word, its folder removed: RunDir.lost) becomes
        "died". Cheap for every poll: an flock probe, only while a trainer should be at work."""
        pid, status = self._status.get("pid"), self._written_status()
        message = ""  # built only for a run gone
        if status in ACTIVE and self.events > 0 and not os.path.isdir(self.path):
            message = f"its folder {self.path} was removed"
        elif is_dead(self.run, status, pid):
            last = self._last_time if self._last_time is not None else self._status.get("updated")
            message = died_message(pid, last)
        if (bool(message), message) == (self._gone, self._gone_message):
            return False
        self._gone, self._gone_message = bool(message), message
        return True

    # -- events -----------------------------------------------------------------------------

    def _apply(self, event: dict) -> None:
        kind = event.get("event")
        t = number(event.get("time"))
        if t is not None:
            self._last_time = t
        if kind == "start":
            self._on_start(event, t)
        elif kind == "step":
            self._on_step(event, t)
        elif kind == "epoch":
            self._on_epoch(event, t)
        elif kind == "sample" and (sample := Sample.from_event(event, self.epoch)) is not None:
            self.samples.append(sample)
        elif kind == "status":
            self._event_status = (event_text(event.get("status")), event_text(event.get("message")))
        elif kind == "path" and isinstance(event.get("path"), str):
            # After the first step: the path taken, with any capture or compile time; why it is
            # not (all) the path asked for joins the start's remarks.
            self._info["path"] = plain(event["path"])
            self._info["notes"] = (*self.notes, *event_notes(event, self.notes, "departures"))
        if kind in ("path", "step", "epoch"):
            self._first_since = None
        elapsed = number(event.get("elapsed"))
        if elapsed is not None:
            self._elapsed = elapsed

    def _on_start(self, event: dict, t: float | None) -> None:
        config = event.get("config")
        if isinstance(config, dict):
            self._config = {**self._config, **config}
            if is_number(config.get("epochs")):
                self.epochs = int(config["epochs"])
        self._info.update(
            {k: event.get(k) for k in ("device", "num_params", "train_tokens", "val_tokens")}
        )
        if isinstance(event.get("path"), str):
            self._info["path"] = plain(event["path"])  # planned; the "path" event confirms it
        self._info["baseline_ppl"] = number(event.get("baseline_ppl"))
        self._info["baseline_name"] = baseline_name(event.get("baseline_name"))
        if isinstance(event.get("notes"), list):  # the task's (samples' prefix, pairs skipped)
            self._info["notes"] = event_notes(event)
        resumed = event.get("resumed")
        self._first_since = t
        self._eta.session_started(t, resumed, self._batches)
        if isinstance(resumed, dict):
            self._rewind(resumed)

    def _rewind(self, resumed: dict) -> None:
        """Drop what an earlier session logged past the point this one resumes from (trained
        again): kept, the curves would turn back on themselves (a resume from best)."""
        epoch, batch = resumed.get("epoch"), resumed.get("batch")
        if not (is_number(epoch) and is_number(batch)):
            return
        x = epoch + (batch / self._batches if self._batches else (1.0 if batch else 0.0))
        for series in self.series.values():
            series.rewind(x + 1e-9)
        kept = [s for s in self.samples if s.epoch <= epoch]
        if len(kept) < len(self.samples):
            self.samples = deque(kept, maxlen=self.samples.maxlen)
        self.epoch = min(self.epoch, int(epoch))

    def _on_step(self, event: dict, t: float | None) -> None:
        epoch, batch, batches = event.get("epoch"), event.get("batch"), event.get("batches")
        if not (is_number(epoch) and is_number(batch) and is_number(batches) and batches > 0):
            return
        self._step_epoch, self._batch, self._batches = int(epoch), int(batch), int(batches)
        x = epoch - 1 + batch / batches
        for name, key in (
            ("step_loss", "loss"),
            ("step_ppl", "ppl"),
            ("grad_norm", "grad_norm"),
            ("tokens_per_s", "tokens_per_s"),
        ):
            value = number(event.get(key))
            if value is not None:
                self.series[name].append(x, value)
                self._latest[key] = value
        self._clocks(x, event)
        self._update_eta(t)

    def _clocks(self, x: float, event: dict) -> None:
        step, elapsed = number(event.get("step")), number(event.get("elapsed"))
        if step is not None:
            self.series["clock_step"].append(x, step)
        if elapsed is not None:
            self.series["clock_time"].append(x, elapsed)

    def _on_epoch(self, event: dict, t: float | None) -> None:
        if not sound_epoch(event):  # an edited one: no epoch, no best score
            return
        self.epoch = event["epoch"]
        if is_number(event.get("epochs")):
            self.epochs = int(event["epochs"])
        for name in EPOCH_SERIES + BLEU_SERIES + SCORE_SERIES:
            value = number(event.get(name))
            if value is not None:
                self.series[name].append(self.epoch, value)
        self._clocks(float(self.epoch), event)
        for key in BLEU_SERIES:
            # Like val_ppl: an epoch without held-out pairs shows none, not an older value.
            self._latest[key] = number(event.get(key))
        bleu = self._latest["bleu"]
        if bleu is not None and (self.best_bleu is None or bleu > self.best_bleu):
            self.best_bleu = bleu
        for key in ("tokens_per_s", "memory_mb", "lr"):
            value = number(event.get(key))
            if value is not None:
                self._latest[key] = value
        # The epoch's own, null (not finite, no validation) as none, not an older step's value.
        for key in ("train_ppl", "grad_norm", "val_ppl"):
            self._latest[key] = number(event.get(key))
        self._latest["loss"] = number(event.get("train_loss"))
        val = self._latest["val_ppl"]
        if val is not None and (self.best_val_ppl is None or val < self.best_val_ppl):
            self.best_val_ppl = val
        if t is not None:
            self._eta.epoch_ended(t, number(event.get("eta")), (self.epochs or 0) - self.epoch)
        self._update_eta(t)

    # -- progress and ETA ---------------------------------------------------------------------

    def _position(self) -> int:
        """Minibatches done in the epoch after the last completed one: the latest step event's,
        or, once the run has stopped, where status.json says it stopped (step events come every
        few minibatches, so the last one is behind the stop)."""
        batch = self._batch if self._step_epoch == self.epoch + 1 else 0
        epoch, stopped_at = self._status.get("epoch"), self._status.get("batch")
        if (
            self.status not in ACTIVE
            and is_number(epoch)
            and int(epoch) == self.epoch
            and is_number(stopped_at)
            and batch <= stopped_at <= self._batches
        ):
            batch = int(stopped_at)
        return batch

    def _fraction(self) -> float:
        """How much of the epoch after the last completed one is done."""
        if self._batches:
            return min(1.0, self._position() / self._batches)
        return 0.0

    def _update_eta(self, t: float | None) -> None:
        if t is not None and self.epochs:
            fraction = self._fraction()
            self._eta.update(t, self.epochs - self.epoch - fraction, fraction)

    # -- the UI's view ------------------------------------------------------------------------

    def _written_status(self) -> str:
        """What the run itself says: status.json, else its latest status event."""
        if event_text(self._status.get("status")):
            return event_text(self._status["status"])
        if self._event_status and self._event_status[0]:
            return self._event_status[0]
        return "unknown"

    @property
    def status(self) -> str:
        """The run's status; "died" when it says running or paused but its trainer is gone."""
        return DIED if self._gone else self._written_status()

    @property
    def message(self) -> str:
        if self._gone:
            return self._gone_message
        if event_text(self._status.get("status")):
            return event_text(self._status.get("message"))
        return self._event_status[1] if self._event_status else ""

    @property
    def config(self) -> dict:
        return self._config

    @property
    def device(self) -> str | None:
        """The device the trainer reported in its start event ("cpu", "cuda:0", ...)."""
        device = self._info.get("device")
        return device if isinstance(device, str) else None

    @property
    def notes(self) -> tuple[str, ...]:
        """What the trainer remarked at its latest start (a few lines at most, plain text)."""
        return self._info.get("notes") or ()

    @property
    def trainer_pid(self) -> int | None:
        """The pid status.json gives while it says a trainer is at work and it is not gone."""
        pid = self._status.get("pid")
        if self._gone or self._status.get("status") not in ACTIVE:
            return None
        return pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None

    @property
    def memory_mb(self) -> float | None:
        """Memory of the latest epoch event: peak GPU memory on CUDA, else resident memory."""
        return self._latest.get("memory_mb")

    def stale(self) -> bool:
        """status.json says a trainer is at work, but it is gone (as of the latest poll): the
        run shows as "died". A trainer that cannot be checked (no lock, no pid) counts as alive."""
        return self._gone

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left: counting down while running, frozen while paused, 0 once finished."""
        status = self.status
        if status == "finished":
            return 0.0
        if status not in ACTIVE:
            return None
        return self._eta.left(self.clock() if now is None else now, paused=status == "paused")

    def progress(self) -> float:
        if not self.epochs:
            return 0.0
        if self.status == "finished" and self.epoch >= self.epochs:
            return 1.0
        return min(1.0, (self.epoch + self._fraction()) / self.epochs)

    def snapshot(self, now: float | None = None) -> Snapshot:
        latest = self._latest
        info = self._info
        epochs = self.epochs
        if epochs is None and is_number(self._config.get("epochs")):
            epochs = int(self._config["epochs"])
        return Snapshot(
            path=self.path,
            name=plain(self.path.name),
            status=self.status,
            message=self.message,
            stale=self.stale(),
            config=dict(self._config),
            device=self.device,
            step_path=info.get("path") if isinstance(info.get("path"), str) else None,
            num_params=int_or_none(info.get("num_params")),
            train_tokens=int_or_none(info.get("train_tokens")),
            val_tokens=int_or_none(info.get("val_tokens")),
            baseline_ppl=info.get("baseline_ppl"),
            baseline_name=info.get("baseline_name", "trigram"),
            epoch=self.epoch,
            epochs=epochs,
            batch=self._position(),
            batches=self._batches,
            progress=self.progress(),
            eta=self.eta(now),
            elapsed=self._elapsed,
            train_ppl=latest.get("train_ppl"),
            val_ppl=latest.get("val_ppl"),
            best_val_ppl=self.best_val_ppl,
            loss=latest.get("loss"),
            grad_norm=latest.get("grad_norm"),
            tokens_per_s=latest.get("tokens_per_s"),
            memory_mb=latest.get("memory_mb"),
            lr=latest.get("lr"),
            samples=tuple(self.samples),
            series={name: s.arrays() for name, s in self.series.items()},
            version=self.version,
            bleu=latest.get("bleu"),
            bleu_short=latest.get("bleu_short"),
            best_bleu=self.best_bleu,
            first_step_s=self._first_step_s(now),
        )

    def _first_step_s(self, now: float | None) -> float | None:
        if self._first_since is None or self.status != "running" or self.stale():
            return None  # done, or not at work on it
        return max(0.0, (self.clock() if now is None else now) - self._first_since)


__all__ = ["BLEU_SERIES", "SERIES", "RunFollower", "Sample", "Snapshot"]
