"""The `rnn-tui` command: no subcommand opens the app; `stats` is headless.

Heavy imports (textual, rich, torch) happen inside the command that needs them, so
`rnn-tui --help` and `rnn-tui stats` start fast and never load torch.
"""

from __future__ import annotations

import argparse
import os
import sys

from rnn_tui import __version__

COLOR_SYSTEMS = {"auto": None, "truecolor": "truecolor", "256": "256", "16": "standard"}


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line on stderr and exits 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse hook
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _commands():
    # Each subcommand is a module with NAME, add_parser(sub) and run(args) -> exit status.
    # Imported here, not at the top, so `rnn-tui --help` stays cheap; none of them imports torch
    # at module level.
    from rnn_tui.cli import generate, runs, stats, train, translate

    return (stats, train, generate, translate, runs)


def positive_int(text: str) -> int:
    value = integer(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="rnn-tui",
        description=(
            "Explore recurrent neural networks end to end, the way the d2l.ai RNN chapters "
            "teach them. With no command, opens the terminal app."
        ),
        epilog="Keys in the app: 1 Dataset, ? help, ctrl+p command palette, ctrl+q quit.",
    )
    parser.add_argument("--version", action="version", version=f"rnn-tui {__version__}")
    parser.add_argument(
        "--no-mouse",
        action="store_true",
        help="do not capture the mouse (over flaky SSH links; everything works by keyboard)",
    )
    parser.add_argument(
        "--color",
        choices=list(COLOR_SYSTEMS),
        default="auto",
        help="colour system of the terminal (SSH does not forward COLORTERM: try 256)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    for command in _commands():
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        for command in _commands():
            if args.command == command.NAME:
                return command.run(args)
        return _run_app(args)
    except BrokenPipeError:
        # `rnn-tui stats | head` closes stdout early: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def fail(message: str) -> int:
    """Report bad input as one line on stderr; the exit status for it is 2."""
    print(f"rnn-tui: error: {message}", file=sys.stderr)
    return 2


def _run_app(args: argparse.Namespace) -> int:
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        return fail("the app needs a terminal; for headless use try `rnn-tui stats --help`")
    system = COLOR_SYSTEMS[args.color]
    if system is not None:
        # Textual reads this once, at import time.
        os.environ["TEXTUAL_COLOR_SYSTEM"] = system
    from rnn_tui.tui.app import RnnTuiApp

    RnnTuiApp().run(mouse=not args.no_mouse)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
