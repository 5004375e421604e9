"""Shared fixtures: a deterministic environment for the Textual app, and helpers to drive it."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from hypothesis import settings

# Times are shown in local time (runs/format.py): the suite reads them in one zone everywhere
# (subprocesses inherit it).
os.environ["TZ"] = "UTC"
time.tzset()

# Property tests draw the same examples on every run, so that a submission's CI is not a draw
# of chance; `HYPOTHESIS_PROFILE=explore pytest` searches fresh examples, and more of them.
# No deadline either: an example's time is the machine's load, not the property.
settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Environment variables that change how Textual renders (theme, colours, animation), and how
# Rich prints (FORCE_COLOR, even "0", and TTY_COMPATIBLE make it take a pipe for a terminal).
_TEXTUAL_ENV = (
    "TEXTUAL_THEME",
    "NO_COLOR",
    "TEXTUAL_ANIMATIONS",
    "TEXTUAL_COLOR_SYSTEM",
    "FORCE_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "CLICOLOR_FORCE",
    # Rich fits a table to $COLUMNS, and takes a TERM of "dumb" for 80 columns and no live bars.
    "COLUMNS",
    "LINES",
)


@pytest.fixture(autouse=True)
def _plain_textual_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _TEXTUAL_ENV:
        monkeypatch.delenv(name, raising=False)
    # The colours of a truecolor terminal, whatever terminal runs the suite: Rich takes a TERM
    # of "xterm" without COLORTERM for 16 colours, where the app restyles a few widgets (the
    # `-few-colors` class of app.py).
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.setenv("TERM", "xterm-256color")


@pytest.fixture(autouse=True)
def _private_runs_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Runs go to the test's own folder, never ./runs or the caller's $RNN_TUI_RUNS: a run
    training there (a live one shows in the Train screen's list) changed what a test saw."""
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "default-runs"))


@pytest.fixture(autouse=True)
def _first_draws_at_once(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Costly widgets draw in the update that shows them, not later (first_draw.py), so a test
    reads their lines after a pause; tests marked `first_draw` keep the app's way."""
    if request.node.get_closest_marker("first_draw") is None:
        from rnn_tui.tui.widgets.first_draw import FirstDrawLater

        monkeypatch.setattr(FirstDrawLater, "deferring", False)


@pytest.fixture(scope="session")
def _token_cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("token-cache"))


@pytest.fixture(autouse=True)
def _private_token_cache(monkeypatch: pytest.MonkeyPatch, _token_cache_dir: str) -> None:
    """Token arrays cached by corpus files go to a temporary folder, never the user's
    ~/.cache/rnn-tui (subprocesses inherit the variable)."""
    monkeypatch.setenv("RNN_TUI_CACHE", _token_cache_dir)
    # `--max-file-mb` sets this for the process (files.set_default_limit): a CLI test run
    # in-process must not lower the limit for the tests after it.
    monkeypatch.delenv("RNN_TUI_MAX_FILE_MB", raising=False)


@pytest.fixture(autouse=True)
def _loops_without_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The C loops (models/fused_steps.py) run wherever they build and agree, not wherever a
    timing on a busy machine happens to favour them: the same path on every run of the suite
    (subprocesses inherit it; the tests of the timing itself unset it)."""
    monkeypatch.setenv("RNN_TUI_NATIVE", "on")


@pytest.fixture
def broken_loops(tmp_path, monkeypatch):
    """Loads the C loops (models/fused_steps.py) built from their source with one piece, found
    exactly once, replaced, into a fresh cache: what the load check makes of a wrong build."""
    from rnn_tui.models import fused_steps

    def load(right: str, wrong: str):
        assert fused_steps.SOURCE.count(right) == 1
        monkeypatch.setattr(fused_steps, "SOURCE", fused_steps.SOURCE.replace(right, wrong))
        monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))
        monkeypatch.setenv(fused_steps.NATIVE_ENV, "on")
        monkeypatch.setattr(fused_steps, "_loaded", [])
        return fused_steps.load()

    return load


@pytest.fixture
def one_torch_thread():
    """torch on one intra-op thread for the test, as before after it: tiny models run faster
    and steadier so on a busy 2-core machine. A module asks for it with
    `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _denormals_back_on():
    """A trainer run in-process flushes denormals for the whole process (train.device); put
    IEEE arithmetic back so later tests (hypothesis checks it) see a normal processor state."""
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_flush_denormal(False)


class Tui:
    """Helpers for Pilot and snapshot tests of the rnn-tui app (imports Textual lazily)."""

    @staticmethod
    def make_app():
        """The app as the CLI starts it, with animations off and a fixed theme, recording what
        it notifies (`Tui.record`)."""
        from rnn_tui.tui.app import RnnTuiApp

        app = RnnTuiApp()
        app.animation_level = "none"
        app.theme = "textual-dark"
        return Tui.record(app)

    @staticmethod
    def record(app):
        """Keep every notification of `app` in `app.notified` (message, severity) and
        `app.shown` (the Notification): toasts expire, and on a busy machine the app's own list
        forgot them before a test read it."""
        from textual.notifications import Notifications

        app.notified, app.shown = [], []

        class Kept(Notifications):
            def add(self, notification):
                app.shown.append(notification)
                return super().add(notification)

        app._notifications = Kept()
        notify = app.notify

        def recording_notify(message, *args, **kwargs):
            app.notified.append((str(message), kwargs.get("severity", "information")))
            return notify(message, *args, **kwargs)

        app.notify = recording_notify
        return app

    @staticmethod
    async def settle(pilot) -> None:
        """Wait until no worker runs and every message they caused has been handled
        (a finished corpus load starts the perplexity worker, hence the loop)."""
        from textual.widgets import Input
        from textual.worker import WorkerCancelled, WorkerFailed

        app = pilot.app
        for _ in range(20):
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:
                pass  # an exclusive worker replaced by a newer one (a rescan): that one is waited
            except WorkerFailed:
                # A job that failed by design (exit_on_error=False: a checkpoint that does not
                # load) is the app's to report, which tests read in tui.errors(app); whether it
                # was still listed here when it failed was a race (a flaky WorkerFailed in CI).
                pass
            await pilot.pause()
            if not any(w.is_running for w in app.workers):
                await pilot.pause()
                if not any(w.is_running for w in app.workers):
                    break
        for field in app.query(Input):
            field.cursor_blink = False

    @staticmethod
    async def until(pilot, condition, timeout: float = 30.0, each=None) -> None:
        """Pause until `condition()` holds: what a worker, a timer or a chain of messages
        brings may take longer than any fixed pause (or count of pauses) on a busy machine.
        `each()`, if given, runs before every look (a screen's poll, say)."""
        deadline = time.monotonic() + timeout
        while (each is None or each() or True) and not condition():
            assert time.monotonic() < deadline, f"timed out after {timeout:g} s"
            await pilot.pause(0.02)

    @staticmethod
    async def palette_choose(pilot, text: str, timeout: float = 30.0) -> None:
        """Open the command palette, type `text` and choose the best hit once the palette's
        search for `text` has finished (it searches in a worker, started by each key: enter
        pressed before the last one had highlighted a hit did nothing, and a fixed pause lost
        that race on a busy machine), then wait until the palette has closed."""
        from textual.command import CommandList, CommandPalette
        from textual.worker import WorkerState

        app = pilot.app
        if not isinstance(app.screen, CommandPalette):
            await pilot.press("ctrl+p")
            await Tui.until(pilot, lambda: isinstance(app.screen, CommandPalette), timeout)
        palette = app.screen
        searches = {}  # each search the palette starts, by the text it searches for
        gather = palette._gather_commands

        def recording(value: str):
            searches[value] = worker = gather(value)
            return worker

        palette._gather_commands = recording
        await pilot.press(*text)
        hits = palette.query_one(CommandList)

        def searched() -> bool:
            worker = searches.get(text.strip())
            if worker is not None and worker.state == WorkerState.CANCELLED:
                raise AssertionError(f"the palette's search for {text!r} was cancelled")
            done = worker is not None and worker.state == WorkerState.SUCCESS
            return done and hits.highlighted is not None

        await Tui.until(pilot, searched, timeout)
        await pilot.press("enter")
        await Tui.until(pilot, lambda: app.screen is not palette, timeout)

    @staticmethod
    async def open_screen(pilot, mode: str):
        """Switch to `mode` with its digit (from the Dataset screen, where nothing takes text)
        and return the screen."""
        from rnn_tui.tui.app import SCREEN_SPECS

        await Tui.settle(pilot)
        if pilot.app.current_mode != mode:
            key = next(spec.key for spec in SCREEN_SPECS if spec.mode == mode)
            await pilot.press(key)
            await Tui.settle(pilot)
        assert pilot.app.current_mode == mode
        return pilot.app.screen

    @staticmethod
    def errors(app) -> list[str]:
        """Messages of the error notifications shown so far."""
        return [message for message, severity in app.notified if severity == "error"]

    @staticmethod
    def table_lines(app, count: int) -> list[str]:
        """The first `count` lines the vocabulary table draws (header first), as plain text."""
        table = app.screen.query_one("#vocab-table")
        return [table.render_line(y).text for y in range(count)]

    @staticmethod
    def status(app) -> str:
        """The Dataset screen's one-line corpus summary."""
        return str(app.screen.query_one("#status").render())


@pytest.fixture
def tui() -> type[Tui]:
    return Tui


@pytest.fixture
def no_checkpoints(tmp_path, monkeypatch):
    """Generate and Translate find no checkpoint (nothing to load), Train an empty runs folder."""
    from rnn_tui.runs import discover

    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "no-shipped-checkpoints")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(tmp_path / "no-checkpoints"))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def chains():
    """The C chains' library, loaded and checked; the test is skipped without a compiler."""
    from rnn_tui.models import fused_steps

    if fused_steps._compiler() is None:
        pytest.skip("no C compiler here")
    loaded = fused_steps.load()
    assert loaded.lib is not None, loaded.note


# >>> language-model checkpoints: session fixtures char_checkpoint, word_checkpoint
from lm_fixtures import char_checkpoint, word_checkpoint  # noqa: E402, F401
# <<< language-model checkpoints
