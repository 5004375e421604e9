"""Random sampling vs sequential partitioning of a long sequence into minibatches.

The d2l "Language Models" lesson: with sequential partitioning row r of batch i + 1 continues
exactly where row r of batch i stopped, so the hidden state can be carried across batches; with
random sampling adjacent batches are unrelated, so the state is reset each batch. The panel draws
what `rnn_tui.data.partition` computes, for the seeds' toy sequence or the loaded corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.validation import Integer
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from rnn_tui.data.corpus import Corpus
from rnn_tui.data.corpus_analysis import CorpusView
from rnn_tui.data.errors import DataError
from rnn_tui.data.partition import STRATEGIES, TOY_PRESET, Layout, iter_batches, partition_layout
from rnn_tui.data.token_text import display_token
from rnn_tui.tui.errors import error_text
from rnn_tui.tui.widgets.partition_view import (
    CorpusStrip,
    ShownBatch,
    batch_table,
    explanation,
    strip_legend,
)
from rnn_tui.tui.widgets.text_field import TextField

TOY, CORPUS = "toy", "corpus"
SHOWN_BATCHES = 3  # "the first few minibatches"
ROWS_PER_BATCH = 4  # a batch of 32 rows would bury the comparison between batches
# The layout costs two int64 arrays per token, built at every change of the settings: a big
# corpus is partitioned over its first million tokens (the strip shows a few hundred anyway).
MAX_PARTITIONED = 1_000_000
CORPUS_STRIP_LINES = 4  # a corpus strip shows as many positions as fill this many lines
NO_CORPUS = "no corpus loaded yet: load one to partition it"


@dataclass(frozen=True)
class Settings:
    source: str
    strategy: str
    batch_size: int
    num_steps: int
    seed: int


class PartitionPanel(Widget):
    """Controls, a corpus strip coloured by batch and row, and the first minibatches X / Y."""

    DEFAULT_CSS = """
    PartitionPanel {
        height: 1fr;
    }
    PartitionPanel .partition-controls {
        height: auto;
    }
    PartitionPanel .partition-controls Label {
        padding: 0 1 0 0;
        margin-left: 1;
        color: $text-muted;
    }
    PartitionPanel #partition-source {
        width: 26;
    }
    PartitionPanel #partition-strategy {
        width: 16;
    }
    PartitionPanel #partition-new-seed {
        margin-left: 2;
    }
    PartitionPanel .partition-controls Input {
        width: 8;
    }
    PartitionPanel #partition-view {
        height: 1fr;
        margin-top: 1;
        padding: 0 1;
    }
    PartitionPanel #partition-summary,
    PartitionPanel #partition-explain {
        margin-bottom: 1;
    }
    PartitionPanel #partition-explain {
        color: $text-accent;
    }
    PartitionPanel #partition-batches {
        border-top: solid $primary-muted;
        border-title-align: left;
        border-title-color: $text-accent;
    }
    """

    # Letters the Dataset screen does not use (c, t, r, m, e, o are its own).
    BINDINGS = [
        Binding("s", "toggle_strategy", "Strategy", tooltip="Random sampling ↔ sequential"),
        Binding("n", "new_seed", "New seed", tooltip="Re-draw with the next seed"),
        Binding("p", "toggle_source", "Toy/corpus", tooltip="Toy preset ↔ loaded corpus"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._corpus: Corpus | CorpusView | None = None
        self._shown: Settings | None = None
        self._attempted: tuple[str, ...] | None = None  # the control values last tried
        self._layout: Layout | None = None

    @property
    def shown_layout(self) -> Layout | None:
        """The partition on show (the last good one)."""
        return self._layout

    def compose(self) -> ComposeResult:
        with Horizontal(classes="partition-controls"):
            yield Label("source")
            yield Select(
                [("toy preset: range(35)", TOY), ("loaded corpus", CORPUS)],
                value=TOY,
                allow_blank=False,
                compact=True,
                id="partition-source",
            )
            yield Label("strategy")
            yield Select(
                [(name, name) for name in STRATEGIES],
                value="sequential",
                allow_blank=False,
                compact=True,
                id="partition-strategy",
            )
            yield Button("new seed (n)", id="partition-new-seed", compact=True)
        with Horizontal(classes="partition-controls"):
            yield Label("batch size")
            yield self._integer_input("partition-batch", TOY_PRESET["batch_size"], "batch size", 1)
            yield Label("num_steps")
            yield self._integer_input("partition-steps", TOY_PRESET["num_steps"], "num_steps", 1)
            yield Label("seed")
            yield self._integer_input("partition-seed", 0, "seed", None)
        with VerticalScroll(id="partition-view"):
            yield Static(id="partition-summary")
            yield Static(id="partition-strip")
            yield Static(id="partition-legend")
            yield Static(id="partition-explain")
            yield Static(id="partition-batches")

    @staticmethod
    def _integer_input(input_id: str, value: int, name: str, minimum: int | None) -> Input:
        rule = "a positive integer" if minimum == 1 else "an integer"
        return TextField(
            str(value),
            type="integer",
            validators=[Integer(minimum=minimum, failure_description=f"{name} must be {rule}")],
            compact=True,
            id=input_id,
        )

    def on_mount(self) -> None:
        self._apply()

    def set_corpus(self, corpus: Corpus | CorpusView | None) -> None:
        """Remember the corpus the screen loaded; redraw if it is the one on show."""
        self._corpus = corpus
        if not self.is_mounted:
            return  # on_mount draws the toy preset; the corpus waits for its selection
        source = self.query_one("#partition-source", Select)
        if corpus is None and source.value == CORPUS:
            source.value = TOY  # its Changed handler redraws the toy preset
        elif source.value == CORPUS and not self._apply(force=True):
            # Too short for the shape (told): the view still drew the corpus this one replaced,
            # no longer loaded, so it falls back to the toy preset as for no corpus.
            source.value = TOY

    # -- reading the controls -------------------------------------------------------------

    def _read(self) -> Settings | None:
        """The settings the controls hold, or None after notifying what is wrong with them."""
        values = []
        for input_id in ("#partition-batch", "#partition-steps", "#partition-seed"):
            field = self.query_one(input_id, Input)
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                self.notify(result.failure_descriptions[0], severity="error")
                return None
            values.append(int(field.value))
        source = self.query_one("#partition-source", Select).value
        strategy = self.query_one("#partition-strategy", Select).value
        return Settings(str(source), str(strategy), *values)

    def _apply(self, force: bool = True) -> bool:
        """Redraw for the current controls; on bad input notify and keep the last good view.
        False when the data refused the settings (a corpus too short for the batch shape).

        Without `force`, controls already tried as they stand are not tried (or reported) again.
        """
        controls = tuple(str(w.value) for w in self.query("Input, Select"))
        if not force and controls == self._attempted:
            return True
        self._attempted = controls
        settings = self._read()
        if settings is None:
            return True  # a field's own problem, told by _read
        try:
            layout, batches, label = self._compute(settings)
        except DataError as error:
            self.notify(error_text(error), severity="error", markup=False)
            return False
        self._shown = settings
        self._layout = layout
        self._draw(settings, layout, batches, label)
        return True

    def _compute(self, settings: Settings) -> tuple[Layout, list[ShownBatch], str]:
        corpus = None
        if settings.source == CORPUS:
            if self._corpus is None:
                raise DataError(NO_CORPUS)
            corpus = self._corpus
            ids = corpus.ids[:MAX_PARTITIONED]
            label = f"{corpus.source} ({corpus.num_tokens:,} {corpus.token} tokens)"
            if corpus.num_tokens > MAX_PARTITIONED:
                label = (
                    f"{corpus.source} (its first {MAX_PARTITIONED:,} of "
                    f"{corpus.num_tokens:,} {corpus.token} tokens)"
                )
        else:
            ids = TOY_PRESET["corpus"]
            label = "toy preset list(range(35))"
        args = (settings.batch_size, settings.num_steps, settings.strategy, settings.seed)
        layout = partition_layout(len(ids), *args)
        first = islice(iter_batches(ids, *args), SHOWN_BATCHES)
        batches = [
            ShownBatch(i, layout.starts[i], _texts(x, corpus), _texts(y, corpus))
            for i, (x, y) in enumerate(first)
        ]
        return layout, batches, label

    # -- drawing --------------------------------------------------------------------------

    def _draw(self, settings: Settings, layout: Layout, batches: list[ShownBatch], label: str):
        self.query_one("#partition-summary", Static).update(
            f"[b]{label}[/b] · {settings.strategy} · batch {settings.batch_size:,} × num_steps "
            f"{settings.num_steps:,} · seed {settings.seed} · offset {layout.offset:,} · "
            f"{layout.num_batches:,} batches"
        )
        max_lines = None if settings.source == TOY else CORPUS_STRIP_LINES
        self.query_one("#partition-strip", Static).update(CorpusStrip(layout, max_lines))
        self.query_one("#partition-legend", Static).update(
            strip_legend(layout, min(layout.num_batches, 8))
        )
        self.query_one("#partition-explain", Static).update(explanation(layout))
        shown = len(batches)
        more = layout.num_batches - shown
        table = batch_table(batches, settings.num_steps, ROWS_PER_BATCH)
        self.query_one("#partition-batches", Static).update(table)
        self.query_one("#partition-batches", Static).border_title = (
            f"first {shown} of {layout.num_batches:,} minibatches"
            if more > 0
            else f"all {shown} minibatches"
        )

    # -- events and actions ---------------------------------------------------------------

    @on(Select.Changed, "#partition-source")
    def _source_changed(self, event: Select.Changed) -> None:
        if event.value == CORPUS and self._corpus is None:
            self.notify(NO_CORPUS, severity="error")
            with self.prevent(Select.Changed):
                event.select.value = TOY
            return
        if event.value == TOY:
            # The toy preset comes with its own shape (the seeds' 2 × 5).
            self.query_one("#partition-batch", Input).value = str(TOY_PRESET["batch_size"])
            self.query_one("#partition-steps", Input).value = str(TOY_PRESET["num_steps"])
        if not self._apply(force=False) and self._shown is not None:
            # Refused (a corpus too short for the batch shape): the control names the source
            # still drawn, not the one that could not be.
            with self.prevent(Select.Changed):
                event.select.value = self._shown.source

    @on(Select.Changed, "#partition-strategy")
    def _strategy_changed(self) -> None:
        self._apply(force=False)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._apply()

    @on(Input.Blurred)
    def _blurred(self) -> None:
        # Leaving a field applies it too, once (Enter already did if it was pressed).
        self._apply(force=False)

    @on(Button.Pressed, "#partition-new-seed")
    def _new_seed_pressed(self) -> None:
        self.action_new_seed()

    def action_toggle_strategy(self) -> None:
        select = self.query_one("#partition-strategy", Select)
        select.value = "random" if select.value == "sequential" else "sequential"

    def action_toggle_source(self) -> None:
        select = self.query_one("#partition-source", Select)
        if select.value == TOY and self._corpus is None:
            self.notify(NO_CORPUS, severity="error")
            return
        select.value = CORPUS if select.value == TOY else TOY

    def action_new_seed(self) -> None:
        field = self.query_one("#partition-seed", Input)
        base = self._shown.seed if self._shown is not None else 0
        try:
            base = int(field.value)
        except ValueError:
            pass  # an unreadable seed field: step on from the seed on show
        field.value = str(base + 1)
        self._apply()


def _texts(rows, corpus: Corpus | CorpusView | None) -> list[list[str]]:
    """Token text per cell; the toy's ids are its tokens, right-aligned so X and Y line up."""
    if corpus is None:
        width = len(str(len(TOY_PRESET["corpus"]) - 1))
        return [[str(int(i)).rjust(width) for i in row] for row in rows]
    tokens = [map(display_token, corpus.vocab.to_tokens([int(i) for i in row])) for row in rows]
    if corpus.token == "char":
        # Characters read as text when joined; a visible mark keeps the spaces countable.
        return [["".join(row)] for row in tokens]
    return [list(row) for row in tokens]
