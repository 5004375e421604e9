"""A `rnn-tui train` subprocess started by the Train screen, and how the screen steers it.

Training never runs in the app's process (docs/architecture.md, "The run directory"): the child
writes its run directory, the screen follows that directory like any other run, and steers the
child through the run directory's control file (pause / resume / stop = finish the batch, write
`last`, exit).
The child gets its own session (`start_new_session=True`), so closing the app or its terminal
does not stop a run the user chose to leave running; its output goes to DIR/train.log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from rnn_tui.checkpoints.memory import rss_bytes
from rnn_tui.files import open_regular, owner_note
from rnn_tui.quoting import plain
from rnn_tui.runs.rundir import LOCK_FILE, RunDir, RunError
from rnn_tui.train.core_counters import START_THREADS_ENV, shares_cores

# (options, run directory) -> argv. Injectable so tests can start a recorded-run replayer.
CommandBuilder = Callable[[Mapping[str, object], Path], list[str]]

LOG_TAIL_BYTES = 8192
# Set for the child: its log is read while it starts (TrainScreen shows the last line), so a
# wait the child would only show on a terminal (a FIFO corpus's writer) is written there too.
FOLLOWED_ENV = "RNN_TUI_FOLLOWED"


def train_command(options: Mapping[str, object], run_dir: Path) -> list[str]:
    """`python -m rnn_tui train --key value ... --run-dir DIR` for `rnn-tui train`'s options.

    Keys are the trainer's option names with underscores (batch_size → --batch-size); True
    becomes a bare switch (--bidirectional), False and None leave the option out (its default).
    A value is joined to its flag (`--corpus=-c.txt`): a file named "-c.txt" read as a value
    apart would be taken for an option.
    """
    argv = [sys.executable, "-m", "rnn_tui", "train"]
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        argv.append(flag if value is True else f"{flag}={value}")
    return argv + [f"--run-dir={run_dir}"]


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def shared_threads(trainers: int) -> int:
    """Math threads for each of `trainers` started together (a forecaster and its GRU, two
    taggers): the cores shared out, at least one each; 0 (the library's choice) for one. Two
    trainers taking every core each wait for each other's threads (on a busy 2-core machine one
    ran 6x slower per batch than with one thread)."""
    if trainers <= 1:
        return 0
    return max(1, cores() // trainers)


# The trainers this app started, while their objects live (a screen keeps its own).
_started: weakref.WeakSet[TrainProcess] = weakref.WeakSet()


def sharing_note(processes: Iterable[TrainProcess]) -> str:
    """ "beside 1 other run training here: both run slower than alone" where trainers were at
    work when `processes` started; "" otherwise."""
    others = max((p.sharing for p in processes), default=0)
    if not others:
        return ""
    runs = "1 other run" if others == 1 else f"{others} other runs"
    return f"beside {runs} training here: all run slower than alone"


def training_elsewhere(listed: Iterable[Mapping] = ()) -> set[str]:
    """The run folders (absolute paths) being trained on this machine as far as this app can
    tell without reading anything: its own trainers still alive, on any screen, and the runs a
    listing saw running (a trainer the app left running when it last quit, or a command line's
    in the same runs folder). Paused ones wait without computing: not counted."""
    alive = {os.path.abspath(p.path) for p in list(_started) if p.alive}
    running = {
        os.path.abspath(str(e["path"]))
        for e in listed
        if e.get("status") == "running" and e.get("path")
    }
    return alive | running


def last_line(path: Path) -> str:
    """The last non-empty line of a (log) file, reading only its tail; "" if there is none."""
    try:
        with open_regular(path) as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - LOG_TAIL_BYTES))
            data = f.read()
    except OSError:
        return ""
    # Progress bars redraw with carriage returns: the last segment is what was shown last.
    for line in reversed(data.decode("utf-8", "replace").splitlines()):
        text = line.rsplit("\r", 1)[-1].strip()
        if text:
            return text
    return ""


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB, from /proc/<pid>/status (Linux); None elsewhere."""
    taken = rss_bytes(pid)
    return taken / 2**20 if taken is not None else None


class TrainProcess:
    """One trainer child: start it, ask it to pause/resume/stop, notice when it exits."""

    def __init__(
        self,
        argv: list[str],
        run_dir: str | os.PathLike,
        *,
        nice: int = 0,
        threads: int = 0,
        beside: Iterable[Mapping] = (),
    ):
        """`nice`: how much lower the child's scheduling priority is than this process's;
        `threads`: the child's math threads unless the user set them (OMP_NUM_THREADS; 0: the
        library's choice, one per core). Where trainers share the cores themselves
        (`shares_cores`) the child starts on them, or on its share beside other trainers at
        work (`training_elsewhere`, `beside` a listing of the runs folder), and takes more as
        cores go idle; elsewhere they are fixed, and beside others its threads wait passively
        (OMP_WAIT_POLICY)."""
        self.argv = list(argv)
        self.run = RunDir(run_dir)
        self.nice = nice
        others = training_elsewhere(beside) - {os.path.abspath(self.run.path)}
        self.sharing = len(others)  # trainers already at work when this one was made
        self.threads = threads
        self.terminated = False  # a stop was sent as SIGTERM (see `stopped_early`)
        self._proc: subprocess.Popen | None = None

    @property
    def path(self) -> Path:
        return self.run.path

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start the child, its stdout and stderr going to DIR/train.log (RunError on failure)."""
        try:
            self.run.path.mkdir(parents=True, exist_ok=True)
            with open(self.run.log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env=self._env(),
                )
            _started.add(self)
        except OSError as exc:
            # Which file or folder: "Permission denied" alone leaves the user guessing.
            where = f" ({exc.filename})" if exc.filename else ""
            # The log file may not exist yet: then whose folder it is.
            note = (exc.filename and owner_note(exc.filename, exc)) or owner_note(
                self.run.path, exc
            )
            raise RunError(
                f"cannot start the trainer: {exc.strerror or exc}{where}{note}"
            ) from None
        if self.nice:
            # `nice` more than this app, so the UI stays responsive on a busy machine. Set from
            # here (no preexec_fn, which is unsafe in a threaded parent); the threads torch
            # starts later inherit the child's niceness.
            with contextlib.suppress(OSError):
                mine = os.getpriority(os.PRIO_PROCESS, 0)
                os.setpriority(os.PRIO_PROCESS, self._proc.pid, min(19, mine + self.nice))

    def _env(self) -> dict[str, str]:
        env = {**os.environ, FOLLOWED_ENV: "1"}
        mine = "OMP_NUM_THREADS" in env  # the user's threads stand
        if not mine and shares_cores():
            # The child gives up threads for cores others take and takes them back as cores go
            # idle (train/core_share.py), so it only starts on its share: a pair's run whose
            # partner ended goes on at full speed, not on the threads fixed for two.
            threads = self.threads or (shared_threads(self.sharing + 1) if self.sharing else 0)
            if threads:
                env[START_THREADS_ENV] = str(threads)
            return env
        if self.threads and not mine:
            env["OMP_NUM_THREADS"] = str(self.threads)
        if self.sharing and "OMP_WAIT_POLICY" not in env:
            # Beside a trainer already at work (whose threads this app cannot change), waiting
            # threads that spin take the cores it needs: two char LSTMs on 2 cores, 8-14k
            # tokens/s each; with the second's threads passive, 14-16k and 34-39k.
            env["OMP_WAIT_POLICY"] = "PASSIVE"
        return env

    def poll(self) -> int | None:
        """The exit status once the child has exited, else None."""
        return self._proc.poll() if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def status(self) -> str:
        try:
            return str(self.run.read_status().get("status", "unknown"))
        except RunError:
            return "unknown"

    def request(self, command: str) -> str:
        """Ask for "pause", "resume" or "stop"; returns what was done, for the notification.

        The trainer reads control.json only once its status is running (a request written
        before it opened the run would be ignored), so a stop before then is a SIGTERM — which
        the trainer also answers with "finish the batch, write last, exit".
        """
        if not self.alive:
            raise RunError("the trainer is not running")
        if self.status() in ("running", "paused"):
            self.run.request(command)
            return {"pause": "pausing", "resume": "resuming", "stop": "stopping"}[command]
        if command == "stop":
            self.terminate()
            return "stopping"
        raise RunError("the trainer is still starting; try again in a moment")

    def terminate(self) -> None:
        """SIGTERM: the trainer finishes the batch, writes `last` and exits with status 143 (or
        dies of it, before its handler is set: `stopped_early`)."""
        if self.alive:
            self.terminated = True
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGTERM)

    @property
    def stopped_early(self) -> bool:
        """Whether the stop asked here ended the trainer while it was still starting: it died of
        the SIGTERM (Python's default action) before it had set its handler."""
        return self.terminated and self.poll() in (-signal.SIGTERM, 128 + signal.SIGTERM)

    def wait(self, timeout: float) -> int | None:
        """Wait up to `timeout` seconds for the exit status (None if still running)."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    def rss_mb(self) -> float | None:
        """The child's resident memory now (MiB), while it runs."""
        return rss_mb(self._proc.pid) if self.alive and self._proc is not None else None

    def log_message(self) -> str:
        """The last line the child wrote to train.log (its error message when it failed), as
        plain text for a notification."""
        return plain(last_line(self.run.log_path))

    def discard_if_empty(self) -> bool:
        """Remove the run folder when the trainer refused to start and wrote nothing but
        train.log and its lock (bad options: nothing to follow); True when it was removed."""
        folder = self.run.path
        try:
            names = {p.name for p in folder.iterdir()}
        except OSError:
            return False
        # The lock file: a trainer that claimed the folder and then refused it (unwritable).
        if not names <= {self.run.log_path.name, self.run.checkpoints.name, LOCK_FILE}:
            return False
        with contextlib.suppress(OSError):
            self.run.log_path.unlink(missing_ok=True)
            self.run.lock_path.unlink(missing_ok=True)
            if self.run.checkpoints.is_dir():
                self.run.checkpoints.rmdir()
            folder.rmdir()
            return True
        return False
