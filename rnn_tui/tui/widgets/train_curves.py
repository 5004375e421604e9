"""Training curves of one run, or of several overlaid: perplexity (log axis, with the n-gram
baseline), loss, gradient norm before clipping, and tokens/s, against epochs; for seq2seq runs
also held-out BLEU (all held-out pairs, and those of at most five English words); for classify
and tag runs, which have no perplexity, their held-out scores in its place (accuracy and
macro-F1; a tagger's F1 of capitals and of punctuation too); for forecast runs, which have none
either, the held-out 1-step RMSE (what `best` minimises).

Four plots in a 2×2 grid when there is room, else one at a time (`cycle()` shows the next). With
a seq2seq run among those shown, BLEU takes the grid's second place (the scores too, beside a
run with a perplexity) and tokens/s (also in the header) is left to the one-at-a-time cycle, so
the grid stays 2×2 and readable.
Replotting happens only when a run brought new data (its snapshot version), the selection,
the colours or a run's status changed; each plot keeps about two points per column (LinePlot
decimates). New points alone replot at most once per interval (a token bucket: the first
comes at once, later ones wait for a poll after the interval): PLOT_EVERY_S, longer where the
last drawing cost more than PLOT_SHARE of a core at that rate. Four plotext plots cost tens of
milliseconds of CPU, taken from the trainer while it shares the machine (issue 13).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from textual import events
from textual.app import ComposeResult
from textual.containers import Container

from rnn_tui.runs.follow import Snapshot
from rnn_tui.runs.x_axis import MINUTES_FROM_S, axis_label, to_axis
from rnn_tui.tui.widgets.plot import LinePlot, Series
from rnn_tui.tui.widgets.plot_ticks import nice_ticks
from rnn_tui.tui.widgets.plot_view import is_flat

# (id, title, log y): the order `cycle()` walks.
PLOTS = (
    ("plot-ppl", "perplexity", True),
    ("plot-loss", "loss (cross-entropy)", False),
    ("plot-grad", "gradient norm (before clipping)", False),
    ("plot-speed", "thousand tokens/s", False),
)
BLEU_PLOT = ("plot-bleu", "held-out BLEU, 0–100", False)
SCORE_PLOT = ("plot-score", "held-out scores, 0–1", False)
RMSE_PLOT = ("plot-rmse", "held-out RMSE, k=1", False)
# Every plot in the panel's order (the grid fills in this order, skipping hidden ones).
ALL_PLOTS = (PLOTS[0], BLEU_PLOT, SCORE_PLOT, RMSE_PLOT, *PLOTS[1:])
# The plots only some runs have, and what a shown run must measure for each to be in.
MEASURES = {"plot-ppl": "ppl", "plot-bleu": "bleu", "plot-score": "score", "plot-rmse": "rmse"}
# The held-out scores of a task that has no perplexity (its epoch events' keys, legend names):
# macro-F1 first, what `best` maximises and what overlaid runs show.
SCORED = {
    "classify": (("macro_f1", "macro-F1"), ("accuracy", "accuracy")),
    "tag": (("macro_f1", "macro-F1"), ("f1_capital", "F1 capitals"), ("f1_punct", "F1 punct")),
}
# The tasks without a perplexity: their held-out scores stand in its place.
UNPERPLEXED = frozenset(SCORED) | {"forecast"}
TITLES = {plot_id: title for plot_id, title, _ in ALL_PLOTS}
# Each overlaid run's colour (plotext names; RUN_STYLES gives the same colour to Rich text).
RUN_COLORS = ("cyan+", "orange+", "green+", "magenta+", "blue+", "red+", "cyan", "orange")
RUN_STYLES = {
    "cyan+": "color(14)",
    "orange+": "color(11)",
    "green+": "color(10)",
    "magenta+": "color(13)",
    "blue+": "color(12)",
    "red+": "color(9)",
    "cyan": "color(6)",
    "orange": "color(3)",
}
TRAIN, VAL, REFERENCE, SHORT = "cyan+", "orange+", "gray", "green+"
GRID_MIN_WIDTH = 80  # below this (or GRID_MIN_HEIGHT rows) one plot at a time
GRID_MIN_HEIGHT = 20
PLOT_EVERY_S = 2.0  # while runs only bring new points: at most one replot this often
PLOT_SHARE = 0.01  # ... and drawing them takes at most this share of one core


def loss_name(tasks: Sequence[str]) -> str:
    """What the loss plot measures: a forecast run's squared error, the others' cross-entropy
    ("loss" alone when both kinds are overlaid)."""
    kinds = {"squared error" if task == "forecast" else "cross-entropy" for task in tasks}
    return kinds.pop() if len(kinds) == 1 else "" if kinds else "cross-entropy"


def measures(tasks: Sequence[str]) -> frozenset[str]:
    """What runs of `tasks` measure beyond their loss: "ppl", "bleu" (seq2seq), "score"
    (classify, tag: no perplexity), "rmse" (forecast: none either). No runs: a perplexity, the
    plot a new run fills."""
    out = {"score"} if any(task in SCORED for task in tasks) else set()
    if "forecast" in tasks:
        out.add("rmse")
    if any(task not in UNPERPLEXED for task in tasks) or not tasks:
        out.add("ppl")
    if "seq2seq" in tasks:
        out.add("bleu")
    return frozenset(out)


def plot_ids(kinds: frozenset[str], grid: bool) -> tuple[str, ...]:
    """The plots shown for runs that measure `kinds`, in order: the grid's four, or all that
    `cycle()` walks through."""
    ids = tuple(i for i, _, _ in ALL_PLOTS if i not in MEASURES or MEASURES[i] in kinds)
    return ids[:4] if grid else ids


class TimedPlot(LinePlot):
    """A LinePlot that keeps what drawing its latest replot cost (CPU seconds, plotext and the
    conversion to strips), which sets how often new points may replot."""

    draw_seconds = 0.0

    def replot(self) -> None:
        self.draw_seconds = 0.0  # the renders that follow are this replot's
        super().replot()

    def render_lines(self, crop):
        start = time.thread_time()
        try:
            return super().render_lines(crop)
        finally:
            self.draw_seconds += time.thread_time() - start


class ZeroBasedPlot(TimedPlot):
    """A LinePlot whose y axis starts at 0: BLEU (0–100) reads as a share of the scale, and a
    run at BLEU 0 gets a flat line at the bottom rather than an axis from −1 to 1."""

    def _load_figure(self, below: int = 0) -> None:
        super()._load_figure(below)  # plotext draws at the next render, so these limits still apply
        if self.y_view is not None:
            return  # panned up or down: the view's own limits
        ys = [y for *_, y, _ in self._series if len(y)]
        if ys:
            high = max(float(y.max()) for y in ys)
            top = high * 1.05 if high > 0 else 1.0
            self.plt.ylim(0, top)
            if is_flat(min(float(y.min()) for y in ys), high):
                # The flat line's own ticks (plot._flat_axis) would crowd its end of this axis.
                ticks = nice_ticks(0, top, most=5)
                self.plt.yticks(ticks, [f"{t:g}" for t in ticks])


@dataclass(frozen=True)
class Curve:
    """One run as the plots draw it."""

    snap: Snapshot
    label: str
    color: str


def _series(snap: Snapshot, name: str) -> tuple[np.ndarray, np.ndarray]:
    return snap.series.get(name, (np.zeros(0), np.zeros(0)))


def _thousands(xy: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    # Axis labels such as 42.5 instead of 42500.0: narrower, and easier to read.
    return xy[0], xy[1] / 1000


def _hline(label: str, y: float, xs: Sequence[np.ndarray], color: str) -> list[Series]:
    """A horizontal reference line across the x range of the other curves."""
    nonempty = [x for x in xs if len(x)]
    if not nonempty:
        return []
    lo = min(float(x.min()) for x in nonempty)
    hi = max(float(x.max()) for x in nonempty)
    return [Series(label, [lo, hi], [y, y], color)]


def single_run_series(snap: Snapshot) -> dict[str, list[Series]]:
    """One run: train (every logged batch) and validation (every epoch) curves, the n-gram
    baseline on the perplexity plot and the clipping threshold θ on the gradient-norm plot."""
    train_x, train_y = _series(snap, "step_ppl")
    val_x, val_y = _series(snap, "val_ppl")
    ppl = [
        Series("train", train_x, train_y, TRAIN, noisy=True),
        Series("val", val_x, val_y, VAL),
    ]
    if snap.baseline_ppl:
        label = f"{snap.baseline_name} {snap.baseline_ppl:.3g}"
        ppl += _hline(label, snap.baseline_ppl, [train_x, val_x], REFERENCE)
    loss = [
        Series("train", *_series(snap, "step_loss"), TRAIN, noisy=True),
        Series("val", *_series(snap, "val_loss"), VAL),
    ]
    grad_x, grad_y = _series(snap, "grad_norm")
    grad = [Series("‖g‖", grad_x, grad_y, TRAIN, noisy=True)]
    clip = snap.config.get("clip")
    if isinstance(clip, int | float) and clip > 0 and len(grad_y) and grad_y.max() >= clip * 0.5:
        grad += _hline(f"θ {clip:g}", float(clip), [grad_x], REFERENCE)
    speed = [Series("k tok/s", *_thousands(_series(snap, "tokens_per_s")), TRAIN, noisy=True)]
    colors = (VAL, SHORT, TRAIN)
    scores = [
        Series(name, *_series(snap, key), color)
        for (key, name), color in zip(SCORED.get(snap.task, ()), colors)
    ]
    bleu = []
    if len(_series(snap, "bleu")[0]) or len(_series(snap, "bleu_short")[0]):
        bleu = [
            Series("held-out", *_series(snap, "bleu"), VAL),
            Series("≤5 words", *_series(snap, "bleu_short"), SHORT),
        ]
    return {
        "plot-ppl": ppl,
        "plot-loss": loss,
        "plot-grad": grad,
        "plot-speed": speed,
        "plot-bleu": bleu,
        "plot-score": scores,
        "plot-rmse": [Series("held-out", *_series(snap, "rmse"), VAL)],
    }


def overlay_series(curves: Sequence[Curve]) -> dict[str, list[Series]]:
    """Several runs, one colour each: validation perplexity (training perplexity per epoch for
    a run without a validation split), each run's per-batch loss, gradient norm and speed, and
    each seq2seq run's held-out BLEU, each classify or tag run's held-out macro-F1, each
    forecast run's held-out RMSE."""
    out: dict[str, list[Series]] = {plot_id: [] for plot_id, _, _ in ALL_PLOTS}
    for c in curves:
        val_x, val_y = _series(c.snap, "val_ppl")
        if len(val_x):
            out["plot-ppl"].append(Series(f"{c.label} val", val_x, val_y, c.color))
        else:
            out["plot-ppl"].append(
                Series(f"{c.label} train", *_series(c.snap, "train_ppl"), c.color)
            )
        loss = _series(c.snap, "step_loss")
        out["plot-loss"].append(Series(c.label, *loss, c.color, noisy=True))
        grad = _series(c.snap, "grad_norm")
        out["plot-grad"].append(Series(c.label, *grad, c.color, noisy=True))
        speed = _thousands(_series(c.snap, "tokens_per_s"))
        out["plot-speed"].append(Series(c.label, *speed, c.color, noisy=True))
        bleu_x, bleu_y = _series(c.snap, "bleu")
        if len(bleu_x):
            out["plot-bleu"].append(Series(c.label, bleu_x, bleu_y, c.color))
        if c.snap.task in SCORED:
            f1 = _series(c.snap, "macro_f1")
            out["plot-score"].append(Series(f"{c.label} macro-F1", *f1, c.color))
        if c.snap.task == "forecast":
            out["plot-rmse"].append(Series(c.label, *_series(c.snap, "rmse"), c.color))
    having = [c for c in curves if c.snap.baseline_ppl]
    baselines = {c.snap.baseline_ppl for c in having}
    if len(baselines) == 1:
        baseline = baselines.pop()
        xs = [s.x for s in out["plot-ppl"]]
        label = f"{having[0].snap.baseline_name} {baseline:.3g}"
        if len(having) == 1 < len(curves):
            # Beside a run without one (a translator's perplexity is over French words), the
            # line says whose baseline it is.
            label = f"{having[0].label} {label}"
        out["plot-ppl"] += _hline(label, baseline, [np.asarray(x) for x in xs], REFERENCE)
    return out


def on_axis(curves: Sequence[Curve], axis: str) -> tuple[list[Curve], str]:
    """`curves` with every series moved onto the x `axis` (runs/x_axis.py), and the axis title;
    wall time counts minutes once the longest run passes MINUTES_FROM_S. A run without the
    clock for that axis keeps no points there."""
    if axis == "epoch":
        return list(curves), axis_label(axis)
    empty = (np.zeros(0), np.zeros(0))
    moved = []
    for c in curves:
        series = {}
        for name, (x, y) in c.snap.series.items():
            new_x = to_axis(x, axis, c.snap.series)
            series[name] = (new_x, y) if new_x is not None else empty
        moved.append(series)
    minutes = False
    if axis == "time":
        ends = [float(x.max()) for s in moved for x, _ in s.values() if len(x)]
        minutes = bool(ends) and max(ends) >= MINUTES_FROM_S
        if minutes:
            moved = [{k: (x / 60.0, y) for k, (x, y) in s.items()} for s in moved]
    out = [Curve(replace(c.snap, series=s), c.label, c.color) for c, s in zip(curves, moved)]
    return out, axis_label(axis, minutes)


class CurvePanel(Container):
    """The four training plots (BLEU for seq2seq) for the runs handed to `show()`."""

    DEFAULT_CSS = """
    CurvePanel {
        height: 1fr;
        layout: grid;
        grid-size: 2 2;
    }
    CurvePanel.-single {
        layout: vertical;
    }
    CurvePanel LinePlot.-absent {
        display: none;
    }
    CurvePanel.-single LinePlot {
        display: none;
    }
    CurvePanel.-single LinePlot.-active {
        display: block;
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.active = 0  # the plot shown when there is room for one only (index in the cycle)
        self.loss = "cross-entropy"  # what the loss plot's title says it measures
        self.kinds = measures(())  # what the runs shown measure: which plots are in
        self._key: tuple | None = None
        self._frame: tuple | None = None  # the runs, statuses, labels and colours last drawn
        self.clock: Callable[[], float] = time.monotonic  # the replot rate's (tests replace it)
        self._tokens = 1.0
        self._refilled: float | None = None
        self.x_axis = "epoch"  # epoch, step or time (runs/x_axis.py)
        self.smoothing = 0.0  # the EMA weight of the noisy (per-step) series

    def set_axis(self, axis: str) -> None:
        """Draw every curve against `axis` from the next `show()` on."""
        if axis != self.x_axis:
            self.x_axis = axis
            self._key = self._frame = None  # the next show() replots whatever arrived
            for plot in self.query(LinePlot):
                plot.x_view = None  # a zoom in epochs means nothing in seconds

    def set_smoothing(self, weight: float) -> None:
        """Smooth every plot's per-step series with EMA weight `weight` (0: raw)."""
        self.smoothing = weight
        for plot in self.query(LinePlot):
            plot.set_smoothing(weight)

    def compose(self) -> ComposeResult:
        for plot_id, title, logy in ALL_PLOTS:
            kind = ZeroBasedPlot if plot_id in (BLEU_PLOT[0], SCORE_PLOT[0]) else TimedPlot
            yield kind(title=title, xlabel="epoch", logy=logy, tight=True, nice_x=True, id=plot_id)

    def on_mount(self) -> None:
        self._layout()

    @property
    def single(self) -> bool:
        return self.has_class("-single")

    def show(self, curves: Sequence[Curve]) -> bool:
        """Replot for `curves` unless nothing changed since the last call, or only new points
        arrived sooner than `replot_interval()` after the previous such replot (they are drawn
        by a later call); True if replotted."""
        key = tuple((c.snap.path, c.snap.version, c.label, c.color) for c in curves)
        if key == self._key:
            return False
        now = self.clock()
        if self._refilled is not None:
            elapsed = max(0.0, now - self._refilled)
            self._tokens = min(1.0, self._tokens + elapsed / self.replot_interval())
        self._refilled = now
        frame = tuple((c.snap.path, c.snap.status, c.label, c.color) for c in curves)
        if frame == self._frame:
            # Only new points: they wait (the key stays old) until the bucket has a token.
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
        self._frame = frame
        self._key = key
        curves, xlabel = on_axis(curves, self.x_axis)
        if not curves:
            series: dict[str, list[Series]] = {plot_id: [] for plot_id, _, _ in ALL_PLOTS}
        elif len(curves) == 1:
            series = single_run_series(curves[0].snap)
        else:
            series = overlay_series(curves)
        loss = loss_name([c.snap.task for c in curves])
        if loss != self.loss:
            self.loss = loss
            self._layout()
        kinds = measures([c.snap.task for c in curves])
        if kinds != self.kinds:
            # Keep the plot shown alone where it is in both cycles (else the first).
            current = self.active_id
            self.kinds = kinds
            cycle = plot_ids(kinds, grid=False)
            self.active = cycle.index(current) if current in cycle else 0
            self._layout()
        for plot_id, _, _ in ALL_PLOTS:
            plot = self.query_one(f"#{plot_id}", LinePlot)
            plot.xlabel = xlabel
            plot.set_series(series[plot_id])
        return True

    def replot_interval(self) -> float:
        """Seconds between replots for new points alone: PLOT_EVERY_S, or longer where the
        latest drawing of the plots shown would take more than PLOT_SHARE of a core."""
        cost = sum(plot.draw_seconds for plot in self.query(TimedPlot) if plot.display)
        return max(PLOT_EVERY_S, cost / PLOT_SHARE)

    @property
    def seq2seq(self) -> bool:
        """A seq2seq run is among those shown: the BLEU plot is in."""
        return "bleu" in self.kinds

    @property
    def active_id(self) -> str:
        """The plot the one-at-a-time layout shows."""
        cycle = plot_ids(self.kinds, grid=False)
        return cycle[self.active % len(cycle)]

    @property
    def shown(self) -> tuple[str, ...]:
        """The plots of the current layout: the grid's four, or the cycle `v` walks."""
        single = self.size.width < GRID_MIN_WIDTH or self.size.height < GRID_MIN_HEIGHT
        return plot_ids(self.kinds, grid=not single)

    def cycle(self, step: int = 1) -> None:
        """Show the next plot (one-at-a-time layout)."""
        self.active = (self.active + step) % len(plot_ids(self.kinds, grid=False))
        self._layout()

    def _layout(self) -> None:
        single = self.size.width < GRID_MIN_WIDTH or self.size.height < GRID_MIN_HEIGHT
        self.set_class(single, "-single")
        shown, active = self.shown, self.active_id
        for plot_id, title, _ in ALL_PLOTS:
            if plot_id == "plot-loss":
                title = f"loss ({self.loss})" if self.loss else "loss"
            plot = self.query_one(f"#{plot_id}", LinePlot)
            plot.set_class(plot_id not in shown, "-absent")
            plot.set_class(plot_id == active, "-active")
            if single and plot_id in shown:
                title = f"{title} ({shown.index(plot_id) + 1}/{len(shown)}, v: next)"
            if plot.plot_title != title:
                plot.plot_title = title
                plot.replot()

    def on_resize(self, event: events.Resize) -> None:
        self._layout()
