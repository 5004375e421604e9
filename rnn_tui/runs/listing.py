"""Listing the runs under a folder: what `rnn-tui runs` prints and the Train screen's run list
shows (model, status, epochs done, best validation perplexity, best held-out BLEU).

A metrics.jsonl can grow to many megabytes; each file is scanned once and then only over the
bytes appended since the previous listing (`_MetricsSummary`), so refreshing the list every few
seconds stays cheap.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from rnn_tui.quoting import plain
from rnn_tui.runs.line_tail import READ_PIECE, LineTail, epoch_lines, parse_line
from rnn_tui.runs.liveness import DIED, dead_run, died_message, last_event_time
from rnn_tui.runs.resumable import LOST_NOTE, has_checkpoint, saved_one
from rnn_tui.runs.run_checks import config_problems, status_problems
from rnn_tui.runs.rundir import (
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    METRICS_FILE,
    STATUS_FILE,
    STATUSES,
    RunDir,
    RunError,
    default_runs_root,
)
from rnn_tui.runs.series import SCORES, epoch_problem


class _MetricsSummary(LineTail):
    """What list_runs needs from a metrics.jsonl (the last epoch event, the best finite val_ppl),
    kept per file and advanced over only the bytes appended since the previous scan, a piece
    at a time (LineTail: a long run's 120 MB file is never held whole, and a line without an
    end is skipped as it arrives instead of read again at every scan)."""

    def reset(self) -> None:
        super().reset()
        self.last_epoch: dict | None = None
        self.best_val_ppl: float | None = None
        self.best_bleu: float | None = None  # seq2seq runs: the highest held-out BLEU
        self.best_rmse: float | None = None  # forecast runs: the lowest held-out RMSE
        self.best_macro_f1: float | None = None  # classify and tag runs: the highest macro-F1
        self.speeds: list[float] = []  # each epoch's tokens/s
        self.ignored = 0  # epoch lines a trainer could not have written
        self.first_problem = ""  # what is wrong with the first of them

    def scan(self) -> None:
        """Fold in every complete line appended since the previous scan."""
        while True:
            self.consume(self.read_lines(READ_PIECE))
            if not self.more:
                return

    def consume(self, data: bytes) -> None:
        """Fold in a block of complete lines."""
        # The regex scans in C; only epoch lines (a few hundred) are parsed as JSON.
        for line in epoch_lines(data):
            event = parse_line(line)
            if event is not None and event.get("event") != "epoch":
                continue  # "event": "epoch" inside another event's text
            problem = "not a JSON object" if event is None else epoch_problem(event)
            if problem:
                self.ignored += 1
                self.first_problem = self.first_problem or problem
                continue
            self.last_epoch = event
            for key, (_, _, attr, better) in SCORES.items():
                value = event.get(key)
                if _finite(value):
                    best = getattr(self, attr)
                    setattr(self, attr, float(value if best is None else better(best, value)))
            speed = event.get("tokens_per_s")
            if _finite(speed) and speed >= 0:
                self.speeds.append(float(speed))

    @property
    def tokens_per_s(self) -> float | None:
        """The median of the epochs' tokens/s (a run's typical speed; the first epoch's
        warm-up and a shared machine's slow epoch do not move it)."""
        if not self.speeds:
            return None
        ordered = sorted(self.speeds)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _died_unwritten(run: RunDir, missing: str) -> str:
    """The died message of a run whose trainer is gone before it wrote its first status.json
    (killed in its first moments: `missing` is the first file it lacks), else "". Shown as
    "unknown" or "unreadable", with no message, it looked like a damaged run, not a dead one.
    A run that has a status.json was past that point: its status decides."""
    if os.path.lexists(run.status_path):
        return ""
    if missing == "config.json" and os.path.lexists(run.config_path):
        return ""  # there but unreadable: damaged, not unwritten
    if run.trainer_alive() is not False:
        return ""
    last = last_event_time(run.metrics_path)
    return f"{died_message(None, last)} (before it wrote {missing})"


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _settings(config: dict) -> dict:
    """The config's scalar settings as plain values (what runs are compared by): text as one
    plain line, finite numbers, booleans; nested tables and anything else left out."""
    out = {}
    for key, value in config.items():
        if not isinstance(key, str):
            continue
        if isinstance(value, str):
            out[plain(key)] = plain(value)
        elif isinstance(value, bool) or _finite(value):
            out[plain(key)] = value
    return out


_summaries: dict[Path, _MetricsSummary] = {}
_summaries_lock = threading.Lock()


def _metrics_summary(path: Path) -> _MetricsSummary:
    """The summary (last epoch event, best val_ppl, best BLEU…) of a metrics file, brought up
    to date; its fields are None while the file cannot be read."""
    with _summaries_lock:
        summary = _summaries.get(path)
        if summary is None:
            summary = _summaries[path] = _MetricsSummary(path)
        summary.scan()
        return summary


_config_notes: dict[Path, tuple[tuple, list[str]]] = {}


def _config_problems(path: Path, config: dict) -> list[str]:
    """config_problems of a run's config.json, kept until the file changes: checking every
    option by its declaration takes ~40 µs, and the list is rebuilt every few seconds."""
    try:
        st = os.stat(path)
        key: tuple | None = (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        key = None
    kept = _config_notes.get(path)
    if key is not None and kept is not None and kept[0] == key:
        return list(kept[1])
    problems = config_problems(config)
    if key is not None:
        with _summaries_lock:
            _config_notes[path] = (key, problems)
    return list(problems)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _text(value: object) -> str | None:
    """A string read from a run folder as plain one-line text; None when it is not a string
    (a config's `"model": 5` is no model name)."""
    return plain(value) if isinstance(value, str) else None


MAX_COUNT = 10**9  # past any run's epochs (1,000,000 at most): 1e308 filled the table


def _count(value: object) -> int | None:
    """A count read from a run folder (epochs): a whole number in [0, MAX_COUNT], else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not 0 <= value <= MAX_COUNT or value != int(value):
        return None
    return int(value)


STATUS_UNREADABLE = "status.json is unreadable"  # how a listed run's message starts then


def run_entry(folder: Path) -> dict:
    """The list row of one run folder. Everything read from the folder is checked for its type
    (strings are plain text, counts whole numbers, else None/"unknown"), so a hand-edited or
    hostile file shows as unknown values, never breaks or steers the renderer."""
    run = RunDir(folder)
    entry = {
        "name": plain(folder.name),
        "path": str(folder),
        "model": None,
        "bidirectional": False,
        "task": None,
        "status": "unknown",
        "message": "",
        "epoch": 0,
        "epochs": None,
        "best_val_ppl": None,
        "best_bleu": None,
        "best_rmse": None,
        "best_macro_f1": None,
        "tokens_per_s": None,
        "config": {},
        "notes": [],
        "updated": max(_mtime(run.config_path), _mtime(run.status_path), _mtime(run.metrics_path)),
    }
    try:
        config = run.read_config()
    except RunError as exc:
        died = _died_unwritten(run, "config.json")
        entry.update(status=DIED if died else "unreadable", message=died or plain(str(exc)))
        return entry
    try:
        status: dict | None = run.read_status() or None
        if status is None and run.status_path.exists():
            status = {}  # written, and empty: `{}` says no status
    except RunError as exc:
        # A damaged status.json loses only the status: the config, metrics and checkpoints
        # still say what the run is and did (and --resume works), so the row shows them.
        status = None
        entry["message"] = plain(f"{STATUS_UNREADABLE}: {exc}")
        entry["notes"].append(entry["message"])
    entry["notes"] += _config_problems(run.config_path, config)
    entry["model"] = _text(config.get("model"))
    entry["bidirectional"] = config.get("bidirectional") is True
    entry["config"] = _settings(config)
    attention = _text(config.get("attention"))
    if entry["model"] and attention and attention != "none":
        entry["model"] += f"+{attention}"  # seq2seq+additive: an attention translator
    entry["task"] = _text(config.get("task", "lm"))
    entry["epochs"] = _count(config.get("epochs"))
    if status is None:
        died = _died_unwritten(run, "status.json")
        if died:
            entry["status"], entry["message"] = DIED, died
    if status is not None:
        entry["notes"] += status_problems(status)
        state = status.get("status")
        entry["status"] = state if isinstance(state, str) and state in STATUSES else "unknown"
        entry["message"] = _text(status.get("message")) or ""
        died = dead_run(run, status)
        if died is not None:
            entry["status"], entry["message"] = DIED, died
    summary = _metrics_summary(run.metrics_path)
    last_epoch = summary.last_epoch if summary is not None else None
    if summary is not None:
        entry["best_val_ppl"], entry["best_bleu"] = summary.best_val_ppl, summary.best_bleu
        entry["best_rmse"] = summary.best_rmse
        entry["best_macro_f1"] = summary.best_macro_f1
        entry["tokens_per_s"] = summary.tokens_per_s
        if summary.ignored:
            lines = "line" if summary.ignored == 1 else "lines"
            entry["notes"].append(
                f"{METRICS_FILE}: {summary.ignored:,} epoch {lines} ignored "
                f"(the first: {plain(summary.first_problem)})"
            )
    if last_epoch is not None:
        entry["epoch"] = _count(last_epoch.get("epoch", 0))
        if entry["epochs"] is None:
            entry["epochs"] = _count(last_epoch.get("epochs"))
    # Its row says finished 4/4; without a checkpoint it can be neither resumed nor used.
    if saved_one(entry["status"], entry["epoch"]) and not has_checkpoint(folder):
        entry["notes"].append(LOST_NOTE)
    entry["notes"] = [plain(note) for note in entry["notes"]]  # values quoted from the files
    return entry


# What only a run folder holds: config.json, and what a trainer writes beside it.
RUN_MARKS = (CONFIG_FILE, METRICS_FILE, STATUS_FILE, CHECKPOINTS_DIR)


def is_run_folder(folder: Path) -> bool:
    """Whether `folder` is a run folder itself (so not a folder of runs)."""
    return any(os.path.lexists(folder / name) for name in RUN_MARKS)


def list_runs(root: str | os.PathLike | None = None) -> list[dict]:
    """Every run under `root` (folders holding a config.json), newest first.

    Each entry: name (as plain text), path, model ("seq2seq+additive" for a translator with
    attention), bidirectional (whether its config says so), task, status ("unknown" before
    the trainer writes status.json; "unreadable", with the reason in message, when its config.json
    is broken; "unknown", with the reason in message, when only its status.json is;
    "died", with the time of its last event in message, when it says running or paused but
    its trainer is gone),
    message, epoch (epochs done, from the last epoch event; None when that is no count),
    epochs (planned), best_val_ppl (the lowest finite val_ppl of its epoch events, or None),
    best_bleu (the highest held-out BLEU of a seq2seq run, else None), best_rmse (the lowest
    held-out one-step RMSE of a forecast run, else None), best_macro_f1 (the highest held-out
    macro-F1 of a classify or tag run, else None), tokens_per_s (the median of its epochs'
    tokens/s, or None), config (its scalar settings: plain text, finite numbers, booleans),
    notes (what is wrong with its files, one plain line each: a damaged status.json, a field of
    status.json or config.json of the wrong type or out of its range, epoch lines of
    metrics.jsonl ignored, checkpoints missing from a run that saved some), updated (unix time
    of its latest write). Strings are str, numbers finite numbers, else None. A missing root
    gives [].
    """
    root = Path(root) if root is not None else default_runs_root()
    try:
        names = os.listdir(root)
    except OSError:
        return []
    # A folder that lost its config.json is still listed, as unreadable: it holds a run.
    folders = [root / name for name in names if is_run_folder(root / name)]
    entries = [_kept_entry(folder) for folder in folders]
    listed = set(folders)
    with _summaries_lock:  # runs deleted since: their rows go (the cache stays this size)
        for gone in [f for f in _entries if f.parent == root and f not in listed]:
            del _entries[gone]
    entries.sort(key=lambda e: (-e["updated"], e["name"]))
    return entries


# The rows of runs that are over (finished, stopped, failed, died), with the stamp of the files
# they were read from: the Train screen lists the folder every few seconds, and reading 1,500
# runs' files took a quarter of a second each time (5 % of a core) when nothing had changed.
_entries: dict[Path, tuple[tuple, dict]] = {}
_OVER = frozenset({"finished", "stopped", "failed", DIED})


def _stamp(folder: Path) -> tuple:
    """What changes when anything run_entry reads changes: the folder (a file written by
    replacing it, a checkpoint copied beside config.json), checkpoints/ and each file."""
    stamp: list[object] = []
    for path in (folder, folder / CHECKPOINTS_DIR, *(folder / n for n in RUN_MARKS[:3])):
        try:
            st = os.stat(path)
            stamp.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


def _kept_entry(folder: Path) -> dict:
    """run_entry(folder), from the cache when the run is over and none of its files changed (a
    run at work is read every time: its trainer may die without a write)."""
    stamp = _stamp(folder)
    kept = _entries.get(folder)
    if kept is not None and kept[0] == stamp:
        entry = kept[1]
    else:
        entry = run_entry(folder)
        with _summaries_lock:
            if entry["status"] in _OVER:
                _entries[folder] = (stamp, entry)
            else:
                _entries.pop(folder, None)
    # A copy: a caller may change its row.
    return {**entry, "notes": list(entry["notes"]), "config": dict(entry["config"])}


def model_label(entry: Mapping) -> object:
    """A listed run's model as the app's run header names it: "gru bidir" for a two-way one
    (the one-way and two-way runs of the seeds' LMs both read "lstm")."""
    model = entry.get("model")
    if isinstance(model, str) and model and entry.get("bidirectional") is True:
        return f"{model} bidir"
    return model


__all__ = [
    "RUN_MARKS",
    "STATUS_UNREADABLE",
    "is_run_folder",
    "list_runs",
    "model_label",
    "run_entry",
]
