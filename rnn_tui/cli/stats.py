"""`rnn-tui stats`: corpus size, vocabulary and top n-grams (no torch, no textual)."""

from __future__ import annotations

import argparse
import json
import sys

from rnn_tui.cli.output import fail


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
