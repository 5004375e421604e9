"""Run directories: the only contract between a training process and the UI that follows it.

    runs/<name>/
      config.json              what the run was started with (written once, atomically)
      metrics.jsonl            append-only, one JSON event a line ("event" and "time" in each)
      status.json              running | paused | stopped | finished | failed, atomically replaced
      control.json             UI → trainer: {"command": "pause" | "resume" | "stop", "time": ...}
      checkpoints/{last,best}.{safetensors,json}
      train.log                stderr of a trainer the UI started

No torch here: the TUI imports this module to list and follow runs and must start without it.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from datetime import datetime
from pathlib import Path

from rnn_tui.train.atomic import append_jsonl, atomic_write_json

STATUSES = ("running", "paused", "stopped", "finished", "failed")
COMMANDS = ("pause", "resume", "stop")
RUNS_ENV = "RNN_TUI_RUNS"

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
STATUS_FILE = "status.json"
CONTROL_FILE = "control.json"
CHECKPOINTS_DIR = "checkpoints"
LOG_FILE = "train.log"


class RunError(ValueError):
    """A run directory cannot be read or written as asked: one line naming the file and why."""


def default_runs_root() -> Path:
    """Where runs live: $RNN_TUI_RUNS, else ./runs."""
    env = os.environ.get(RUNS_ENV)
    return Path(env).expanduser() if env else Path.cwd() / "runs"


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
        parts = [prefix] + ([model] if model else []) + [stamp]
        base = "-".join(_slug(p) for p in parts)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create the runs folder {root}: {exc.strerror or exc}") from None
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
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunError(f"cannot read {path}: {reason}") from None
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

    def set_status(self, status: str, message: str = "", **fields) -> None:
        """Replace status.json atomically with {"status", "message", "pid", "updated", **fields}
        and log the change as a "status" event."""
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
            data = json.loads(self.control_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("command") not in COMMANDS:
            return None
        stamp = data.get("time")
        if not isinstance(stamp, int | float) or stamp < self._watch_since:
            return None
        return data["command"]


_HEAD_BYTES = 256


class MetricsTail:
    """Incremental reader of a metrics.jsonl for the UI's timer.

    `read_new()` returns the events of the complete lines added since the previous call. A
    partial last line (the writer is mid-append) is kept for the next call; a malformed line is
    skipped (counted in `skipped`); a file that does not exist yet gives []; a file that was
    truncated or replaced (a run directory reused) is read again from its start.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.skipped = 0
        self.reset()

    def reset(self) -> None:
        self._offset = 0
        self._partial = b""
        self._identity: tuple[int, int] | None = None
        self._head = b""

    def read_new(self) -> list[dict]:
        try:
            f = open(self.path, "rb")
        except OSError:
            return []
        with f:
            st = os.fstat(f.fileno())
            identity = (st.st_dev, st.st_ino)
            # Started over when the file was truncated or replaced. A replacement may reuse the
            # inode number, so the first bytes read are compared too (the "start" event
            # carries its time, so a new run's file differs there).
            if self._offset and (
                identity != self._identity
                or st.st_size < self._offset
                or f.read(len(self._head)) != self._head
            ):
                self.reset()
            self._identity = identity
            f.seek(self._offset)
            data = f.read()
        if self._offset == 0:
            self._head = data[:_HEAD_BYTES]
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        events = []
        for line in lines:
            event = _parse_line(line)
            if event is not None:
                events.append(event)
            elif line.strip():
                self.skipped += 1
        return events


def _parse_line(line: bytes) -> dict | None:
    if not line.strip():
        return None
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


# ---------------------------------------------------------------------------------------------
# Listing runs

_EPOCH_LINE = re.compile(rb'^[^\n]*"event"\s*:\s*"epoch"[^\n]*$', re.MULTILINE)


class _MetricsSummary:
    """What list_runs needs from a metrics.jsonl (the last epoch event, the best finite val_ppl),
    kept per file and advanced over only the bytes appended since the previous scan."""

    __slots__ = ("identity", "head", "offset", "last_epoch", "best_val_ppl", "best_bleu")

    def __init__(self, identity: tuple[int, int]):
        self.identity = identity
        self.head = b""
        self.offset = 0
        self.last_epoch: dict | None = None
        self.best_val_ppl: float | None = None
        self.best_bleu: float | None = None  # seq2seq runs: the highest held-out BLEU

    def consume(self, data: bytes) -> None:
        """Fold in the bytes read at `offset`; a partial last line waits for the next scan."""
        end = data.rfind(b"\n") + 1
        if self.offset == 0:
            self.head = data[: min(end, _HEAD_BYTES)]
        self.offset += end
        # The regex scans in C; only epoch lines (a few hundred) are parsed as JSON.
        for match in _EPOCH_LINE.finditer(data, 0, end):
            event = _parse_line(match.group())
            if event is None or event.get("event") != "epoch":
                continue
            self.last_epoch = event
            ppl = event.get("val_ppl")
            if isinstance(ppl, int | float) and not isinstance(ppl, bool) and math.isfinite(ppl):
                if self.best_val_ppl is None or ppl < self.best_val_ppl:
                    self.best_val_ppl = float(ppl)
            bleu = event.get("bleu")
            if isinstance(bleu, int | float) and not isinstance(bleu, bool) and math.isfinite(bleu):
                if self.best_bleu is None or bleu > self.best_bleu:
                    self.best_bleu = float(bleu)


_summaries: dict[Path, _MetricsSummary] = {}
_summaries_lock = threading.Lock()


def _metrics_summary(path: Path) -> _MetricsSummary | None:
    """The summary (last epoch event, best val_ppl, best BLEU) of a metrics file, None when it
    cannot be read."""
    try:
        f = open(path, "rb")
    except OSError:
        return None
    with f, _summaries_lock:
        try:
            st = os.fstat(f.fileno())
            identity = (st.st_dev, st.st_ino)
            summary = _summaries.get(path)
            if (
                summary is None
                or summary.identity != identity
                or st.st_size < summary.offset
                or f.read(len(summary.head)) != summary.head
            ):
                summary = _summaries[path] = _MetricsSummary(identity)
            if st.st_size > summary.offset:
                f.seek(summary.offset)
                summary.consume(f.read())
        except OSError:
            return None
        return summary


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _run_entry(folder: Path) -> dict:
    run = RunDir(folder)
    entry = {
        "name": folder.name,
        "path": str(folder),
        "model": None,
        "task": None,
        "status": "unknown",
        "message": "",
        "epoch": 0,
        "epochs": None,
        "best_val_ppl": None,
        "best_bleu": None,
        "updated": max(_mtime(run.config_path), _mtime(run.status_path), _mtime(run.metrics_path)),
    }
    try:
        config = run.read_config()
        status = run.read_status()
    except RunError as exc:
        entry.update(status="unreadable", message=str(exc))
        return entry
    entry["model"] = config.get("model")
    entry["task"] = config.get("task", "lm")
    entry["epochs"] = config.get("epochs")
    if status:
        entry["status"] = str(status.get("status", "unknown"))
        entry["message"] = str(status.get("message", ""))
    summary = _metrics_summary(run.metrics_path)
    last_epoch = summary.last_epoch if summary is not None else None
    if summary is not None:
        entry["best_val_ppl"], entry["best_bleu"] = summary.best_val_ppl, summary.best_bleu
    if last_epoch is not None:
        entry["epoch"] = last_epoch.get("epoch", 0)
        if entry["epochs"] is None:
            entry["epochs"] = last_epoch.get("epochs")
    return entry


def list_runs(root: str | os.PathLike | None = None) -> list[dict]:
    """Every run under `root` (folders holding a config.json), newest first.

    Each entry: name, path, model, task, status ("unknown" before the trainer writes
    status.json; "unreadable", with the reason in message, when its JSON is broken), message,
    epoch (epochs done, from the last epoch event), epochs (planned), best_val_ppl (the lowest
    finite val_ppl of its epoch events, or None), best_bleu (the highest held-out BLEU of a
    seq2seq run, else None), updated (unix time of its latest write).
    A missing root gives [].
    """
    root = Path(root) if root is not None else default_runs_root()
    try:
        folders = [p.parent for p in root.glob(f"*/{CONFIG_FILE}")]
    except OSError:
        return []
    entries = [_run_entry(folder) for folder in folders]
    entries.sort(key=lambda e: (-e["updated"], e["name"]))
    return entries


__all__ = [
    "COMMANDS",
    "STATUSES",
    "MetricsTail",
    "RunDir",
    "RunError",
    "default_runs_root",
    "list_runs",
    "new_run_dir",
]


def process_alive(pid: object) -> bool | None:
    """Whether the process `pid` (from status.json) still exists: None when `pid` is not a
    usable process id, so callers decide what an unknown trainer means for them."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True
