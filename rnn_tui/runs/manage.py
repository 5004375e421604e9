"""Looking after finished runs from the app: resume one for more epochs, rename or delete it.

Each acts on one run directory and nothing else. Renaming and deleting first take the run's
trainer lock (lock.py) exclusively, so they refuse a run a trainer is at work in — started here,
in another terminal or on another screen — and no trainer can claim the run while the folder
moves or goes. A name is one folder name: no path separators, no leading dot, not taken.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path

from rnn_tui.files import owner_note
from rnn_tui.options import OptionError
from rnn_tui.quoting import plain, quoted
from rnn_tui.runs import lock
from rnn_tui.runs.rundir import RunDir, RunError, check_run_dir
from rnn_tui.train.options import OPTION

MAX_NAME = 100
NAME_MAX_BYTES = 255  # a folder name's limit on Linux and macOS file systems
EPOCHS = OPTION["epochs"]  # its range is the trainer's


def check_name(name: str, parent: Path) -> str:
    """`name` stripped, if it can be a new run folder's name under `parent`; else RunError."""
    name = name.strip()
    if not name:
        raise RunError("a run needs a name")
    if len(name) > MAX_NAME:
        raise RunError(f"a run's name is at most {MAX_NAME} characters")
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise RunError(f"{quoted(name)} is not a folder name (no slashes, no leading dot)")
    if not name.isprintable():
        raise RunError("a run's name cannot hold control characters")
    try:
        size = len(os.fsencode(name))
    except UnicodeEncodeError:
        raise RunError(f"{quoted(name)} is not a folder name this system can write") from None
    if size > NAME_MAX_BYTES:  # 100 characters of emoji are 400 bytes
        raise RunError(f"a run's name is at most {NAME_MAX_BYTES} bytes (got {size})")
    try:
        os.lstat(parent / name)  # a link counts too: renaming onto it would replace it
    except (FileNotFoundError, NotADirectoryError):
        return name
    except OSError as exc:
        raise RunError(f"cannot look at {parent / name}: {exc.strerror or exc}") from None
    raise RunError(f"{parent / name} already exists")


@contextlib.contextmanager
def _idle(path: Path):
    """Hold the run's trainer lock while the run is changed; RunError if a trainer holds it."""
    run = RunDir(path)
    try:
        fd = lock.acquire(run.lock_path, wait=0)
    except lock.LockTaken as exc:
        pid = f" (pid {exc.pid})" if exc.pid else ""
        raise RunError(f"{plain(path.name)} is training{pid}: stop it first") from None
    except OSError as exc:
        raise RunError(
            f"cannot lock {path}: {exc.strerror or exc}{owner_note(path, exc)}"
        ) from None
    try:
        yield run
    finally:
        if fd is not None:
            os.close(fd)


def check_idle(path: str | os.PathLike) -> None:
    """RunError when a trainer is at work in the run at `path` (any process's): asked before a
    dialog offers to continue, rename or delete it, so the refusal comes before the question.
    Only a look (the lock taken shared for an instant); the action takes it for real."""
    run = RunDir(path)
    try:
        pid = run.read_status().get("pid")
    except RunError:
        pid = None
    if run.trainer_alive(pid) is True:
        pid = lock.holder(run.lock_path) or (pid if isinstance(pid, int) else None)
        raise RunError(
            f"{plain(run.path.name)} is training{f' (pid {pid})' if pid else ''}: stop it first"
        )


def check_resumable(path: str | os.PathLike) -> None:
    """RunError, naming why, when the run at `path` cannot be continued: a trainer is at work
    in it, or its config.json (the settings a resume keeps) cannot be read."""
    check_idle(path)
    try:
        RunDir(path).read_config()
    except RunError as exc:
        raise RunError(f"{plain(Path(path).name)} cannot be continued: {exc}") from None


def rename_run(path: str | os.PathLike, name: str) -> Path:
    """Rename the run directory `path` to `name` beside it; returns the new path."""
    folder = check_run_dir(path)
    if folder.is_symlink():
        raise RunError(f"{folder} is a link, not a run directory")
    target = folder.parent / check_name(name, folder.parent)
    with _idle(folder):
        try:
            folder.rename(target)
        except OSError as exc:
            raise RunError(f"cannot rename {folder.name}: {exc.strerror or exc}") from None
    return target


def delete_run(path: str | os.PathLike) -> None:
    """Delete the run directory `path` and everything in it (its checkpoints too)."""
    folder = check_run_dir(path)
    if folder.is_symlink():
        raise RunError(f"{folder} is a link, not a run directory")
    with _idle(folder):
        try:
            # rmtree does not follow links inside the folder: only the run's own files go.
            shutil.rmtree(folder)
        except OSError as exc:
            raise RunError(f"cannot delete {folder.name}: {exc.strerror or exc}") from None


def resume_command(path: str | os.PathLike, epochs: int | str) -> list[str]:
    """`python -m rnn_tui train --resume DIR --epochs N`: continue the run until N epochs in
    all (a number, or the text typed for it, checked against the option's declaration)."""
    folder = check_run_dir(path)
    try:
        epochs = EPOCHS.parse(epochs) if isinstance(epochs, str) else EPOCHS.check(epochs)
    except OptionError as exc:
        raise RunError(str(exc)) from None
    argv = [sys.executable, "-m", "rnn_tui", "train", "--resume", str(folder)]
    return argv + ["--epochs", str(epochs)]


__all__ = [
    "check_idle",
    "check_name",
    "check_resumable",
    "delete_run",
    "rename_run",
    "resume_command",
]
