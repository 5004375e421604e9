"""The Classify screen's tagging part (many-to-many): a one-way and a two-way (bidirectional)
tagger trained on the same split to restore the Time Machine's capitalisation and punctuation,
a field where lower-case text comes back restored by both (capitals and inserted marks
coloured), and each tag's held-out F1 for both with the gain from reading ahead.

The views (decode.tag.TagView: the model and its held-out report) are computed by the screen in
a worker; this widget only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from rnn_tui.data.tagging import NONE, tag_parts
from rnn_tui.runs.classify_lab import BI, UNI
from rnn_tui.runs.snapshot import Snapshot
from rnn_tui.tui.widgets.run_line import latest, lines_text, run_line, update_changed
from rnn_tui.tui.widgets.text_field import TextField
from rnn_tui.tui.widgets.train_curves import RUN_STYLES

if TYPE_CHECKING:  # the view module imports torch; this one must not
    from rnn_tui.decode.tag import Restored, TagReport

TAG_SLOTS = (UNI, BI)
TAG_COLORS = {UNI: "cyan+", BI: "orange+"}
TAG_TITLES = {UNI: "one-way", BI: "two-way"}
SPAN_STYLES = {"capital": "bold green", "punct": "bold magenta", "plain": ""}
TAG_ROWS = 8  # the most frequent tags shown (after the two any-mark rows)


def tag_label(tag: str) -> str:
    """A tag as people read it: "Xx" capitalised, "xx." followed by a full stop, "Xx," both."""
    capital, marks = tag_parts(tag)
    return ("Xx" if capital else "xx") + marks


class TagPanel(VerticalScroll):
    """`show_progress(snaps)`, `show_reports(slot → TagReport, slot → epoch)`,
    `show_restored(slot → Restored | error)`. It scrolls: at 80×24 a restored text pushed the
    table's last rows off the screen."""

    DEFAULT_CSS = """
    TagPanel {
        height: 1fr;
        padding: 0 1;
    }
    TagPanel #cl-tag-progress, TagPanel #cl-restored, TagPanel #cl-tag-table {
        height: auto;
    }
    TagPanel #cl-tag-progress {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    TagPanel #cl-tag-text {
        margin: 1 0 0 0;
        width: 1fr;
    }
    TagPanel #cl-tag-table {
        margin: 1 0 0 0;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.reports: dict[str, TagReport] = {}
        self.epochs: dict[str, int | None] = {}  # each report's checkpoint's epoch

    def compose(self) -> ComposeResult:
        yield Static("", id="cl-tag-progress")
        yield TextField(
            # Whole beside the side panel at 80 columns (both taggers restoring it is said
            # by the tooltip and the help).
            placeholder="type lower-case text, no punctuation",
            id="cl-tag-text",
            compact=True,  # no max_length: the tagger's own limit is told (decode/tag.py)
            tooltip="Lower-case text: each character gets a tag (capitalise, the marks after it)",
        )
        yield Static("", id="cl-restored")
        yield Static("", id="cl-tag-table")

    def allow_focus(self) -> bool:
        # Tab stops here (to scroll by keys) only when there is something to scroll to; else
        # it goes from the part tabs straight to the text field.
        return self.max_scroll_y > 0

    def on_resize(self) -> None:
        self.show_reports(self.reports, self.epochs)  # the titles are cut to the width

    def show_progress(self, snaps: Mapping[str, Snapshot | None]) -> None:
        lines = []
        for slot in TAG_SLOTS:
            snap = snaps.get(slot)
            parts = []
            for key, title in (("macro_f1", "macro-F1"), ("f1_punct", "mark F1")):
                value = latest(snap, key) if snap is not None else None
                if value is not None:
                    parts.append(f"{title} {value:.3f}")
            lines.append(
                run_line(
                    f"{TAG_TITLES[slot]:<8}",
                    TAG_COLORS[slot],
                    snap,
                    parts,
                    "no run: s trains both, o opens saved ones",
                )
            )
        update_changed(self.query_one("#cl-tag-progress", Static), lines_text(lines))

    def show_restored(self, restored: Mapping[str, Restored | str]) -> None:
        """slot → the text restored by that slot's tagger, or why it could not be."""
        text = Text()
        for slot in TAG_SLOTS:
            if slot not in restored:
                continue
            if text:
                text.append("\n")
            text.append(f"{TAG_TITLES[slot]:<8} ", style=RUN_STYLES[TAG_COLORS[slot]])
            result = restored[slot]
            if isinstance(result, str):
                text.append(result, style="red")
                continue
            for piece, kind in result.spans:
                text.append(piece, style=SPAN_STYLES.get(kind, ""))
            if result.stand_ins or result.left_out:
                text.append(f"  ({result.note()})", style="dim")
        self.query_one("#cl-restored", Static).update(text)

    def show_reports(
        self, reports: Mapping[str, TagReport], epochs: Mapping[str, int | None] | None = None
    ) -> None:
        """The per-tag table of each slot's report, its last row the epoch of each checkpoint
        (a run's `best`, computed every few seconds while it trains: the progress lines above
        are its last epoch's)."""
        self.reports = {slot: reports[slot] for slot in TAG_SLOTS if slot in reports}
        self.epochs = {slot: (epochs or {}).get(slot) for slot in self.reports}
        widget = self.query_one("#cl-tag-table", Static)
        if not self.reports:
            widget.update(Text("no tagger yet: s trains the one-way and two-way taggers", "dim"))
            return
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
        both = len(self.reports) == 2
        # Narrow: the row titles are cut, never the numbers. Rich shrinks no column that may
        # not wrap, so the titles' width is set: beside the side panel at 80 columns the
        # two-way column was cut to "0.6".
        numbers = 4 + 7 * len(self.reports) + (6 if both else 0)
        columns = 2 + len(self.reports) + both
        width = widget.size.width or 10**6
        room = max(8, width - numbers - 2 * columns)

        def title(long: str, short: str) -> str:
            # Beside the side panel at 80 columns "capitalised" read "capital…": a shorter
            # title where the long one does not fit.
            return long if len(long) <= room else short

        table.add_column(
            title("held-out F1", "held-out"), no_wrap=True, overflow="ellipsis", max_width=room
        )
        table.add_column("n", justify="right", style="dim", min_width=4)
        for slot in self.reports:
            style = RUN_STYLES[TAG_COLORS[slot]]
            table.add_column(TAG_TITLES[slot], justify="right", style=style, min_width=7)
        if both:
            table.add_column("gain", justify="right", min_width=6)
        first = next(iter(self.reports.values()))
        rows: list[tuple[str, str, list[float]]] = [
            (title("capitalised", "capitals"), "", [r.f1_capital for r in self.reports.values()]),
            (title("any mark after", "any mark"), "", [r.f1_punct for r in self.reports.values()]),
        ]
        support = first.report.support
        order = sorted(
            (i for i, tag in enumerate(first.tags) if tag != NONE and support[i] > 0),
            key=lambda i: -support[i],
        )
        for i in order[:TAG_ROWS]:
            values = [r.report.f1[i] for r in self.reports.values()]
            rows.append((f"  {tag_label(first.tags[i])}", str(support[i]), values))
        macro = title("macro-F1 (all tags)", "macro-F1")
        rows.append((macro, "", [r.report.macro_f1 for r in self.reports.values()]))
        rows.append(("accuracy", "", [r.report.accuracy for r in self.reports.values()]))
        epoch_title = title("best epoch", "epoch")
        for title, n, values in rows:
            cells = [f"{v:.3f}" for v in values]
            if both:
                cells.append(_gain(values[1] - values[0]))
            table.add_row(title, n, *cells)
        if any(self.epochs.values()):
            epochs = [str(e) if e else "–" for e in self.epochs.values()]
            table.add_row(epoch_title, "", *epochs, *[""] * both, style="dim")
        widget.update(table)


def _gain(delta: float) -> Text:
    if not math.isfinite(delta):
        return Text("–")
    return Text(f"{delta:+.3f}", style="green" if delta > 0.005 else "")


__all__ = ["TAG_COLORS", "TAG_SLOTS", "TagPanel", "tag_label"]
