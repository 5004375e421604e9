"""What the Forecast screen shows of its two runs (the AR MLP and a latent model): a progress line
each, and the seeds' figures (d2l §8.1) from the runs' checkpoints — the data with the one-step-
ahead predictions, the multi-step predictions fed on their own output from the first held-out
point, the k-step-ahead predictions of one model, and a table of the held-out error per k for
both models and the naive baselines, with which wins.

Four panels in a 2×2 grid when there is room, else one at a time (`cycle()` shows the next). The
views are decode.forecast.ForecastView objects, computed by the screen in a worker; this widget
only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.widgets import Static

from rnn_tui.metrics.perplexity import FIXED_UNDER
from rnn_tui.runs.format import fmt_mape, fmt_number
from rnn_tui.runs.snapshot import Snapshot
from rnn_tui.tui.widgets.plot import LinePlot, Series
from rnn_tui.tui.widgets.run_line import RunLine, latest, lines_text, run_line, update_changed

if TYPE_CHECKING:  # the view module imports torch; this one must not
    from rnn_tui.decode.forecast import ForecastView

AR, LATENT = "ar", "latent"
SLOTS = (AR, LATENT)
SLOT_COLORS = {AR: "cyan+", LATENT: "orange+"}
DATA_COLOR = "gray"
K_COLORS = ("cyan+", "green+", "orange+", "magenta+", "blue+", "red+", "cyan", "orange")
BASELINES = (("naive", "naive"), ("seasonal_naive", "season"))  # (errors key, short name)
SAID = {"naive": "naive", "seasonal_naive": "seasonal naive"}  # in the verdict's sentences
METRICS = ("mse", "rmse", "mape")
METRIC_TITLES = {"mse": "MSE", "rmse": "RMSE", "mape": "MAPE %"}
PANELS = ("fc-plot-one", "fc-plot-multi", "fc-plot-k", "fc-table")
GRID_MIN_WIDTH = 80
GRID_MIN_HEIGHT = 28


def progress_line(slot: str, snap: Snapshot | None) -> RunLine:
    """ "█ AR  mlp  ▰▰▰▰▱▱ ▶ running · epoch 3/5 · loss 0.041 · held-out 0.043 · NAME"."""
    parts = []
    if snap is not None and snap.loss is not None:
        parts.append(f"loss {fmt_number(snap.loss)}")
    val = latest(snap, "val_loss") if snap is not None else None
    if val is not None:
        parts.append(f"held-out {fmt_number(val)}")
    label = "AR     " if slot == AR else "latent "
    return run_line(label, SLOT_COLORS[slot], snap, parts, "no run: s starts, o opens one")


def _fmt(metric: str, value: float | None, digits: int = 4) -> str:
    """`value` in `digits` significant figures; MAPE with one decimal; from a million on, with
    an exponent (a diverged model's MSE of 3.4e28 took 29 digits)."""
    if value is None or not math.isfinite(value):
        return "–"
    if abs(value) >= FIXED_UNDER:  # as many significant digits as the table's form allows
        return f"{value:.{max(0, digits - 2)}e}"
    if metric == "mape":
        return fmt_mape(value)
    # Series in the thousands (passengers squared): whole numbers, not 1.431e+04.
    return f"{value:.0f}" if abs(value) >= 10 ** (digits - 1) else f"{value:.{digits}g}"


def error_rows(
    views: Mapping[str, ForecastView], period: bool = True
) -> tuple[list[tuple[str, str]], list[int]]:
    """The table's columns — (key into a view's errors, heading): each model, then the
    baselines of the first view, the seasonal one with its period m (`period`) — and the
    horizons every view has."""
    columns = [(v.model, v.model) for v in views.values()]
    horizons = sorted(set.intersection(*(set(v.errors) for v in views.values())))
    first = next(iter(views.values()))
    for key, heading in BASELINES:
        if any(key in first.errors[k] for k in horizons):
            if key == "seasonal_naive" and first.period and period:
                heading = f"season m={first.period}"  # which season it repeats
            columns.append((key, heading))
    return columns, horizons


def _said(name: str, period: int | None) -> str:
    """A predictor as sentences name it: "seasonal naive (m=12)"."""
    if name == "seasonal_naive" and period:
        return f"seasonal naive (m={period})"
    return SAID.get(name, name)


def no_season(views: Mapping[str, ForecastView]) -> str:
    """Why the table has no seasonal-naive column ("" when it has one)."""
    columns, _ = error_rows(views)
    if any(key == "seasonal_naive" for key, _ in columns):
        return ""
    period = next(iter(views.values())).period
    if period is None:
        return "no season found: no seasonal-naive baseline"
    return f"season m={period} is longer than the history: no seasonal-naive baseline"


def crosses_zero(views: Mapping[str, ForecastView]) -> bool:
    """Whether the series reaches 0 or changes sign: MAPE divides by values near 0 there."""
    values = next(iter(views.values())).series.values
    return len(values) > 0 and float(values.min()) <= 0 <= float(values.max())


def _row_errors(views: Mapping[str, ForecastView], k: int) -> dict[str, dict]:
    first = next(iter(views.values()))
    row = {name: e for name, e in first.errors[k].items() if name in dict(BASELINES)}
    for view in views.values():
        if view.model in view.errors[k]:
            row[view.model] = view.errors[k][view.model]
    return row


def best_of(row: Mapping[str, dict], metric: str = "rmse") -> str | None:
    """The predictor with the lowest `metric` (the forecast metrics' `winner` rule, by RMSE:
    MSE ranks as RMSE does); MAPE left out where it is undefined."""
    scored = {
        n: e[metric]
        for n, e in row.items()
        if isinstance(e.get(metric), int | float) and math.isfinite(e[metric])
    }
    return min(scored, key=lambda n: (scored[n], n)) if scored else None


# The table's forms, widest first: the first that fits is drawn (a narrower one cut its cells
# to "0.04…"): the season's m named in its heading, then in the verdict only; one space between
# columns; fewer significant figures.
TABLE_FORMS = ((4, True, 2), (4, False, 2), (4, False, 1), (3, False, 1), (2, False, 1))


def error_table(
    views: Mapping[str, ForecastView],
    metric: str,
    digits: int = 4,
    period: bool = True,
    gap: int = 2,
) -> Table:
    """Held-out `metric` per horizon k (rows) for each model and baseline (columns), and the
    winner by that metric; `digits` significant figures, the season's m in its heading
    (`period`), `gap` spaces between columns."""
    columns, horizons = error_rows(views, period)
    padding = (0, 1) if gap == 2 else (0, 1, 0, 0)
    table = Table(box=None, pad_edge=False, padding=padding, header_style="bold", expand=False)
    table.add_column("k", justify="right")
    for _, heading in columns:
        table.add_column(heading, justify="right")
    table.add_column("best")
    for k in horizons:
        row = _row_errors(views, k)
        best = best_of(row, metric)
        cells = [
            Text(
                _fmt(metric, row[key][metric], digits) if key in row else "–",
                style="bold green" if key == best else "",
            )
            for key, _ in columns
        ]
        label = dict(BASELINES).get(best) or dict(columns).get(best, "–") if best else "–"
        table.add_row(str(k), *cells, Text(label, style="green"))
    return table


def _in_metric(errors: Mapping[str, float], metric: str) -> str:
    shown = _fmt(metric, errors.get(metric))
    return shown + "%" if metric == "mape" and shown != "–" else shown


def verdict(views: Mapping[str, ForecastView], metric: str = "rmse") -> Text:
    """Plainly, who wins by `metric` one step ahead and at the longest horizon, with every
    predictor's error in that same metric (the table's)."""
    _, horizons = error_rows(views)
    period = next(iter(views.values())).period
    text = Text()
    for k in dict.fromkeys((horizons[0], horizons[-1])) if horizons else ():
        row = _row_errors(views, k)
        best = best_of(row, metric)
        if best is None:
            continue
        others = ", ".join(
            f"{_said(n, period)} {_in_metric(row[n], metric)}" for n in row if n != best
        )
        text.append(f"k = {k}: ", style="bold")
        title = METRIC_TITLES[metric].split()[0]
        text.append(f"{_said(best, period)} wins by {title}", style="bold green")
        text.append(f" — {_in_metric(row[best], metric)}" + (f" (vs {others})" if others else ""))
        text.append("\n")
    if no_season(views):
        text.append(no_season(views) + "\n", style="dim")
    return text


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

    def show_views(self, views: Mapping[str, ForecastView]) -> None:
        """Redraw every panel from `views` (slot → view; missing slots are not drawn)."""
        had = bool(self.views)
        self.views = {slot: views[slot] for slot in SLOTS if slot in views}
        if had != bool(self.views):
            self._layout()
        self._plot_one()
        self._plot_multi()
        self._plot_k()
        self._table()

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

    def _plot_k(self) -> None:
        plot = self.query_one("#fc-plot-k", LinePlot)
        view = self.views.get(self.k_model) or next(iter(self.views.values()), None)
        if view is None:
            plot.plot_title = "k-step ahead"
            plot.set_series([])
            return
        plot.plot_title = f"k-step ahead, {view.model} (m: other)"
        plot.xlabel = "t"
        plot.set_series(
            [
                Series(f"{k}-step", self._t(view), preds, K_COLORS[i % len(K_COLORS)])
                for i, (k, preds) in enumerate(sorted(view.k_step.items()))
            ]
        )

    def _table(self) -> None:
        widget = self.query_one("#fc-table", Static)
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

    def other_model(self) -> str:
        self.k_model = LATENT if self.k_model == AR else AR
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
