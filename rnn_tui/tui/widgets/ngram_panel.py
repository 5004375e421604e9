"""The n-grams tab: top uni/bi/trigrams, their Zipf curves, and a Laplace n-gram perplexity.

d2l "Language Models": word frequencies fall off as a power law (Zipf, a straight line on a
log–log plot) for unigrams, bigrams and trigrams alike, which is why smoothed n-gram counts
break down and neural language models are needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Function
from textual.widgets import DataTable, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from rnn_tui.data.corpus_analysis import NGRAM_ORDERS, NgramStats
from rnn_tui.data.ngrams import NGramPerplexity, ngram_perplexity
from rnn_tui.data.token_text import display_token
from rnn_tui.quoting import quoted
from rnn_tui.tui.collection_pause import collection_paused
from rnn_tui.tui.widgets.focus_style import OwnFocusStyle
from rnn_tui.tui.widgets.plot import LinePlot, Series
from rnn_tui.tui.widgets.steady_table import SteadyTable
from rnn_tui.tui.widgets.text_field import TextField

NGRAM_NAMES = {1: "unigram", 2: "bigram", 3: "trigram"}
ZIPF_COLORS = {1: "blue+", 2: "green+", 3: "red+"}  # plotext's first three
VAL_FRACTION = 0.1
PERPLEXITY_MAX_TOKENS = 200_000  # the perplexity of a bigger corpus uses its last this many


def _perplexity(flat: Sequence[str], n: int, eps: float) -> NGramPerplexity:
    """`ngram_perplexity` of the stream, or of its last PERPLEXITY_MAX_TOKENS tokens (Counters
    of the n-grams of a 100 MB corpus would take minutes and gigabytes; `ngram_perplexity` lets
    its Counters go piecewise, as freed whole they held the GIL for 78 ms). Run in a thread,
    with automatic garbage collection paused: its walks over the Counters' keys stalled the UI."""
    start = max(0, len(flat) - PERPLEXITY_MAX_TOKENS)
    identities = getattr(flat, "identities", None)  # the same counts, from the tokens' ids
    with collection_paused():
        tail = flat[start:] if identities is None else identities(start, len(flat))
        result = ngram_perplexity(tail, n=n, eps=eps, val_fraction=VAL_FRACTION)
        # Freed while collection is off: the first collection after would walk the list's
        # 200,000 strings (the longest gap after a 100 MB load, 140–180 ms).
        del tail
    return result


def format_ngram(gram: Sequence[str], token: str) -> str:
    """Word n-grams joined by spaces; char n-grams joined as they read, spaces made visible."""
    if token == "word":
        return " ".join(map(display_token, gram))
    return display_token("".join(gram))


def parse_eps(text: str) -> float | None:
    """ε as typed, or None unless it is a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 and math.isfinite(value) else None


class NgramPanel(OwnFocusStyle, VerticalScroll):
    """Top-n-gram tables, the log–log Zipf plot and the held-out n-gram perplexity."""

    DEFAULT_CSS = """
    NgramPanel {
        height: 1fr;
    }
    NgramPanel #ngram-tables {
        height: auto;
    }
    NgramPanel .ngram-column {
        height: auto;
    }
    /* Trigrams need the most room; the count comes first so a long n-gram never hides it. */
    NgramPanel #ngram-column-1 {
        width: 1fr;
    }
    NgramPanel #ngram-column-2 {
        width: 1.25fr;
    }
    NgramPanel #ngram-column-3 {
        width: 1.5fr;
    }
    NgramPanel .ngram-title {
        padding: 0 1;
        text-style: bold;
        color: $text-accent;
    }
    NgramPanel DataTable {
        height: auto;
        max-height: 12;
    }
    NgramPanel #ppl-controls {
        height: 1;
        margin-top: 1;
    }
    NgramPanel #ppl-controls Label {
        padding: 0 1;
        color: $text-muted;
    }
    NgramPanel #ppl-n {
        width: 16;
    }
    NgramPanel #ppl-eps {
        width: 8;
    }
    NgramPanel #ppl-result {
        padding: 0 1;
        color: $text-success;
    }
    NgramPanel #zipf {
        height: 18;
        min-height: 12;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._stats: NgramStats | None = None
        self._ppl_worker: Worker | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="ngram-tables"):
            for n in NGRAM_ORDERS:
                with Vertical(classes="ngram-column", id=f"ngram-column-{n}"):
                    yield Label(f"top {NGRAM_NAMES[n]}s", classes="ngram-title")
                    table: DataTable = SteadyTable(
                        id=f"ngram-{n}", cursor_type="row", zebra_stripes=True
                    )
                    table.add_column("count", key="count")
                    table.add_column(NGRAM_NAMES[n], key="gram")
                    yield table
        with Horizontal(id="ppl-controls"):
            yield Label("Laplace n-gram perplexity:  n")
            yield Select(
                [(f"{n} ({NGRAM_NAMES[n]})", n) for n in NGRAM_ORDERS],
                value=3,
                allow_blank=False,
                compact=True,
                id="ppl-n",
            )
            yield Label("ε")
            yield TextField(
                "1.0",
                id="ppl-eps",
                compact=True,
                validators=[Function(lambda v: parse_eps(v) is not None, "ε must be > 0")],
                tooltip="Laplace smoothing constant ε > 0; enter recomputes",
            )
        yield Static("", id="ppl-result", markup=False)
        yield LinePlot(
            title="Zipf's law: n-gram frequency against rank (log–log)",
            xlabel="rank",
            ylabel="frequency",
            logx=True,
            logy=True,
            id="zipf",
        )

    def on_mount(self) -> None:
        if self._stats is not None:
            self._draw(self._stats)

    def set_stats(self, stats: NgramStats) -> None:
        """Show the n-gram statistics of a newly loaded corpus and recompute the perplexity
        (on mount if it is not mounted yet: the tab mounts lazily)."""
        self._stats = stats
        if self.is_mounted:
            self._draw(stats)

    def _draw(self, stats: NgramStats) -> None:
        for n in NGRAM_ORDERS:
            table = self.query_one(f"#ngram-{n}", DataTable)
            table.clear()
            for gram, count in stats.top[n]:
                table.add_row(
                    Text(f"{count:,}", justify="right"),
                    Text(format_ngram(gram, stats.token)),
                )
        self.query_one("#zipf", LinePlot).set_series(
            [
                Series(f"{NGRAM_NAMES[n]}s", stats.zipf_ranks(n), stats.zipf[n], ZIPF_COLORS[n])
                for n in NGRAM_ORDERS
            ]
        )
        self.recompute_perplexity()

    # -- perplexity ---------------------------------------------------------------------------

    def recompute_perplexity(self) -> None:
        """Refit the Laplace model for the chosen n and ε in a worker (a newer request wins)."""
        if self._stats is None:
            return
        text = self.query_one("#ppl-eps", Input).value.strip()
        eps = parse_eps(text)
        if eps is None:
            self.notify(
                f"ε must be a number > 0, got {quoted(text)}", severity="error", markup=False
            )
            return
        n = self.query_one("#ppl-n", Select).value
        assert isinstance(n, int)
        self.query_one("#ppl-result", Static).update(
            f"computing {NGRAM_NAMES[n]} perplexity (ε = {eps:g})…"
        )
        # run_worker with a description: @work would repr() the whole token stream.
        self._ppl_worker = self.run_worker(
            partial(_perplexity, self._stats.flat, n=n, eps=eps),
            thread=True,
            exclusive=True,
            group="perplexity",
            exit_on_error=False,
            description=f"{NGRAM_NAMES[n]} perplexity, ε = {eps:g}",
        )

    @on(Worker.StateChanged)
    def _perplexity_done(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._ppl_worker or self._stats is None:
            return
        result = self.query_one("#ppl-result", Static)
        if event.state == WorkerState.SUCCESS:
            ppl: NGramPerplexity = event.worker.result
            of = (
                f" of the last {PERPLEXITY_MAX_TOKENS:,} tokens"
                if len(self._stats.flat) > PERPLEXITY_MAX_TOKENS
                else ""
            )
            result.update(
                f"{NGRAM_NAMES[ppl.n]} perplexity (ε = {ppl.eps}) on the held-out "
                f"{VAL_FRACTION * 100:g} %{of}: {ppl.perplexity:,.1f} "
                f"(training vocab {ppl.vocab_size:,})"
            )
        elif event.state == WorkerState.ERROR:
            # Said where the number would be: a toast on every load of a tiny corpus is noise.
            result.update(f"no perplexity: {event.worker.error}")

    @on(Select.Changed, "#ppl-n")
    def _order_changed(self) -> None:
        self.recompute_perplexity()

    @on(Input.Submitted, "#ppl-eps")
    def _eps_submitted(self) -> None:
        self.recompute_perplexity()
