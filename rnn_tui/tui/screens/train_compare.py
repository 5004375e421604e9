"""The Train screen's comparing keys: `t` shows the runs table instead of the curves (or back),
`a` draws the curves against the next x axis (epoch → step → wall time); the table's Enter
ticks or unticks a run, as the run list does."""

from __future__ import annotations

from rnn_tui.tui.widgets.runs_table import RunsTable
from rnn_tui.tui.widgets.train_view import RunView


class RunCompare:
    """Mixed into TrainScreen: it provides runs (FollowedRuns), tick_runs, refresh_runs,
    redraw and notify."""

    def action_toggle_table(self) -> None:
        view = self.query_one(RunView)
        if view.toggle_table():
            self.show_table()
            self.refresh_runs()  # the scores as they are now

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
