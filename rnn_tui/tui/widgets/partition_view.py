"""Renderables for the partitioning panel: the corpus strip, its legend, the minibatch table.

They only draw what `rnn_tui.data.partition` computed (a `Layout` and the first minibatches);
the panel decides what to compute.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from rnn_tui.data.partition import Layout

# Tableau 10: distinguishable on dark and light themes; batches past the eighth reuse them.
BATCH_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
)
ROW_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
UNUSED = "·"


def batch_style(batch: int) -> str:
    """Cell style of a 0-based batch index."""
    return f"bold #101010 on {BATCH_COLOURS[batch % len(BATCH_COLOURS)]}"


def row_letter(row: int) -> str:
    """Rows are letters (a = row 0) so that "2a" reads as batch 2, row a."""
    return ROW_LETTERS[row] if row < len(ROW_LETTERS) else "+"


def span(start: int, num_steps: int) -> str:
    """Corpus positions start .. start + num_steps - 1, as "5–9"."""
    return f"{start}–{start + num_steps - 1}"


@dataclass
class CorpusStrip:
    """Corpus positions, each marked with the batch (colour, number) and row (letter) it went to.

    Wraps at the width it is given; with `max_lines` set, a long corpus shows only as many
    positions as fill that many lines (None: all positions).
    """

    layout: Layout
    max_lines: int | None = None

    def _marker(self, pos: int) -> str:
        batch = int(self.layout.owner[pos])
        if batch < 0:
            return UNUSED
        return f"{batch + 1}{row_letter(int(self.layout.row[pos]))}"

    def _same_run(self, a: int, b: int) -> bool:
        owner, row = self.layout.owner, self.layout.row
        return owner[a] >= 0 and owner[a] == owner[b] and row[a] == row[b]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        total = self.layout.num_tokens
        probe = range(min(total, 2000))
        cell = max(max(len(str(total - 1)), *(len(self._marker(p)) for p in probe)) + 1, 3)
        per_line = max(1, options.max_width // cell)
        count = total if self.max_lines is None else min(total, per_line * self.max_lines)
        for first in range(0, count, per_line):
            top, bottom = Text(no_wrap=True), Text(no_wrap=True)
            last = min(count, first + per_line)
            for pos in range(first, last):
                used = self.layout.owner[pos] >= 0
                style = batch_style(int(self.layout.owner[pos])) if used else "dim"
                top.append(str(pos).rjust(cell - 1), style)
                bottom.append(self._marker(pos).rjust(cell - 1), style)
                # The gap after a cell keeps the colour while the same row of the same batch
                # goes on, so each row of num_steps positions reads as one block.
                joined = pos + 1 < last and self._same_run(pos, pos + 1)
                top.append(" ", style if joined else "")
                bottom.append(" ", style if joined else "")
            yield top
            yield bottom
        if count < total:
            yield Text(f"… positions {count}–{total - 1} not shown", style="dim")


def strip_legend(layout: Layout, shown_batches: int) -> Text:
    """One line: the batch colours, how to read a marker, what the dimmed cells are."""
    text = Text()
    for batch in range(min(shown_batches, len(BATCH_COLOURS))):
        text.append(f" {batch + 1} ", batch_style(batch))
        text.append(" ")
    text.append("= batch colours")
    if layout.num_batches > len(BATCH_COLOURS):
        text.append(f" (repeating after {len(BATCH_COLOURS)})")
    text.append(";  2a = batch 2, row a (row 0);  ")
    text.append(UNUSED, "dim")
    text.append(" = in no batch (offset, leftovers)")
    return text


def explanation(layout: Layout) -> str:
    """The lesson in one sentence, for the current strategy, with this layout's positions."""
    steps = layout.num_steps
    if layout.num_batches < 2:
        return (
            f"{layout.strategy}: only one batch fits; use a smaller batch size or num_steps "
            "to see how consecutive batches relate."
        )
    if layout.strategy == "sequential":
        first, second = layout.starts[0][0], layout.starts[1][0]
        return (
            f"sequential: row a of batch 2 continues row a of batch 1 (positions "
            f"{span(first, steps)} → {span(second, steps)}), so the hidden state can be carried "
            "over from one batch to the next."
        )
    # Cite the first row that does not continue the batch before it.
    for i in range(1, layout.num_batches):
        for r, (before, now) in enumerate(zip(layout.starts[i - 1], layout.starts[i], strict=True)):
            if now != before + steps:
                return (
                    f"random: row {row_letter(r)} of batch {i + 1} (positions {span(now, steps)}) "
                    f"does not continue row {row_letter(r)} of batch {i} ({span(before, steps)}): "
                    "adjacent batches are unrelated, so the state is reset each batch."
                )
    return (
        "random: by chance every row here continues the batch before, but nothing guarantees "
        "it: adjacent batches are unrelated, so the state is reset each batch."
    )


@dataclass
class ShownBatch:
    """One minibatch as drawn: per row its X start position and the X / Y tokens as text."""

    index: int
    starts: list[int]
    x: list[list[str]]
    y: list[list[str]]


def batch_table(batches: list[ShownBatch], num_steps: int, max_rows: int) -> Table:
    """The first minibatches: batch | row | X positions | X | Y, at most `max_rows` rows each."""
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    table.add_column("batch", no_wrap=True)
    table.add_column("row", no_wrap=True)
    table.add_column("X at", no_wrap=True)
    table.add_column("X (input)", ratio=1)
    table.add_column("Y (label = X shifted by one)", ratio=1)
    for batch in batches:
        for r, start in enumerate(batch.starts[:max_rows]):
            label = Text(f" {batch.index + 1} ", batch_style(batch.index)) if r == 0 else Text()
            table.add_row(
                label,
                row_letter(r),
                span(start, num_steps),
                " ".join(batch.x[r]),
                " ".join(batch.y[r]),
            )
        hidden = len(batch.starts) - max_rows
        if hidden > 0:
            table.add_row("", "…", "", Text(f"{hidden} more rows", "dim"), "")
    return table
