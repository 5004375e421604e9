"""A small line plot on textual-plotext that every screen reuses (Zipf curves, training curves).

Every plot zooms and pans (`+`/`-`, arrows, `0` back to all of it; the mouse wheel zooms
around the pointer and a drag pans), switches its y axis between log and linear (`l`), and
draws the series marked noisy with an exponential moving average over their raw points
(`smoothing`, the Train screen's slider), as TensorBoard and W&B do.

Two things plotext 5 gets wrong for us are handled here once:
- its log scale re-applies log10 to the stored data on every build, so we take log10 ourselves
  and label the ticks with the real values (1, 10, 100, 1000);
- the whole plot is rebuilt on every render (≈ 6 µs a point), so each series is decimated to
  about two points per column (braille has two sub-columns per cell) before it reaches plotext,
  and the built figure is kept until the data, the view, the size or the theme changes: Textual
  renders a widget again each time it is shown or restyled, with nothing new to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.binding import Binding, BindingType
from textual.geometry import Size

from rnn_tui.metrics.smoothing import ema
from rnn_tui.tui.widgets import plot_ticks
from rnn_tui.tui.widgets.kept_figure import KeptFigurePlot
from rnn_tui.tui.widgets.plot_legend import (
    legend_hides,
    legend_lines,
    legend_mark,
    place_legend,
    series_markers,
)
from rnn_tui.tui.widgets.plot_ticks import axis_labels, log_axis_ticks, nice_log_ticks, nice_ticks
from rnn_tui.tui.widgets.plot_view import (
    any_inside,
    apart,
    clamped,
    decimate,
    is_flat,
    spans_view,
    visible,
    zoomed,
)

POINTS_PER_COLUMN = 2
ZOOM_STEP = 0.5  # `+` and the wheel halve the visible x range, `-` doubles it
PAN_STEP = 0.2  # an arrow moves the view by a fifth of it
RAW_COLOR = "gray"  # the raw points under a smoothed curve
MIN_ROWS = 8  # of the figure left above a legend moved under it (else it stays in a corner)


@dataclass(frozen=True)
class Series:
    """One labelled curve: x and y in data units (the plot takes logs where asked)."""

    label: str
    x: Sequence[float] | np.ndarray
    y: Sequence[float] | np.ndarray
    color: str | None = None  # a plotext colour name ("cyan+", "orange", …); None: plotext's cycle
    noisy: bool = False  # a per-step series: smoothed (with its raw points kept) when asked


HUGE_TICKS = 1e6  # from here a linear y axis gets round ticks with short labels (1.8e+26)


class LinePlot(KeptFigurePlot):
    """Labelled line series with optional log10 axes, replotted on data change and resize;
    zoom, pan, a log/linear y toggle and smoothing of the noisy series (module docstring)."""

    MIN_HEIGHT = 7  # two rows of curve between the title and the x axis (KeptFigurePlot)

    DEFAULT_CSS = """
    LinePlot:focus {
        background-tint: $foreground 4%;
    }
    """

    can_focus = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus,equals_sign", "zoom(0.5)", "Zoom in", show=False),
        Binding("minus", "zoom(2.0)", "Zoom out", show=False),
        Binding("left", "pan(-1, 0)", "Pan left", show=False),
        Binding("right", "pan(1, 0)", "Pan right", show=False),
        Binding("up", "pan(0, 1)", "Pan up", show=False),
        Binding("down", "pan(0, -1)", "Pan down", show=False),
        Binding("0", "reset_view", "All of it", show=False),
        Binding("l", "toggle_log", "Log/linear", show=False),
    ]

    def __init__(
        self,
        *,
        title: str = "",
        xlabel: str = "",
        ylabel: str = "",
        logx: bool = False,
        logy: bool = False,
        tight: bool = False,
        nice_x: bool = False,
        nice_y: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`tight`: log axes span the data (padded) with 1-2-5 ticks instead of whole decades
        (for values within a decade or two, such as perplexities); `nice_x`: a linear x axis
        gets round tick values (time steps); `nice_y`: so does a linear y axis (plotext's own
        labels read "-0.00" for a tick a hair below zero)."""
        super().__init__(id=id, classes=classes)
        self.plot_title = title
        self.xlabel = xlabel
        self.ylabel = ylabel
        self.logx = logx
        self.logy = logy
        self.tight = tight
        self.nice_x = nice_x
        self.nice_y = nice_y
        self.smoothing = 0.0  # the EMA weight for noisy series (0: raw only)
        self.x_view: tuple[float, float] | None = None  # the x range shown (plot units); None: all
        self.y_view: tuple[float, float] | None = None  # the y range shown; None: fit the view
        self._raw: list[Series] = []
        self._series: list[tuple[str, np.ndarray, np.ndarray, str | None]] = []
        self._drag: tuple[int, int, tuple[float, float], tuple[float, float]] | None = None
        self._replotted_size = Size(0, 0)
        self._legend: list[tuple[str, str, str]] = []  # (label, colour, mark): place_legend
        self._below = 0  # rows of the legend written under the figure (finish_figure)

    # -- data -------------------------------------------------------------------------------

    def set_series(self, series: Sequence[Series]) -> None:
        """Replace every curve; values ≤ 0 are dropped on a log axis."""
        self._raw = list(series)
        self._prepare()
        self.replot()

    def set_smoothing(self, weight: float) -> None:
        """Smooth the noisy series with EMA weight `weight` (0 turns it off)."""
        if weight != self.smoothing:
            self.smoothing = weight
            self._prepare()
            self.replot()

    def _prepare(self) -> None:
        """The stored series in plot units: logs taken, noisy ones smoothed over their raw
        points (drawn first, in grey, without a legend entry)."""
        prepared = []
        for s in self._raw:
            x = np.asarray(s.x, dtype=float)
            y = np.asarray(s.y, dtype=float)
            keep = np.isfinite(x) & np.isfinite(y)
            if self.logx:
                keep &= x > 0
            if self.logy:
                keep &= y > 0
            x, y = x[keep], y[keep]
            px = np.log10(x) if self.logx else x
            if s.noisy and self.smoothing > 0 and len(y) > 1:
                prepared.append(("", px, np.log10(y) if self.logy else y, RAW_COLOR))
                y = ema(y, self.smoothing)
            prepared.append((s.label, px, np.log10(y) if self.logy else y, s.color))
        self._series = prepared

    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The x and y extent of all the points (plot units); None without points."""
        xs = [x for _, x, _, _ in self._series if len(x)]
        ys = [y for _, _, y, _ in self._series if len(y)]
        if not xs:
            return None
        x = np.concatenate(xs)
        y = np.concatenate(ys)
        return (float(x.min()), float(x.max())), (float(y.min()), float(y.max()))

    @property
    def num_points(self) -> int:
        """Points handed to plotext at the current width (what one render costs)."""
        return sum(len(x) for x in self._decimated()[1])

    def _decimated(self) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
        buckets = max(8, self.size.width * POINTS_PER_COLUMN)
        labels, xs, ys = [], [], []
        for label, x, y, _ in self._series:
            if self.x_view is not None:
                x, y = visible(x, y, *self.x_view)
            dx, dy = decimate(x, y, buckets)
            labels.append(label)
            xs.append(dx)
            ys.append(dy)
        return labels, xs, ys

    def replot(self) -> None:
        """Rebuild plotext's data from the stored series, then repaint this widget."""
        self._load_figure()
        self.refresh()

    def _load_figure(self, below: int = 0) -> None:
        """Hand plotext the stored series, fitted to the current size less `below` rows (what a
        subclass adds to the figure, it adds here: a render at a new size loads the figure
        again). `below`: the same figure again, shorter, under a legend (finish_figure)."""
        if not below:
            self.figure_changed()
        self._below = below
        self._replotted_size = self.size
        plt = self.plt
        # All settings, not only the data: limits and ticks of a view or a log axis left behind
        # would stick. The theme goes with them, and it picks the colours of the series added
        # below, so it is set again at once (textual-plotext sets it at every render too).
        plt.clear_figure()
        if self.is_attached:
            plt.theme(self._get_plotext_theme_name(self.app.theme))
        zoomed = " · zoomed (0: all)" if self.x_view is not None or self.y_view is not None else ""
        plt.title(plot_ticks.fit_title(self.plot_title + zoomed, self.size.width))
        plt.xlabel(self.xlabel)
        plt.ylabel(self.ylabel)
        labels, xs, ys = self._decimated()
        colors = [color for *_, color in self._series]
        # Without colour each labelled series has its own marker (plot_legend.py).
        markers = series_markers(labels, not (self.is_attached and self.app.no_color))
        nonempty = [
            (lab, x, y, color, marker)
            for lab, x, y, color, marker in zip(labels, xs, ys, colors, markers, strict=True)
            if len(x)
        ]
        # The legend goes where it hides no point (plot_legend.py) when every labelled series
        # has its colour; plotext's own, top-left over the curves, otherwise.
        self._legend = []
        own = all(color for label, _, _, color, _ in nonempty if label)
        for label, x, y, color, marker in nonempty:
            extra = {"color": color} if color else {}
            if label and own:
                # A line crossing the view keeps its entry (a baseline's two ends lie outside
                # a zoomed view, and its entry went while its line stayed).
                if spans_view(x, y, self.x_view, self.y_view):
                    self._legend.append((label, color, legend_mark(marker)))
                label = ""
            # plotext's legend fails on a labelled series it draws nothing of (all of it outside
            # a zoomed or panned view): such a series goes unlabelled.
            if label and not any_inside(x, y, self.x_view, self.y_view):
                label = ""
            plt.plot(x.tolist(), y.tolist(), label=label or None, marker=marker, **extra)
        if nonempty:
            all_x = np.concatenate([x for _, x, *_ in nonempty])
            all_y = np.concatenate([y for _, _, y, *_ in nonempty])
            x_lo, x_hi = self.x_view or (float(all_x.min()), float(all_x.max()))
            y_lo, y_hi = self.y_view or (float(all_y.min()), float(all_y.max()))
            if self.logx:
                room = max(2, self.size.width // 8)  # a label is up to 5 characters and a gap
                self._log_axis(plt.xticks, plt.xlim, x_lo, x_hi, room, self.x_view is not None)
            elif self.nice_x:
                # A label is up to 5 characters and a space: fewer ticks on a narrow plot.
                ticks = nice_ticks(x_lo, x_hi, most=max(2, min(7, self.size.width // 6)))
                plt.xticks(ticks, axis_labels(ticks))
            if self.logy:
                room = max(2, (self.size.height - below - 4) // 2)  # rows left by title, x axis
                self._log_axis(plt.yticks, plt.ylim, y_lo, y_hi, room, self.y_view is not None)
            elif self.nice_y or max(abs(y_lo), abs(y_hi)) >= HUGE_TICKS:
                # A row of plot between labels: the rows left by the title and the x axis.
                # Past HUGE_TICKS on any linear axis: plotext wrote a diverged run's loss ticks
                # with 27 digits, and they squeezed the plot to a few columns.
                rows = self.size.height - below - 4
                ticks = nice_ticks(y_lo, y_hi, most=max(2, min(7, rows // 2)))
                plt.yticks(ticks, axis_labels(ticks))
            if self.x_view is not None:
                plt.xlim(*apart(*self.x_view))
            if self.y_view is not None:
                plt.ylim(*apart(*self.y_view))
            if not self.logx:
                self._flat_axis(plt.xticks, plt.xlim, x_lo, x_hi)
            if not self.logy:
                self._flat_axis(plt.yticks, plt.ylim, y_lo, y_hi)

    @staticmethod
    def _flat_axis(set_ticks, set_limits, lo: float, hi: float) -> None:
        """A linear axis whose data (or view) is one value up to rounding: limits around it and
        round ticks, where plotext would label differences in the 15th digit."""
        if is_flat(lo, hi):
            lo, hi = apart(lo, hi)
            ticks = nice_ticks(lo, hi, most=5)
            set_limits(lo, hi)
            set_ticks(ticks, [f"{t:g}" for t in ticks])

    def _log_axis(
        self, set_ticks, set_limits, lo: float, hi: float, room: int, viewed: bool = False
    ) -> None:
        """Decade ticks (1-2-5 when `tight` or zoomed in), at most `room` labels."""
        if self.tight or viewed:
            pad = 0.0 if viewed else max(0.02, (hi - lo) * 0.05)
            ticks, tick_labels = nice_log_ticks(lo - pad, hi + pad)
            set_ticks(ticks, tick_labels)
            set_limits(lo - pad, hi + pad)
            return
        # Limits on the decades, so the first and last tick label are drawn.
        ticks, tick_labels = log_axis_ticks(lo, hi, room)
        set_limits(ticks[0], ticks[-1])
        set_ticks(ticks, tick_labels)

    # -- zoom and pan -----------------------------------------------------------------------

    def zoom(self, factor: float, at: float | None = None) -> None:
        """Scale the visible x range by `factor` (< 1 zooms in) around `at` (plot units; the
        middle of the view by default); zooming out past the data shows all of it."""
        bounds = self.bounds()
        if bounds is None:
            return
        view = self.x_view or bounds[0]
        if view[1] <= view[0]:
            return
        at = (view[0] + view[1]) / 2 if at is None else at
        self.x_view = clamped(zoomed(view, factor, at), bounds[0])
        if self.x_view is None:
            self.y_view = None
        self.replot()

    def pan(self, dx: float, dy: float) -> None:
        """Move the view by `dx`/`dy` times its own width/height (within the data)."""
        bounds = self.bounds()
        if bounds is None:
            return
        if dx and self.x_view is not None:
            width = self.x_view[1] - self.x_view[0]
            lo = self.x_view[0] + dx * width
            self.x_view = clamped((lo, lo + width), bounds[0]) or self.x_view
        if dy:
            lo, hi = self.y_view or self._fitted_y(bounds)
            step = dy * (hi - lo)
            self.y_view = (lo + step, hi + step)
        self.replot()

    def _fitted_y(self, bounds) -> tuple[float, float]:
        """The y range the current x view fits to (what panning up or down starts from)."""
        if self.x_view is None:
            return bounds[1]
        ys = [visible(x, y, *self.x_view)[1] for _, x, y, _ in self._series if len(x)]
        y = np.concatenate(ys) if ys else np.zeros(0)
        return (float(y.min()), float(y.max())) if len(y) else bounds[1]

    def reset_view(self) -> None:
        self.x_view = self.y_view = None
        self.replot()

    def action_zoom(self, factor: float) -> None:
        self.zoom(factor)

    def action_pan(self, dx: int, dy: int) -> None:
        self.pan(dx * PAN_STEP, dy * PAN_STEP)

    def action_reset_view(self) -> None:
        self.reset_view()

    def action_toggle_log(self) -> None:
        """Switch the y axis between log and linear (the y view is reset: its units change)."""
        self.logy = not self.logy
        self.y_view = None
        self._prepare()
        self.replot()

    def _x_at(self, column: int) -> float | None:
        """The x value under a column of this widget (the whole width spans the view: close
        enough to zoom around, without knowing plotext's margins)."""
        bounds = self.bounds()
        if bounds is None:
            return None
        lo, hi = self.x_view or bounds[0]
        return lo + (hi - lo) * column / max(1, self.size.width - 1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.zoom(ZOOM_STEP, self._x_at(event.x))

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.zoom(1 / ZOOM_STEP, self._x_at(event.x))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        bounds = self.bounds()
        if bounds is None or event.button != 1:
            return
        self._drag = (event.x, event.y, self.x_view or bounds[0], self.y_view or bounds[1])
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._drag is None:
            return
        bounds = self.bounds()
        x0, y0, (x_lo, x_hi), (y_lo, y_hi) = self._drag
        if bounds is None:
            return
        dx = (event.x - x0) / max(1, self.size.width) * (x_hi - x_lo)
        dy = (event.y - y0) / max(1, self.size.height) * (y_hi - y_lo)
        if dx and self.x_view is not None:
            self.x_view = clamped((x_lo - dx, x_hi - dx), bounds[0]) or self.x_view
        if dy:
            self.y_view = (y_lo + dy, y_hi + dy)
        self.replot()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._drag is not None:
            self._drag = None
            self.release_mouse()

    def on_resize(self, event: events.Resize) -> None:
        # The points kept and the log ticks depend on the size. Showing a hidden tab resizes
        # its widgets to the size they had, and a render at a new size has replotted already
        # (below): nothing to replot then.
        if self.size != self._replotted_size:
            self.replot()

    def render(self) -> RenderResult:
        """plotext's figure, built again only after a replot or a new size or theme (12 ms for
        the Dataset screen's Zipf plot, which Textual renders three times each time its tab is
        shown)."""
        if self.size != self._replotted_size and self.size:
            # Textual renders a widget at its new size before the Resize reaches it: fitted
            # here, the figure is built once, not once stale and again after the Resize (the
            # Zipf plot's first showing drew it twice, 27 and 33 ms).
            self._load_figure()
        return super().render()

    def finish_figure(self, figure: RenderResult) -> RenderResult:
        """The legend in a corner of the figure where it hides nothing; where every corner
        hides points (a narrow plot), under a figure built that many rows shorter."""
        if (
            not isinstance(figure, Text)
            or not self._legend
            or not legend_hides(figure, self._legend)
        ):
            return place_legend(figure, self._legend) if isinstance(figure, Text) else figure
        last = figure.split("\n")[-1]
        base = last.spans[0].style if last.spans else ""
        text = next(
            (span.style for span in last.spans if last.plain[span.start : span.end].strip()), ""
        )
        indent = next((line.find("┌") for line in figure.plain.split("\n") if "┌" in line), 0)
        width, height = self.size
        below = legend_lines(self._legend, width, max(0, indent), base, text)
        if height - len(below) < MIN_ROWS:
            return place_legend(figure, self._legend)
        if self._below != len(below):  # ticks for the rows left (built once per size and data)
            self._load_figure(below=len(below))
        self.plt.plotsize(width, height - len(below))
        self.plt._set_size(width, height - len(below))
        shorter = Text.from_ansi(self.plt.build())
        return Text("\n").join([*shorter.split("\n"), *below])
