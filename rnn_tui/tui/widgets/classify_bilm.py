"""The Classify screen's warning part: the seeds' bidirectional LSTM trained as a character
language model beside the same LSTM reading one way. The two-way model's training perplexity
falls near 1 and its samples are gibberish; this shows both runs' perplexity and latest sample,
and why."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from rnn_tui.runs.format import fmt_number
from rnn_tui.runs.snapshot import Snapshot
from rnn_tui.tui.widgets.classify_tagging import TAG_COLORS, TAG_SLOTS, TAG_TITLES
from rnn_tui.tui.widgets.run_line import lines_text, run_line, update_changed
from rnn_tui.tui.widgets.train_curves import RUN_STYLES

REASON = (
    "Why: at training time the backward direction has read every character after position t, "
    "the very one the model must predict included, so h_t = concat(→h_t, ←h_t) already holds "
    "the answer and the loss falls to nearly nothing (perplexity ≈ 1). Generating, there is no "
    "future to read: the backward state is computed from characters not written yet, and the "
    "model, which never learned to predict, writes gibberish. Bidirectional RNNs are for "
    "tasks that see the whole input — tagging, classifying, encoding — not for predicting it."
)


class BiLMPanel(VerticalScroll):
    """`show_progress(snaps)`: both runs' lines, a table of perplexity and samples, the reason."""

    DEFAULT_CSS = """
    BiLMPanel {
        height: 1fr;
        padding: 0 1;
    }
    BiLMPanel Static {
        height: auto;
    }
    BiLMPanel #cl-bilm-progress {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    BiLMPanel #cl-bilm-table, BiLMPanel #cl-bilm-reason {
        margin: 1 0 0 0;
    }
    BiLMPanel #cl-bilm-reason {
        color: $text-muted;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.snaps: Mapping[str, Snapshot | None] = {}
        # What the form's Start would train: its model and max tokens (None: the whole book).
        self.plan: tuple[str, int | None] = ("lstm", 10_000)

    def compose(self) -> ComposeResult:
        yield Static("", id="cl-bilm-progress")
        yield Static("", id="cl-bilm-table")
        yield Static(REASON, id="cl-bilm-reason", markup=False)

    def show_plan(self, model: str, max_tokens: int | None) -> None:
        """Say what Start trains, from the form's fields (before any run is shown)."""
        self.plan = (model, max_tokens if max_tokens is None or max_tokens > 0 else None)
        self.show_progress(self.snaps)

    def show_progress(self, snaps: Mapping[str, Snapshot | None]) -> None:
        self.snaps = snaps
        lines = []
        for slot in TAG_SLOTS:
            snap = snaps.get(slot)
            parts = []
            if snap is not None and snap.train_ppl is not None:
                parts.append(f"train ppl {fmt_number(snap.train_ppl)}")
            lines.append(
                run_line(
                    f"{TAG_TITLES[slot]:<8}",
                    TAG_COLORS[slot],
                    snap,
                    parts,
                    "no run: s trains both, o opens saved ones",
                )
            )
        update_changed(self.query_one("#cl-bilm-progress", Static), lines_text(lines))
        # What the table shows of each run: its train perplexity and latest sample.
        shown = tuple(
            (snap.train_ppl, snap.samples[-1] if snap.samples else None) if snap else None
            for snap in map(snaps.get, TAG_SLOTS)
        )
        table = self._table(snaps)
        update_changed(self.query_one("#cl-bilm-table", Static), table, key=(shown, self.plan))

    def _table(self, snaps: Mapping[str, Snapshot | None]) -> Group | Text:
        if not any(snaps.get(slot) for slot in TAG_SLOTS):
            model, max_tokens = self.plan
            span = (
                "the whole" if max_tokens is None else f"the first {max_tokens:,} characters of the"
            )
            return Text(
                f"s trains a language model ({model}) reading one way and the same model "
                f"reading both ways on {span} Time Machine",
                style="dim",
            )
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
        table.add_column("char LM", no_wrap=True, min_width=7)
        table.add_column("train ppl", justify="right", no_wrap=True, min_width=9)
        table.add_column(
            "latest sample (from its prefix)", ratio=1, no_wrap=True, overflow="ellipsis"
        )
        for slot in TAG_SLOTS:
            snap = snaps.get(slot)
            if snap is None:
                continue
            title = Text(TAG_TITLES[slot], style=RUN_STYLES[TAG_COLORS[slot]])
            ppl = fmt_number(snap.train_ppl) if snap.train_ppl is not None else "–"
            sample = Text("(no sample yet)", style="dim")
            if snap.samples:
                last = snap.samples[-1]
                body = last.text.replace("\n", " ")
                if last.prefix and body.startswith(last.prefix):
                    sample = Text(last.prefix, style="bold")
                    body = body[len(last.prefix) :]
                else:
                    sample = Text()
                sample.append(body)
            table.add_row(title, ppl, sample)
        return Group(table)


__all__ = ["REASON", "BiLMPanel"]
