"""The Classify screen's names part (many-to-one): a line per names run — one per `balance`
setting, so unweighted, class-weighted and balanced-sampling runs sit side by side — their
held-out accuracy and macro-F1 beside the two baselines, a field where a typed name gets its
top three languages as you type, and the confusion matrix of the held-out names (rows true,
columns predicted, normalised per row: the diagonal is each class's recall) with each class's
precision and support beside it. On a short terminal the matrix shows alone (v).

The views (decode.classify.ClassifyView: the model, its held-out report, the baselines') are
computed by the screen in a worker; this widget only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from rnn_tui.quoting import plain
from rnn_tui.runs.classify_lab import NAME_SLOTS
from rnn_tui.runs.snapshot import Snapshot
from rnn_tui.tui.widgets.confusion import ConfusionMatrix
from rnn_tui.tui.widgets.run_line import latest, lines_text, run_line, update_changed
from rnn_tui.tui.widgets.text_field import TextField
from rnn_tui.tui.widgets.train_curves import RUN_STYLES

if TYPE_CHECKING:  # the view module imports torch; this one must not
    from rnn_tui.decode.classify import ClassifyView, Guess

NAME_COLORS = {"none": "cyan+", "weights": "orange+", "sampling": "magenta+"}
BASELINE_TITLES = {"majority": "majority class", "naive_bayes": "char trigram naive Bayes"}
# Rows the progress lines, the name field and the scores take; the matrix takes 19 more.
TOP_ROWS = len(NAME_SLOTS) + 2 + 7


def scores_text(snap: Snapshot | None) -> list[str]:
    parts = []
    for key, title in (("accuracy", "acc"), ("macro_f1", "macro-F1")):
        value = latest(snap, key) if snap is not None else None
        if value is not None:
            parts.append(f"{title} {value:.3f}")
    return parts


def best_f1(snap: Snapshot) -> tuple[float | None, float | None]:
    """(accuracy, macro-F1) of the run's epoch with the best macro-F1 (its `best` checkpoint)."""
    f1, acc = snap.series.get("macro_f1"), snap.series.get("accuracy")
    if f1 is None or not len(f1[1]) or acc is None or len(acc[1]) != len(f1[1]):
        return None, None
    i = int(f1[1].argmax())
    return float(acc[1][i]), float(f1[1][i])


class NamesPanel(Vertical):
    """`show_progress(snaps)`, `show_view(view, slot)`, `show_guess(guess | error)`, `cycle()`."""

    DEFAULT_CSS = """
    NamesPanel {
        height: 1fr;
        padding: 0 1;
    }
    NamesPanel #cl-names-progress {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    NamesPanel #cl-name-row {
        height: auto;
        margin: 1 0 0 0;
    }
    NamesPanel #cl-name {
        width: 24;
    }
    NamesPanel #cl-top {
        width: 1fr;
        height: auto;
        padding: 0 0 0 1;  /* wrapped where narrow: the whole guess or reason is read */
    }
    NamesPanel #cl-scores {
        height: auto;
        margin: 1 0 0 0;
    }
    NamesPanel ConfusionMatrix {
        margin: 1 0 0 0;
        /* The rest of the panel, no more: sized to its content, it was cut at the panel's
           bottom on a short terminal, without its "… more rows" line. */
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: ClassifyView | None = None
        self.view_slot = ""
        self.snaps: dict[str, Snapshot | None] = {}
        self.matrix_only = False  # on a short terminal: the matrix instead of the tables

    def compose(self) -> ComposeResult:
        yield Static("", id="cl-names-progress")
        with Horizontal(id="cl-name-row"):
            yield TextField(
                placeholder="type a name",
                id="cl-name",
                compact=True,  # no max_length: a longer name was cut without a word
                tooltip="A surname: its top three languages update as you type",
            )
            yield Static("", id="cl-top", markup=False)
        yield Static("", id="cl-scores")
        yield ConfusionMatrix(id="cl-confusion")

    def on_mount(self) -> None:
        self._layout()

    def on_resize(self, event: events.Resize) -> None:
        self._layout()
        self._scores()  # the labels are cut to the width

    def _fits_both(self) -> bool:
        """Whether the tables and the confusion matrix fit one above the other."""
        return self.size.height == 0 or self.size.height >= TOP_ROWS + 21

    def _layout(self) -> None:
        both = self._fits_both()
        for part in ("#cl-names-progress", "#cl-name-row", "#cl-scores"):
            self.query_one(part).display = both or not self.matrix_only
        matrix = self.query_one(ConfusionMatrix)
        matrix.display = both or self.matrix_only
        # Alone, the matrix's caption line takes the blank line's place: 80 × 24 holds the
        # caption, the head and all 18 rows.
        matrix.styles.margin = (1 if both else 0, 0, 0, 0)

    def cycle(self) -> None:
        """Switch between the tables and the matrix (when both do not fit)."""
        self.matrix_only = not self.matrix_only
        self._layout()

    # -- drawing ------------------------------------------------------------------------------

    def show_progress(self, snaps: Mapping[str, Snapshot | None]) -> None:
        self.snaps = dict(snaps)
        lines = [
            run_line(
                f"{slot:<9}",
                NAME_COLORS[slot],
                snaps.get(slot),
                scores_text(snaps.get(slot)),
                "no run: s starts, o opens one",
            )
            for slot in NAME_SLOTS
        ]
        update_changed(self.query_one("#cl-names-progress", Static), lines_text(lines))
        self._scores()

    def show_view(self, view: ClassifyView | None, slot: str = "") -> None:
        self.view, self.view_slot = view, slot
        self._scores()
        matrix = self.query_one(ConfusionMatrix)
        if view is None:
            matrix.show([], [])
        else:
            report = view.report
            snap = self.snaps.get(slot)
            caption = f"{snap.model_label} balance {slot}" if snap else f"balance {slot}"
            matrix.show(
                report.normalised(), view.classes, report.precision, report.support, caption
            )

    def show_guess(self, guess: Guess | None, error: str = "") -> None:
        top = self.query_one("#cl-top", Static)
        if error:
            top.update(Text(error, style="red"))
        elif guess is None:
            top.update(Text("" if self.view else "(needs a run)", style="dim"))
        else:
            text = Text()
            for i, (language, p) in enumerate(guess.top):
                text.append("  " if i else "→ ")
                text.append(language, style="bold" if i == 0 else "")
                text.append(f" {p:.2f}", style="dim")
            if guess.not_read:  # left out of what the model read ("Øster" is read "ster")
                text.append(f"  ({plain(' '.join(guess.not_read))} not read)", style="dim")
            top.update(text)

    def _scores(self) -> None:
        rows: list[tuple[Text, str, str]] = []
        for slot in NAME_SLOTS:
            snap = self.snaps.get(slot)
            if snap is None:
                continue
            acc, f1 = best_f1(snap)
            label = Text("█ ", style=RUN_STYLES[NAME_COLORS[slot]])
            # "(best)" only of a run that scored an epoch: one stopped in its first has none.
            which = "(best)" if f1 is not None else "(no finished epoch)"
            label.append(f"{snap.model_label} balance {slot} {which}")
            rows.append((label, _fmt(acc), _fmt(f1)))
        if self.view is not None:
            for key, report in self.view.baselines.items():
                title = Text("  " + BASELINE_TITLES.get(key, key))
                rows.append((title, _fmt(report.accuracy), _fmt(report.macro_f1)))
        scores = self.query_one("#cl-scores", Static)
        if not rows:
            update_changed(
                scores,
                Text("no names run yet: s starts one (the form's balance), o opens one", "dim"),
            )
            return
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
        # The numbers stay whole and the labels are cut: beside the side panel at 80 columns
        # Rich shrank every column, and the scores read "0.7…".
        width = scores.size.width or 10**6
        table.add_column(
            "held-out names", no_wrap=True, overflow="ellipsis", max_width=max(8, width - 22)
        )
        table.add_column("accuracy", justify="right", no_wrap=True)
        table.add_column("macro-F1", justify="right", no_wrap=True)
        for row in rows:
            table.add_row(*row)
        shown: Table | Group = table
        if self.view is not None and not self._fits_both():
            # The matrix did not fit under the tables: an empty space said nothing of it.
            hint = Text("\nv: the confusion matrix of the run opened", style="dim")
            shown = Group(table, hint)
        update_changed(
            scores,
            shown,
            key=(width, self._fits_both(), *((label.plain, *values) for label, *values in rows)),
        )


def _fmt(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.3f}"


__all__ = ["NAME_COLORS", "NamesPanel"]
