"""One line per followed run, for the lab screens that train runs side by side (Forecast,
Classify): its colour, its slot, model, a progress bar, its status, the epoch and what the task
scores, then the run's folder name (and why it failed, when it did)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.text import Text
from textual.widgets import Static

from rnn_tui.quoting import plain
from rnn_tui.runs.snapshot import Snapshot
from rnn_tui.tui.widgets.train_curves import RUN_STYLES
from rnn_tui.tui.widgets.train_header import STATUS_MARKS

BAR = 12  # progress bar cells
NARROW_BAR = 6  # where the full line does not fit (an 80-column terminal's side panel)


def latest(snap: Snapshot, series: str) -> float | None:
    """The last per-epoch value of one of the run's series (None before the first)."""
    points = snap.series.get(series)
    return float(points[1][-1]) if points is not None and len(points[1]) else None


@dataclass(frozen=True)
class RunLine:
    """One run's line, drawn as full as the width allows: its fullest form, then without the
    status word (its mark stays), then with a shorter bar, then without the bar or the word
    "epoch", then with fewer scores (the last, held-out, stays), then with the slot and model
    unpadded, without the slot (its colour stays), without the epoch count. The form chosen is
    the first whose part before the run's name fits; the name, last, is what an ellipsis cuts.
    At 80 columns the full form cut the held-out score ("· held-out …"), and beside the side
    panel the narrowest one did still ("● · 201/300 · held-out 0…")."""

    forms: tuple[tuple[Text, int], ...]  # (line, cells before the name), fullest first

    def fitted(self, width: int) -> Text:
        for text, core in self.forms:
            # The ellipsis that cuts the name takes a cell, and one more keeps it off the
            # score: a core exactly as wide lost its last digit ("held-out RMSE 0.201…").
            if cell_len(text.plain) <= width or core + 2 <= width:
                return text
        return self.forms[-1][0]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.fitted(options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, cell_len(self.forms[0][0].plain))


@dataclass(frozen=True)
class RunLines:
    """Run lines one under the other, each fitted to the width it is drawn at."""

    lines: tuple[RunLine, ...]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # A joined Text takes the separator's settings: no_wrap must be its own.
        joined = Text("\n", no_wrap=True, overflow="ellipsis")
        yield joined.join(line.fitted(options.max_width) for line in self.lines)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = max((cell_len(line.forms[0][0].plain) for line in self.lines), default=1)
        return Measurement(1, widest)


def run_line(
    label: str, color: str, snap: Snapshot | None, parts: Sequence[str], empty: str
) -> RunLine:
    """ "█ AR     mlp  ▰▰▰▰▱▱ ▶ running · epoch 3/5 · <parts> · NAME"; `empty` without a run.
    `label` comes padded, so the slots' lines line up."""
    if snap is None:
        text = _line_start(label, color)
        text.append(empty, style="dim")
        return RunLine(((text, cell_len(text.plain)),))
    forms = []
    # Fullest first; then the status word, bar cells, the bar, the word "epoch" and the first
    # scores give way, the last score (the held-out one) staying: beside the side panel at 80
    # columns the line was cut at "· l…", its scores all gone. Then (squeeze) the padding that
    # lines the slots up, the slot's name and the epoch count go, the score still staying.
    last = max(len(parts) - 1, 0)
    shapes = [(BAR, True, True, 0, 0), (BAR, False, True, 0, 0), (NARROW_BAR, False, True, 0, 0)]
    shapes += [(0, False, False, dropped, 0) for dropped in range(last + 1)]
    shapes += [(0, False, False, last, squeeze) for squeeze in (1, 2, 3)]
    for bar, word, long_epoch, dropped, squeeze in shapes:
        text = _line_start(label, color, squeeze)
        _append_run(text, color, snap, parts[dropped:], bar, word, long_epoch, squeeze)
        core = cell_len(text.plain)
        text.append(f" · {snap.name}", style="dim")
        if snap.status in ("failed", "died") and snap.message:
            text.append(f" · {plain(snap.message)}", style="red")
        forms.append((text, core))
    return RunLine(tuple(forms))


def _line_start(label: str, color: str, squeeze: int = 0) -> Text:
    """The colour block and the slot's `label`: unpadded from `squeeze` 1, gone from 2."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("█ ", style=RUN_STYLES[color])
    if squeeze < 2:
        text.append(label if squeeze < 1 else label.rstrip() + " ", style="bold")
    return text


def _append_run(
    text: Text,
    color: str,
    snap: Snapshot,
    parts: Sequence[str],
    bar: int,
    word: bool,
    long_epoch: bool = True,
    squeeze: int = 0,
) -> None:
    """The model, bar, status and `parts`; the model unpadded from `squeeze` 1, the epoch
    count gone from 3."""
    mark, style = STATUS_MARKS.get(snap.status, ("?", "dim"))
    text.append(f"{snap.model_label:<5}" if squeeze < 1 else snap.model_label, style="bold")
    done = max(0.0, min(1.0, snap.progress))
    filled = round(done * bar)
    if bar:
        text.append(" " + "▰" * filled, style=RUN_STYLES[color])
        text.append("▱" * (bar - filled), style="dim")
    text.append(" ")
    text.append(f"{mark} {snap.status}" if word else mark, style=style)
    epochs = snap.epochs if snap.epochs is not None else "?"
    epoch = f"epoch {snap.epoch}/{epochs}" if long_epoch else f"{snap.epoch}/{epochs}"
    shown = [*parts] if squeeze >= 3 else [epoch, *parts]
    text.append(" · " + " · ".join(shown) if shown else "")


def lines_text(lines: Sequence[RunLine]) -> RunLines:
    """Run lines one under the other, each as full as the width it is drawn at allows."""
    return RunLines(tuple(lines))


def update_changed(static: Static, content: RenderableType, key: Hashable | None = None) -> None:
    """`static.update(content)` unless it shows that already: `key` says what the content is
    drawn from (for a rich Table, which does not compare), else the content itself. The lab
    screens redraw on every poll, 4 a second, and Static.update lays out the whole screen
    again each time: 12–16 ms of CPU a poll on the Classify screen with nothing running.
    While runs train their lines change at every poll; run lines as many as before, in a
    Static whose width is not its content's, keep its size, so they are drawn without a layout
    (the Forecast screen's layouts were a tenth of a core while a pair trained)."""
    drawn = content if key is None else key
    if getattr(static, "_drawn_from", None) == drawn:
        return
    rows = len(content.lines) if isinstance(content, RunLines) else None
    width = static.styles.width
    same_size = (
        rows is not None
        and getattr(static, "_drawn_rows", None) == rows
        and not (width is not None and width.is_auto)
    )
    static._drawn_from = drawn  # type: ignore[attr-defined]
    static._drawn_rows = rows  # type: ignore[attr-defined]
    static.update(content, layout=not same_size)


__all__ = ["BAR", "RunLine", "RunLines", "latest", "lines_text", "run_line", "update_changed"]
