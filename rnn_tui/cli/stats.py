"""`rnn-tui stats`: corpus size, vocabulary and top n-grams (no torch, no textual)."""

from __future__ import annotations

import argparse
import json
import sys

from rnn_tui.cli import fail, non_negative_int, positive_int

NAME = "stats"


def add_parser(sub: argparse._SubParsersAction) -> None:
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
        "--min-freq", type=non_negative_int, default=0, help="drop rarer tokens (default 0)"
    )
    stats.add_argument("--top", type=positive_int, default=10, help="rows per table (default 10)")
    stats.add_argument("--encoding", default="utf-8", help="text encoding (default utf-8)")
    stats.add_argument(
        "--mode",
        choices=["clean", "raw"],
        default="clean",
        help="clean: the seeds' [^A-Za-z]+ -> space, lower-case; raw: keep case and punctuation",
    )
    stats.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
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
        return fail(str(exc))
    if args.json:
        json.dump(stats, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    from rnn_tui.cli.stats_view import print_stats

    print_stats(stats)
    return 0
