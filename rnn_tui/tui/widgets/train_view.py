"""The Train screen's main column: the followed run's header, its curves (overlaid with the
other ticked runs') and its latest samples."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical

from rnn_tui.runs.follow import Snapshot
from rnn_tui.tui.widgets.train_curves import Curve, CurvePanel
from rnn_tui.tui.widgets.train_form import SEQ2SEQ
from rnn_tui.tui.widgets.train_header import RunHeader
from rnn_tui.tui.widgets.train_samples import SampleLog


class RunView(Vertical):
    """Header, curves and samples, redrawn together by `show()`."""

    DEFAULT_CSS = """
    RunView {
        width: 1fr;
        height: 1fr;
        padding: 0 0 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        yield RunHeader(id="run-header")
        yield CurvePanel(id="curves")
        yield SampleLog(id="samples")

    def show(
        self,
        snap: Snapshot | None,
        curves: Sequence[Curve],
        memory_mb: float | None = None,
        starting: bool = False,
        system: str = "",
    ) -> None:
        """Draw the run `snap` (None: none shown) and `curves`; the header and samples redraw
        cheaply, the plots only when the curves brought new data. `system`: the header's
        system strip (FollowedRuns.system_text)."""
        header = self.query_one(RunHeader)
        if snap is None:
            header.show(None)
            self.query_one(SampleLog).show(())
        else:
            header.show(snap, memory_mb, starting=starting, system=system)
            self.query_one(SampleLog).show(snap.samples, translations=snap.task == SEQ2SEQ)
        self.query_one(CurvePanel).show(curves)
