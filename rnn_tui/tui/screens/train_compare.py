"""The Train screen's comparing keys: `t` shows the runs table instead of the curves (or back),
`a` draws the curves against the next x axis (epoch → step → wall time); the table's Enter
ticks or unticks a run, as the run list does."""

from __future__ import annotations

from rnn_tui.tui.widgets.runs_table import RunsTable
from rnn_tui.tui.widgets.train_side import TrainSide
from rnn_tui.tui.widgets.train_view import RunView

# Narrower than this, the side panel makes way for the runs table while it is shown: beside it,
# at 80 columns, the table showed only its run and model columns, not the scores it compares.
TABLE_BESIDE_PANEL = 110


class RunCompare:
    """Mixed into TrainScreen: it provides runs (FollowedRuns), tick_runs, refresh_runs,
    redraw and notify."""

    _side_made_way = False  # the side panel hidden by the table, shown again after it

    def action_toggle_table(self) -> None:
        view = self.query_one(RunView)
        side = self.query_one(TrainSide)
        if view.toggle_table():
            if side.display and self.size.width < TABLE_BESIDE_PANEL:
                side.hide()
                self._side_made_way = True
            self.show_table()
            self.refresh_runs()  # the scores as they are now
        elif self._side_made_way:
            self._side_made_way = False
            if not side.display:
                side.show()

    def action_next_axis(self) -> None:
        axis = self.query_one(RunView).next_axis()
        self.redraw()
        if axis != "epoch":
            self.notify(f"curves against {axis}: a for the next axis", timeout=2, markup=False)

    def show_table(self) -> None:
        """Refill the runs table (when shown) from the listed runs and the ticked ones."""
        view = self.query_one(RunView)
        if view.table_shown:
            colors = {k: self.runs.run_colors[k] for k in self.runs.selected}
            view.show_table(self.runs.entries(), colors)

    def on_runs_table_toggled(self, event: RunsTable.Toggled) -> None:
        # A named handler, not @on: a mixin is not a message pump, so @on would not register.
        selected = list(self.runs.selected)
        if event.path in selected:
            selected.remove(event.path)
        else:
            selected.append(event.path)
        self.tick_runs(selected)
