"""The Translate console's results: the sentence table, a line about the selected sentence
(reference, BLEU, unknown words) and below it either its final beam or, for an attention model,
the attention heatmap of its translation (`toggle_view` switches; an attention model's results
open on the heatmap); or, before any translation, a message (how to start, or how to get a
checkpoint when there is none).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Static

from rnn_tui.tui.widgets.attention_map import AttentionMap
from rnn_tui.tui.widgets.translate_tables import (
    BEAM_ROWS,
    BeamTable,
    ResultRow,
    SentenceTable,
    fmt_bleu,
)

BEAM, ATTENTION = "beam", "attention"

WARNING_STYLE = "$text-warning"
MUTED_STYLE = "$text-muted"

# Shown before any translation: how to get a checkpoint when none is found, else how to start.
EMPTY_MESSAGE = """\
No seq2seq checkpoint found. Train one, then press ctrl+r here:

    rnn-tui train --task seq2seq

or the book's run (600 pairs, a few minutes on a CPU):

    rnn-tui train --task seq2seq --num-examples 600 --embed 32 \\
        --hidden 32 --epochs 300 --val-fraction 0

Checkpoints are looked for in checkpoints/, $RNN_TUI_CHECKPOINTS and every
run under runs/; or type the path of a checkpoint or run directory (ctrl+o)."""

START_MESSAGE = """\
Type an English sentence and press enter: the greedy and the beam-search translations appear \
side by side, and the final beam of the selected sentence below.

  go . => va !        a reference after => adds the seeds' BLEU (k = 2)
  go . ; i lost .     ; separates sentences (so does pasting lines)
  ctrl+s              the seeds' four sentences with their references

Beam size 1 is greedy; α is the length penalty in score = log P / L^α."""


def detail_content(row: ResultRow) -> Content:
    """Lines about `row`: first the warnings (source tokens cut by num_steps, source words the
    vocabulary lacks), then its number, source as typed, reference and BLEU of both decodings.
    The warnings come first because the detail shows three lines at most: a long source would
    push them out of sight."""
    t = row.translation
    notes = []
    truncated = getattr(t, "truncated", 0)
    if truncated:
        notes.append(
            f"{truncated:,} source token{'s' if truncated != 1 else ''} past num_steps not read"
        )
    elif getattr(t, "eos_cut", False):
        notes.append("the source fills num_steps: its <eos> is not read")
    if t.unknown:
        words = ", ".join(repr(word) for word in t.unknown)
        count = len(t.unknown)
        notes.append(
            f"{count} word{'s' if count != 1 else ''} not in the source vocabulary → <unk>: {words}"
        )
    parts: list[str | tuple[str, str]] = []
    if notes:
        parts += [("⚠ " + " · ".join(notes), WARNING_STYLE), "\n"]
    parts += [(f"{row.number} ", "bold"), t.source]
    if t.reference is not None:
        parts += [
            ("  reference ", MUTED_STYLE),
            t.reference,
            ("  BLEU greedy ", MUTED_STYLE),
            fmt_bleu(row.greedy_bleu),
            (" beam ", MUTED_STYLE),
            fmt_bleu(t.bleu),
        ]
    return Content.assemble(*parts)


class TranslationResults(Vertical):
    """Sentence table, selected sentence's line and its beam, or a message instead."""

    DEFAULT_CSS = """
    TranslationResults {
        height: 1fr;
        margin-top: 1;
    }
    TranslationResults #tr-message {
        height: 1fr;
        padding: 0 2;
        color: $text-muted;
    }
    TranslationResults #tr-sentences {
        height: auto;
        max-height: 45%;
    }
    TranslationResults #tr-detail {
        height: auto;
        max-height: 3;
        padding: 0 1;
    }
    TranslationResults #tr-beam {
        height: 1fr;
        min-height: 4;
    }
    TranslationResults DataTable {
        border-top: solid $primary-muted;
        border-title-color: $text-accent;
        border-title-align: left;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
    }
    TranslationResults DataTable:focus {
        border-top: solid $primary;
    }
    TranslationResults DataTable > .translate-table--unk {
        color: $text-warning;
        background: $warning-muted;
        text-style: bold;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.alpha = 0.75
        self.chosen_view: str | None = None  # the person's choice; None: follow the model
        self._shown = False

    def compose(self) -> ComposeResult:
        yield Static("", id="tr-message", markup=False)
        yield SentenceTable(id="tr-sentences")
        yield Static("", id="tr-detail", markup=False)
        yield BeamTable(id="tr-beam")
        yield AttentionMap(id="tr-attention")

    @property
    def view(self) -> str:
        """What sits below the detail line: "beam" or "attention" (the heatmap) — the
        person's choice, else the heatmap when the selected translation has weights."""
        if self.chosen_view is not None:
            return self.chosen_view
        row = self.selected
        has_weights = row is not None and getattr(row.translation, "alignment", None) is not None
        return ATTENTION if has_weights else BEAM

    @property
    def heatmap_shown(self) -> bool:
        """Whether the attention heatmap of a translation is shown (a word to pick)."""
        return self._shown and self.view == ATTENTION and self.query_one(AttentionMap).rows > 0

    def move_word(self, delta: int) -> None:
        """Pick the heatmap's target word `delta` rows away."""
        self.query_one(AttentionMap).action_move(delta)

    def toggle_view(self) -> str:
        """Switch between the beam and the attention heatmap; returns the view now shown."""
        self.chosen_view = BEAM if self.view == ATTENTION else ATTENTION
        self._show_view()
        return self.chosen_view

    def _show_view(self) -> None:
        beam, attention = self.query_one(BeamTable), self.query_one(AttentionMap)
        beam.display = self._shown and self.view == BEAM
        attention.display = self._shown and self.view == ATTENTION

    def on_mount(self) -> None:
        self.query_one(SentenceTable).border_title = "translations"
        self._set_shown(False)

    def _set_shown(self, results: bool) -> None:
        self._shown = results
        self.query_one("#tr-message").display = not results
        self.query_one(SentenceTable).display = results
        self.query_one("#tr-detail").display = results
        self._show_view()

    @property
    def rows(self) -> list[ResultRow]:
        """The rows shown (in sentence order)."""
        return list(self.query_one(SentenceTable).items)

    @property
    def selected(self) -> ResultRow | None:
        """The row the sentence table's cursor is on."""
        table = self.query_one(SentenceTable)
        if not table.items:
            return None
        return table.items[min(max(table.cursor_row, 0), len(table.items) - 1)]

    def show_message(self, text: str | Content) -> None:
        """Replace the results with a message (the tables are emptied)."""
        self.query_one("#tr-message", Static).update(text)
        self.query_one(SentenceTable).begin(1, False)
        self.query_one(BeamTable).show(None)
        self._set_shown(False)

    @property
    def message(self) -> str:
        """The message shown ("" when the results are)."""
        widget = self.query_one("#tr-message", Static)
        return str(widget.render()) if widget.display else ""

    def begin(self, beam_size: int, alpha: float, with_bleu: bool, expected: int = 1) -> None:
        """Empty tables for a new request of `expected` sentences, shown."""
        self.alpha = alpha
        self.query_one(SentenceTable).begin(beam_size, with_bleu, expected)
        self.query_one(BeamTable).show(None)
        self.query_one("#tr-detail", Static).update("")
        self._set_shown(True)

    def add(self, rows: Sequence[ResultRow]) -> None:
        """Append translated sentences; the first one is selected."""
        table = self.query_one(SentenceTable)
        first = not table.items
        table.append(rows)
        if first and rows:
            self.select(0)

    def select(self, index: int) -> None:
        """Show the `index`-th row's line and beam."""
        table = self.query_one(SentenceTable)
        if not 0 <= index < len(table.items):
            return
        row = table.items[index]
        self.query_one("#tr-detail", Static).update(detail_content(row))
        beam = self.query_one(BeamTable)
        beam.show(row)
        count = max(row.candidate_count, len(row.candidate_texts))
        what = f"candidate{'s' if count != 1 else ''}"
        if count > BEAM_ROWS:
            what = f"candidates, the best {BEAM_ROWS} shown"
        if not row.translation.beam:
            what = "greedy (beam size 1)"
        beam.border_title = (
            f"sentence {row.number}: {count:,} {what} · score = log P / L^{self.alpha:g}"
        )
        attention = self.query_one(AttentionMap)
        alignment = getattr(row.translation, "alignment", None)
        attention.show(alignment)
        what = "no attention in this model"
        if alignment is not None:
            what = "attention of the translation · ↑↓ a word"
        attention.border_title = f"sentence {row.number}: {what}"
        self._show_view()

    @on(DataTable.RowHighlighted, "#tr-sentences")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.select(event.cursor_row)
