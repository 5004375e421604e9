"""The attention heatmap of a translation: one row per target word, one column per source word,
each cell shaded by the weight α_{t,i} that target word t put on source word i (d2l §10.4), as
attention visualisers draw it (abisee's attn_vis, Seq2Seq-Vis).

A cell shows its weight in percent over a background blended from the widget's own towards the
"hot" colour, so the alignment reads at a glance and the numbers stay exact. ↑ ↓ (or a click)
select a target word: its row is marked, the source words it attended to most are highlighted
in the header, and the last line names them with their weights. When the rows do not fit, the
window follows the selection. The widget knows only the Alignment's three fields
(rnn_tui.decode.alignment), so it never imports torch.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import Widget

from rnn_tui.tui.muted import muted_style

LABEL_MAX = 12  # target words are cut to this many characters
COLUMN_MIN, COLUMN_MAX = 3, 8  # a source column's text width (a space separates columns)
STRONG = 0.2  # a source word this much attended to is highlighted for the selected target word
SHOWN = 0.1  # …and named in the last line (the strongest always is)

NO_ATTENTION = (
    "This model has no attention: its decoder reads one fixed context, the encoder's final "
    "state (d2l §9.7), so there are no weights to show. Train one with "
    "`rnn-tui train --task seq2seq --attention additive` (or dot)."
)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def column_widths(source: list[str], available: int) -> list[int]:
    """Text width of each source column (a separating space comes on top): each word's own
    length within [COLUMN_MIN, COLUMN_MAX], narrowed evenly when they do not fit."""
    widths = [min(max(len(word), COLUMN_MIN), COLUMN_MAX) for word in source]
    if source and sum(w + 1 for w in widths) > available:
        even = max(COLUMN_MIN, available // len(source) - 1)
        widths = [min(w, even) for w in widths]
    return widths


def percent(weight: float) -> str:
    """A weight as the cell shows it: whole percent, '·' below 0.5 %."""
    value = round(100 * weight)
    return "·" if value == 0 else str(value)


class AttentionMap(Widget, can_focus=True):
    """Target × source attention weights of one translation (see the module docstring)."""

    DEFAULT_CSS = """
    AttentionMap {
        height: 1fr;
        min-height: 4;
        padding: 0 1;
        border-top: solid $primary-muted;
        border-title-color: $text-accent;
        border-title-align: left;
    }
    AttentionMap:focus {
        border-top: solid $primary;
    }
    AttentionMap > .attention-map--hot {
        background: $accent;
    }
    AttentionMap > .attention-map--strong {
        color: $text-accent;
        text-style: bold underline;
    }
    AttentionMap > .attention-map--selected {
        text-style: bold reverse;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "attention-map--hot",
        "attention-map--strong",
        "attention-map--selected",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Previous word", show=False),
        Binding("down,j", "move(1)", "Next word", show=False),
        Binding("home", "move(-1000)", "First word", show=False),
        Binding("end", "move(1000)", "Last word", show=False),
    ]

    selected: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.alignment: Any = None
        self._top = 0  # first row shown when they do not all fit

    def show(self, alignment: Any) -> None:
        """Show an Alignment (source, target, weights), or None: the fixed-context message."""
        self.alignment = alignment
        self._top = 0
        self.selected = 0
        self.refresh()

    @property
    def rows(self) -> int:
        return len(self.alignment.target) if self.alignment is not None else 0

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.selected = min(max(self.selected + delta, 0), self.rows - 1)

    def validate_selected(self, value: int) -> int:
        return min(max(value, 0), max(self.rows - 1, 0))

    def watch_selected(self) -> None:
        self.refresh()

    def attended(self, t: int | None = None) -> list[tuple[int, float]]:
        """(source position, weight) that target word t (the selected one) attended to: the
        strongest, and every other of at least SHOWN, strongest first."""
        if self.alignment is None or not self.rows:
            return []
        row = self.alignment.weights[self.selected if t is None else t]
        order = sorted(range(len(row)), key=lambda i: (-row[i], i))
        return [(i, row[i]) for n, i in enumerate(order) if n == 0 or row[i] >= SHOWN]

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)  # None on the border
        if offset is None or not self.rows:
            return
        row = offset.y - 1 + self._top  # the first line is the header
        if offset.y >= 1 and 0 <= row < self.rows:
            self.selected = row

    # -- drawing ------------------------------------------------------------------------------

    def _cell_style(self, weight: float) -> Style:
        _, base = self.background_colors
        hot = self.get_component_styles("attention-map--hot").background
        colour = base.blend(hot, min(max(weight, 0.0), 1.0))
        text = colour.get_contrast_text(0.9)
        return Style(bgcolor=colour.rich_color, color=text.rich_color)

    def render(self) -> Text:
        if self.alignment is None:
            return Text(NO_ATTENTION, style=muted_style(self))
        source, target = self.alignment.source, self.alignment.target
        weights = self.alignment.weights
        label_width = min(max((len(t) for t in target), default=1), LABEL_MAX) + 2
        widths = column_widths(source, self.size.width - label_width)
        attended = self.attended()
        strong = {i for n, (i, w) in enumerate(attended) if n == 0 or w >= STRONG}
        strong_style = self.get_component_rich_style("attention-map--strong", partial=True)
        selected_style = self.get_component_rich_style("attention-map--selected", partial=True)
        muted = muted_style(self)

        lines = [Text(" " * label_width, end="")]
        for i, (word, width) in enumerate(zip(source, widths, strict=True)):
            lines[0].append(_cut(word, width).center(width), strong_style if i in strong else None)
            lines[0].append(" ")
        room = max(self.size.height - 2, 1)  # header and the last line
        if self.selected < self._top:
            self._top = self.selected
        elif self.selected >= self._top + room:
            self._top = self.selected - room + 1
        self._top = min(self._top, max(self.rows - room, 0))
        for t in range(self._top, min(self._top + room, self.rows)):
            line = Text(end="")
            label = _cut(target[t], LABEL_MAX)
            if t == self.selected:
                line.append("▸ ")
                line.append(label, selected_style)
                line.append(" " * (label_width - 2 - len(label)))
            else:
                line.append(("  " + label).ljust(label_width))
            for weight, width in zip(weights[t], widths, strict=True):
                line.append(percent(weight).center(width), self._cell_style(weight))
                line.append(" ")
            lines.append(line)
        info = Text(end="")
        if self.rows:
            info.append(f"{target[self.selected]!r} ← ", muted)
            parts = [f"{source[i]} {round(100 * w)} %" for i, w in attended]
            info.append(" · ".join(parts))
            if self.rows > room:
                info.append(f"   ({self.selected + 1} of {self.rows}, ↑↓)", muted)
        lines.append(info)
        return Text("\n", end="").join(lines)
