"""How the commands report problems: one line on stderr, and exit status 2 for bad input."""

from __future__ import annotations

import codecs
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rnn_tui.atomic import json_text
from rnn_tui.quoting import bounded, visible


def say(text: str) -> None:
    """Write one line to stderr in a single write.

    `print` writes the text and its newline separately, so when several processes share
    stderr (torchrun's ranks) their lines can interleave mid-line; one write of a short
    line to a pipe is atomic.
    """
    sys.stderr.write(bounded(visible(text)) + "\n")
    sys.stderr.flush()


def on_terminal(text: str) -> str:
    """Text a model wrote (a token of its vocabulary, a translation), as it reaches stdout: on a
    terminal its control characters are shown as escapes (a model trained on a coloured log
    would otherwise colour or clear the screen), to a pipe or a file it is written as is."""
    return visible(text, newlines=True) if sys.stdout.isatty() else text


def utf8(stream) -> bool:
    """Whether `stream` encodes text as UTF-8 (not so under a locale such as ISO-8859-1, or C
    where Python's UTF-8 mode and locale coercion are off)."""
    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name == "utf-8"
    except LookupError:
        return False


def print_json(record: object, **options) -> None:
    """`record` as one line of JSON on stdout, valid whatever its strings hold (and NaN or an
    infinity as null, which strict parsers need): text is written
    as is, unless it carries bytes that are not UTF-8 (a file name from another system, kept
    by Python as lone surrogates) or stdout does not encode UTF-8, when non-ASCII characters
    are written as \\u escapes."""
    text = json_text(record, ensure_ascii=not utf8(sys.stdout), **options)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json_text(record, ensure_ascii=True, **options)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def other_rank() -> bool:
    """Whether this process is one of torchrun's ranks other than 0 (RANK a whole number from 1
    below WORLD_SIZE): every rank checks the same options, and rank 0 alone says what is wrong."""
    try:
        rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return False  # not torchrun's: the launch check names the variable
    return 0 < rank < world


def quiet_exit_wait() -> None:
    """A rank other than 0 leaves after a second: torchrun stops every worker once one has
    exited, and rank 0, a moment behind, could be stopped before its line is out."""
    time.sleep(1.0)


def fail(message: str, command: str = "", own: bool = False) -> int:
    """Report bad input as one line on stderr; the exit status for it is 2. With `command`,
    the line starts as argparse's usage errors of that command do ("rnn-tui translate: ").
    Under torchrun, rank 0 alone reports it (each rank found the same; N copies of the line
    said nothing more), unless it is this rank's `own` (its GPU full or held elsewhere), which
    rank 0 would see only as a lost peer: that rank says it, naming itself."""
    if other_rank():
        if not own:
            quiet_exit_wait()
            return 2
        message = f"rank {os.environ['RANK']}: {message}"
    say(f"{'rnn-tui ' + command if command else 'rnn-tui'}: error: {message}")
    return 2


def warn(message: str) -> None:
    """A warning line on stderr (the command goes on)."""
    say(f"rnn-tui: warning: {message}")


class StdoutError(OSError):
    """A write to standard output failed (`> /dev/full`, a full disk behind `> file`)."""


class _GuardedStdout:
    """sys.stdout while a command runs: its failed writes raise StdoutError, so the one line
    reported names standard output rather than giving a bare "No space left on device"."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise  # a reader that left (`| head`): not an error
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror or str(exc)) from exc

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextmanager
def guarded_stdout() -> Iterator[None]:
    """Run the body with sys.stdout guarded (see _GuardedStdout), flushed at its end."""
    stream = sys.stdout
    if stream is None:
        yield
        return
    if not utf8(stream) and hasattr(stream, "reconfigure"):
        # A locale that cannot encode "→" or "ρ": escaped where it cannot, not a traceback.
        stream.reconfigure(errors="backslashreplace")
    sys.stdout = _GuardedStdout(stream)
    try:
        yield
        sys.stdout.flush()
    finally:
        sys.stdout = stream


class TerminalProgress:
    """One line on stderr, rewritten in place while long work runs ("tokenizing wiki.txt:
    45 %") and cleared when it ends: only on a terminal, only once the work has taken
    SHOW_AFTER_S (a small corpus shows nothing), at most a few times a second."""

    SHOW_AFTER_S = 0.5
    EVERY_S = 0.25

    def __init__(self) -> None:
        self.on = sys.stderr.isatty()
        self.started = time.monotonic()
        self.shown = 0.0  # when the line was last written (0: never)

    def show(self, text: str, now_too: bool = False) -> None:
        """Write `text` as the line, unless written under EVERY_S ago (`now_too`: anyway)."""
        now = time.monotonic()
        if not self.on or now - self.started < self.SHOW_AFTER_S:
            return
        if now_too or now - self.shown >= self.EVERY_S:
            self.shown = now
            sys.stderr.write(f"\r\x1b[K{text}")
            sys.stderr.flush()

    def clear(self) -> None:
        """Erase the line (before other output, and at the end)."""
        if self.shown:
            self.shown = 0.0
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.clear()


class Waiting:
    """TerminalProgress's line for one long call that reports nothing meanwhile (a checkpoint
    loading: 3-4 s for a vocabulary of 2.26M words, longer where a GPU starts up): written by a
    timer thread once the call has taken SHOW_AFTER_S, cleared when it returns. Only on a
    terminal; the text shown as `say` shows it (a path's control characters as escapes)."""

    def __init__(self, text: str) -> None:
        self.text = bounded(visible(text))
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._shown = self._done = False

    def _show(self) -> None:
        with self._lock:
            if not self._done:
                sys.stderr.write(f"\r\x1b[K{self.text}")
                sys.stderr.flush()
                self._shown = True

    def __enter__(self) -> Waiting:
        if sys.stderr.isatty():
            self._timer = threading.Timer(TerminalProgress.SHOW_AFTER_S, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:  # a line being written is finished before it is erased
            self._done = True
            if self._shown:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()


__all__ = ["StdoutError", "TerminalProgress", "Waiting", "fail", "guarded_stdout", "say", "warn"]
