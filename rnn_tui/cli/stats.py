"""`rnn-tui stats`: corpus size, vocabulary and top n-grams (no torch, no textual)."""

from __future__ import annotations

import argparse
import os

from rnn_tui.cli.file_options import shadowed
from rnn_tui.cli.output import TerminalProgress, fail, print_json, warn

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MAP_FROM = 4 << 20  # bytes: a block this big has its own memory map


def map_big_blocks() -> bool:
    """Give every block of MAP_FROM bytes or more its own memory map, returned to the system
    when freed (glibc; elsewhere nothing changes). By default glibc raises that threshold as
    big blocks are freed, up to 32 MiB, and the tokenizer's and n-gram counters' temporaries
    then come from the heap, which keeps what they free: `stats` on 100 MB of 11M distinct
    words peaked at 1,457-1,528 MiB that way and 1,341 MiB with the threshold fixed (wiki_100
    word/raw 999 -> 924 MiB, 0.8 s slower). Only here: a training process's big tensors would
    pay page faults on every new block."""
    import ctypes

    try:
        return bool(ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MAP_FROM))
    except (OSError, AttributeError):  # no C library to ask, or no mallopt in it
        return False


def run(args: argparse.Namespace) -> int:
    from rnn_tui.data.errors import DataError
    from rnn_tui.data.stats import corpus_stats

    map_big_blocks()
    if note := shadowed("corpus", args.corpus):
        warn(note)
    name = os.path.basename(str(args.corpus))
    with TerminalProgress() as line:

        def progress(done: int, total: int) -> None:
            if done < total:
                line.show(f"tokenizing {name}: {100 * done // max(1, total)} %")
            else:  # the vocabulary and the n-grams take as long again on 100 MB
                line.show(f"counting the tokens and n-grams of {name}…", now_too=True)

        try:
            stats = corpus_stats(
                source=args.corpus,
                token=args.token,
                min_freq=args.min_freq,
                top=args.top,
                encoding=args.encoding,
                mode=args.mode,
                progress=progress,
            )
        except DataError as exc:
            line.clear()
            return fail(str(exc))
    if args.json:
        print_json(stats)
        return 0
    from rnn_tui.cli.stats_view import print_stats

    print_stats(stats)
    return 0
