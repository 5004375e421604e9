"""The Gradients screen's Flow tab: the seeds' three cases of backpropagation through time on one
random sequence — a tanh RNN with small recurrent weights (vanishes), one with large weights
(explodes), an LSTM whose forget gate keeps the signal — and a linear RNN beside its closed form,
as ‖∂L_T/∂h_t‖ against t on a log axis; under the plot ρ(W_hh) and the rate per step of each,
and what clipping and truncation do to the large RNN's gradient."""

from __future__ import annotations

import math
from pathlib import PurePath
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Select, Static

from rnn_tui.options import by_name, with_changes
from rnn_tui.probe.options import GRADIENT_OPTIONS
from rnn_tui.runs.discover import RUN_CHECKPOINTS
from rnn_tui.runs.rundir import CHECKPOINTS_DIR
from rnn_tui.tui.widgets.option_input import option_input, read_field
from rnn_tui.tui.widgets.plot import LinePlot, Series
from rnn_tui.tui.widgets.train_curves import RUN_STYLES

if TYPE_CHECKING:
    from rnn_tui.probe.gradients import GradientFlow
    from rnn_tui.probe.report import GradientReport

_BY_NAME = by_name(GRADIENT_OPTIONS)
SCALE = _BY_NAME["init_scale"]
SMALL = with_changes(
    SCALE, name="small", default=0.8, label="small ρ", help="ρ(W_hh) of the RNN that vanishes"
)
LARGE = with_changes(
    SCALE, name="large", default=2.0, label="large ρ", help="ρ(W_hh) of the RNN that explodes"
)
FLOW_OPTIONS = (
    _BY_NAME["length"],
    _BY_NAME["hidden"],
    SMALL,
    LARGE,
    with_changes(_BY_NAME["gate_bias"], default=2.0, help="the LSTM's forget-gate bias"),
    _BY_NAME["clip"],
    _BY_NAME["truncate"],
    _BY_NAME["seed"],
)
COLORS = ("cyan+", "red+", "green+", "orange+", "magenta+")
# A fifth curve: a fresh GRU, or the Inside tab's checkpoint reading the corpus or random tokens.
ALSO = (
    ("—", "none"),
    ("gru (gate bias)", "gru"),
    ("checkpoint · corpus", "corpus"),
    ("checkpoint · random", "random"),
)
LABEL = 14  # the facts' label column at least ("lstm f-bias 2")


class FlowPanel(Horizontal):
    """The options on the left; the plot and the facts on the right."""

    NOTE = "enter or r: measure again"

    DEFAULT_CSS = """
    FlowPanel {
        height: 1fr;
    }
    FlowPanel #flow-form {
        width: 24;
        padding: 0 1 0 0;
    }
    FlowPanel .form-row {
        height: 1;
    }
    FlowPanel .form-label {
        width: 10;
        color: $text-muted;
    }
    FlowPanel #flow-form Input, FlowPanel #flow-form Select {
        width: 1fr;
    }
    FlowPanel #flow-note {
        height: auto;
        margin: 1 0 0 0;
        color: $text-muted;
    }
    FlowPanel #flow-right {
        /* The plot takes the rows the facts leave; where it cannot keep its least height
        (80×24 with the explain panel open) the facts go below it and the column scrolls. */
        width: 1fr;
        scrollbar-size-vertical: 1;
    }
    FlowPanel #flow-plot {
        height: 1fr;
        min-height: 8;
    }
    FlowPanel #flow-facts {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="flow-form"):
            for option in FLOW_OPTIONS:
                with Horizontal(classes="form-row"):
                    yield Label(option.title, classes="form-label")
                    yield option_input(option, id=f"flow-{option.name}")
            with Horizontal(classes="form-row"):
                yield Label("also", classes="form-label")
                yield Select(
                    ALSO,
                    value="none",
                    allow_blank=False,
                    compact=True,
                    id="flow-also",
                    tooltip="A fifth cell: a fresh GRU with the gate bias, or the Inside tab's "
                    "checkpoint reading the first T tokens of the corpus it was trained on or "
                    "random ones; clipping and truncation are then shown for it",
                )
            yield Static(self.NOTE, id="flow-note", markup=False)
        with _Column(id="flow-right"):
            yield LinePlot(
                title="‖∂L_T/∂h_t‖ going back from t = T",
                xlabel="t",
                logy=True,
                nice_x=True,
                id="flow-plot",
            )
            yield FlowFacts("measuring…", id="flow-facts")

    def options(self) -> tuple[dict, list[str]]:
        """(values by option name, problems naming each invalid field)."""
        values: dict = {}
        problems: list[str] = []
        for option in FLOW_OPTIONS:
            value, problem = read_field(self.query_one(f"#flow-{option.name}", Input), option)
            if problem is not None:
                problems.append(problem)
            values[option.name] = value
        values["also"] = str(self.query_one("#flow-also", Select).value)
        return values, problems

    def measuring(self, text: str) -> None:
        """Say under the form how far the measurement has come (the last one stays drawn)."""
        self.query_one("#flow-note", Static).update(f"measuring…\n{text}")

    def stopped(self) -> None:
        """The measurement ended without a result: the note is the usual one again."""
        self.query_one("#flow-note", Static).update(self.NOTE)

    def show(
        self,
        flows: list[tuple[str, GradientFlow]],
        report: GradientReport,
        shorter: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """Draw the measured curves (and the linear one's closed form) and the facts, where a
        label too long for their column takes the first of its `shorter` forms that fits."""
        self.stopped()
        series = []
        for (label, flow), color in zip(flows, COLORS, strict=False):
            t = list(range(1, len(flow.norms) + 1))
            # The plot leaves out what overflowed; the legend says where the curve stops.
            last = overflowed_to(flow.norms)
            label = f"{label} (inf to t={last})" if last else label
            series.append(Series(label, t, flow.norms, color))
            if flow.predicted is not None:
                series.append(Series("closed form", t, flow.predicted, "gray"))
        self.query_one(LinePlot).set_series(series)
        self.query_one(FlowFacts).show(flows, report, shorter or {})


class _Column(VerticalScroll):
    """The plot and the facts; a tab stop only while it has rows to scroll."""

    def allow_focus(self) -> bool:
        return self.allow_vertical_scroll


class FlowFacts(Static):
    """The facts under the plot, fitted again to their own width whenever it changes (the
    column's scrollbar, when it appears, takes one)."""

    _shown: tuple | None = None

    def show(self, flows, report: GradientReport, shorter: dict[str, tuple[str, ...]]) -> None:
        self._shown = (flows, report, shorter)
        # The facts name a checkpoint by its file; its whole path is a hover away.
        self.tooltip = report.source if " from " in report.source else None
        self._draw()

    def _draw(self) -> None:
        if self._shown is not None:
            flows, report, shorter = self._shown
            self.update(facts(flows, report, self.size.width, shorter))

    def on_resize(self) -> None:
        self._draw()


def _agreement(flow: GradientFlow) -> str:
    """How closely the measured norms follow the closed form, over the steps where both are
    numbers: an overflowed pair (inf − inf) made the whole comparison "nan"."""
    pairs = list(zip(flow.norms, flow.predicted or [], strict=True))
    finite = [(m, p) for m, p in pairs if math.isfinite(m) and math.isfinite(p)]
    if not finite:
        return "both overflowed at every step"
    worst = max((abs(m - p) / p for m, p in finite if p > 0), default=0.0)
    # Below 1e-12 is rounding (its digits differ between processors).
    agree = "the same within " + ("1e-12" if worst < 1e-12 else f"{worst:.1e}")
    lost = len(pairs) - len(finite)
    # On a line of its own: the facts are 55 columns wide at 80.
    return agree + (f"\n    where finite ({lost} of {len(pairs)} steps overflowed)" if lost else "")


def overflowed_to(norms: list[float]) -> int:
    """The last step t (1-based) whose norm overflowed to inf or NaN; 0 when none did."""
    return max((t for t, norm in enumerate(norms, 1) if not math.isfinite(norm)), default=0)


def _ratio(norms: list[float]) -> str:
    """‖g_1‖/‖g_T‖, or what kept it from being a number (short: the line is cut at 80
    columns, and the legend says the same)."""
    first, last = norms[0], norms[-1]
    if not math.isfinite(first):
        return f"inf to t={overflowed_to(norms)}"
    if first == 0 < last:
        return "underflow"
    return f"{first / last:.1e}" if last > 0 else "–"


def _rate(norms: list[float]) -> str:
    from rnn_tui.probe.gradients import decay_rate

    rate = decay_rate(norms)
    return f"×{rate:.3g}/step" if rate is not None else "–"


def fifth_labels(report: GradientReport, reads: str) -> tuple[str, ...]:
    """The fifth curve's label, then shorter forms of it (longest first) for the facts' label
    column at 80 columns: a checkpoint's model with "top of N" when stacked (its figures are its
    top layer's; ×N, as the picker says it, when short of room) and what it reads ("corpus",
    "random"), or a fresh GRU (`reads` "")."""
    if not reads:
        return ("gru (fresh)",)
    name, kind, n = report.source.split(" from ")[0], report.cell, report.layers
    top, times = (f" top of {n}", f" ×{n}") if n > 1 else ("", "")
    forms = (f"{name}{top}", f"{name}{times}", f"{kind}{times}", kind)
    return tuple(dict.fromkeys(f"{form} · {reads}" for form in forms))


def source_name(source: str) -> str:
    """`source` ("fresh rnn", "lstm from /…/checkpoints/timemachine-char-lstm.safetensors") with
    the checkpoint named as the picker lists it: its file's name, a run's best or last with
    the run's folder ("lm-a/best")."""
    model, sep, path = source.partition(" from ")
    if not sep:
        return source
    where = PurePath(path)
    name, folder = where.stem, where.parent
    if name in RUN_CHECKPOINTS:  # said by itself, "best" is any run's
        run = folder.parent if folder.name == CHECKPOINTS_DIR else folder
        name = f"{run.name}/{name}" if run.name else name
    return f"{model} from {name}"


def fitted_label(label: str, room: int, shorter: tuple[str, ...] = ()) -> str:
    """`label` in `room` columns: whole, else the first of its `shorter` forms that fits, else
    cut, ending in "…"."""
    fits = [form for form in (label, *shorter) if len(form) <= room]
    return fits[0] if fits else label[: room - 1].rstrip() + "…"


def facts(
    flows: list[tuple[str, GradientFlow]],
    report: GradientReport,
    width: int = 0,
    shorter: dict[str, tuple[str, ...]] | None = None,
) -> Text:
    """One line per case (ρ(W_hh), an LSTM's ρ(W_hc), the mean factor per step back,
    ‖g_1‖/‖g_T‖: how much of the gradient at step T reaches step 1), the closed form's
    agreement, then clipping and truncation of the reported cell (of its W_hh or W_hc); the
    labels as wide as the widest, as far as `width` (0: any) leaves them room, a longer one
    given as the first of its `shorter` forms that fits."""
    text = Text(no_wrap=True, overflow="ellipsis")
    # Each column as wide as its widest value: ρ 0.727 or ×1.2e-05/step shifted the rest.
    numbers = [
        (f"ρ {flow.spectral_radius:.3g}", _rate(flow.norms), _ratio(flow.norms))
        for _, flow in flows
    ]
    rho, rate = (max([least, *(len(n[i]) for n in numbers)]) for i, least in ((0, 6), (1, 11)))
    # The line is "█ ", the label, ρ, the rate, " g_1/g_T " and the ratio.
    rest = 2 + 1 + rho + 1 + rate + 9 + max(len(n[2]) for n in numbers)
    room = max(LABEL, width - rest) if width else max(len(label) for label, _ in flows)
    rows = [
        (fitted_label(label, room, (shorter or {}).get(label, ())), *n)
        for (label, _), n in zip(flows, numbers, strict=True)
    ]
    widths = (max(LABEL, *(len(row[0]) for row in rows)), rho, rate)
    for (_, flow), row, color in zip(flows, rows, COLORS, strict=False):
        text.append("█ ", style=RUN_STYLES.get(color, ""))
        cells = " ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=False))
        text.append(f"{cells} g_1/g_T {row[3]}\n")
        if flow.predicted is not None:
            closed = f"  its closed form (W_hh^(T−t))ᵀ: {_agreement(flow)}"
            if width and len(closed.split("\n")[0]) > width:  # the column's scrollbar took one
                closed = closed.replace("its closed", "closed", 1)
            text.append(closed + "\n")
    clip, cut = report.clip, report.truncation
    rho = f" (ρ {report.flow.spectral_radius:.3g}):"
    # The checkpoint by name, not by its whole path: that cut off the ρ at 80 columns.
    name = source_name(report.source)
    text.append(f"{fitted_label(name, max(8, width - len(rho))) if width else name}{rho}\n")
    if math.isfinite(clip.before):
        # A τ past the length is the whole sequence: said, not shown as another value.
        tau = f"τ={cut.tau}"
        if report.truncate > cut.tau:
            tau = f"τ={report.truncate} (the whole sequence of {cut.tau})"
        text.append(
            f"  clipping θ={clip.theta:g}: ‖g‖ {clip.before:.3g} → {clip.after:.3g}, "
            f"cosine {clip.cosine:.6f}\n"
            # A ratio of norms, not a share of the terms: the dropped terms can outweigh
            # the whole (>100 %) when they point against the kept ones.
            f"  truncated after {tau}: ‖dropped‖/‖∂L/∂{report.weight}‖ "
            f"{100 * cut.relative_difference:.3g} %"
        )
    else:
        text.append("  the gradient overflowed: no clipping rescues inf or NaN")
    return text


__all__ = [
    "FLOW_OPTIONS",
    "FlowFacts",
    "FlowPanel",
    "facts",
    "fifth_labels",
    "fitted_label",
    "overflowed_to",
    "source_name",
]
