"""Run directories: the only contract between a training process and the UI that follows it.

    runs/<name>/
      config.json              what the run was started with (written once, atomically)
      metrics.jsonl            append-only, one JSON event a line ("event" and "time" in each)
      status.json              running | paused | stopped | finished | failed, atomically replaced
      control.json             UI → trainer: {"command": "pause" | "resume" | "stop", "time": ...}
      checkpoints/{last,best}.{safetensors,json}
      train.log                stderr of a trainer the UI started
      trainer.lock             held (flock) by the trainer while it runs; its pid inside

No torch here: the TUI imports this module to list and follow runs and must start without it.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path

from rnn_tui import json_pieces
from rnn_tui.atomic import append_jsonl, atomic_write_json
from rnn_tui.files import (
    FileProblem,
    expanded,
    is_folder,
    look,
    owner_note,
    read_bytes,
    wrong_kind,
)
from rnn_tui.quoting import json_reason
from rnn_tui.runs import lock

STATUSES = ("running", "paused", "stopped", "finished", "failed")
COMMANDS = ("pause", "resume", "stop")
RUNS_ENV = "RNN_TUI_RUNS"

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
STATUS_FILE = "status.json"
CONTROL_FILE = "control.json"
CHECKPOINTS_DIR = "checkpoints"
LOG_FILE = "train.log"
LOCK_FILE = "trainer.lock"
# config.json, status.json and control.json are a few hundred bytes; a bigger one is not ours.
MAX_RUN_JSON_BYTES = 4 * 2**20


class RunError(ValueError):
    """A run directory cannot be read or written as asked: one line naming the file and why."""


class RunTaken(RunError):
    """The run directory is claimed by another process (a trainer at work on it)."""


def _reason(exc: OSError, path: str | os.PathLike | None = None) -> str:
    note = owner_note(path, exc) if path is not None else ""
    return (wrong_kind(exc, path) or exc.strerror or str(exc) or type(exc).__name__) + note


def default_runs_root() -> Path:
    """Where runs live: $RNN_TUI_RUNS, else ./runs."""
    env = os.environ.get(RUNS_ENV)
    return expanded(env) if env else Path.cwd() / "runs"


def bare_name(text: str) -> bool:
    """Whether an argument is a bare name (not empty, no path separator): only such a name is
    looked up among the shipped checkpoints and the runs."""
    return bool(text) and os.sep not in text and not (os.altsep and os.altsep in text)


def resolve_run(text: str) -> str:
    """A run argument (--resume, --checkpoint, a path typed into the app's "open run") as a
    path: a bare name that names nothing here but a folder in the runs folder is that run, so
    the names `rnn-tui runs` and the app list work from any directory; anything else (a path,
    something of that name here, a name no run has) is left as given."""
    if not bare_name(text) or text in (".", ".."):
        return text
    try:
        if look(text) is not None:
            return text
        run = default_runs_root() / text
        return str(run) if is_folder(look(run)) else text
    except (FileProblem, OSError):  # cannot be looked at: the caller's check names the reason
        return text


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "run"


def new_run_dir(
    root: str | os.PathLike | None = None,
    name: str | None = None,
    prefix: str = "lm",
    model: str | None = None,
    now: datetime | None = None,
) -> Path:
    """Create and return a fresh run directory under `root` (default: `default_runs_root()`).

    Its name is `name` when given, else "<prefix>-<model>-YYYYmmdd-HHMMSS" (local time; without
    the model part when `model` is None); "-2", "-3", ... is appended when that name is taken.
    The directory is claimed with an exclusive mkdir, so two trainers never share one.
    """
    root = Path(root) if root is not None else default_runs_root()
    if name is not None:
        if not name or name in (".", "..") or "/" in name or os.sep in name:
            raise RunError(f"a run name is a plain folder name, not {name!r}")
        base = name
    else:
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        # "seq2seq-20261204-210435", not "seq2seq-seq2seq-…": a task whose model is its name.
        parts = [prefix] + ([model] if model and model != prefix else []) + [stamp]
        base = "-".join(_slug(p) for p in parts)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # mkdir's "File exists": something not a folder stands there
        why = exc.strerror or exc
        if isinstance(exc, FileExistsError):
            # A link whose target cannot be reached (a loop) is not "not a folder": say why.
            try:
                os.stat(root)
                why = "it is not a folder"
            except OSError as cause:
                why = cause.strerror or cause
        raise RunError(f"cannot create the runs folder {root}: {why}") from None
    for n in range(1, 10_000):
        path = root / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunError(f"cannot create run directory {path}: {exc.strerror or exc}") from None
        return path
    raise RunError(f"too many runs named {base} in {root}")


def _read_json(path: Path) -> dict:
    """A JSON object from a file; RunError (one line) if it is unreadable or not an object."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise RunError(f"{path} does not exist") from None
    except OSError as exc:  # a name too long, a folder without permission: not "missing"
        raise RunError(f"cannot look at {path}: {exc.strerror or exc}") from None
    try:
        data = read_bytes(path, limit=MAX_RUN_JSON_BYTES, what="run file", pipes=False)
        obj = json_pieces.loads(data.decode("utf-8"))
    except FileProblem as exc:
        raise RunError(str(exc)) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunError(f"cannot read {path}: {json_reason(exc)}") from None
    if not isinstance(obj, dict):
        raise RunError(f"cannot read {path}: not a JSON object")
    return obj


class RunDir:
    """One run directory. Constructing it touches nothing; writers create the folder."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.config_path = self.path / CONFIG_FILE
        self.metrics_path = self.path / METRICS_FILE
        self.status_path = self.path / STATUS_FILE
        self.control_path = self.path / CONTROL_FILE
        self.log_path = self.path / LOG_FILE
        self.checkpoints = self.path / CHECKPOINTS_DIR
        self.lock_path = self.path / LOCK_FILE
        self._lock_fd: int | None = None  # held while this process trains the run
        # Trainer side of the control file: the last stat seen, and when watching began.
        self._control_stat: tuple | None = None
        self._watch_since = time.time()

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    @property
    def name(self) -> str:
        return self.path.name

    def ensure(self) -> None:
        """Create the run folder and its checkpoints/ folder."""
        self.checkpoints.mkdir(parents=True, exist_ok=True)

    def claim(self) -> None:
        """Hold the run directory for this process, exclusively, until `release` or exit (the
        kernel releases it however the process ends, so it never goes stale).

        Taken before anything is written: a second trainer of the same folder (two `--run-dir`
        at once, a `--resume` of a run being trained) gets RunError "run DIR is being trained
        right now by process PID", and a folder that cannot be written (`check_writable`) gets
        RunError "cannot write to …" instead of failing at its first write.
        """
        if self._lock_fd is not None:
            return
        # Checked first, so a folder refused for it keeps even its lock file as it was.
        self.check_writable()
        try:
            self._lock_fd = lock.acquire(self.lock_path)
        except lock.LockTaken as taken:
            by = f"process {taken.pid}" if taken.pid else "another process"
            raise RunTaken(f"run {self.path} is being trained right now by {by}") from None
        except OSError as exc:
            raise RunError(
                f"cannot write to run directory {self.path}: "
                f"{wrong_kind(exc, self.lock_path) or _reason(exc, self.path)}"
            ) from None

    def check_writable(self) -> None:
        """RunError (one line) unless a trainer can write this run: a temporary file is made and
        removed in the folder and in checkpoints/, and an existing metrics.jsonl is opened for
        appending — so a read-only folder, file or file system is refused before training,
        with nothing changed. (A disk that fills up later is the engine's to report.)"""
        self.check_path_length()
        for folder in (self.path, self.checkpoints):
            if not folder.is_dir():
                continue  # made by the first write, in a folder just checked
            try:
                fd, name = tempfile.mkstemp(dir=folder, prefix=".write-check-")
                os.close(fd)
                os.unlink(name)
            except OSError as exc:
                raise RunError(f"cannot write to {folder}: {_reason(exc, folder)}") from None
        try:
            # No O_CREAT: nothing is created; O_NONBLOCK: a FIFO is refused, never waited on.
            fd = os.open(self.metrics_path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise RunError(
                f"cannot write to {self.metrics_path}: {_reason(exc, self.metrics_path)}"
            ) from None
        os.close(fd)

    def check_path_length(self) -> None:
        """RunError when the longest path the run writes is too long (runs/path_room.py)."""
        from rnn_tui.runs.path_room import RUN_LONGEST_NAME, path_room_problem

        if problem := path_room_problem(self.checkpoints, RUN_LONGEST_NAME):
            raise RunError(
                f"the run directory's path is too long: {problem}; choose a shorter --run-dir"
            )

    def release(self) -> None:
        """Give up `claim` (a no-op when not held); the lock file stays for the next trainer."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)

    def lost(self) -> str:
        """What took the run directory from under this process's claim, else "": its
        trainer.lock removed (the folder deleted, `rm -rf` racing the trainer's writes) or
        replaced. Writing on, the trainer would rebuild a run without its config or lock, one
        that no resume can continue and a second trainer could claim."""
        if self._lock_fd is None:
            return ""
        try:
            now, held = os.stat(self.lock_path), os.fstat(self._lock_fd)
        except FileNotFoundError:
            return f"the run directory {self.path} (or its trainer.lock) was removed"
        except OSError:
            return ""  # unreadable for a moment: the writes that follow say if it is more
        if (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
            return f"the run directory {self.path} was replaced (its trainer.lock is another)"
        return ""

    def trainer_alive(self, pid: object = None) -> bool | None:
        """Whether this run's trainer is alive: decided by its lock when the run has one (held
        = alive, even if `pid` was reused since), else by `pid` from status.json (runs written
        before runs were locked); None when neither tells."""
        if self._lock_fd is not None:
            return True
        held = lock.held(self.lock_path)
        return held if held is not None else lock.process_alive(pid)

    def write_config(self, config: dict) -> None:
        self.ensure()
        atomic_write_json(self.config_path, config)

    def read_config(self) -> dict:
        return _read_json(self.config_path)

    def log(self, event: str, **fields) -> None:
        """Append {"event": event, "time": unix seconds, **fields} to metrics.jsonl (a field
        named `time` overrides the clock)."""
        record = {"event": event, "time": time.time(), **fields}
        try:
            append_jsonl(self.metrics_path, record)
        except FileNotFoundError:
            self.ensure()
            append_jsonl(self.metrics_path, record)

    def last_logged_epoch(self) -> int:
        """The last epoch metrics.jsonl logged (0: none yet)."""
        from rnn_tui.runs.epoch_log import last_logged_epoch

        return last_logged_epoch(self.metrics_path)

    def set_status(self, status: str, message: str = "", log: bool = True, **fields) -> None:
        """Replace status.json atomically with {"status", "message", "pid", "updated", **fields}
        and log the change as a "status" event; `log=False` only rewrites the file (a running
        run's message naming its next epoch: the event log keeps changes of status)."""
        if status not in STATUSES:
            raise RunError(f"unknown run status {status!r} (one of {', '.join(STATUSES)})")
        self.ensure()
        record = {
            "status": status,
            "message": message,
            "pid": os.getpid(),
            "updated": time.time(),
            **fields,
        }
        atomic_write_json(self.status_path, record)
        if log:
            self.log("status", status=status, message=message, **fields)

    def read_status(self) -> dict:
        """status.json as a dict; {} while the run has not written one yet."""
        if not self.status_path.exists():
            return {}
        return _read_json(self.status_path)

    def request(self, command: str) -> None:
        """UI side: ask the trainer to pause, resume or stop (atomic control.json)."""
        if command not in COMMANDS:
            raise RunError(f"unknown run command {command!r} (one of {', '.join(COMMANDS)})")
        self.ensure()
        atomic_write_json(self.control_path, {"command": command, "time": time.time()})

    def pending_command(self) -> str | None:
        """Trainer side: the command written since the last call, else None.

        Cheap enough to call every batch: one stat, and the file is read only when the stat
        changed (control.json is replaced atomically, so a new request is a new file). Each
        request is returned once. Requests written before this RunDir was created are stale
        (e.g. the "stop" that ended the previous session of a resumed run) and are ignored.
        """
        try:
            st = os.stat(self.control_path)
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)
        if key == self._control_stat:
            return None
        self._control_stat = key
        try:
            raw = read_bytes(
                self.control_path, limit=MAX_RUN_JSON_BYTES, what="control file", pipes=False
            )
            data = json_pieces.loads(raw.decode("utf-8"))
        except (FileProblem, OSError, UnicodeDecodeError, ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or data.get("command") not in COMMANDS:
            return None
        stamp = data.get("time")
        if not isinstance(stamp, int | float) or stamp < self._watch_since:
            return None
        return data["command"]


def check_run_dir(path: str | os.PathLike) -> Path:
    """`path` (or a run's bare name, looked for in the runs folder: `resolve_run`) as a Path if
    it looks like a run directory, else RunError (one line)."""
    path = expanded(resolve_run(os.fspath(path)))
    run = RunDir(path)
    try:
        seen = look(path, "run directory")
        if seen is None:
            raise RunError(f"run directory {path} does not exist")
        if not is_folder(seen):
            raise RunError(f"{path} is not a directory (a run directory holds metrics.jsonl)")
        files = (run.config_path, run.metrics_path, run.status_path)
        if all(look(p, "run directory") is None for p in files):
            raise RunError(f"{path} is not a run directory (no config.json or metrics.jsonl)")
    except FileProblem as exc:
        raise RunError(str(exc)) from None
    return path


__all__ = [
    "COMMANDS",
    "STATUSES",
    "RunDir",
    "RunError",
    "bare_name",
    "check_run_dir",
    "default_runs_root",
    "new_run_dir",
    "resolve_run",
]
