"""The runs the Train screen follows, without Textual: one `RunFollower` per opened run, the runs
ticked to overlay their curves (in the order ticked, each keeping its colour), the run the
header is about, the trainer this app started, and what a change deserves to be told (`Notice`).

The screen owns the timer, the thread workers and the drawing; this class decides what to read,
what changed and what to say about it. Runs are keyed by absolute path (`run_key`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rnn_tui.quoting import plain
from rnn_tui.runs.follow import RunFollower, Snapshot
from rnn_tui.runs.format import fmt_bleu, fmt_number
from rnn_tui.runs.liveness import DIED, killed_note
from rnn_tui.runs.process import CommandBuilder, TrainProcess, rss_mb, train_command
from rnn_tui.runs.rundir import RunDir, RunError, check_run_dir, new_run_dir
from rnn_tui.runs.system import CpuMeter, GpuStat, gpu_stats

Severity = Literal["information", "warning", "error"]
STEERED = {"pause": "pausing", "resume": "resuming", "stop": "stopping"}


@dataclass(frozen=True)
class Notice:
    """One line to tell the user, and how loudly."""

    text: str
    severity: Severity = "information"


def run_key(path: str | os.PathLike) -> str:
    """The key of the run at `path`: its absolute path, ~ expanded."""
    return os.path.abspath(os.path.expanduser(path))


class FollowedRuns:
    """Followers, ticked runs and their colours, the run shown and the trainer started here."""

    def __init__(
        self,
        palette: Sequence[str],
        *,
        clock: Callable[[], float] = time.time,
        start_notes: bool = False,
        stopped_hint: str = "",
    ):
        """`palette`: the colours ticked runs take, in order; `clock`: for the followers' ETA;
        `start_notes`: tell what the trainer started here remarks at its start (once a run);
        `stopped_hint`: said after a run stopped, where the screen cannot continue it."""
        self.start_notes = start_notes
        self.stopped_hint = stopped_hint
        self._started: set[str] = set()  # runs whose trainer this app started
        self._noted: dict[str, set[str]] = {}  # the remarks told of each run started here
        self.palette = tuple(palette)
        self.clock = clock
        self.followers: dict[str, RunFollower] = {}
        self.selected: list[str] = []  # ticked runs, in the order they were ticked
        self.run_colors: dict[str, str] = {}
        self.primary: str | None = None  # the run the header, samples and buttons are about
        # What was shown before a start, to show again if the trainer refuses its options.
        self._before_start: tuple[list[str], str | None] = ([], None)
        self.process: TrainProcess | None = None  # the trainer this app started
        self.loading: set[str] = set()  # runs being read in a worker thread
        self.listed: list[dict] = []  # the runs folder's latest list_runs()
        self._extra: list[str] = []  # runs opened by path from outside the runs folder
        self._seen_status: dict[str, str] = {}
        self._cpu = CpuMeter()
        self._gpus: tuple[float, list[GpuStat]] = (-1.0, [])  # (when, what) NVML last said

    # -- opening, ticking, forgetting -------------------------------------------------------

    def open(self, path: str | os.PathLike) -> tuple[str, bool]:
        """Follow, tick and show the run at `path` (RunError when it is not a run directory).
        Returns its key and whether it is new: a new run is `loading` until its first read."""
        key = run_key(check_run_dir(path))
        new = key not in self.followers
        if new:
            self.followers[key] = RunFollower(key, clock=self.clock)
            self.loading.add(key)
        if not self._listed(key) and key not in self._extra:
            self._extra.append(key)
        if key not in self.selected:
            self.selected.append(key)
            self.assign_color(key)
        self.primary = key
        return key, new

    def _listed(self, key: str) -> bool:
        return any(run_key(e["path"]) == key for e in self.listed)

    def start(
        self,
        root: Path,
        options: Mapping[str, object],
        command_builder: CommandBuilder = train_command,
        *,
        nice: int = 0,
        threads: int = 0,
    ) -> TrainProcess:
        """Start a trainer with `options` writing a new run directory under `root`, `nice` below
        this process with `threads` math threads (TrainProcess), and follow its run alone (tick
        others to compare); RunError when the run directory or the process cannot be made."""
        # A seq2seq run's model is always the encoder–decoder: seq2seq-<time>.
        folder = new_run_dir(
            root, prefix=str(options.get("task") or "lm"), model=str(options.get("model") or "")
        )
        argv = command_builder(options, folder)
        process = TrainProcess(argv, folder, nice=nice, threads=threads, beside=self.listed)
        process.start()
        self.process = process
        key = run_key(folder)
        self._started.add(key)
        self._before_start = (self.selected, self.primary)
        self.selected = [key]
        self.assign_color(key)
        self.followers[key] = RunFollower(key, clock=self.clock)
        self._extra.append(key)
        self.primary = key
        self._seen_status.pop(key, None)
        return process

    def resume(self, argv: list[str], folder: Path, *, nice: int = 0) -> TrainProcess:
        """Start `argv` (manage.resume_command) continuing the run in `folder`, and follow that
        run alone, as `start` does; RunError when the process cannot be started."""
        process = TrainProcess(argv, folder, nice=nice, beside=self.listed)
        process.start()
        self.process = process
        key = run_key(folder)
        self._started.add(key)
        self.selected = [key]
        self.assign_color(key)
        self.followers[key] = RunFollower(key, clock=self.clock)  # read again from the start
        self.loading.add(key)
        if not self._listed(key) and key not in self._extra:
            self._extra.append(key)
        self.primary = key
        self._seen_status.pop(key, None)
        return process

    def tick(self, ticked: Iterable[str]) -> list[str]:
        """Keep ticked only the runs in `ticked`; returns those newly ticked, in order, for the
        caller to `open` (the shown run moves to the last ticked one if it was unticked)."""
        ticked = list(ticked)
        before = set(self.selected)
        self.selected = [key for key in self.selected if key in set(ticked)]
        self._reselect_primary()
        return [key for key in ticked if key not in before]

    def forget(self, key: str) -> None:
        """Stop following `key` (a refused run whose folder was removed)."""
        self.followers.pop(key, None)
        self._seen_status.pop(key, None)
        if key in self.selected:
            self.selected.remove(key)
        if key in self._extra:
            self._extra.remove(key)
        self._reselect_primary()

    def _show_again_what_the_start_replaced(self) -> None:
        """A refused start leaves the view as it was: the runs ticked before it, ticked again
        (those still followed), the one shown before shown again."""
        ticked, primary = self._before_start
        self._before_start = ([], None)
        if self.selected:
            return  # ticked meanwhile: the user's newer choice stands
        self.selected = [key for key in ticked if key in self.followers]
        self.primary = primary if primary in self.selected else None
        self._reselect_primary()

    def _reselect_primary(self) -> None:
        if self.primary not in self.selected:
            self.primary = self.selected[-1] if self.selected else None

    def assign_color(self, key: str) -> None:
        """Keep a run's colour while ticked; a new one gets the first colour not in use."""
        used = {self.run_colors[k] for k in self.selected if k != key and k in self.run_colors}
        if key in self.run_colors and self.run_colors[key] not in used:
            return
        free = [c for c in self.palette if c not in used]
        self.run_colors[key] = free[0] if free else self.palette[len(used) % len(self.palette)]

    # -- reading ----------------------------------------------------------------------------

    def read_done(self, key: str) -> Notice | None:
        """A worker finished reading `key`: it is drawn from now on."""
        self.loading.discard(key)
        follower = self.followers.get(key)
        if follower is not None and follower.metrics_problem:
            return Notice(f"{follower.metrics_problem}: its epochs are not shown", "warning")
        if follower is not None and follower.problem:
            # Its status and settings are then read from metrics.jsonl alone: say so.
            return Notice(f"{follower.problem}; shown from its metrics.jsonl", "warning")
        return self.status_notice(key) if follower is not None else None

    def poll(self, big_read: int) -> tuple[list[Notice], list[str]]:
        """Read what the ticked runs and the trainer's own run appended (an unticked run catches
        up when ticked again). Returns the notices, and the runs with more than `big_read` new
        bytes, now `loading`, for the caller to read in a worker thread."""
        process = self.process
        wanted = set(self.selected) | ({run_key(process.path)} if process is not None else set())
        notices: list[Notice] = []
        to_read: list[str] = []
        for key, follower in list(self.followers.items()):
            if key in self.loading or key not in wanted:
                continue
            if follower.pending_bytes() > big_read:
                self.loading.add(key)
                to_read.append(key)
                continue
            if follower.poll():
                notices += self._status_notices(key)
        return notices, to_read

    def status_notice(self, key: str) -> Notice | None:
        """What a change of a run's status deserves: a failure or a died trainer always (with
        its message), the rest only when seen happening (not when a finished run is opened)."""
        follower = self.followers[key]
        status, previous = follower.status, self._seen_status.get(key)
        self._seen_status[key] = status
        if status == previous:
            return None
        name = plain(follower.path.name)
        if status == "failed":
            return Notice(f"{name} failed: {follower.message or 'no message'}", "error")
        if status == DIED:
            return Notice(f"{name} died: {follower.message}", "error")
        if previous is None:
            return None
        if status == "finished":
            best = follower.best_val_ppl
            extra = f", best val ppl {fmt_number(best)}" if best is not None else ""
            if follower.best_bleu is not None:
                extra += f", best BLEU {fmt_bleu(follower.best_bleu)}"
            return Notice(f"{name} finished{extra}")
        if status == "stopped":
            return Notice(f"{name} stopped (checkpoint saved){self.stopped_hint}")
        if status == "paused":
            return Notice(f"{name} paused")
        if status == "running" and previous == "paused":
            return Notice(f"{name} resumed")
        return None

    def _status_notices(self, key: str) -> list[Notice]:
        notice = self.status_notice(key)
        return ([notice] if notice is not None else []) + self._start_notices(key)

    def _start_notices(self, key: str) -> list[Notice]:
        """The remarks of the trainer started here (where its samples start, the pairs it
        skipped, why its first step took another path than asked), each once: the CLI prints
        them, the screen would otherwise not show them."""
        follower = self.followers[key]
        if not self.start_notes or key not in self._started:
            return []
        told = self._noted.setdefault(key, set())
        fresh = [note for note in follower.notes if note not in told]
        told.update(fresh)
        name = plain(follower.path.name)
        return [Notice(f"{name}: {note}") for note in fresh]

    def check_process(self) -> list[Notice] | None:
        """None while the trainer started here runs (or none was); once it has exited, its run
        read to the end and what its exit deserves: a refusal of the options (status 2, the
        empty run folder removed and forgotten) or a crash the run did not report itself (a
        trainer killed while training is reported as died, by its run)."""
        process = self.process
        if process is None:
            return None
        code = process.poll()
        if code is None:
            return None
        self.process = None
        key = run_key(process.path)
        follower = self.followers.get(key)
        notices: list[Notice] = []
        if follower is not None and key not in self.loading and follower.poll():
            notices += self._status_notices(key)
        message = process.log_message()
        if code == 2:
            notices.append(
                Notice(message or "the trainer refused the options (exit status 2)", "error")
            )
            if process.discard_if_empty():
                self.forget(key)
                self._show_again_what_the_start_replaced()
        elif follower is not None and follower.status in ("failed", "stopped"):
            pass  # the run said how it ended
        elif code < 0 and not process.stopped_early:
            # Killed by a signal: the run, told died, cannot say which.
            notices.append(Notice(killed_note(plain(process.path.name), -code), "error"))
        elif follower is not None and follower.status == DIED:
            pass
        elif process.stopped_early:
            # Stopped in its first second, before its signal handler: as asked, not a crash.
            name = process.path.name
            if process.discard_if_empty():
                self.forget(key)
                self._show_again_what_the_start_replaced()
                notices.append(Notice(f"stopped {name} before it began training: nothing saved"))
            else:
                notices.append(Notice(f"stopped {name} while it was starting"))
        elif code != 0:
            text = f"the trainer exited with status {code}: {message or 'no message in train.log'}"
            notices.append(Notice(text, "error"))
        return notices

    # -- what is shown ----------------------------------------------------------------------

    def live_trainer(self, key: str) -> TrainProcess | None:
        """The trainer started here, if it writes `key` and is alive."""
        process = self.process
        if process is not None and run_key(process.path) == key and process.alive:
            return process
        return None

    def shown(self) -> Snapshot | None:
        """The snapshot of the run the header is about (None: none, or not read yet)."""
        primary = self.primary
        if primary is None or primary not in self.followers or primary in self.loading:
            return None
        return self.followers[primary].snapshot()

    def memory_mb(self, key: str) -> float | None:
        """GPU memory on CUDA (from the epoch events); else the live resident memory of a
        trainer started here, else what its epoch events recorded."""
        follower = self.followers[key]
        process = self.live_trainer(key)
        if not (follower.device or "").startswith("cuda") and process is not None:
            return process.rss_mb() or follower.memory_mb
        return follower.memory_mb

    def system_text(self, key: str) -> str:
        """The system strip for run `key` while its trainer is at work: its pid, CPU (percent of
        one core since the last look) and memory, and on CUDA its GPU's load, memory and
        temperature (NVML, when installed). "" for a run no trainer is at work on."""
        follower = self.followers.get(key)
        if follower is None:
            return ""
        process = self.live_trainer(key)
        pid = process.pid if process is not None else follower.trainer_pid
        if pid is None:
            return ""
        parts = [f"trainer pid {pid}"]
        cpu = self._cpu.percent(pid)
        if cpu is not None:
            parts.append(f"CPU {cpu:.0f} %")
        rss = rss_mb(pid)
        if rss is not None:
            parts.append(f"RSS {rss:,.0f} MB")
        device = follower.device or ""
        if device.startswith("cuda"):
            index = int(device.partition(":")[2] or 0)
            parts += [g.text() for g in self.gpus() if g.index == index]
        return " · ".join(parts)

    def gpus(self) -> list[GpuStat]:
        """NVML's GPUs, asked at most once a second (the screen redraws more often)."""
        now = self.clock()
        if now - self._gpus[0] >= 1.0 or now < self._gpus[0]:
            self._gpus = (now, gpu_stats())
        return self._gpus[1]

    def overlay(self) -> list[tuple[Snapshot, str, str]]:
        """The ticked runs read so far, as (snapshot, label, colour): the label is the model, or
        the model and run name when another ticked run has the same model."""
        snaps = [
            self.followers[k].snapshot()
            for k in self.selected
            if k in self.followers and k not in self.loading
        ]
        # A bidirectional run says so: the seeds' one-way and two-way LMs were both "lstm".
        models = [
            f"{s.model} bidir" if s.config.get("bidirectional") is True else s.model for s in snaps
        ]
        return [
            (
                snap,
                model if models.count(model) == 1 else f"{model} {snap.name}",
                self.run_colors[run_key(snap.path)],
            )
            for snap, model in zip(snaps, models, strict=True)
        ]

    def entries(self) -> list[dict]:
        """The run list: the runs folder's, then runs opened from elsewhere (from what their
        followers know), every path absolute."""
        entries = list(self.listed)
        listed = {run_key(e["path"]) for e in entries}
        for key in self._extra:
            if key in listed:
                continue
            follower = self.followers.get(key)
            model = follower.config.get("model") if follower else None
            entries.append(
                {
                    "name": plain(Path(key).name),
                    "path": key,
                    "model": plain(model) if isinstance(model, str) else None,
                    "status": follower.status if follower else "unknown",
                    "epoch": follower.epoch if follower else 0,
                    "epochs": follower.epochs if follower else None,
                    "best_val_ppl": follower.best_val_ppl if follower else None,
                }
            )
        return [{**e, "path": run_key(e["path"])} for e in entries]

    # -- steering ---------------------------------------------------------------------------

    def training(self) -> TrainProcess | None:
        """The trainer started here while it is alive (one at a time)."""
        process = self.process
        return process if process is not None and process.alive else None

    def steer(self, command: str) -> Notice:
        """Ask the run shown to "pause", "resume" or "stop": through the trainer started here,
        or the control file of a run started elsewhere."""
        key = self.primary
        follower = self.followers.get(key) if key else None
        if key is None or follower is None:
            return Notice("no run shown: start one (s) or open one (o)", "warning")
        name = plain(follower.path.name)
        try:
            process = self.live_trainer(key)
            if process is not None:
                done = process.request(command)
            elif follower.status in ("running", "paused") and not follower.stale():
                # A run started elsewhere reads the same control file.
                RunDir(key).request(command)
                done = STEERED[command]
            else:
                raise RunError(f"{name} is not running ({follower.status})")
        except RunError as exc:
            return Notice(str(exc), "warning")
        note = " (at the end of the batch, after a checkpoint)" if command == "stop" else ""
        return Notice(f"{done} {name}{note}")

    def pause_or_resume(self) -> Notice:
        """Resume the run shown if it is paused, else pause it."""
        follower = self.followers.get(self.primary) if self.primary else None
        paused = follower is not None and follower.status == "paused"
        return self.steer("resume" if paused else "pause")
