"""The English–French pairs of d2l "Machine Translation and the Dataset", step by step.

Raw pairs next to their `preprocess_nmt` form, the tokens-per-sentence histogram with length
stats and vocabulary sizes, and one sentence through `build_array_nmt`: ids + <eos>,
truncate_pad to num_steps with <pad>, valid length. The data loads in a thread worker the first
time the panel is shown.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.validation import Integer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static

from rnn_tui.data.errors import DataError
from rnn_tui.data.translation import (
    EOS,
    PAD,
    TranslationData,
    build_array_nmt,
    length_histogram,
    length_stats,
    load_translation,
    preprocess_nmt,
    tokenize_nmt,
    truncate_pad,
)
from rnn_tui.data.vocab import Vocab
from rnn_tui.quoting import quoted
from rnn_tui.tui.collection_pause import LongLivedData, kept_for_good
from rnn_tui.tui.errors import error_text
from rnn_tui.tui.widgets.pairs_histogram import LengthHistogram
from rnn_tui.tui.widgets.pairs_view import (
    SPACE_MARK,
    SPECIAL_SPACES,
    PaddedSentence,
    show_spaces,
    stats_table,
)
from rnn_tui.tui.widgets.steady_table import SteadyTable
from rnn_tui.tui.widgets.text_field import TextField

SOURCE = "fra-eng"
SAMPLE_SIZE = 10
HISTOGRAM_CAP = 30  # longer sentences share the last bar ("30+")
DEFAULT_NUM_STEPS = 10  # the book's
MAX_NUM_STEPS = 200  # one table row per step


@dataclass(eq=False)
class PairsSummary:
    """Everything the panel shows about the whole set, computed off the UI thread."""

    data: TranslationData
    histograms: dict[str, list[tuple[int, int]]]
    stats: list[tuple[str, dict, int]]


@lru_cache(maxsize=1)
def _load(source: str) -> PairsSummary:
    # Cached: the dataset is read-only here, and screens may be rebuilt.
    data = load_translation(source)
    return PairsSummary(
        data=data,
        histograms={
            "English": length_histogram(data.source, HISTOGRAM_CAP),
            "French": length_histogram(data.target, HISTOGRAM_CAP),
        },
        stats=[
            ("English", length_stats(data.source), len(data.src_vocab)),
            ("French", length_stats(data.target), len(data.tgt_vocab)),
        ],
    )


class PairsPanel(Widget):
    """Sample pairs, length histogram and stats, and a truncate/pad demonstration."""

    DEFAULT_CSS = """
    PairsPanel {
        height: 1fr;
    }
    PairsPanel #pairs-status {
        padding: 0 1;
        color: $text-muted;
    }
    PairsPanel #pairs-view {
        height: 1fr;
        padding: 0 1;
        /* Room for the scrollbar from the start: it appears when the pairs have loaded, and
           the narrower view would lay out and draw everything in it a second time. */
        scrollbar-gutter: stable;
    }
    PairsPanel .title {
        margin-top: 1;
    }
    PairsPanel .note {
        color: $text-muted;
    }
    PairsPanel #pairs-sample {
        height: auto;
        max-height: 12;
    }
    PairsPanel #pairs-stats {
        margin-top: 1;
    }
    PairsPanel #pairs-histogram {
        height: 14;
        margin-top: 1;
    }
    PairsPanel .pairs-controls {
        height: auto;
    }
    PairsPanel .pairs-controls Label {
        margin-left: 1;
        padding: 0 1 0 0;
        color: $text-muted;
    }
    PairsPanel #pairs-steps {
        width: 8;
    }
    PairsPanel #pairs-sentence {
        width: 1fr;
    }
    PairsPanel #pairs-padded {
        height: auto;
        margin-top: 1;
    }
    PairsPanel #pairs-padded Static {
        width: 1fr;
    }
    """

    # n as in the partition panel's "new seed"; r is the Dataset screen's raw/clean.
    BINDINGS = [
        Binding("n", "resample", "New sample", tooltip="Show another random sample of pairs"),
    ]

    class Loaded(Message, bubble=False):
        def __init__(self, summary: PairsSummary) -> None:
            super().__init__()
            self.summary = summary

    class LoadFailed(Message, bubble=False):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self._summary: PairsSummary | None = None
        self._load_started = False
        self._draws = 0  # random samples drawn so far; seeds the next one (reproducible)
        self._attempted: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"loading {SOURCE}: reading and preprocessing pairs…", id="pairs-status")
        with VerticalScroll(id="pairs-view"):
            yield Static("[b]sample pairs[/b], before and after preprocess_nmt", classes="title")
            yield SteadyTable(id="pairs-sample", cursor_type="row", zebra_stripes=True)
            yield Static(id="pairs-spaces", classes="note")
            yield Static(id="pairs-stats")
            yield LengthHistogram(id="pairs-histogram")
            yield Static(
                "[b]truncate / pad[/b]: ids + <eos>, cut or padded to num_steps (build_array_nmt)",
                classes="title",
            )
            with Horizontal(classes="pairs-controls"):
                yield Label("num_steps")
                yield TextField(
                    str(DEFAULT_NUM_STEPS),
                    type="integer",
                    validators=[
                        Integer(
                            minimum=1,
                            maximum=MAX_NUM_STEPS,
                            failure_description=f"num_steps must be from 1 to {MAX_NUM_STEPS}",
                        )
                    ],
                    compact=True,
                    id="pairs-steps",
                )
                yield Label("pair # or English text")
                yield TextField("0", compact=True, id="pairs-sentence")
            with Horizontal(id="pairs-padded"):
                yield Static(id="pairs-padded-source")
                yield Static(id="pairs-padded-target")

    def on_mount(self) -> None:
        table = self.query_one("#pairs-sample", DataTable)
        table.add_columns("#", "English (raw)", "French (raw)", "English", "French")
        self.query_one("#pairs-view").loading = True

    def on_show(self) -> None:
        # Loaded lazily: a screen that never shows this tab never pays for 68k pairs.
        if not self._load_started:
            self._load_started = True
            self._load_pairs()

    @work(thread=True, exclusive=True, group="pairs-load", description="load the pairs")
    def _load_pairs(self) -> None:
        try:
            with kept_for_good():
                summary = _load(SOURCE)
        except DataError as error:
            self.post_message(self.LoadFailed(str(error)))
            return
        self.post_message(self.Loaded(summary))

    def on_pairs_panel_loaded(self, message: Loaded) -> None:
        summary = self._summary = message.summary
        data = summary.data
        self.query_one("#pairs-status", Static).update(
            f"[b]{SOURCE}[/b]: {len(data.pairs):,} pairs ({data.malformed:,} malformed "
            f"line{'s' if data.malformed != 1 else ''} skipped) · n: another sample"
        )
        self._show_sample(list(range(min(SAMPLE_SIZE, len(data.pairs)))))
        self.query_one("#pairs-stats", Static).update(stats_table(summary.stats))
        self.query_one(LengthHistogram).set_histograms(summary.histograms, HISTOGRAM_CAP)
        self.query_one("#pairs-view").loading = False
        self._apply_padding(force=True)
        self.post_message(LongLivedData())  # the pairs stay while the app runs (`_load`)

    def on_pairs_panel_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#pairs-status", Static).update(f"could not load {SOURCE}: {message.error}")
        self.query_one("#pairs-view").loading = False
        self.notify(message.error, severity="error", markup=False)

    # -- sample -------------------------------------------------------------------------

    def _show_sample(self, indices: list[int]) -> None:
        assert self._summary is not None
        data = self._summary.data
        table = self.query_one("#pairs-sample", DataTable)
        table.clear()
        for i in indices:
            (raw_en, raw_fr), (en, fr) = data.raw[i], data.pairs[i]
            table.add_row(str(i), show_spaces(raw_en), show_spaces(raw_fr), en, fr)
        shown = [i for i in indices if any(c in SPECIAL_SPACES for c in "".join(data.raw[i]))]
        note = self.query_one("#pairs-spaces", Static)
        note.update(
            f"{SPACE_MARK} = {' or '.join(SPECIAL_SPACES.values())}: preprocess_nmt makes it "
            "a plain space, lower-cases, and puts a space before , . ! ?"
            if shown
            else "preprocess_nmt lower-cases and puts a space before , . ! ?"
        )

    def action_resample(self) -> None:
        if self._summary is None:
            self.notify(f"{SOURCE} is still loading", severity="warning")
            return
        self._draws += 1
        total = len(self._summary.data.pairs)
        rng = random.Random(self._draws)
        self._show_sample(sorted(rng.sample(range(total), min(SAMPLE_SIZE, total))))

    # -- truncate / pad -----------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._apply_padding(force=True)

    @on(Input.Blurred)
    def _blurred(self) -> None:
        self._apply_padding(force=False)

    def _apply_padding(self, force: bool) -> None:
        """Redraw the truncate/pad tables; bad input → one notification, the tables stay."""
        if self._summary is None:
            return
        steps_field = self.query_one("#pairs-steps", Input)
        sentence = self.query_one("#pairs-sentence", Input).value.strip()
        attempt = (steps_field.value, sentence)
        if not force and attempt == self._attempted:
            return
        self._attempted = attempt
        result = steps_field.validate(steps_field.value)
        if result is not None and not result.is_valid:
            self.notify(result.failure_descriptions[0], severity="error")
            return
        try:
            source, target = self._padded(sentence, int(steps_field.value))
        except DataError as error:
            self.notify(error_text(error), severity="error", markup=False)
            return
        self.query_one("#pairs-padded-source", Static).update(source.table())
        target_view = self.query_one("#pairs-padded-target", Static)
        target_view.update(target.table() if target else "typed text has no French side")

    def _padded(
        self, sentence: str, num_steps: int
    ) -> tuple[PaddedSentence, PaddedSentence | None]:
        assert self._summary is not None
        data = self._summary.data
        if not sentence:
            raise DataError("type a pair number or an English sentence")
        if sentence.removeprefix("-").isdecimal():  # int() refuses "²", "--5" and 4,301 digits
            last = len(data.pairs) - 1
            index = int(sentence) if len(sentence) <= 12 else None
            if index is None or not 0 <= index <= last:
                shown = index if index is not None else quoted(sentence, 12)
                raise DataError(f"no pair {shown}: pairs are numbered 0 to {last}")
            return (
                _pad(f"English #{index}", data.source[index], data.src_vocab, num_steps),
                _pad(f"French #{index}", data.target[index], data.tgt_vocab, num_steps),
            )
        # Typed text goes through the same steps as the data: preprocess_nmt, split on spaces.
        tokens = tokenize_nmt([(preprocess_nmt(" ".join(sentence.split())), "")])[0][0]
        return _pad("English (typed)", tokens, data.src_vocab, num_steps), None


def _pad(title: str, tokens: list[str], vocab: Vocab, num_steps: int) -> PaddedSentence:
    array, valid_len = build_array_nmt([tokens], vocab, num_steps)
    with_eos = [*tokens, EOS]
    ids = [int(i) for i in array[0]]
    unknown = {pos for pos, token in enumerate(tokens[:num_steps]) if vocab[token] == vocab.unk}
    return PaddedSentence(
        title=title,
        shown=truncate_pad(with_eos, num_steps, PAD),
        ids=ids,
        unknown=unknown,
        dropped=with_eos[num_steps:],
        valid_len=int(valid_len[0]),
    )
