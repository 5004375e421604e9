"""The app's dialogs (a run's delete, rename and continue questions, the quit question): the
help opened over one explains it and lists every key that works there, and its footer shows
the keys its text names (Pilot)."""

from __future__ import annotations

import pytest

from rnn_tui.tui.app import SCREEN_SPECS
from rnn_tui.tui.screens.help import HelpScreen
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.run_dialogs import AskDialog, ConfirmDialog
from rnn_tui.tui.widgets.train_quit import QuitRunDialog

DIALOGS = {
    "delete": lambda: ConfirmDialog("Delete the run r? This cannot be undone.", "Delete"),
    "rename": lambda: AskDialog("Rename r to:", "r", lambda text: None),
    "quit": lambda: QuitRunDialog("r"),
}


@pytest.mark.parametrize("kind", DIALOGS)
async def test_the_help_over_a_dialog_explains_it_and_lists_the_keys_that_work(
    no_checkpoints, tui, kind
):
    """It showed an empty guide and only the dialog's own keys: not the screen keys (which
    answer it as escape would), f1 or ctrl+q. A key that does nothing there is not listed."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        dialog = DIALOGS[kind]()
        app.push_screen(dialog)
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert help_screen._guide.strip()
        assert "What this dialog asks" in [
            str(static.render()) for static in help_screen.query(".help-heading")
        ]
        keys = dict(help_screen.rows)
        for spec in SCREEN_SPECS:
            assert keys[spec.function_key].startswith(spec.title)
        assert "f1" in keys
        assert ("^q" in keys) is (kind != "quit")  # asked already: ctrl+q does nothing more
        assert "f9" not in keys and "e / f9" not in keys  # no explain panel over a dialog
        assert not any(key.startswith("←") for key in keys)  # no tabs in a dialog
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is dialog


@pytest.mark.parametrize(
    ("kind", "keys"),
    [("delete", ["esc", "y", "f1"]), ("rename", ["esc", "f1"]), ("quit", ["esc", "s", "l", "f1"])],
)
async def test_a_dialogs_footer_lists_the_keys_its_text_names(no_checkpoints, tui, kind, keys):
    """The quit question's text names s, l, escape and f1; its footer showed only escape."""
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        app.push_screen(DIALOGS[kind]())
        await pilot.pause()
        assert [key.display for key in app.screen.query_one(AppFooter).keys()] == keys
        await pilot.press("f1")
        await pilot.pause()
        rows = [key for key, _ in app.screen.rows]
        assert rows.count("f1") == 1


@pytest.mark.parametrize("kind", DIALOGS)
async def test_a_dialog_opens_clear_of_toasts(no_checkpoints, tui, kind):
    """At 80×24 the toasts shown before a dialog opened lay over its buttons."""
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        for n in range(3):
            app.notify(f"note {n}", timeout=60)
        await pilot.pause()
        assert len(app._notifications) == 3
        app.push_screen(DIALOGS[kind]())
        await pilot.pause()
        assert len(app._notifications) == 0
