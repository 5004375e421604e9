"""The `rnn-tui` command: no subcommand opens the app; `stats` is headless.

Heavy imports (textual, rich, torch) happen inside the command that needs them, so
`rnn-tui --help` and `rnn-tui stats` start fast and never load torch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from rnn_tui import __version__

COLOR_SYSTEMS = {"auto": None, "truecolor": "truecolor", "256": "256", "16": "standard"}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line on stderr and exits 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse hook
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    value = _int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    stats = sub.add_parser(
        "stats",
        help="corpus size, vocabulary and top n-grams of a corpus",
        description="Print corpus size, vocabulary size, the top tokens and top n-grams.",
    )
    stats.add_argument(
        "--corpus",
        default="timemachine",
        metavar="timemachine|fra-eng-en|fra-eng-fr|PATH",
        help="a bundled corpus or a text file (default: timemachine)",
    )
    stats.add_argument("--token", choices=["char", "word"], default="word", help="token level")
    stats.add_argument(
        "--min-freq", type=_non_negative_int, default=0, help="drop rarer tokens (default 0)"
    )
    stats.add_argument("--top", type=_positive_int, default=10, help="rows per table (default 10)")
    stats.add_argument("--encoding", default="utf-8", help="text encoding (default utf-8)")
    stats.add_argument(
        "--mode",
        choices=["clean", "raw"],
        default="clean",
        help="clean: the seeds' [^A-Za-z]+ -> space, lower-case; raw: keep case and punctuation",
    )
    stats.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "stats":
            return _stats(args)
        return _run_app(args)
    except BrokenPipeError:
        # `rnn-tui stats | head` closes stdout early: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _fail(message: str) -> int:
    print(f"rnn-tui: error: {message}", file=sys.stderr)
    return 2


def _stats(args: argparse.Namespace) -> int:
    from rnn_tui.data.errors import DataError
    from rnn_tui.data.stats import corpus_stats

    try:
        stats = corpus_stats(
            source=args.corpus,
            token=args.token,
            min_freq=args.min_freq,
            top=args.top,
            encoding=args.encoding,
            mode=args.mode,
        )
    except DataError as exc:
        return _fail(str(exc))
    if args.json:
        json.dump(stats, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    from rnn_tui.stats_view import print_stats

    print_stats(stats)
    return 0


def _run_app(args: argparse.Namespace) -> int:
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        return _fail("the app needs a terminal; for headless use try `rnn-tui stats --help`")
    system = COLOR_SYSTEMS[args.color]
    if system is not None:
        # Textual reads this once, at import time.
        os.environ["TEXTUAL_COLOR_SYSTEM"] = system
    from rnn_tui.tui.app import RnnTuiApp

    RnnTuiApp().run(mouse=not args.no_mouse)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
