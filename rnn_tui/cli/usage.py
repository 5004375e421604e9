"""Usage errors of the `rnn-tui` command line: one line on stderr, exit 2, and a pointer to the
command's own --help (and, for a bare word, to the flag it probably belongs to)."""

from __future__ import annotations

import argparse
import os
import re
import sys

from rnn_tui.cli.output import other_rank, quiet_exit_wait
from rnn_tui.options import Option, OptionError
from rnn_tui.quoting import bounded, visible

NEGATIVE_NUMBER = re.compile(
    r"^-(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE
)


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line on stderr and exits 2."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A value such as -1e1 or -inf is a value, not an option: argparse knows only -1 and
        # -1.5 as negative numbers, and said "--gate-bias: expected one argument" of -1e1
        # (in range). No option of ours looks like a number.
        self._negative_number_matcher = NEGATIVE_NUMBER
        # The commands' own parsers, filled on the top-level one (`build_parser`).
        self.commands: dict[str, argparse.ArgumentParser] = {}

    def _print_message(self, message: str, file=None) -> None:
        """As argparse's, but a --help or --version that cannot be written (`> /dev/full`) is
        said on stderr with exit status 1; argparse drops the error and exits 0."""
        if not message:
            return
        stream = file or sys.stderr
        try:
            stream.write(message)
            stream.flush()
        except BrokenPipeError:
            pass  # `rnn-tui --help | head`: the reader left, not an error
        except (AttributeError, OSError) as exc:
            if stream is sys.stderr or stream is None:
                return
            what = "standard output" if stream is sys.stdout else "the output"
            reason = getattr(exc, "strerror", None) or str(exc)
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
            except (OSError, ValueError, AttributeError):
                pass  # no file descriptor to point elsewhere (a test's StringIO)
            sys.stderr.write(
                bounded(visible(f"{self.prog.split()[0]}: error: cannot write {what}: {reason}"))
                + "\n"
            )
            sys.exit(1)

    def error(self, message: str) -> None:  # noqa: D401 - argparse hook
        if other_rank():  # under torchrun rank 0 says it (cli/output.py fail)
            quiet_exit_wait()
            self.exit(2)
        line = visible(f"{self.prog}: error: {message} (see {self.prog} --help)")
        self.exit(2, bounded(line) + "\n")

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        """As argparse's, but a word a command does not take is reported by that command's
        parser, which points to its own --help and to the flag the word may belong to."""
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self.commands.get(getattr(namespace, "command", None) or "", self)
            message = f"unrecognized arguments: {' '.join(extras)}"
            hint = flag_for(command, extras[0])
            if hint:
                message += f"; did you mean {hint} {extras[0]}?"
            command.error(message)
        return namespace


def flag_for(parser: argparse.ArgumentParser, word: str) -> str:
    """The flag a bare `word` probably belongs to: the one option whose choices hold it
    (`train lstm`: --model), or --corpus for a file that exists; "" when none."""
    if word.startswith("-"):
        return ""
    flags = [
        action.option_strings[0]
        for action in parser._actions
        if action.option_strings and action.choices and word in action.choices
    ]
    if len(flags) == 1:
        return flags[0]
    corpus = [a for a in parser._actions if a.dest == "corpus" and a.option_strings]
    if corpus and not flags and os.path.exists(word):
        return corpus[0].option_strings[0]
    return ""


def converter(option: Option):
    """argparse `type=` for an option: its parse, with argparse's one-line error."""

    def convert(text: str) -> object:
        try:
            return option.parse(text)
        except OptionError as exc:
            message = str(exc)
            what = option.noun or option.name
            if message.startswith(f"{what} must be "):
                message = message[len(what) + 1 :]
            raise argparse.ArgumentTypeError(message) from None

    convert.__name__ = option.name
    return convert


__all__ = ["Parser", "converter", "flag_for"]
