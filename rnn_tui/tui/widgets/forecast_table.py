"""The Forecast screen's error table and what is said under it: the held-out error per
horizon k (rows) of each model and baseline (columns), the best by the metric shown, the
verdict in sentences and which checkpoints the errors are of. Pure functions of the
decode.forecast.ForecastView objects: the widget (forecast_results.py) only lays them out."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from rnn_tui.metrics.perplexity import FIXED_UNDER
from rnn_tui.runs.format import fmt_mape

if TYPE_CHECKING:  # the view module imports torch; this one must not
    from rnn_tui.decode.forecast import ForecastView

BASELINES = (("naive", "naive"), ("seasonal_naive", "season"))  # (errors key, short name)
SAID = {"naive": "naive", "seasonal_naive": "seasonal naive"}  # in the verdict's sentences
METRICS = ("mse", "rmse", "mape")
METRIC_TITLES = {"mse": "MSE", "rmse": "RMSE", "mape": "MAPE %"}


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


def checkpoints_note(views: Mapping[str, ForecastView]) -> Text:
    """Which epoch each model's errors are of: a run's `best` checkpoint, not its last epoch
    (the progress line's figures are the last epoch's)."""
    epochs = [f"{v.model} epoch {v.epoch}" for v in views.values() if v.epoch is not None]
    if not epochs:
        return Text()
    return Text("best checkpoints: " + ", ".join(epochs), style="dim")


__all__ = [
    "METRICS",
    "METRIC_TITLES",
    "TABLE_FORMS",
    "checkpoints_note",
    "crosses_zero",
    "error_rows",
    "error_table",
    "no_season",
    "verdict",
]
