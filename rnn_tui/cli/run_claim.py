"""`rnn-tui train`'s run directory: claiming a new one or one to resume for this process, and
naming what is wrong with a folder that cannot be either (one line each, for exit 2)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rnn_tui.cli.output import warn
from rnn_tui.files import FileProblem, is_folder, kind_of, look
from rnn_tui.quoting import plain
from rnn_tui.runs.resumable import has_checkpoint


def holds_run(path: Path) -> bool:
    """Whether `path` holds a run's files; FileProblem when it cannot be looked into."""
    return any(
        look(path / name, "--run-dir") is not None
        for name in ("config.json", "metrics.jsonl", "status.json", "checkpoints")
    )


def being_trained(folder: Path) -> str:
    """ "run DIR is being trained right now by process PID; …" when a trainer holds the run in
    `folder` (asked before claiming it), else "". Said as "continue it with --resume", the
    user was led to a resume refused for that very reason."""
    from rnn_tui.runs import lock
    from rnn_tui.runs.rundir import LOCK_FILE

    if not lock.held(folder / LOCK_FILE):
        return ""
    pid = lock.holder(folder / LOCK_FILE)
    by = f"process {pid}" if pid else "another process"
    return f"run {folder} is being trained right now by {by}; choose another --run-dir"


def held_message(folder: Path) -> str:
    """Why a new run cannot go in `folder`, which holds a run no trainer has (the caller holds
    its claim), and what to do instead. A run that ended before its first checkpoint cannot be
    resumed: "continue it with --resume" sent the user to a refusal that sent them back here."""
    if has_checkpoint(folder) or checkpoints_problem(folder):
        return (
            f"{folder} already holds a run: continue it with --resume {folder}, "
            "or choose another --run-dir"
        )
    lost = lost_checkpoints(folder)
    if lost:
        return f"{folder} already holds a run: {lost}; choose another --run-dir"
    return (
        f"{folder} already holds a run that ended before its first checkpoint (nothing to "
        "resume): remove the folder to start it again, or choose another --run-dir"
    )


def lost_checkpoints(folder: Path) -> str | None:
    """What a run that holds no checkpoint lacks when it had saved some (it finished, stopped
    or completed an epoch); None when it ended before its first."""
    from rnn_tui.runs.listing import run_entry
    from rnn_tui.runs.resumable import missing, saved_one

    entry = run_entry(folder)
    return missing(folder) if saved_one(entry["status"], entry["epoch"]) else None


def not_resumable(
    folder: Path, seen: os.stat_result | None, config: os.stat_result | None
) -> str | None:
    """Why --resume `folder` cannot be a run, naming what is wrong (`seen`, `config`: the stats
    of the folder and of its config.json); None when it can."""
    if seen is None:
        return f"not a run directory: {folder} does not exist (--resume takes runs/<name>)"
    if not is_folder(seen):
        return f"--resume {folder} is {kind_of(seen.st_mode)}, not a run directory"
    if config is None:
        return f"{folder} has no config.json: without its settings the run cannot be continued"
    if not stat.S_ISREG(config.st_mode):
        return f"{folder / 'config.json'} is {kind_of(config.st_mode)}, not a file"
    return None


def checkpoints_problem(folder: Path) -> str | None:
    """What is wrong with the run's checkpoints folder when something else stands in its place:
    the run may have results, so this is never "nothing to resume, remove it"."""
    try:
        seen = look(folder / "checkpoints", "--resume")
    except FileProblem as exc:
        return str(exc)
    if seen is None or is_folder(seen):
        return None
    return (
        f"{folder / 'checkpoints'} is {kind_of(seen.st_mode)}, not the folder of the run's "
        "checkpoints: put the checkpoints back there to continue the run"
    )


def pid_is_live(pid: object) -> bool:
    from rnn_tui.runs.lock import process_alive

    # Our own pid is not "another trainer": a resumed run rewrites the status it read.
    return pid != os.getpid() and process_alive(pid) is True


def claim_resumed(folder: Path):
    """The run at `folder`, claimed for this process (RunError when another trainer has it)."""
    from rnn_tui.runs.rundir import RunDir, RunError

    run_dir = RunDir(folder.absolute())
    try:
        status = run_dir.read_status()
    except RunError as exc:
        # A status.json cut short or garbled is the one file a resume writes anew: its config,
        # metrics and checkpoints decide. One of the wrong kind (a folder, a pipe) is refused.
        try:
            regular = stat.S_ISREG(os.lstat(run_dir.status_path).st_mode)
        except OSError:
            regular = False
        if not regular:
            raise
        warn(f"{exc}; the run's status is written anew")
        status = {}
    locked_before = run_dir.lock_path.exists()
    run_dir.claim()
    # A run written before run directories were locked: its trainer, if still alive, holds no
    # lock, so its pid decides.
    active = status.get("status") in ("running", "paused")
    if not locked_before and active and pid_is_live(status.get("pid")):
        run_dir.release()
        raise RunError(f"run {folder} is being trained right now by process {status['pid']}")
    return run_dir


def claim_new(folder: Path):
    """`folder` (created if need be) claimed for a new run: RunError when another trainer has
    it, or when it already holds a run (checked under the claim, so two trainers started on one
    --run-dir at once cannot both find it empty)."""
    from rnn_tui.runs.rundir import RunDir, RunError, RunTaken

    check_no_foreign_files(folder)
    RunDir(folder).check_path_length()  # before the folder is made: a refusal leaves nothing
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create {folder}: {exc.strerror or exc}") from None
    run_dir = RunDir(folder)
    try:
        run_dir.claim()
    except RunTaken as exc:
        # As `being_trained` says it before torch loads: which of the two a second trainer
        # meets depends only on how far the first had got.
        raise RunTaken(f"{exc}; choose another --run-dir") from None
    if holds_run(folder):
        run_dir.release()
        raise RunError(held_message(folder))
    return run_dir


def claim_run(trainer, config, args, claimed):
    """The run directory this process of `rnn-tui train` writes once its trainer is prepared:
    rank 0's, `claimed` (a resumed run's, claimed before torch loaded) or claimed now (RunError
    when it cannot be: --run-dir or a new folder under the runs root), or the other ranks'
    NullRun."""
    from rnn_tui.runs.rundir import RunDir, default_runs_root, new_run_dir

    if not trainer.dist.writer:
        # torchrun's other ranks: rank 0 writes the run (train/distributed.py).
        from rnn_tui.train.distributed import NullRun

        return NullRun()
    if args.resume is not None:
        return claimed
    if args.run_dir is not None:
        return claim_new(Path(args.run_dir).absolute())
    model = config.get("model")
    if model and config.get("bidirectional") is True:
        model += "-bidir"  # told apart from the one-way run beside it
    run_dir = RunDir(new_run_dir(default_runs_root(), prefix=config.task, model=model))
    run_dir.claim()
    return run_dir


def check_no_foreign_files(folder: Path) -> None:
    """RunError when `folder` holds files that are not a run's: config.json and checkpoints were
    written beside the user's own files (and a later removal of the run would take them). A
    new folder, an empty one, or one with only a run's files (the app's train.log) is fine;
    checked before the claim, whose trainer.lock would be one more file left there."""
    from rnn_tui.runs import rundir
    from rnn_tui.runs.rundir import RunError

    ours = {
        rundir.CONFIG_FILE,
        rundir.METRICS_FILE,
        rundir.STATUS_FILE,
        rundir.CONTROL_FILE,
        rundir.CHECKPOINTS_DIR,
        rundir.LOG_FILE,
        rundir.LOCK_FILE,
    }
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return  # made next, or named for what it is by the claim
    except OSError as exc:
        raise RunError(f"cannot read {folder}: {exc.strerror or exc}") from None
    # A killed writer's temporary files (.config.json.x1y2.tmp) are a run's too.
    foreign = [n for n in names if n not in ours and not (n.startswith(".") and n.endswith(".tmp"))]
    if foreign:
        shown = ", ".join(plain(n) for n in foreign[:3]) + (", …" if len(foreign) > 3 else "")
        raise RunError(
            f"{folder} is not empty and is not a run directory (it holds {shown}): choose a new "
            "or empty --run-dir"
        )
