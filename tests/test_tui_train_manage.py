"""The Train screen's run list: continue a run for more epochs, rename it, delete it (Pilot), on
copies of the recorded runs."""

# ruff: noqa: F811 (pytest fixtures imported from test_tui_train)
from __future__ import annotations

import os
import sys
from pathlib import Path

from test_tui_train import runs, show_train, stop_child, train_app  # noqa: F401
from textual.widgets import Input, SelectionList, Static

from rnn_tui.runs import lock
from rnn_tui.runs.rundir import RunDir
from rnn_tui.tui.screens import train_run_actions
from rnn_tui.tui.widgets.run_dialogs import AskDialog, ConfirmDialog
from rnn_tui.tui.widgets.train_runs import RunPicker


async def highlight(pilot, tui, name: str):
    """Show the run list, focus it and highlight the run called `name`."""
    screen = await show_train(pilot, tui)
    await pilot.press("o")
    await tui.settle(pilot)
    run_list = screen.query_one("#run-list", SelectionList)
    # The list is filled by a thread worker: wait for it (a busy machine makes it slow).
    await tui.until(pilot, lambda: run_list.option_count >= 3, 60)
    run_list.focus()
    names = [str(run_list.get_option_at_index(i).value) for i in range(run_list.option_count)]
    run_list.highlighted = [n.rsplit("/", 1)[-1] for n in names].index(name)
    await pilot.pause()
    assert screen.query_one(RunPicker).highlighted_entry["name"] == name
    return screen


async def test_rename_a_run(runs, tui, train_app):
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await highlight(pilot, tui, "lm-gru-recorded")
        await pilot.press("m")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, AskDialog)
        field = dialog.query_one("#dialog-input", Input)
        assert field.value == "lm-gru-recorded"
        # A taken name keeps the dialog open with the reason.
        field.value = "lm-lstm-recorded"
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.screen is dialog
        assert "already exists" in str(dialog.query_one("#dialog-error", Static).render())
        field.value = "gru-baseline"
        await pilot.press("enter")
        await tui.settle(pilot)
        assert pilot.app.screen is screen
        assert (runs / "gru-baseline" / "metrics.jsonl").is_file()
        assert not (runs / "lm-gru-recorded").exists()
        assert sorted(p.name for p in runs.iterdir()) == [
            "gru-baseline", "lm-lstm-recorded", "lm-rnn-running"
        ]  # fmt: skip
        assert not tui.errors(pilot.app)


async def test_renaming_the_shown_run_keeps_it_shown(runs, tui, train_app):
    """The run on show, renamed, is still ticked and shown, read from its new folder; a ticked
    run that was not the one shown leaves the shown one as it was."""
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await highlight(pilot, tui, "lm-gru-recorded")
        assert screen.open_run(runs / "lm-lstm-recorded")
        assert screen.open_run(runs / "lm-gru-recorded")
        await tui.settle(pilot)
        for old, new, ticked, shown in [
            (
                "lm-gru-recorded",
                "gru-baseline",
                ["gru-baseline", "lm-lstm-recorded"],
                "gru-baseline",
            ),
            (
                "lm-lstm-recorded",
                "lstm-baseline",
                ["gru-baseline", "lstm-baseline"],
                "gru-baseline",
            ),
        ]:
            await highlight(pilot, tui, old)
            await pilot.press("m")
            await pilot.pause()
            pilot.app.screen.query_one("#dialog-input", Input).value = new
            await pilot.press("enter")
            await tui.settle(pilot)
            # The new folder's first read is a thread worker's.
            await tui.until(pilot, lambda: not screen.runs.loading, 60)
            await tui.settle(pilot)
            assert sorted(Path(key).name for key in screen.runs.selected) == ticked
            assert Path(screen.runs.primary).name == shown
            assert screen.runs.shown() is not None
            assert not any(Path(key).name == old for key in screen.runs.followers)
        assert not tui.errors(pilot.app)


async def test_delete_asks_and_escape_keeps_the_run(runs, tui, train_app):
    async with train_app().run_test(size=(120, 40)) as pilot:
        await highlight(pilot, tui, "lm-lstm-recorded")
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmDialog)
        assert "lm-lstm-recorded" in str(pilot.app.screen.query_one("#dialog-question").render())
        await pilot.press("escape")
        await pilot.pause()
        assert (runs / "lm-lstm-recorded").is_dir()
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("enter")  # the focused button is Cancel: a stray enter deletes nothing
        await pilot.pause()
        assert (runs / "lm-lstm-recorded").is_dir()
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("y")
        await tui.settle(pilot)
        assert not (runs / "lm-lstm-recorded").exists()
        assert sorted(p.name for p in runs.iterdir()) == ["lm-gru-recorded", "lm-rnn-running"]
        # What the app said (its toast may have expired while the run list was read again).
        assert any("deleted lm-lstm-recorded" in message for message, _ in pilot.app.notified)


async def test_continue_proposes_more_epochs_and_starts_the_resume(
    runs, tui, train_app, monkeypatch
):
    commands = []
    real = train_run_actions.resume_command

    def fake_resume(path, epochs):
        commands.append(real(path, epochs))  # the real checks; then a harmless child
        return [sys.executable, "-c", "import time; time.sleep(30)"]

    monkeypatch.setattr(train_run_actions, "resume_command", fake_resume)
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await highlight(pilot, tui, "lm-gru-recorded")
        entry = screen.query_one(RunPicker).highlighted_entry
        done = entry["epoch"]
        await pilot.press("c")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, AskDialog)
        field = dialog.query_one("#dialog-input", Input)
        assert int(field.value) == max(entry["epochs"], done) + train_run_actions.CONTINUE_BY
        for bad, reason in ((str(done), "already"), ("0", "epochs must be"), ("x", "epochs")):
            field.value = bad
            await pilot.press("enter")
            await pilot.pause()
            assert pilot.app.screen is dialog
            assert reason in str(dialog.query_one("#dialog-error", Static).render())
        field.value = str(done + 5)
        await pilot.press("enter")
        await tui.settle(pilot)
        process = screen.process
        try:
            assert pilot.app.screen is screen and process is not None
            assert commands[-1][-4:] == [
                "--resume", str(runs / "lm-gru-recorded"), "--epochs", str(done + 5)
            ]  # fmt: skip
            assert screen.runs.primary == str(runs / "lm-gru-recorded")
            told = [message for message, _ in pilot.app.notified]
            assert any("continuing lm-gru-recorded" in message for message in told)
        finally:
            stop_child(process)


async def test_screen_keys_and_help_work_from_a_dialog(runs, tui, train_app):
    """In the rename dialog the footer shows the dialog's keys (not the Train screen's, which
    would be typed into its field); F1 shows the help over it, escape comes back to it; a
    screen key answers it as escape does (nothing renamed) and switches screens."""
    from rnn_tui.tui.widgets.footer import AppFooter

    async with train_app().run_test(size=(80, 24)) as pilot:
        await highlight(pilot, tui, "lm-gru-recorded")
        await pilot.press("m")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, AskDialog)
        footer = " ".join(key.description for key in dialog.query_one(AppFooter).keys())
        assert "Cancel" in footer and "Start" not in footer and "Continue" not in footer
        # As in the app (ScreenSpec titles each screen): the help's title is the screen's.
        pilot.app.sub_title, pilot.app.screen_stack[-2].sub_title = "", "Train"
        await pilot.press("f1")
        await pilot.pause()
        assert getattr(pilot.app.screen, "IS_HELP", False)
        assert pilot.app.screen._title == "Train"  # the screen the dialog belongs to
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is dialog
        await pilot.press("x", "f4")
        await tui.settle(pilot)
        assert pilot.app.current_mode == "generate" and len(pilot.app.screen_stack) == 1
        assert (runs / "lm-gru-recorded").is_dir()
        await pilot.press("f3")
        await tui.settle(pilot)
        assert pilot.app.current_mode == "train" and len(pilot.app.screen_stack) == 1
        assert not tui.errors(pilot.app)


async def test_a_run_another_process_trains_is_refused_before_any_dialog(runs, tui, train_app):
    """Continue on a live run opened a dialog, then started a trainer that failed; delete asked
    "This cannot be undone?" and refused only after y. Each now refuses at once."""
    run = runs / "lm-gru-recorded"
    fd = lock.acquire(RunDir(run).lock_path, wait=0)  # this process plays the trainer
    try:
        async with train_app().run_test(size=(120, 40)) as pilot:
            screen = await highlight(pilot, tui, "lm-gru-recorded")
            for key in ("c", "delete", "m"):
                before = len(pilot.app.notified)
                await pilot.press(key)
                await pilot.pause()
                assert pilot.app.screen is screen, key
                (told,) = [message for message, _ in pilot.app.notified[before:]]
                assert told == f"lm-gru-recorded is training (pid {os.getpid()}): stop it first"
            assert run.is_dir() and screen.process is None
    finally:
        os.close(fd)


async def test_a_run_without_its_config_is_not_offered_to_continue(runs, tui, train_app):
    (runs / "lm-gru-recorded" / "config.json").unlink()
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await highlight(pilot, tui, "lm-gru-recorded")
        before = len(pilot.app.notified)
        await pilot.press("c")
        await pilot.pause()
        assert pilot.app.screen is screen and screen.process is None
        (told,) = [message for message, _ in pilot.app.notified[before:]]
        assert told.startswith("lm-gru-recorded cannot be continued: ") and "config.json" in told


async def test_open_run_focuses_the_list_so_its_keys_work_at_once(runs, tui, train_app):
    """o put the focus in the path field: r, c and ↓ were typed into it ("cr")."""
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await pilot.press("o")
        run_list = screen.query_one("#run-list", SelectionList)
        # The list is read by a thread worker.
        await tui.until(pilot, lambda: run_list.option_count >= 3 and run_list.has_focus, 60)
        await pilot.press("r", "down")
        await pilot.pause()
        assert run_list.highlighted == 1
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(pilot.app.screen, AskDialog)
        await pilot.press("escape")
        await pilot.pause()
        path = screen.query_one("#run-path", Input)
        assert path.value == ""
        await pilot.press("shift+tab")  # the path field, named under the list
        assert path.has_focus
        assert "shift+tab types a path" in str(screen.query_one("#run-details").render())


async def test_open_run_with_no_runs_focuses_the_path_field(tmp_path, tui, train_app, monkeypatch):
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "none"))
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        await pilot.press("o")
        await tui.settle(pilot)
        assert screen.query_one("#run-path", Input).has_focus


async def test_open_run_highlights_the_run_shown(runs, tui, train_app):
    """o left the highlight where the list was last used, so c, m and del acted on another
    run than the one shown; it now puts the highlight and the details on the run shown."""
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await highlight(pilot, tui, "lm-gru-recorded")
        assert screen.open_run(runs / "lm-lstm-recorded")
        await tui.settle(pilot)
        screen.set_focus(None)
        await pilot.press("o")
        await tui.settle(pilot)
        picker = screen.query_one(RunPicker)
        assert picker.highlighted_entry["name"] == "lm-lstm-recorded"
        assert str(picker.query_one("#run-details", Static).render()).startswith("lstm ·")
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(pilot.app.screen, AskDialog)
        assert "lm-lstm-recorded" in str(pilot.app.screen.query_one("#dialog-question").render())
        assert not tui.errors(pilot.app)


async def test_the_focused_run_list_keeps_its_order_while_runs_write(runs, tui, train_app):
    """Ordered by latest write, a list reordered itself at each epoch a run wrote: ↑↓ and
    space ticked other runs than the ones the user had seen. Focused, it keeps its rows."""
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await highlight(pilot, tui, "lm-gru-recorded")
        run_list = screen.query_one("#run-list", SelectionList)

        def order() -> list[str]:
            return [
                str(run_list.get_option_at_index(i).value) for i in range(run_list.option_count)
            ]

        before = order()
        assert before[-1].endswith("lm-rnn-running")  # the oldest write
        for path in (runs / "lm-rnn-running").iterdir():  # it writes an epoch: now the newest
            os.utime(path)
        await pilot.press("r")  # rescan
        await tui.settle(pilot)  # the listing worker, and its result handled
        assert order() == before
        assert screen.query_one(RunPicker).highlighted_entry["name"] == "lm-gru-recorded"
        run_list.blur()  # unfocused, it takes the new order
        await pilot.press("r")
        # A fixed 2 s of pauses was too short for a busy machine's rescan.
        await tui.until(pilot, lambda: order()[0].endswith("lm-rnn-running"), 60)


async def test_the_run_list_is_rescanned_only_while_its_screen_is_shown(runs, tui, train_app):
    """Its 5-second rescan read every run's files while another screen was shown (5 % of a
    core with 1,500 runs); now it waits, and coming back rescans at once."""
    async with train_app().run_test(size=(120, 40)) as pilot:
        screen = await highlight(pilot, tui, "lm-gru-recorded")  # the run list shown
        scans: list[str] = []
        screen.refresh_runs = lambda: scans.append(pilot.app.current_mode)
        screen._auto_refresh_runs()
        assert scans == ["train"]
        await pilot.press("escape")
        await tui.open_screen(pilot, "gradients")
        screen._auto_refresh_runs()  # its timer, firing while Gradients is shown
        assert scans == ["train"]
        await pilot.press("escape")
        await pilot.press("2")
        await tui.settle(pilot)
        assert pilot.app.screen is screen and scans == ["train", "train"]
