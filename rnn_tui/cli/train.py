"""`rnn-tui train`: train any task of the registry headless, writing a run directory.

Every check that can fail on bad input (options, data, sizes, model, device, the run directory,
a resume checkpoint) runs before anything is written: one line on stderr, exit 2. Then the run
directory is claimed for this process (RunDir.claim: exclusive, and checked to be writable)
before the first write, so two trainers never share one and a read-only folder is refused
up front, each in one line with exit 2. Progress goes to stderr (train_report.Reporter);
`--json` prints one summary object on stdout at the end. Exit status: 0 finished or stopped on
request (control.json), 1 failed (NaN loss, a write the disk refused, crash), 2 bad input,
128 + N after signal N (SIGINT 130, SIGTERM 143, SIGHUP 129), each of those after writing the
`last` checkpoint.
"""

from __future__ import annotations

import argparse
import os
import traceback
from pathlib import Path

from rnn_tui.cli.file_options import (
    PIPE,
    absolute_files,
    file_option_names,
    is_path,
    same_file,
    shadowed,
)
from rnn_tui.cli.output import fail, other_rank, print_json, quiet_exit_wait, say, warn
from rnn_tui.cli.parser import RESUME_OPTIONS, listed, train_option_names
from rnn_tui.cli.run_claim import (
    being_trained,
    checkpoints_problem,
    claim_resumed,
    claim_run,
    has_checkpoint,
    held_message,
    holds_run,
    lost_checkpoints,
    not_resumable,
)
from rnn_tui.cli.task_flags import read_empties
from rnn_tui.files import FileProblem, is_folder, kind_of, look
from rnn_tui.options import OptionError
from rnn_tui.quoting import plain
from rnn_tui.train.registry import DEFAULT_TASK, TASKS


def _given(args: argparse.Namespace) -> dict:
    """The training options given on the command line (the others take the task's defaults)."""
    names = train_option_names()
    return {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def choose_task(args: argparse.Namespace, given: dict) -> str:
    """--task, else the task whose model the options name (--model seq2seq), else the default."""
    if args.task is not None:
        return args.task
    model = given.get("model")
    for spec in TASKS.values():
        if model is not None and spec.has("model") and model in spec.option("model").choices:
            return spec.name
    return DEFAULT_TASK


def _writes_the_run() -> bool:
    """False in torchrun's ranks other than 0, which train without a run directory (rank 0
    claims and writes it; they must not race it for the claim)."""
    return os.environ.get("RANK", "0").strip() in ("", "0")


def run(args: argparse.Namespace) -> int:
    from rnn_tui.runs.rundir import RunError

    given = absolute_files(_given(args))
    task = _saved_task(Path(args.resume)) if args.resume is not None else choose_task(args, given)
    try:
        given = read_empties(given, task)  # --embed= : lm's auto, refused by seq2seq
    except OptionError as exc:
        return fail(str(exc), command="train")
    for name, value in given.items():
        if note := shadowed(name, value):
            warn(note)
    claimed = None
    if args.resume is not None:
        folder = Path(args.resume)
        # The folder first: an option given beside a folder that is no run was refused as
        # "cannot change on --resume", and the real trouble went unsaid.
        try:
            seen, config = look(folder, "--resume"), look(folder / "config.json", "--resume")
        except FileProblem as exc:
            return fail(str(exc))
        problem = not_resumable(folder, seen, config)
        if problem:
            return fail(problem)
        piped = _piped_corpus(folder)
        # A pipe's corpus (--corpus <(cat f)) is gone after its run: it is given again, under
        # whatever name the shell gives the new pipe (the tokens are checked to be the same).
        extra = sorted(set(given) - set(RESUME_OPTIONS) - ({"corpus"} if piped else set()))
        if extra:
            # An option repeated at the value the run has changes nothing: it is dropped.
            same, restated = _same_as_saved(Path(args.resume), given, extra)
            extra = [k for k in extra if k not in same and k not in restated]
            # A restated file option stays: the absolute path given replaces a relative one.
            given = {k: v for k, v in given.items() if k not in same}
        task = _saved_task(Path(args.resume)) if extra else None
        wrong = [k for k in extra if task is not None and not TASKS[task].has(k)]
        if wrong:
            # Not "cannot change": the option means nothing to the run's task.
            return fail(f"{_flag(wrong[0])} does not apply to --task {task} (the run resumed)")
        if extra:
            names = listed([_flag(k) for k in extra])
            allowed = listed([_flag(k) for k in RESUME_OPTIONS])
            return fail(
                f"{names} cannot change on --resume (the run keeps its config); only {allowed} can"
            )
        if args.run_dir is not None:
            return fail("--run-dir cannot be combined with --resume (a run continues in its own)")
        if piped and "corpus" not in given and not os.path.exists(piped):
            return fail(
                f"corpus file not found: {piped} (the run read its corpus from a pipe, which "
                "is gone): pass --corpus again, with the same text, to resume"
            )
        lost = _relative_file_lost(folder, given)
        if lost:
            return fail(lost)
        try:
            claimed = claim_resumed(folder) if _writes_the_run() else None
        except RunError as exc:
            return fail(str(exc))
        # Under the claim: a run still before its first checkpoint is "being trained" instead.
        problem = checkpoints_problem(folder)
        if problem or not has_checkpoint(folder):
            if claimed is not None:
                claimed.release()
            lost = None if problem else lost_checkpoints(folder)
            if lost:
                # A run with results: its history stays, a new run goes elsewhere.
                problem = (
                    f"cannot resume {folder}: {lost}; put them back to continue it, or start "
                    "a new run under another --run-dir"
                )
            return fail(
                problem
                or f"{folder} ended before its first checkpoint: nothing to resume; remove the "
                "folder and start the run again (or give a new --run-dir)"
            )
    else:
        task = choose_task(args, given)
        wrong = [k for k in given if not TASKS[task].has(k)]
        if wrong:
            return fail(f"{_flag(wrong[0])} does not apply to --task {task}")
        if args.run_dir is not None:
            folder = Path(args.run_dir)
            try:
                seen = look(folder, "--run-dir")
                held = seen is not None and is_folder(seen) and holds_run(folder)
            except FileProblem as exc:
                return fail(str(exc))
            if seen is not None and not is_folder(seen):
                return fail(f"--run-dir {folder} is {kind_of(seen.st_mode)}, not a directory")
            if held and _writes_the_run() and (busy := being_trained(folder.absolute())):
                return fail(busy)
            if held and _writes_the_run() and has_checkpoint(folder):
                # Checked again under the claim; here it fails fast, before torch loads. A run
                # without a checkpoint may be in its first epoch: the claim tells.
                return fail(held_message(folder))
    try:
        # torch loads here (a second or two); a Ctrl+C meanwhile ends quietly.
        return _train(args, given, claimed)
    except KeyboardInterrupt:
        if not other_rank():  # under torchrun every rank got the Ctrl+C: one line says it
            say("rnn-tui: interrupted")
        return 130
    finally:
        if claimed is not None:
            claimed.release()


def _train(args: argparse.Namespace, given: dict, claimed) -> int:
    """Load torch, prepare the trainer (every input check), claim the run directory of a new run
    and train; the run directory is released when training ends."""
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.checkpoints.checkpoint import load_checkpoint
    from rnn_tui.checkpoints.device import (
        DeviceError,
        is_out_of_memory,
        prepare_device_early,
        resolve_device,
    )
    from rnn_tui.cli.train_report import PreparingLine
    from rnn_tui.data.errors import DataError
    from rnn_tui.models.base import ModelError
    from rnn_tui.runs.process import FOLLOWED_ENV
    from rnn_tui.runs.rundir import RunError
    from rnn_tui.train.config import Config, ConfigError
    from rnn_tui.train.engine import Trainer
    from rnn_tui.train.prepare import advice
    from rnn_tui.train.preparing import reporting

    bad_input = (DataError, ModelError, CheckpointError, DeviceError, ConfigError, RunError)
    checkpoint = config = None
    # Before torch computes anything (loading a checkpoint, a corpus): its worker threads start
    # then, and keep the denormal setting they start with.
    prepare_device_early(given.get("device"))
    try:
        if args.resume is not None:
            checkpoint = load_checkpoint(args.resume, prefer=("last", "best"))
            _same_task(args, checkpoint.config, claimed)
            if checkpoint.warning:
                warn(checkpoint.warning)
            _check_best(checkpoint.json_path)
            try:
                saved = Config.from_dict(checkpoint.config)
            except ConfigError as exc:  # a value edited by hand: say which file holds it
                raise ConfigError(f"checkpoint {checkpoint.json_path}: {exc}") from None
            config = saved.replace(**given)
        else:
            config = Config(choose_task(args, given), **given)
        # Tokenizing an uncached 100 MB corpus takes seconds: shown as it goes (rank 0 only).
        with PreparingLine(shown=_writes_the_run()) as preparing, reporting(preparing):
            waits = preparing.waiting_notice(os.environ.get(FOLLOWED_ENV) == "1")
            with waits:
                trainer = Trainer(config, resume=checkpoint)
    except bad_input as exc:
        return fail(str(exc))
    except RuntimeError as exc:
        # The task's data, the model or a resumed optimizer's state copied to a GPU too full
        # for them (torch.OutOfMemoryError): one line naming what to lower, as mid-run.
        if config is None or not is_out_of_memory(exc):
            raise
        device = resolve_device(config.device)  # it resolved: the Trainer got past it
        # This rank's own GPU: said by whichever rank it is (output.fail).
        return fail(
            f"out of memory while preparing the run on {device}: {advice(config)}", own=True
        )
    try:
        # Claimed after every input check (a refused run creates no folder), before any write.
        run_dir, refused = claim_run(trainer, config, args, claimed), ""
    except bad_input as exc:
        run_dir, refused = None, str(exc)
    if trainer.dist.active and trainer.dist.any(bool(refused)):
        # Every rank learns here that rank 0 refused the run (a folder it cannot create, one
        # another job claimed first): the others met its exit in DDP's first collective, a
        # traceback each. Rank 0 says why; the others end quietly (`fail`).
        trainer.dist.close()
        return fail(refused)
    if refused:
        return fail(refused)
    try:
        return _train_claimed(args, trainer, run_dir)
    finally:
        run_dir.release()


def _piped_corpus(folder: Path) -> str:
    """The run's corpus when it was read from a pipe (/dev/fd/63), else "" (or unreadable)."""
    from rnn_tui.runs.rundir import RunDir, RunError

    try:
        corpus = RunDir(folder).read_config().get("corpus")
    except (RunError, AttributeError):
        return ""
    return corpus if isinstance(corpus, str) and PIPE.fullmatch(corpus) else ""


def _relative_file_lost(folder: Path, given: dict) -> str:
    """For a run that saved a file option as typed, relative (before they were saved absolute),
    resumed from a folder where that path names nothing: what to do, else ""."""
    from rnn_tui.runs.rundir import RunDir, RunError

    try:
        saved = RunDir(folder).read_config()
    except RunError:
        return ""  # the checks that follow say why
    for name in sorted(file_option_names() - set(given)):
        value = saved.get(name)
        if is_path(name, value) and not os.path.isabs(value) and not os.path.exists(value):
            return (
                f"{_flag(name)} file not found: {plain(value)} (the run saved it relative to the "
                f"folder it was started in): resume from there, or give {_flag(name)} with its "
                "full path"
            )
    return ""


def _saved_task(folder: Path) -> str | None:
    """The task of the run in `folder` as its config.json says (None when it cannot be read
    or names no task: the checks that follow say why)."""
    from rnn_tui.runs.rundir import RunDir, RunError

    try:
        task = RunDir(folder).read_config().get("task")
    except RunError:
        return None
    return task if isinstance(task, str) and task in TASKS else None


def _same_as_saved(folder: Path, given: dict, names: list[str]) -> tuple[set[str], set[str]]:
    """Which of the options `names` hold the value the run's config.json has (none when it
    cannot be read: the checks that follow say why), and which file options name the file of
    a relative path it saved (file_options.py)."""
    from rnn_tui.runs.rundir import RunDir, RunError

    try:
        saved = RunDir(folder).read_config()
    except RunError:
        return set(), set()

    def same(a: object, b: object) -> bool:
        return a == b and isinstance(a, bool) == isinstance(b, bool)  # True is not 1

    ours = [n for n in names if n in saved]
    files = [n for n in ours if n in file_option_names() and same_file(saved[n], given[n])]
    equal = {n for n in ours if same(saved[n], given[n])}
    relative = {n for n in files if not os.path.isabs(saved[n])}
    return equal | (set(files) - relative), relative - equal


def _check_best(resumed: Path) -> None:
    """Warn when the run resumed from `resumed` (its last) has a best checkpoint that cannot be
    read: the run goes on, and its best epoch's checkpoint would otherwise be missed unsaid."""
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.checkpoints.store import read_pair

    best = resumed.with_name("best.json")
    if resumed.name == best.name:
        return
    try:
        if look(best, "checkpoint") is None:
            return
        read_pair(best)
    except (CheckpointError, FileProblem) as exc:
        warn(
            f"the best checkpoint cannot be read ({exc}): the run goes on from {resumed.name}; "
            "it is written again at the next best epoch"
        )


def _same_task(args: argparse.Namespace, saved: dict, run_dir) -> None:
    """ConfigError unless --task (where given), the run's config.json and the checkpoint it
    resumes from agree on the run's task: a folder holding another run's checkpoint was
    resumed as that run, its config.json and metrics rewritten as another task's."""
    from rnn_tui.train.config import ConfigError

    task = saved.get("task", DEFAULT_TASK)
    if args.task is not None and args.task != task:
        raise ConfigError(
            f"--task {args.task}: {args.resume} is a run of task {task} (it keeps it)"
        )
    if run_dir is None:
        return  # torchrun's other ranks: rank 0 reads the run's files
    written = run_dir.read_config().get("task", DEFAULT_TASK)
    if written != task:
        raise ConfigError(
            f"{args.resume}: its config.json says task {plain(str(written))}, its checkpoint "
            f"task {task}; a folder whose files disagree is not resumed"
        )


def _train_claimed(args: argparse.Namespace, trainer, run_dir) -> int:
    """Train into the claimed `run_dir`, reporting on stderr; the exit status."""
    from rnn_tui.cli.train_report import Reporter
    from rnn_tui.train.signals import StopRequest, stop_on_signals

    stop = StopRequest()
    if not trainer.dist.writer:
        # A rank other than 0 trains in step with rank 0 and reports nothing but a failure of
        # its own (its GPU out of memory), which rank 0 only sees as a lost peer.
        with stop_on_signals(stop):
            summary = trainer.run(run_dir, stop)
        if summary["status"] == "stopped" and stop.exit_code:
            # Stopped by a signal, its own or another rank's (agreed: train/epoch.py): 128 + N,
            # a second after rank 0's, so torchrun does not stop rank 0 before it has said it.
            quiet_exit_wait()
            return stop.exit_code
        if summary["status"] != "failed":
            return 0
        if trainer.own_failure:
            say(f"rnn-tui train: rank {trainer.dist.rank}: {summary['message']}")
        return 1
    reporter = Reporter(trainer, run_dir)
    try:
        with stop_on_signals(stop), reporter:
            summary = trainer.run(run_dir, stop, on_event=reporter)
    except KeyboardInterrupt:
        say(f"rnn-tui: interrupted; resume with: rnn-tui train --resume {run_dir.path}")
        return 130
    except OSError as exc:
        # The engine reports a refused write of the run itself (disk full, read-only) as a
        # failed run; whatever else the system refused is no bug either: one line.
        where = f" ({exc.filename})" if exc.filename else ""
        say(f"rnn-tui: error: training failed: {exc.strerror or exc}{where}")
        return 1
    except Exception as exc:
        traceback.print_exc()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        say(f"rnn-tui: error: training failed: {reason}")
        return 1
    if args.json:
        print_json(summary)
    if summary["status"] == "failed":
        say(f"rnn-tui: error: {summary['message']}")
        return 1
    if summary["status"] == "stopped":
        return stop.exit_code
    return 0


__all__ = ["choose_task", "run"]
