"""The Train screen's main column: the followed run's header, its curves (overlaid with the
other ticked runs') with the smoothing slider and x axis under them, and its latest samples —
or, in its place (`t`), the runs table comparing every listed run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from rnn_tui.runs.follow import Snapshot
from rnn_tui.runs.x_axis import next_axis
from rnn_tui.tui.widgets.runs_table import RunsTable
from rnn_tui.tui.widgets.slider import Slider
from rnn_tui.tui.widgets.train_curves import Curve, CurvePanel
from rnn_tui.tui.widgets.train_form import SEQ2SEQ
from rnn_tui.tui.widgets.train_header import RunHeader
from rnn_tui.tui.widgets.train_samples import SampleLog

SMOOTHING_MAX = 0.95


class PlotBar(Horizontal):
    """Under the plots: the smoothing slider and what the x axis is (a key changes it)."""

    DEFAULT_CSS = """
    PlotBar {
        height: 1;
    }
    PlotBar Slider {
        width: 1fr;
        max-width: 44;
    }
    PlotBar #plot-axis {
        width: auto;
        padding: 0 0 0 2;
        color: $text-muted;
    }
    """

    def compose(self) -> ComposeResult:
        yield Slider(
            "smoothing",
            0.0,
            maximum=SMOOTHING_MAX,
            id="smoothing",
            tooltip="EMA of the per-step curves (raw points stay, in grey): ← → or a click",
        )
        yield Static("x: epoch (a)", id="plot-axis")


class RunView(Vertical):
    """Header, curves and samples, redrawn together by `show()`; or the runs table."""

    DEFAULT_CSS = """
    RunView {
        width: 1fr;
        height: 1fr;
        padding: 0 0 0 1;
    }
    RunView RunsTable {
        display: none;
    }
    RunView.-table RunsTable {
        display: block;
    }
    RunView.-table CurvePanel, RunView.-table PlotBar, RunView.-table SampleLog {
        display: none;
    }
    """

    def compose(self) -> ComposeResult:
        yield RunHeader(id="run-header")
        yield CurvePanel(id="curves")
        yield PlotBar(id="plot-bar")
        yield RunsTable(id="runs-table")
        yield SampleLog(id="samples")

    @property
    def table_shown(self) -> bool:
        return self.has_class("-table")

    def toggle_table(self) -> bool:
        """Show the runs table instead of the curves, or back; True when the table is shown."""
        self.toggle_class("-table")
        if self.table_shown:
            self.query_one(RunsTable).focus()
        return self.table_shown

    def show_table(self, entries: Sequence[Mapping], colors: Mapping[str, str]) -> None:
        self.query_one(RunsTable).show(entries, colors)

    def next_axis(self) -> str:
        """Draw the curves against the next x axis (epoch → step → wall time)."""
        panel = self.query_one(CurvePanel)
        axis = next_axis(panel.x_axis)
        panel.set_axis(axis)
        self.query_one("#plot-axis", Static).update(f"x: {axis} (a)")
        return axis

    def on_slider_changed(self, event: Slider.Changed) -> None:
        self.query_one(CurvePanel).set_smoothing(event.value)

    def show(
        self,
        snap: Snapshot | None,
        curves: Sequence[Curve],
        memory_mb: float | None = None,
        starting: str | None = None,
        system: str = "",
        reading: str = "",
    ) -> None:
        """Draw the run `snap` (None: none shown) and `curves`; the header and samples redraw
        cheaply, the plots only when the curves brought new data. `system`: the header's
        system strip (FollowedRuns.system_text); `reading`: the header's line while `snap` is None
        as the run opened is first read."""
        header = self.query_one(RunHeader)
        if snap is None:
            header.show(None, reading=reading)
            self.query_one(SampleLog).show(())
        else:
            header.show(snap, memory_mb, starting=starting, system=system)
            self.query_one(SampleLog).show(snap.samples, translations=snap.task == SEQ2SEQ)
        self.query_one(CurvePanel).show(curves)
