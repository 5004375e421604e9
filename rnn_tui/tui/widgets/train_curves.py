"""Training curves of one run, or of several overlaid: perplexity (log axis, with the trigram
baseline), loss, gradient norm before clipping, and tokens/s, against epochs.

Four plots in a 2×2 grid when there is room, else one at a time (`cycle()` shows the next).
Replotting happens only when a run brought new data (its snapshot version), the selection or
the colours changed; each plot keeps about two points per column (LinePlot decimates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from textual import events
from textual.app import ComposeResult
from textual.containers import Container

from rnn_tui.train.follow import Snapshot
from rnn_tui.tui.widgets.plot import LinePlot, Series

# (id, title, log y): the order `cycle()` walks.
PLOTS = (
    ("plot-ppl", "perplexity", True),
    ("plot-loss", "loss (cross-entropy)", False),
    ("plot-grad", "gradient norm (before clipping)", False),
    ("plot-speed", "thousand tokens/s", False),
)
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
TRAIN, VAL, REFERENCE = "cyan+", "orange+", "gray"
GRID_MIN_WIDTH = 80  # below this (or GRID_MIN_HEIGHT rows) one plot at a time
GRID_MIN_HEIGHT = 20


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
    """One run: train (every logged batch) and validation (every epoch) curves, the trigram
    baseline on the perplexity plot and the clipping threshold θ on the gradient-norm plot."""
    train_x, train_y = _series(snap, "step_ppl")
    val_x, val_y = _series(snap, "val_ppl")
    ppl = [Series("train", train_x, train_y, TRAIN), Series("val", val_x, val_y, VAL)]
    if snap.baseline_ppl:
        ppl += _hline(f"trigram {snap.baseline_ppl:.3g}", snap.baseline_ppl, [train_x, val_x],
                      REFERENCE)  # fmt: skip
    loss = [
        Series("train", *_series(snap, "step_loss"), TRAIN),
        Series("val", *_series(snap, "val_loss"), VAL),
    ]
    grad_x, grad_y = _series(snap, "grad_norm")
    grad = [Series("‖g‖", grad_x, grad_y, TRAIN)]
    clip = snap.config.get("clip")
    if isinstance(clip, int | float) and clip > 0 and len(grad_y) and grad_y.max() >= clip * 0.5:
        grad += _hline(f"θ {clip:g}", float(clip), [grad_x], REFERENCE)
    speed = [Series("k tok/s", *_thousands(_series(snap, "tokens_per_s")), TRAIN)]
    return {"plot-ppl": ppl, "plot-loss": loss, "plot-grad": grad, "plot-speed": speed}


def overlay_series(curves: Sequence[Curve]) -> dict[str, list[Series]]:
    """Several runs, one colour each: validation perplexity (training perplexity per epoch for
    a run without a validation split) and each run's per-batch loss, gradient norm and speed."""
    out: dict[str, list[Series]] = {plot_id: [] for plot_id, _, _ in PLOTS}
    for c in curves:
        val_x, val_y = _series(c.snap, "val_ppl")
        if len(val_x):
            out["plot-ppl"].append(Series(f"{c.label} val", val_x, val_y, c.color))
        else:
            out["plot-ppl"].append(
                Series(f"{c.label} train", *_series(c.snap, "train_ppl"), c.color)
            )
        out["plot-loss"].append(Series(c.label, *_series(c.snap, "step_loss"), c.color))
        out["plot-grad"].append(Series(c.label, *_series(c.snap, "grad_norm"), c.color))
        out["plot-speed"].append(
            Series(c.label, *_thousands(_series(c.snap, "tokens_per_s")), c.color)
        )
    baselines = {c.snap.baseline_ppl for c in curves if c.snap.baseline_ppl}
    if len(baselines) == 1:
        baseline = baselines.pop()
        xs = [s.x for s in out["plot-ppl"]]
        out["plot-ppl"] += _hline(
            f"trigram {baseline:.3g}", baseline, [np.asarray(x) for x in xs], REFERENCE
        )
    return out


class CurvePanel(Container):
    """The four training plots for the runs handed to `show()`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.active = 0  # the plot shown when there is room for one only
        self._key: tuple | None = None

    def compose(self) -> ComposeResult:
        for plot_id, title, logy in PLOTS:
            yield LinePlot(title=title, xlabel="epoch", logy=logy, tight=True, id=plot_id)

    def on_mount(self) -> None:
        self._layout()

    @property
    def single(self) -> bool:
        return self.has_class("-single")

    def show(self, curves: Sequence[Curve]) -> bool:
        """Replot for `curves` unless nothing changed since the last call; True if replotted."""
        key = tuple((c.snap.path, c.snap.version, c.label, c.color) for c in curves)
        if key == self._key:
            return False
        self._key = key
        if not curves:
            series: dict[str, list[Series]] = {plot_id: [] for plot_id, _, _ in PLOTS}
        elif len(curves) == 1:
            series = single_run_series(curves[0].snap)
        else:
            series = overlay_series(curves)
        for plot_id, _, _ in PLOTS:
            self.query_one(f"#{plot_id}", LinePlot).set_series(series[plot_id])
        return True

    def cycle(self, step: int = 1) -> None:
        """Show the next plot (one-at-a-time layout)."""
        self.active = (self.active + step) % len(PLOTS)
        self._layout()

    def _layout(self) -> None:
        single = self.size.width < GRID_MIN_WIDTH or self.size.height < GRID_MIN_HEIGHT
        self.set_class(single, "-single")
        for i, (plot_id, title, _) in enumerate(PLOTS):
            plot = self.query_one(f"#{plot_id}", LinePlot)
            plot.set_class(i == self.active, "-active")
            new_title = f"{title} ({i + 1}/{len(PLOTS)}, v: next)" if single else title
            if plot.plot_title != new_title:
                plot.plot_title = new_title
                plot.replot()

    def on_resize(self, event: events.Resize) -> None:
        self._layout()
