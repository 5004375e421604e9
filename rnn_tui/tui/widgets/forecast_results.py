"""What the Forecast screen shows of its two runs (the AR MLP and a latent model): a progress line
each, and the seeds' figures (d2l §8.1) from the runs' checkpoints — the data with the one-step-
ahead predictions, the multi-step predictions fed on their own output from the first held-out
point, the k-step-ahead predictions of one model, and a table of the held-out error per k for
both models and the naive baselines, with which wins (drawn by forecast_table.py).

Four panels in a 2×2 grid when there is room, else one at a time (`cycle()` shows the next). The
views are decode.forecast.ForecastView objects, computed by the screen in a worker; this widget
only draws them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.widgets import Static

from rnn_tui.runs.format import fmt_number
from rnn_tui.runs.snapshot import Snapshot
from rnn_tui.tui.widgets.forecast_table import (
    METRIC_TITLES,
    METRICS,
    TABLE_FORMS,
    checkpoints_note,
    crosses_zero,
    error_table,
    verdict,
)
from rnn_tui.tui.widgets.plot import LinePlot, Series
from rnn_tui.tui.widgets.run_line import RunLine, latest, lines_text, run_line, update_changed

if TYPE_CHECKING:  # the view module imports torch; this one must not
    from rnn_tui.decode.forecast import ForecastView

AR, LATENT = "ar", "latent"
SLOTS = (AR, LATENT)
SLOT_COLORS = {AR: "cyan+", LATENT: "orange+"}
DATA_COLOR = "gray"
K_COLORS = ("cyan+", "green+", "orange+", "magenta+", "blue+", "red+", "cyan", "orange")
PANELS = ("fc-plot-one", "fc-plot-multi", "fc-plot-k", "fc-table")
GRID_MIN_WIDTH = 80
GRID_MIN_HEIGHT = 28


def progress_line(slot: str, snap: Snapshot | None) -> RunLine:
    """ "█ AR  mlp  ▰▰▰▰▱▱ ▶ running · epoch 3/5 · loss 0.041 · held-out RMSE 0.21 · NAME":
    the latest epoch's training loss (in the model's units) and held-out one-step RMSE in the
    series' own units, as the table's are ("held-out 0.3127", the held-out loss in scaled
    units, sat above a table of the best checkpoint's MSE in passengers²)."""
    parts = []
    if snap is not None and snap.loss is not None:
        parts.append(f"loss {fmt_number(snap.loss)}")
    rmse = latest(snap, "rmse") if snap is not None else None
    val = latest(snap, "val_loss") if snap is not None else None
    if rmse is not None:
        parts.append(f"held-out RMSE {fmt_number(rmse)}")
    elif val is not None:  # a run whose epochs record no RMSE: its loss, named as one
        parts.append(f"held-out loss {fmt_number(val)}")
    label = "AR     " if slot == AR else "latent "
    return run_line(label, SLOT_COLORS[slot], snap, parts, "no run: s starts, o opens one")


class ForecastResults(Vertical):
    """Progress of the two runs, then the four panels."""

    DEFAULT_CSS = """
    ForecastResults {
        width: 1fr;
        height: 1fr;
    }
    ForecastResults #fc-progress {
        height: 2;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ForecastResults #fc-panels {
        height: 1fr;
        layout: grid;
        grid-size: 2 2;
    }
    ForecastResults #fc-panels.-single {
        grid-size: 1 1;
    }
    ForecastResults #fc-table {
        padding: 0 1;
        overflow-y: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.views: dict[str, ForecastView] = {}
        self.metric = "mse"
        self.k_model = AR  # whose k-step predictions are drawn
        self._single = 0  # the panel shown when there is room for one only
        self._draws = 0  # show_views calls: the plots of the newest are drawn one a frame
        self._when_drawn: list[Callable[[], None]] = []  # called once the newest is drawn
        self._computing: list[str] = []  # runs whose figures are being computed

    def compose(self) -> ComposeResult:
        yield Static("", id="fc-progress")
        with Container(id="fc-panels"):
            yield LinePlot(
                title="data and one-step ahead", id="fc-plot-one", nice_x=True, nice_y=True
            )
            yield LinePlot(
                title="multi-step, fed on itself", id="fc-plot-multi", nice_x=True, nice_y=True
            )
            yield LinePlot(title="k-step ahead", id="fc-plot-k", nice_x=True, nice_y=True)
            yield Static("", id="fc-table")

    def on_mount(self) -> None:
        self._layout()
        self.show_views({})

    # -- drawing ------------------------------------------------------------------------------

    def show_progress(self, snaps: Mapping[str, Snapshot | None]) -> None:
        lines = lines_text([progress_line(slot, snaps.get(slot)) for slot in SLOTS])
        update_changed(self.query_one("#fc-progress", Static), lines)  # 4 polls a second

    def show_computing(self, runs: list[str]) -> None:
        """Say, while nothing is drawn yet, that the figures of `runs` are being computed: a
        million-point series' take seconds, and the panels stayed blank meanwhile."""
        if runs != self._computing:
            self._computing = runs
            if not self.views:
                self._table()

    def show_views(
        self, views: Mapping[str, ForecastView], drawn: Callable[[], None] | None = None
    ) -> None:
        """Redraw every panel from `views` (slot → view; missing slots are not drawn), then
        call `drawn` once the last plot is on screen."""
        had = bool(self.views)
        self.views = {slot: views[slot] for slot in SLOTS if slot in views}
        if had != bool(self.views):
            self._layout()
        self._table()
        self._draws += 1
        if drawn is not None:
            self._when_drawn.append(drawn)
        self._one_a_frame(self._draws, [self._plot_one, self._plot_multi, self._plot_k])

    def _one_a_frame(self, draw: int, plots: list) -> None:
        """Hand the plots their series one frame apart: plotext builds a figure in ~40 ms on the
        event loop, and the three built in one frame held key presses for 120 ms. A newer
        `show_views` (`draw` behind `_draws`) drops what is left of an older one, and calls
        what the older one was to call when it is drawn itself."""
        if draw != self._draws:
            return
        if not plots:
            when_drawn, self._when_drawn = self._when_drawn, []
            for call in when_drawn:
                call()
            return
        plots[0]()
        self.call_after_refresh(self._one_a_frame, draw, plots[1:])

    def _t(self, view: ForecastView) -> np.ndarray:
        return np.arange(1, len(view.series) + 1) if view.t is None else view.t

    def _data(self) -> list[Series]:
        view = next(iter(self.views.values()))
        return [Series("data", self._t(view), view.series.values, DATA_COLOR)]

    def _plot_one(self) -> None:
        plot = self.query_one("#fc-plot-one", LinePlot)
        if not self.views:
            plot.set_series([])
            return
        series = self._data() + [
            Series(f"{v.model} 1-step", self._t(v), v.one_step, SLOT_COLORS[s])
            for s, v in self.views.items()
        ]
        plot.xlabel = "t"
        plot.set_series(series)

    def _plot_multi(self) -> None:
        plot = self.query_one("#fc-plot-multi", LinePlot)
        if not self.views:
            plot.plot_title = "multi-step, fed on itself"
            plot.set_series([])
            return
        first = next(iter(self.views.values()))
        plot.plot_title = f"multi-step after t = {first.first_test}"
        plot.xlabel = "t"
        plot.set_series(
            self._data()
            + [
                Series(f"{v.model} multi-step", self._t(v), v.multistep, SLOT_COLORS[s])
                for s, v in self.views.items()
            ]
        )

    def _k_slot(self) -> str | None:
        """The slot whose k-step predictions are drawn: `k_model`'s, else the one shown."""
        return self.k_model if self.k_model in self.views else next(iter(self.views), None)

    def _plot_k(self) -> None:
        plot = self.query_one("#fc-plot-k", LinePlot)
        slot = self._k_slot()
        if slot is None:
            plot.plot_title = "k-step ahead"
            plot.set_series([])
            return
        view = self.views[slot]
        # `m` is offered only where it changes the plot: with one model it silently did nothing.
        other = " (m: other)" if len(self.views) > 1 else ""
        plot.plot_title = f"k-step ahead, {view.model}{other}"
        plot.xlabel = "t"
        plot.set_series(
            [
                Series(f"{k}-step", self._t(view), preds, K_COLORS[i % len(K_COLORS)])
                for i, (k, preds) in enumerate(sorted(view.k_step.items()))
            ]
        )

    def _table(self) -> None:
        widget = self.query_one("#fc-table", Static)
        if not self.views and self._computing:
            widget.update(
                Text(
                    f"computing the forecasts of {' and '.join(self._computing)}: one-step, "
                    "k-step and multi-step over the whole series…",
                    style="italic",
                )
            )
            return
        if not self.views:
            widget.update(
                Text(
                    "Held-out error per k, both models and the naive baselines, once a run "
                    "has a checkpoint.\n\ns: train the MLP and the latent model with the form's "
                    "options\no: open saved forecast runs",
                    style="dim",
                )
            )
            return
        shown = METRIC_TITLES[self.metric]
        title = Text(
            f"held-out {shown} per k, best by {shown.split()[0]} "
            f"(t: {METRIC_TITLES[self._next_metric()]})\n",
            style="bold",
        )
        if self.metric == "mape" and crosses_zero(self.views):
            # Errors divided by values near 0: huge or undefined percentages.
            title.append("MAPE unreliable: the series crosses 0\n", style="yellow")
        widget.update(
            Group(
                title,
                self._fitted_table(widget.size.width),
                Text(),
                verdict(self.views, self.metric),
                checkpoints_note(self.views),
            )
        )

    def _fitted_table(self, width: int) -> Table:
        """The widest of the table's forms that fits `width` columns (TABLE_FORMS)."""
        options = self.app.console.options.update_width(1000)
        for digits, period, gap in TABLE_FORMS:
            table = error_table(self.views, self.metric, digits, period, gap)
            if width <= 0 or self.app.console.measure(table, options=options).maximum <= width:
                break
        return table

    # -- steering -----------------------------------------------------------------------------

    def _next_metric(self) -> str:
        return METRICS[(METRICS.index(self.metric) + 1) % len(METRICS)]

    def next_metric(self) -> str:
        self.metric = self._next_metric()
        self._table()
        return self.metric

    def other_model(self) -> str | None:
        """Draw the other model's k-step predictions; None, said in a notification, when there
        is no other model's forecast (latent model none: only the MLP trained)."""
        shown = self._k_slot()
        others = [slot for slot in self.views if slot != shown]
        if not others:
            model = self.views[shown].model if shown else "no model"
            self.notify(f"only {model} has a forecast: no other model's k-step predictions")
            return None
        self.k_model = others[0]
        self._plot_k()
        return self.k_model

    def cycle(self) -> None:
        """Show the next panel (when one is shown at a time)."""
        self._single = (self._single + 1) % len(PANELS)
        self._layout()
        self.call_after_refresh(self._table)  # fitted to the width it is shown at

    def _layout(self) -> None:
        single = self.size.width < GRID_MIN_WIDTH or self.size.height < GRID_MIN_HEIGHT
        self.query_one("#fc-panels").set_class(single, "-single")
        # Nothing to draw yet: the one panel shown is the table's guide to starting.
        shown = self._single if self.views else PANELS.index("fc-table")
        for i, panel in enumerate(PANELS):
            self.query_one(f"#{panel}").display = not single or i == shown

    def on_resize(self, event: events.Resize) -> None:
        self._layout()
        self.call_after_refresh(self._table)  # its panel's new width, once laid out


__all__ = ["AR", "LATENT", "SLOTS", "ForecastResults", "error_table", "progress_line", "verdict"]
