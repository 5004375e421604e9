"""The `rnn-tui` command: no subcommand opens the app; the others run headless.

The parser (parser.py) is built from the options' declarations without torch; each command's
module is imported only when that command runs, so `rnn-tui --help` and `rnn-tui stats` start
fast and never load torch.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable

from rnn_tui.cli.output import StdoutError, TerminalProgress, fail, guarded_stdout, utf8
from rnn_tui.cli.parser import COLOR_SYSTEMS, build_parser
from rnn_tui.files import limit_env_problem, set_default_limit, set_waiting_notice
from rnn_tui.models.fused_steps import env_problem as native_env_problem


def _run(args: argparse.Namespace) -> int:
    # One explicit import per command: only the command asked for is loaded.
    if args.command == "stats":
        from rnn_tui.cli import stats as command
    elif args.command == "train":
        from rnn_tui.cli import train as command
    elif args.command == "generate":
        from rnn_tui.cli import generate as command
    elif args.command == "translate":
        from rnn_tui.cli import translate as command
    elif args.command == "runs":
        from rnn_tui.cli import runs as command
    elif args.command == "classify":
        from rnn_tui.cli import classify as command
    elif args.command == "tag":
        from rnn_tui.cli import tag as command
    elif args.command == "gradients":
        from rnn_tui.cli import gradients as command
    elif args.command == "serve":
        from rnn_tui.cli import serve as command
    else:
        return _run_app(args)
    return command.run(args)


def _waiting_line() -> Callable[[str], None]:
    """files.read_bytes' notice of a pipe it waits on: the terminal's progress line while it
    waits, cleared when the wait ends; off a terminal nothing, as for all progress."""
    progress = TerminalProgress()
    progress.started -= progress.SHOW_AFTER_S  # the reader has waited its own second already

    def notice(line: str) -> None:
        if line:
            progress.show(f"rnn-tui: {line}", now_too=True)
        else:
            progress.clear()

    return notice


# Arguments that name a file or folder, and what each wants.
_PATH_ARGS = (
    ("checkpoint", "a checkpoint file, a run directory or a run's name"),
    ("resume", "the run directory to continue (or its name as `rnn-tui runs` lists it)"),
    ("run_dir", "the folder to write the run in"),
)


def typed_flag(typed: set[str], name: str) -> bool:
    """Whether option `name` is among the `typed` words, whole or abbreviated as argparse
    takes it (--check for --checkpoint)."""
    flag = "--" + name.replace("_", "-")
    return any(len(word) > 2 and flag.startswith(word) for word in typed)


# The commands whose output is on stdout (train's only with --json; serve's all on stderr).
_PRINTING = {"stats", "generate", "translate", "runs", "classify", "tag", "gradients"}


def _prints(args: argparse.Namespace) -> bool:
    return args.command in _PRINTING or (args.command == "train" and args.json)


# numpy asks the kernel for huge pages for each array of 4 MB or more, and under the kernel's
# default policy for such requests (defrag "madvise") the first touch of each one waits for
# memory to be compacted: `stats` on a 100 MB file took 20–30 % longer (word and char level,
# 10.5M distinct words: 21.5–22.6 s against 19.2–19.8; training unchanged). numpy reads this
# when it is imported, which no command has done before `main`; a user's own setting wins.
HUGEPAGE_ENV = "NUMPY_MADVISE_HUGEPAGE"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault(HUGEPAGE_ENV, "0")
    args = build_parser().parse_args(argv)
    try:
        os.getcwd()
    except OSError:
        # A shell left in a deleted folder: torch's math library aborts the whole process on
        # its first product there (the app's terminal left in its alternate screen). `stats`
        # uses neither torch nor the folder.
        if args.command != "stats":
            return fail("the working directory no longer exists (deleted?): cd to another folder")
    if sys.stdout is None and _prints(args):
        # `>&-`: Python leaves sys.stdout None, and the output would vanish or crash the command.
        return fail("standard output is closed")
    problem = limit_env_problem()
    if problem and getattr(args, "max_file_mb", None) is None:
        return fail(problem)
    if problem := native_env_problem():
        return fail(problem)
    typed = {word.split("=", 1)[0] for word in (sys.argv[1:] if argv is None else argv)}
    # Which options were typed, for a command whose defaults are filled in (gradients).
    args.typed = lambda name: typed_flag(typed, name)
    for name, what in _PATH_ARGS:
        value = getattr(args, name, None)
        # Typed empty, not left out (gradients' --checkpoint is "" when not given: a fresh cell).
        flag = "--" + name.replace("_", "-")
        if isinstance(value, str) and not value.strip() and typed_flag(typed, name):
            # "" is the working directory to the file system: a run written among the user's
            # files, or a folder searched for a checkpoint it cannot hold.
            return fail(f"{flag} is empty: give {what}")
    if getattr(args, "checkpoint", None) or getattr(args, "resume", None):
        # A shipped checkpoint's bare name (`--checkpoint fra-eng-gru`) and a run's name as
        # `rnn-tui runs` lists it (`--resume lm-lstm-…`) work from any directory.
        from rnn_tui.runs.discover import resolve_shipped, unknown_name
        from rnn_tui.runs.rundir import resolve_run

        if getattr(args, "checkpoint", None):
            args.checkpoint = resolve_shipped(args.checkpoint)
            if problem := unknown_name(args.checkpoint):
                return fail(problem)
        if getattr(args, "resume", None):
            args.resume = resolve_run(args.resume)
            if problem := unknown_name(args.resume, "run"):
                return fail(problem)
    if getattr(args, "max_file_mb", None) is not None:
        # For this process and the trainers it starts (an environment variable).
        set_default_limit(args.max_file_mb)
    if args.command is not None:
        set_waiting_notice(_waiting_line())
    try:
        with guarded_stdout():
            return _run(args)
    except BrokenPipeError:
        # `rnn-tui stats | head` closes stdout early: not an error worth a traceback.
        _drop_stdout()
        return 0
    except KeyboardInterrupt:
        # Ctrl+C in a long translate or gradients: what the shell expects (130), no traceback.
        # train and generate catch it themselves, to say where they stopped.
        return 130
    except StdoutError as exc:
        fail(f"cannot write standard output: {exc.strerror or exc}")
        _drop_stdout()  # the unwritten rest would fail again, with a traceback, at exit
        return 1
    except MemoryError:
        # The app says the same in a notification; a traceback here names numpy's allocator.
        where = f" in {args.command}" if args.command else ""
        return fail(f"out of memory{where}: try a smaller file, model or batch")
    except RuntimeError as exc:
        # torch's allocators raise RuntimeErrors, not MemoryError: a GPU's OutOfMemoryError
        # (generate --device cuda with the GPU taken) was a traceback, as was a GPU that
        # another process holds (exclusive mode).
        problem = _torch_problem(exc)
        if not problem:
            raise
        where = f" in {args.command}" if args.command else ""
        return fail(problem.replace("{where}", where), own=True)  # this rank's GPU
    except OSError as exc:
        # A path met where no check expected trouble (a folder without permission, a name too
        # long): one line naming it, as for any bad input, not a traceback.
        return _os_error(exc)


def _torch_problem(exc: RuntimeError) -> str:
    """One line for torch's failed allocation or a GPU it cannot use ("{where}" to fill in),
    else "" (torch is asked only where it is loaded)."""
    if "torch" not in sys.modules:
        return ""
    from rnn_tui.checkpoints.device import gpu_unavailable, is_out_of_memory

    if is_out_of_memory(exc):
        if type(exc).__name__ != "OutOfMemoryError":
            return "out of memory{where}: try a smaller file, model or batch"
        return (
            "out of memory{where} on the GPU: try a smaller file, model or batch, or --device cpu"
        )
    if reason := gpu_unavailable(exc):
        return (
            f"the GPU cannot be used{{where}} ({reason}): another process may hold it "
            "(nvidia-smi lists them), or use --device cpu"
        )
    return ""


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so Python's flush at exit has nowhere to fail."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # not a file descriptor (a test's captured stdout): nothing left to flush there


# The path given was wrong (exit 2, as for any bad input); other OS errors exit 1.
_BAD_PATH = {
    errno.EACCES,
    errno.EPERM,
    errno.ENAMETOOLONG,
    errno.ELOOP,
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EROFS,
}


def _os_error(exc: OSError) -> int:
    where = f": {exc.filename}" if exc.filename is not None else ""
    fail(f"{exc.strerror or exc}{where}")
    return 2 if exc.errno in _BAD_PATH else 1


def _run_app(args: argparse.Namespace) -> int:
    served = os.environ.get("TEXTUAL_DRIVER", "").startswith("textual.drivers.web_driver")
    # A closed stdin or stdout (`<&-`, `>&-`) is None to Python: no terminal either.
    tty = all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout))
    if not served and not tty:
        return fail("the app needs a terminal; for headless use try `rnn-tui stats --help`")
    if not served and not utf8(sys.__stderr__):  # the stream the app draws on
        # Drawn through it, every line and glyph showed as \u2501 escapes.
        encoding = getattr(sys.__stderr__, "encoding", None) or "unknown"
        return fail(
            f"the app draws with Unicode characters, and this terminal's locale encodes "
            f"{encoding}: run it under a UTF-8 locale (e.g. LC_ALL=C.UTF-8 rnn-tui)"
        )
    system = COLOR_SYSTEMS[args.color]
    if system is not None:
        # Textual reads this once, at import time.
        os.environ["TEXTUAL_COLOR_SYSTEM"] = system
    from rnn_tui.tui.app import RnnTuiApp

    RnnTuiApp().run(mouse=not args.no_mouse)
    return 0


__all__ = ["fail", "main"]


if __name__ == "__main__":
    raise SystemExit(main())
