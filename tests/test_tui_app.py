"""The app shell: opens on the Dataset screen, help, command palette, cheap import."""

from __future__ import annotations

import os
import subprocess
import sys

from textual.command import CommandPalette
from textual.widgets._header import HeaderTitle

from rnn_tui.runs import discover
from rnn_tui.tui.app import SCREEN_SPECS
from rnn_tui.tui.screens.dataset import DatasetScreen
from rnn_tui.tui.screens.help import HelpScreen
from rnn_tui.tui.screens.train import TrainScreen

SEEDS_VOCAB = ["<unk>", "the", "i", "and", "of", "a", "to", "was", "in", "that"]


async def test_opens_on_dataset_with_the_time_machine_vocabulary(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        assert isinstance(app.screen, DatasetScreen)
        assert str(app.screen.query_one(HeaderTitle).render()) == "rnn-tui — Dataset"
        lines = tui.table_lines(app, 11)
        assert lines[0].split() == ["index", "token", "frequency"]
        assert [line.split()[1] for line in lines[1:]] == SEEDS_VOCAB
        assert lines[2].split() == ["1", "the", "2,261"]
        assert "vocabulary 4,580" in tui.status(app)


async def test_a_long_error_stays_up_long_enough_to_read(tui) -> None:
    # The trainer's refusal of a too-big model (300 characters) was gone after the usual 5 s.
    app = tui.make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await tui.settle(pilot)
        for message, severity in (
            ("x" * 300, "error"),
            ("short", "error"),
            ("y" * 300, "information"),
            ("w" * 300, "warning"),  # a slot closed, and why: as long as an error's
        ):
            app.notify(message, severity=severity, markup=False)
        await pilot.pause()
        timeouts = {n.message[:1]: n.timeout for n in app.shown}
        assert timeouts == {
            "x": 20.0,
            "s": app.NOTIFICATION_TIMEOUT,
            "y": app.NOTIFICATION_TIMEOUT,
            "w": 20.0,
        }
        app.notify("z" * 3000, severity="error", timeout=None)
        await pilot.pause()
        # Shown bounded (about 430 characters), it stays as long as those take to read.
        shown = app.shown[-1]
        assert len(shown.message) < 450 and shown.timeout == len(shown.message) / 15 <= 30.0


async def test_number_keys_switch_away_and_back_to_the_dataset_screen(
    tui, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        dataset = app.screen
        await pilot.press("2")
        assert app.current_mode == "train" and isinstance(app.screen, TrainScreen)
        await pilot.press("1")
        assert app.current_mode == "dataset"
        assert app.screen is dataset  # the same screen, its corpus still loaded
        assert "vocabulary 4,580" in tui.status(app)


async def test_help_opens_with_question_mark_and_f1_and_closes_with_escape(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.rows)
        assert keys["/"].startswith("Search") and keys["t"].startswith("Token")
        assert keys["^q"].startswith("Quit") and keys["1 / f2"].startswith("Dataset")
        assert keys["E"].startswith("Encoding") and keys["e / f9"].startswith("Explain")
        assert "Vocabulary" in app.screen.query_one("#help-guide").source
        await pilot.press("escape")
        assert isinstance(app.screen, DatasetScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, DatasetScreen)


async def test_palette_lists_our_commands_and_runs_them(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await tui.palette_choose(pilot, "token level")
        await tui.settle(pilot)
        assert isinstance(app.screen, DatasetScreen)
        assert "vocabulary 28" in tui.status(app)


async def test_the_header_follows_the_screen_switched_to_through_the_palette(
    tui, tmp_path, monkeypatch
) -> None:
    # No checkpoint to find: neither screen loads a model.
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "no-shipped-checkpoints")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(tmp_path / "no-checkpoints"))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await tui.settle(pilot)
        await pilot.press("3")
        await tui.settle(pilot)
        assert str(app.screen.query_one(HeaderTitle).render()) == "rnn-tui — Generate"
        await tui.palette_choose(pilot, "screen translate")
        await tui.settle(pilot)
        assert app.current_mode == "translate"
        assert str(app.screen.query_one(HeaderTitle).render()) == "rnn-tui — Translate"


async def test_ctrl_q_quits(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


async def test_ctrl_c_says_how_to_quit_in_plain_words(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await tui.settle(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.is_running
        shown = app.shown[-1]
        assert (shown.title, shown.message) == (
            "Do you want to quit?",
            "Press ctrl+q to quit the app",
        )


async def test_a_screenshot_without_a_downloads_folder_is_saved_here(
    tui, tmp_path, monkeypatch
) -> None:
    # Over SSH an account often has no ~/Downloads: "Failed to save screenshot", no reason.
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_downloads_path", lambda: tmp_path / "Downloads")
    monkeypatch.chdir(tmp_path)
    app = tui.make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await tui.settle(pilot)
        app.action_screenshot()
        await pilot.pause()
        (saved,) = tmp_path.glob("*.svg")
        assert saved.read_text(encoding="utf-8").startswith("<svg")
        shown = app.shown[-1]
        assert shown.message == f"saved to {saved}" and shown.severity == "information"
        app.action_screenshot(path=str(tmp_path / "no-such-folder"))
        await pilot.pause()
        assert tui.errors(app)[-1].startswith(f"cannot save the screenshot to {tmp_path}")


async def test_the_palettes_screenshot_is_the_apps_own(tui, tmp_path, monkeypatch) -> None:
    # The palette's entry called Textual's deliver_screenshot: without ~/Downloads only
    # "Failed to save screenshot", with it the path in markup shown as typed.
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_downloads_path", lambda: tmp_path / "Downloads")
    monkeypatch.chdir(tmp_path)
    app = tui.make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await tui.settle(pilot)
        for folder in (tmp_path, tmp_path / "Downloads"):
            folder.mkdir(exist_ok=True)
            await tui.palette_choose(pilot, "screensh")
            await tui.until(pilot, lambda folder=folder: any(folder.glob("*.svg")))
            await tui.settle(pilot)
            (saved,) = folder.glob("*.svg")
            assert not isinstance(app.screen, CommandPalette)
            shown = app.shown[-1]
            assert (shown.message, shown.severity) == (f"saved to {saved}", "information")
            assert not tui.errors(app)


def test_importing_the_app_does_not_import_torch() -> None:
    code = "import sys, rnn_tui.tui.app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Every screen opened in turn, with thread workers held before they start: whatever imports
# torch then ran on the event loop. Importing torch there blocks the UI for seconds (the
# Gradients screen waited 2.3 s on the import lock of its own Flow worker importing torch).
SCREENS_WITHOUT_WORKERS = """
import asyncio, sys
from textual.worker import Worker

async def held(self):
    await asyncio.Event().wait()

Worker._run_threaded = held
from rnn_tui.tui.app import SCREEN_SPECS, RnnTuiApp

async def main():
    app = RnnTuiApp()
    app.animation_level = "none"
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause(0.2)
        for spec in SCREEN_SPECS:
            await app.switch_mode(spec.mode)  # as its key does
            await pilot.pause(0.2)
            assert app.current_mode == spec.mode, spec.mode
            print(spec.mode, "torch" in sys.modules)

asyncio.run(main())
"""


def test_no_screen_imports_torch_on_the_event_loop(tmp_path) -> None:
    env = {**os.environ, "RNN_TUI_RUNS": str(tmp_path / "runs")}
    out = subprocess.run(
        [sys.executable, "-c", SCREENS_WITHOUT_WORKERS],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = dict(line.split() for line in out.stdout.splitlines())
    assert set(seen) == {spec.mode for spec in SCREEN_SPECS}
    assert [mode for mode, torch in seen.items() if torch == "True"] == []


async def test_a_first_opening_parses_only_its_new_widgets_css(tui, monkeypatch) -> None:
    """Textual parses every CSS source again when a new widget class mounts, from a cache of
    64; past 64 sources every source was parsed again (274-290 of them, 112-117 ms, at the
    Gradients and Classify screens' first openings). The app's cache holds them all."""
    from textual.css import stylesheet

    parsed: list[str] = []
    parse = stylesheet.parse

    def counted(scope, css, *args, **kwargs):
        parsed.append(css)
        return parse(scope, css, *args, **kwargs)

    monkeypatch.setattr(stylesheet, "parse", counted)
    async with tui.make_app().run_test(size=(100, 32)) as pilot:
        app = pilot.app
        for spec in SCREEN_SPECS[1:]:
            sources, parsed[:] = len(app.stylesheet.source), []
            await pilot.press(f"f{int(spec.key) + 1}")  # F3…F8, from any field
            await tui.settle(pilot)
            assert app.current_mode == spec.mode
            new = len(app.stylesheet.source) - sources
            # Each new source is parsed at most twice (a scoped and an unscoped use of a base).
            assert len(parsed) <= 2 * new + 1, (spec.mode, len(parsed), new)
        assert len(app.stylesheet.source) > 64  # past Textual's own cache


def test_the_themes_that_hide_the_buttons_labels_are_not_offered() -> None:
    from rnn_tui.tui.app import RnnTuiApp

    themes = RnnTuiApp().available_themes
    assert "ansi-dark" not in themes and "ansi-light" not in themes
    assert {"textual-dark", "textual-light", "nord"} <= set(themes)


async def test_an_unfit_theme_named_by_the_environment_falls_back_to_a_fit_one(
    monkeypatch, tui
) -> None:
    # TEXTUAL_THEME=ansi-light is read into the theme's default when Textual is imported; the
    # app then unregistered it, and textual-dark was drawn in its place without a word.
    from textual.app import App

    from rnn_tui.tui.app import RnnTuiApp

    for asked, fit in (("ansi-light", "textual-light"), ("ansi-dark", "textual-dark")):
        monkeypatch.setattr(App.__dict__["theme"], "_default", asked)
        app = RnnTuiApp()
        app.animation_level = "none"
        tui.record(app)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await pilot.pause()
            assert app.theme == fit and app.current_theme.name == fit
            assert app.current_theme.dark == (asked == "ansi-dark")
            warnings = [message for message, severity in app.notified if severity == "warning"]
            assert warnings == [
                f"theme {asked} is not offered (its terminal colours hide the buttons' labels):"
                f" {fit} instead"
            ]
