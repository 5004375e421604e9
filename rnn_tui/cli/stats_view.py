"""Rich rendering of `rnn-tui stats` (the human-readable form of `corpus_stats`)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from rnn_tui.data.token_text import display_token

NGRAM_TITLES = {"1": "unigrams", "2": "bigrams", "3": "trigrams"}


def _summary(stats: dict) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("corpus", str(stats["source"]))
    table.add_row("token level", f"{stats['token']} ({stats['mode']})")
    table.add_row("lines", f"{stats['num_lines']:,}")
    table.add_row("tokens", f"{stats['num_tokens']:,}")
    table.add_row("vocabulary", f"{stats['vocab_size']:,} (min_freq {stats['min_freq']})")
    return table


def _top_tokens(stats: dict) -> Table:
    table = Table(title="vocabulary (by frequency)", title_justify="left")
    table.add_column("index", justify="right", style="cyan")
    table.add_column("token")
    table.add_column("freq", justify="right")
    for token, index, freq in stats["top_tokens"]:
        table.add_row(str(index), display_token(token), f"{freq:,}")
    return table


def _top_ngrams(n: str, rows: list) -> Table:
    table = Table(title=f"top {NGRAM_TITLES.get(n, f'{n}-grams')}", title_justify="left")
    table.add_column("#", justify="right", style="cyan")
    table.add_column("tokens")
    table.add_column("count", justify="right")
    for rank, (tokens, count) in enumerate(rows, start=1):
        table.add_row(str(rank), " ".join(display_token(t) for t in tokens), f"{count:,}")
    return table


def print_stats(stats: dict, console: Console | None = None) -> None:
    console = console or Console()
    tables = [_top_tokens(stats)] + [
        _top_ngrams(n, rows)
        for n, rows in sorted(stats["top_ngrams"].items(), key=lambda kv: int(kv[0]))
    ]
    console.print(_summary(stats))
    console.print()
    # Side by side when the terminal is wide enough, stacked otherwise.
    grid = Table.grid(padding=(0, 2))
    per_row = max(1, min(len(tables), console.width // 34))
    for start in range(0, len(tables), per_row):
        chunk = tables[start : start + per_row]
        grid.add_row(*chunk)
    console.print(Group(grid, Text("")))
