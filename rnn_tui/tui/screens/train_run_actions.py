"""The Train screen's actions on a listed run (the run list's c, m, delete): continue it for
more epochs — what the app used to print as a command — rename its folder, or delete it.

Each refuses a run a trainer is at work in (and continue one that cannot be continued) before
it asks (a dialog), then acts through rnn_tui.runs.manage, which checks again under the run's
lock; a refusal is a notification and the app stays as it was.
"""

from __future__ import annotations

from pathlib import Path

from rnn_tui.quoting import plain
from rnn_tui.runs.manage import (
    EPOCHS,
    check_idle,
    check_name,
    check_resumable,
    delete_run,
    rename_run,
    resume_command,
)
from rnn_tui.runs.rundir import RunError
from rnn_tui.tui.widgets.run_dialogs import AskDialog, ConfirmDialog
from rnn_tui.tui.widgets.train_runs import RunPicker

CONTINUE_BY = 10  # epochs proposed beyond the run's planned ones


class RunActions:
    """Mixed into TrainScreen: it provides runs (FollowedRuns), child_nice, notify, app,
    refresh_runs, redraw, open_run and _first_read."""

    def shown_runs(self) -> list[str]:
        """The run the header is about: `o` highlights it, so c, m and del act on it."""
        return [self.runs.primary] if self.runs.primary is not None else []

    def _entry(self) -> dict | None:
        entry = self.query_one(RunPicker).highlighted_entry
        if entry is None:
            self.notify("no run highlighted in the list", severity="warning", markup=False)
        return entry

    def _error(self, exc: Exception) -> None:
        self.notify(plain(str(exc)), severity="error", markup=False)

    def _allowed(self, check, path: Path) -> bool:
        """Whether `check(path)` lets the action go on; else its refusal is told, before any
        dialog asks (a run another process trains, or one that cannot be continued)."""
        try:
            check(path)
        except RunError as exc:
            self._error(exc)
            return False
        return True

    def refuse_while_training(self) -> bool:
        """True, after a notification, while the trainer this screen started is at work (one
        at a time): starting or continuing a run waits for it."""
        training = self.runs.training()
        if training is None:
            return False
        self.notify(
            f"{plain(training.path.name)} is still training: stop it first (x)",
            severity="warning",
            markup=False,
        )
        return True

    # -- continue -------------------------------------------------------------------------------

    def action_continue_run(self) -> None:
        entry = self._entry()
        if entry is None or self.refuse_while_training():
            return
        path = Path(entry["path"])
        if not self._allowed(check_resumable, path):
            return
        done = entry.get("epoch") or 0
        planned = entry.get("epochs") or done
        finished = entry.get("status") == "finished"
        proposal = max(planned, done) + CONTINUE_BY if finished else planned

        def check(text: str) -> str | None:
            try:
                resume_command(path, text)
            except RunError as exc:
                return str(exc)
            if EPOCHS.parse(text) <= done:
                return f"it has done {done} epochs already: give more"
            return None

        def answered(epochs: str | None) -> None:
            if epochs is not None:
                self._continue(path, epochs)

        self.app.push_screen(
            AskDialog(
                f"Continue {entry['name']} until epoch:",
                str(max(proposal, done + 1)),
                check,
                note=f"It has done {done} of {planned} epochs ({entry.get('status')}).\n",
            ),
            answered,
        )

    def _continue(self, path: Path, epochs: str) -> None:
        try:
            process = self.runs.resume(resume_command(path, epochs), path, nice=self.child_nice)
        except RunError as exc:
            self._error(exc)
            return
        self.notify(
            f"continuing {plain(path.name)} to epoch {epochs} (pid {process.pid})", markup=False
        )
        self._first_read(str(self.runs.primary))
        self.redraw()
        self.refresh_runs()

    # -- rename -----------------------------------------------------------------------------------

    def action_rename_run(self) -> None:
        entry = self._entry()
        if entry is None:
            return
        path = Path(entry["path"])
        if not self._allowed(check_idle, path):
            return

        def check(text: str) -> str | None:
            if text.strip() in (path.name, plain(path.name)):
                return "that is its name now"
            try:
                check_name(text, path.parent)
            except RunError as exc:
                return str(exc)
            return None

        def answered(name: str | None) -> None:
            if name is None:
                return
            runs = self.runs
            ticked = any(Path(key) == path for key in runs.selected)
            shown = runs.primary is not None and Path(runs.primary) == path
            primary = runs.primary
            try:
                target = rename_run(path, name)
            except RunError as exc:
                self._error(exc)
                return
            self._forget(path)
            if ticked:  # still ticked, and still shown if it was, under its new name
                self.open_run(target)
                if not shown and primary in runs.selected:
                    runs.primary = primary
                    self.redraw()
            self.notify(f"renamed {plain(path.name)} to {plain(target.name)}", markup=False)
            self.refresh_runs()

        self.app.push_screen(
            AskDialog(f"Rename {path.name} to:", plain(path.name), check), answered
        )

    # -- delete -----------------------------------------------------------------------------------

    def action_delete_run(self) -> None:
        entry = self._entry()
        if entry is None:
            return
        path = Path(entry["path"])
        if not self._allowed(check_idle, path):
            return
        checkpoints = sorted(p.name for p in (path / "checkpoints").glob("*.safetensors"))
        listed = ", ".join(checkpoints) if checkpoints else "no checkpoints"

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                delete_run(path)
            except RunError as exc:
                self._error(exc)
                return
            self._forget(path)
            self.notify(f"deleted {plain(path.name)}", markup=False)
            self.redraw()
            self.refresh_runs()

        self.app.push_screen(
            ConfirmDialog(
                f"Delete the run {path.name} ({listed})? This cannot be undone.",
                "Delete",
                note=f"{path}\nNothing else is touched.\n",
            ),
            answered,
        )

    def _forget(self, path: Path) -> None:
        for key in list(self.runs.followers):
            if Path(key) == path:
                self.runs.forget(key)
