"""The Gradients screen's Inside tab: a trained language model reading a text — how strongly each
earlier token moves the prediction after step t (connectivity, ‖∂ log P(x_{t+1})/∂ x_s‖), the
hidden units (or a gate) against the tokens as a heatmap with the units ranked by how they follow
a feature, and step t of the cell unrolled with its numbers and the seeds' check that
x·W_xh + h·W_hh = concat(x, h)·concat(W_xh, W_hh)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.cells import cell_len
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Select, Static

from rnn_tui.probe.options import FEATURE_NAMES as FEATURES
from rnn_tui.probe.options import FEATURES_BY_TOKEN
from rnn_tui.tui.widgets.checkpoint_picker import CheckpointPicker
from rnn_tui.tui.widgets.heatmap import Heatmap, cell_color, column_labels, fit
from rnn_tui.tui.widgets.text_field import TextField

if TYPE_CHECKING:
    from rnn_tui.probe.activations import UnrolledStep

# The seeds' sentence without its parentheses: a character model cleans them to the spaces that
# are there anyway, and a default read should not open with a warning about them.
SEEDS_TEXT = "the time traveller for so it will be convenient to speak of him was expounding"
GATE_NAMES = {"h": "hidden h_t", "c": "memory c_t", "z": "update z_t", "r": "reset r_t",
              "i": "input i_t", "f": "forget f_t", "o": "output o_t"}  # fmt: skip
STRIP = 18  # units drawn in the unroll strips (three strips fit 80 columns)


def strip(values: np.ndarray, signed: bool = True) -> Text:
    """The first STRIP values as coloured blocks."""
    text = Text(no_wrap=True)
    for v in values[:STRIP]:
        text.append("█", style=Style(color=cell_color(float(v), signed)))
    return text


def connectivity_line(
    tokens: list[str], weights: list[float], t: int, width: int, words: bool = False
) -> Text:
    """The tokens up to the cursor shaded by their influence (brightest: the strongest); a word
    model's words whole, a space between them."""
    text = Text(no_wrap=True, overflow="crop")
    top = max(weights) if weights and max(weights) > 0 else 1.0
    labels = column_labels(tokens, words)
    gap = 1 if words else 0
    for j in fit([cell_len(label) + gap for label in labels], max(1, width), t):
        if j < len(weights):
            level = int(round(40 + 215 * (weights[j] / top) ** 0.5))
            # Dark text on the brightest cells: white on bright orange had a contrast of 1.8.
            ink = "black" if level >= 185 else "white"
            style = Style(bgcolor=Color.from_rgb(level, level // 2, 0), color=ink)
        else:
            style = Style(dim=True)
        if j == t:
            style += Style(underline=True, bold=True)
        text.append(labels[j], style=style)
        text.append(" " * gap)
    return text


def connectivity_head(t: int, width: int) -> str:
    """The line over the influence row, as much of it as fits `width` (the row below it must
    keep its line: at 80 columns the whole of it wrapped from step 1,000 on)."""
    formula = f"‖∂ log P(x_{t + 2})/∂ x_s‖"
    for head in (
        f"influence on the prediction after step {t + 1}: {formula} (, . move)",
        f"influence on the prediction after step {t + 1}: {formula}",
        f"influence on the prediction after step {t + 1}",
    ):
        if cell_len(head) <= width:
            return head
    return f"influence after step {t + 1}"[:width]


class InsidePanel(Vertical):
    """Checkpoint, text and what to show on top; connectivity, heatmap and the unrolled step."""

    feature_names: tuple[str, ...] = FEATURES  # the ranking's choices (set_features)
    _connectivity: tuple | None = None  # (tokens, weights, t, words) last shown
    _measuring: str | None = None  # what is being computed, said over the influence row

    DEFAULT_CSS = """
    InsidePanel {
        height: 1fr;
    }
    InsidePanel .row {
        height: 1;
    }
    InsidePanel .control-label {
        padding: 0 1;
        color: $text-muted;
    }
    InsidePanel #inside-text {
        width: 1fr;
    }
    InsidePanel Select {
        width: 22;
    }
    InsidePanel #inside-unit {
        width: 8;
    }
    InsidePanel #inside-connectivity {
        height: 2;
        margin: 1 0 0 0;
    }
    InsidePanel #inside-step {
        /* Its lines, and a GRU's note of how its candidate uses the products: a fixed 7 rows
           (with the border) cut that note off. */
        height: auto;
        border-top: hkey $panel-lighten-2;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    InsidePanel #inside-connectivity {
        text-wrap: nowrap;
    }
    /* A new text being read: the heatmap and the step are still the last text's. */
    InsidePanel.-stale Heatmap, InsidePanel.-stale #inside-step {
        opacity: 40%;
    }
    """

    def compose(self) -> ComposeResult:
        yield CheckpointPicker(
            "lm",
            select_id="inside-checkpoint",
            path_id="inside-path",
            path_row_id="inside-path-row",
            facts_id="inside-facts",
            tooltip="The language model to look into (one direction; any number of layers)",
            then_focus="#inside-text",
            # In a tab that may be hidden: taking the focus would switch to it.
            focus_empty_path=False,
            id="inside-picker",
        )
        with Horizontal(classes="row"):
            yield Label("text", classes="control-label")
            # Empty, offering the seeds' text as its placeholder (read while the field is
            # empty): what a user types is their text, not more of the seeds'.
            yield TextField(
                placeholder=SEEDS_TEXT,
                id="inside-text",
                compact=True,
                tooltip="enter: read it (empty: the seeds' text shown dimmed)",
            )
        with Horizontal(classes="row"):
            yield Label("show", classes="control-label")
            yield Select([("hidden h_t", "h")], value="h", allow_blank=False, compact=True,
                         id="inside-gate")  # fmt: skip
            yield Label("rank units by", classes="control-label")
            yield Select([(f, f) for f in FEATURES], value="space", allow_blank=False,
                         compact=True, id="inside-feature")  # fmt: skip
            yield Label("unit", classes="control-label")
            yield TextField(
                placeholder="#",
                id="inside-unit",
                compact=True,
                type="integer",
                tooltip="A unit's number: its row goes to the top of the heatmap",
            )
        yield Static("", id="inside-connectivity")
        yield Heatmap(id="inside-heatmap")
        yield Static("", id="inside-step")

    def set_features(self, token: str, mode: str = "raw") -> None:
        """The ranking drop-down's choices for a model reading `token`s (a word is never a
        space nor a vowel: a character's features ranked every unit of a word model 0); a
        `clean` model's text has no quotes left, so nothing is inside them."""
        names = FEATURES_BY_TOKEN.get(token, FEATURES)
        if mode == "clean":
            names = tuple(name for name in names if name != "inside quotes")
        if names == self.feature_names:
            return
        self.feature_names = names
        select = self.query_one("#inside-feature", Select)
        select.set_options([(f, f) for f in names])
        select.value = names[0]

    def set_gates(self, names: list[str]) -> None:
        """The drop-down's choices for a cell with these values (h, and its gates)."""
        select = self.query_one("#inside-gate", Select)
        current = select.value
        select.set_options([(GATE_NAMES.get(n, n), n) for n in names])
        select.value = current if current in names else "h"

    def show_connectivity(
        self, tokens: list[str], weights: list[float], t: int, words: bool = False
    ) -> None:
        self._connectivity = (tokens, weights, t, words)
        self.stopped()

    def measuring(self, text: str, everything: bool = False) -> None:
        """Say over the influence row what is being computed (a pass over a long text takes
        seconds); the row's tokens stay, unshaded: their shading was the last step's. With
        `everything` (a new text read) the heatmap and the unrolled step are dimmed too."""
        self._measuring = text
        self.set_class(everything, "-stale")
        self._draw_connectivity()

    def stopped(self) -> None:
        """Nothing is being computed: what is shown is current again."""
        self._measuring = None
        self.remove_class("-stale")
        self._draw_connectivity()

    def _draw_connectivity(self) -> None:
        widget = self.query_one("#inside-connectivity", Static)
        width = widget.size.width or 80
        if self._measuring is not None:
            line = f"measuring… {self._measuring}"
            head = Text(line if cell_len(line) <= width else line[: width - 1] + "…")
        elif self._connectivity is not None:
            head = Text(connectivity_head(self._connectivity[2], width), style="dim")
        else:
            return
        head.no_wrap = True
        row = Text("")
        if self._connectivity is not None:
            tokens, weights, t, words = self._connectivity
            shaded = weights if self._measuring is None else []
            row = connectivity_line(tokens, shaded, t, width, words)
        widget.update(head + "\n" + row)

    def on_resize(self) -> None:
        # Fitted to the width it was drawn at: narrower, its head wrapped over the tokens' row.
        self._draw_connectivity()

    def show_step(self, step: UnrolledStep, hidden: int) -> None:
        """Step t of the candidate update with its numbers (the first four units)."""

        def nums(values: np.ndarray) -> str:
            return " ".join(f"{v:+.3f}" for v in values[:4]) + (" …" if len(values) > 4 else "")

        text = Text(no_wrap=True, overflow="ellipsis")
        # The seeds' walk-through: "Step 3: not, with h2, gives h3".
        text.append(
            f"step {step.t}: reads {step.token!r} with h_{step.t - 1} → h_{step.t}  ", style="bold"
        )
        if step.layers > 1:  # x_t is then the layer below's h_t, not the token: said first
            text.append(
                f"(top layer of {step.layers}: its x_t is layer {step.layers - 1}'s h_t; ",
                style="dim",
            )
        else:
            text.append("(", style="dim")
        text.append(f"first {min(STRIP, hidden)} of {hidden} units)\n", style="dim")
        text.append("h_{t−1} ").append(strip(step.h_prev)).append("  h_t ").append(strip(step.h))
        text.append("  change ").append(strip(step.h - step.h_prev)).append("\n")
        wx, wh = step.weights  # an LSTM's: its memory candidate's, W_xc and W_hc
        text.append(f"x_t·{wx}          {nums(step.x_part)}\n")
        label = f"{step.h_read}·{wh}".ljust(len(f"x_t·{wx}") + 9)
        text.append(f"{label} {nums(step.h_part)}\n")
        h = "r⊙h" if step.h_read.startswith("(r") else "h"
        text.append(f"concat(x, {h})·concat({wx}, {wh}) {nums(step.concat_part)}\n")
        # Below 1e-12 is rounding (its last digits differ between processors): say so.
        same = "within 1e-12" if step.concat_error < 1e-12 else f"to {step.concat_error:.1e}"
        text.append(
            f"the same {same}: one matrix product does both (the seeds' check)", style="green"
        )
        if step.note:
            text.append(f"\n{step.note}", style="dim")
        self.query_one("#inside-step", Static).update(text)


__all__ = ["SEEDS_TEXT", "InsidePanel", "connectivity_head", "connectivity_line", "strip"]
