"""One line per followed run, for the lab screens that train runs side by side (Forecast,
Classify): its colour, its slot, model, a progress bar, its status, the epoch and what the task
scores, then the run's folder name (and why it failed, when it did)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.widgets import Static

from rnn_tui.quoting import plain
from rnn_tui.runs.snapshot import Snapshot
from rnn_tui.tui.widgets.train_curves import RUN_STYLES
from rnn_tui.tui.widgets.train_header import STATUS_MARKS

BAR = 12  # progress bar cells


def latest(snap: Snapshot, series: str) -> float | None:
    """The last per-epoch value of one of the run's series (None before the first)."""
    points = snap.series.get(series)
    return float(points[1][-1]) if points is not None and len(points[1]) else None


def run_line(
    label: str, color: str, snap: Snapshot | None, parts: Sequence[str], empty: str
) -> Text:
    """ "█ AR     mlp  ▰▰▰▰▱▱ ▶ running · epoch 3/5 · <parts> · NAME"; `empty` without a run.
    `label` comes padded, so the slots' lines line up."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("█ ", style=RUN_STYLES[color])
    text.append(label, style="bold")
    if snap is None:
        text.append(empty, style="dim")
        return text
    mark, style = STATUS_MARKS.get(snap.status, ("?", "dim"))
    text.append(f"{snap.model:<5}", style="bold")
    done = max(0.0, min(1.0, snap.progress))
    filled = round(done * BAR)
    text.append(" " + "▰" * filled, style=RUN_STYLES[color])
    text.append("▱" * (BAR - filled) + " ", style="dim")
    text.append(f"{mark} {snap.status}", style=style)
    epochs = snap.epochs if snap.epochs is not None else "?"
    text.append(" · " + " · ".join([f"epoch {snap.epoch}/{epochs}", *parts]))
    text.append(f" · {snap.name}", style="dim")
    if snap.status in ("failed", "died") and snap.message:
        text.append(f" · {plain(snap.message)}", style="red")
    return text


def lines_text(lines: Sequence[Text]) -> Text:
    """Run lines one under the other (the Static showing them cuts rather than wraps them:
    `text-wrap: nowrap` in its style)."""
    return Text("\n").join(lines)


def update_changed(static: Static, content: RenderableType, key: Hashable | None = None) -> None:
    """`static.update(content)` unless it shows that already: `key` says what the content is
    drawn from (for a rich Table, which does not compare), else the content itself. The lab
    screens redraw on every poll, 4 a second, and Static.update lays out the whole screen
    again each time: 12–16 ms of CPU a poll on the Classify screen with nothing running."""
    drawn = content if key is None else key
    if getattr(static, "_drawn_from", None) == drawn:
        return
    static._drawn_from = drawn  # type: ignore[attr-defined]
    static.update(content)


__all__ = ["BAR", "latest", "lines_text", "run_line", "update_changed"]
