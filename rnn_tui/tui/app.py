"""The rnn-tui Textual app: one mode per screen, and the keys that work on every screen.

Navigation works from anywhere. A screen's digit switches to it where no text field has the
focus; its function key (F2 for screen 1, F3 for screen 2, …) is a priority binding that works
from inside a field too, and the footer shows whichever of the two works where the focus is.
(Not alt+digit: Textual 8 reads ESC+digit, what a terminal sends for alt+digit, as macOS Option
characters, so alt+4 would type "¢" into the field.) Escape leaves a text field; F1 opens the
help and F9 the explain panel from anywhere. A screen added to SCREEN_SPECS gets all of this,
its title in the header and its palette entry.

Importing this module must stay cheap (no torch): the app has to paint in well under a second.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.widgets import Input
from textual.widgets.input import Selection
from textual.worker import Worker

from rnn_tui.decode.cache import ModelCache
from rnn_tui.quoting import NOTICE_CHARS, bounded, visible
from rnn_tui.tui.ansi_palette import LIGHT_ANSI
from rnn_tui.tui.collection_pause import (
    LongLivedData,
    Refreeze,
    collection_paused,
    freeze_built,
    freeze_long_lived,
    thaw,
)
from rnn_tui.tui.commands import RnnTuiCommands
from rnn_tui.tui.key_order import KeysInOrder
from rnn_tui.tui.screen_spec import ScreenSpec, lazy, warm_up
from rnn_tui.tui.screens.dataset import DatasetScreen
from rnn_tui.tui.screenshot import save_screenshot
from rnn_tui.tui.toast_repaint import ToastPlaceRepainted
from rnn_tui.tui.widgets.explain import explanation_of, toggle_explain

ERROR_MAX_S = 30.0  # the longest an error notification stays up unless clicked away

# Adding a screen is one line here: its mode, digit and function key, title and palette entry
# follow (and its EXPLAIN, if it declares one, gets the explain keys).
SCREEN_SPECS: tuple[ScreenSpec, ...] = (
    ScreenSpec("1", "dataset", "Dataset", DatasetScreen),
    ScreenSpec("2", "train", "Train", lazy("rnn_tui.tui.screens.train", "TrainScreen")),
    ScreenSpec("3", "generate", "Generate", lazy("rnn_tui.tui.screens.generate", "GenerateScreen")),
    ScreenSpec(
        "4", "translate", "Translate", lazy("rnn_tui.tui.screens.translate", "TranslateScreen")
    ),
    ScreenSpec("5", "forecast", "Forecast", lazy("rnn_tui.tui.screens.forecast", "ForecastScreen")),
    ScreenSpec(
        "6", "gradients", "Gradients", lazy("rnn_tui.tui.screens.gradients", "GradientsScreen")
    ),
    ScreenSpec("7", "classify", "Classify", lazy("rnn_tui.tui.screens.classify", "ClassifyScreen")),
)


def takes_text(widget: DOMNode | None) -> bool:
    """Whether `widget` would take a typed character as text (an Input, a TextArea, an open
    drop-down's type-to-search): there, plain letters and digits are not keys."""
    return widget is not None and widget.check_consume_key("x", "x")


# Not offered (RnnTuiApp.__init__), each with the fit theme that stands in for it when
# TEXTUAL_THEME names it.
UNFIT_THEMES = {"ansi-dark": "textual-dark", "ansi-light": "textual-light"}


class RnnTuiApp(KeysInOrder, ToastPlaceRepainted, App[None]):
    """Explore recurrent neural networks the d2l.ai way."""

    TITLE = "rnn-tui"
    # Absolute, so a subclass defined elsewhere (tests, tools) finds the stylesheet too.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    MODES: ClassVar[dict[str, str | Callable[[], Screen]]] = {
        spec.mode: spec.build for spec in SCREEN_SPECS
    }
    COMMANDS: ClassVar[set] = {RnnTuiCommands}
    # The 16 colours of plot curves and run swatches, dark enough on a light theme (Textual's
    # bright ones are pastels there); dark themes keep Textual's.
    ansi_theme_light = Reactive(LIGHT_ANSI, init=False)
    # A plain key for where no text field has the focus, and a priority twin that works from
    # inside one (a field would type the plain key); the footer shows the one that works. Order
    # is footer order; where the line is too narrow, the footer keeps these and lets the
    # screen's own keys give way (widgets/footer.py).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", tooltip="these keys and a guide to the screen"),
        Binding(
            "f1",
            "help",
            "Help",
            priority=True,
            tooltip="these keys and a guide to the screen, from anywhere",
        ),
        *(binding for spec in SCREEN_SPECS for binding in spec.bindings()),
        Binding(
            "e",
            "toggle_explain",
            "Explain",
            tooltip="the concept and formulas of this screen (f9 from a text field)",
        ),
        Binding(
            "f9",
            "toggle_explain",
            "Explain",
            priority=True,
            tooltip="the concept and formulas of this screen, from anywhere",
        ),
        Binding(
            "escape",
            "leave_field",
            "Leave field",
            show=False,
            tooltip="leave the text field: digits and letters are keys again",
        ),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, tooltip="leave rnn-tui"),
    ]

    # Start straight in the first screen's mode (no blank default screen to build first).
    DEFAULT_MODE = SCREEN_SPECS[0].mode

    screen_specs = SCREEN_SPECS
    # Freeze the objects alive FREEZE_AFTER_S after start-up (collection_pause.py): None
    # means when running in a terminal (not headless, as tests run apps by the hundred).
    freeze_long_lived_objects: bool | None = None
    FREEZE_AFTER_S = 2.0
    FREEZE_RETRY_S = 0.25  # then again this often while the warm-up imports, FREEZE_WAIT_S at most
    FREEZE_WAIT_S = 10.0
    # Warm up in a thread WARM_UP_AFTER_S after start-up (`warm_up`): None means when running
    # in a terminal, as the freeze.
    warm_up_in_background: bool | None = None
    WARM_UP_AFTER_S = 0.5
    REFREEZE_EVERY_S = 2.0  # then checks for growth (a screen built, torch imported) this often
    # The models the Generate and Translate consoles loaded, shared so that at most two stay in
    # memory (made on first use by screens/console.py's model_cache).
    model_cache: ModelCache | None = None

    # Textual keeps the rules parsed from each CSS source (a widget class's DEFAULT_CSS, the app's
    # file) in a cache of 64, and a widget class mounted for the first time sets off a parse of
    # every source. Past 64 sources (74 with every screen open) the cache missed on all of them:
    # the Gradients and Classify screens' first openings parsed 274–290 sources, 112–117 ms.
    CSS_PARSE_CACHE = 1024

    _frozen = False  # the start-up freeze has happened (so new long-lived objects are frozen too)
    _freezing = False  # it will happen (freeze_long_lived_objects, resolved at mount)
    _long_lived = 0  # LongLivedData messages received
    _warming: Worker | None = None  # the warm-up's worker (its result: the import-ahead thread)
    _freeze_by = 0.0  # the start-up freeze waits for the warm-up until then (time.monotonic)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stylesheet._parse_cache.maxsize = self.CSS_PARSE_CACHE  # Textual's (pinned)
        # Under 16 colours (--color 16, TERM=xterm-mono) a colour blended toward its background
        # can come out as that background: app.tcss restyles what did (disabled buttons).
        self.set_class(self.console.color_system in ("standard", "windows"), "-few-colors")
        # Not offered: under the terminal's own 16 colours the Train screen's Pause and Stop
        # buttons drew only their top edge, their labels gone.
        for theme in UNFIT_THEMES:
            self.unregister_theme(theme)
        # Textual set TEXTUAL_THEME's theme already: one unregistered here was drawn as
        # textual-dark, silently, whatever it was (ansi-light came up dark).
        self._unfit_theme = self.theme if self.theme in UNFIT_THEMES else None
        if self._unfit_theme is not None:
            self.theme = UNFIT_THEMES[self._unfit_theme]

    def on_mount(self) -> None:
        if self._unfit_theme is not None:
            self.notify(
                f"theme {self._unfit_theme} is not offered (its terminal colours hide the"
                f" buttons' labels): {self.theme} instead",
                severity="warning",
            )
        freeze = self.freeze_long_lived_objects
        self._freezing = bool(freeze or (freeze is None and not self.is_headless))
        if self._freezing:
            self._freeze_by = time.monotonic() + self.FREEZE_AFTER_S + self.FREEZE_WAIT_S
            self.set_timer(self.FREEZE_AFTER_S, self._freeze)
        warm = self.warm_up_in_background
        if warm or (warm is None and not self.is_headless):
            self.set_timer(self.WARM_UP_AFTER_S, self._warm_up)

    def _warm_up(self) -> None:
        self._warming = self.run_worker(
            partial(warm_up, self.screen_specs, self._freezing),
            thread=True,
            group="warm-up",
            description="load torch's libraries and the screens' modules",
            exit_on_error=False,
        )

    def _freeze(self) -> None:
        if self._warming_up() and time.monotonic() < self._freeze_by:
            # The warm-up's imports (torch's Python part: ~140,000 objects) freeze what they
            # built once done. Collected before that, all of it was walked with the loop held:
            # 125-175 ms instead of ~22 when the imports ran past FREEZE_AFTER_S.
            self.set_timer(self.FREEZE_RETRY_S, self._freeze)
            return
        freeze_long_lived()
        self._frozen = True
        refreezing = Refreeze(self._growth)
        self.set_interval(self.REFREEZE_EVERY_S, refreezing.tick, name="refreeze")

    def switch_mode(self, mode: str) -> AwaitMount:
        """Textual's, and a screen opened for the first time is built with automatic collection
        paused, then frozen: building its thousands of widgets set off 2–4 full collections,
        30–185 ms each with the event loop held (measured on the first switches)."""
        if not self._frozen or mode not in self._modes or self._built(mode):
            return super().switch_mode(mode)
        paused = collection_paused()
        paused.__enter__()
        try:
            mounted = super().switch_mode(mode)
        except BaseException:
            paused.__exit__(None, None, None)
            raise
        self.run_worker(
            self._freeze_when_mounted(mounted, paused),
            description="freeze a new screen's objects once it has mounted",
            group="collection",
        )
        return mounted

    @staticmethod
    async def _freeze_when_mounted(mounted: AwaitMount, paused) -> None:
        try:
            await mounted
            freeze_built()
        finally:
            paused.__exit__(None, None, None)

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        """Textual's, but a widget not registered yet is left alone: Textual styles each new
        widget as it registers, so a class set before that (an Input's validity and compactness,
        set in its constructor) styled it twice: the Train screen's first opening styled nodes
        724 times for its 213 (552 now), Forecast's 489 for 132 (330)."""
        if node is not self and node not in self._registry:
            return
        super().update_styles(node, animate)

    def _warming_up(self) -> bool:
        """Whether the warm-up still loads torch's libraries or imports modules."""
        worker = self._warming
        if worker is None:
            return False
        if not worker.is_finished:
            return True
        thread = worker.result
        return isinstance(thread, threading.Thread) and thread.is_alive()

    def _built(self, mode: str) -> bool:
        try:
            self.get_screen_stack(mode)
        except KeyError:
            return False  # not opened yet
        return True

    def _growth(self) -> tuple[int, int, int]:
        """What grows when the app builds objects for good: modules imported, screens built,
        data a widget keeps (`LongLivedData`)."""
        built = sum(self._built(spec.mode) for spec in self.screen_specs)
        return len(sys.modules), built, self._long_lived

    def on_long_lived_data(self, message: LongLivedData) -> None:
        self._long_lived += 1

    def on_unmount(self) -> None:
        thaw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_screen" and self._leavable():
            # The help lists the screen keys: one of them closes it (and a dialog beneath,
            # answered as escape would) and switches.
            return True
        if action == "help" and hasattr(self.screen, "LEAVE_ANSWER"):
            return True  # the help over a dialog; escape comes back to it
        if action in ("show_screen", "help", "toggle_explain") and self._palette_over():
            return True  # the palette closes first (_close_palette): the keys work anywhere
        if action in ("show_screen", "help", "toggle_explain"):
            # Not over the help (F1 closes it) or the command palette.
            if len(self.screen_stack) > 1:
                return False
            if action == "toggle_explain":
                return explanation_of(self.screen) is not None
        if action == "leave_field":
            return takes_text(self.focused)
        if action == "quit":
            # Already asking whether to quit (QuitRunDialog): the help lists only keys that work.
            return not any(getattr(screen, "ASKS_QUIT", False) for screen in self.screen_stack)
        return True

    async def action_quit(self) -> None:
        """Quit, unless runs this app started are still training, on any screen: one question
        then names them all, and its answer (stop, leave, cancel) holds for all of them. Asked
        screen by screen, the first screen's question was the only one: "stop" stopped its
        runs and quit, and another screen's run went on training unnoticed."""
        from rnn_tui.tui.widgets.train_quit import confirm_quit  # only a quit needs it

        trainers = []
        for spec in SCREEN_SPECS:
            try:
                stack = self.get_screen_stack(spec.mode)
            except KeyError:
                continue  # a mode not opened yet
            for screen in stack:
                started = getattr(screen, "started_trainers", None)
                if started is not None:
                    trainers.extend(started())
        if not confirm_quit(self, trainers):
            self.exit()

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """The palette's Screenshot, saved where it can be (tui/screenshot.py)."""
        save_screenshot(self, filename, path)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's, its Screenshot running `action_screenshot`: Textual's entry called
        `deliver_screenshot` itself, which failed without ~/Downloads and named the path in
        markup these plain-text toasts showed as typed."""
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":
                # After a moment, as Textual's: the palette has closed by then, out of the shot.
                command = command._replace(
                    callback=partial(self.set_timer, 0.1, self.action_screenshot)
                )
            yield command

    def action_help_quit(self) -> None:
        """ctrl+c: how to quit, in plain words. Textual's own note wrote its key in markup
        ("[b]ctrl+q[/b]"), which this app's plain-text notifications showed as typed."""
        self.notify("Press ctrl+q to quit the app", title="Do you want to quit?")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """An error or warning stays up long enough to read: about 15 characters a second, at
        least the usual 5 s (the trainer's refusal of a too-big model is 300 characters; it was
        gone before it could be read). Messages are plain text by default: they quote paths and
        typed text, where "[b]" is part of a name, not markup, and their control characters
        are shown as escapes (`visible`): an ESC in a path would reach the terminal. A message
        is `bounded` to 10 lines of its box: a 5,000-character path quoted in an error filled
        the screen. Plain whatever `markup` says: a screen's or widget's `notify` passes
        Textual's default, markup, and a checkpoint's label quoted there ("[/]") broke the
        toast."""
        del markup
        message = bounded(visible(message, newlines=True), NOTICE_CHARS)
        if timeout is None and severity in ("error", "warning"):
            timeout = min(ERROR_MAX_S, max(self.NOTIFICATION_TIMEOUT, len(message) / 15))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _leavable(self) -> bool:
        """Whether what is over the current screen is the help or a dialog that a screen key
        may answer with its cancel (`LEAVE_ANSWER`), and nothing else (the command palette)."""
        over = self.screen_stack[1:]
        return bool(over) and all(
            getattr(screen, "IS_HELP", False) or hasattr(screen, "LEAVE_ANSWER") for screen in over
        )

    def _palette_over(self) -> bool:
        """Whether the command palette, and nothing else, is open over the screen."""
        over = self.screen_stack[1:]
        return len(over) == 1 and isinstance(over[0], CommandPalette)

    async def _close_palette(self) -> None:
        """Close the palette as its escape does (its searches cancelled), and wait for it."""
        if self._palette_over():
            palette = self.screen
            palette._cancel_gather_commands()
            self.post_message(CommandPalette.Closed(option_selected=False))
            await self.pop_screen()

    async def action_show_screen(self, mode: str) -> None:
        # The help and dialogs are closed, not left on the stack: coming back to this screen
        # shows the screen. A dialog is answered as escape would: nothing it asked is done.
        await self._close_palette()
        while len(self.screen_stack) > 1 and self._leavable():
            screen = self.screen
            if getattr(screen, "IS_HELP", False):
                self.pop_screen()
            else:
                screen.dismiss(screen.LEAVE_ANSWER)
        self.switch_mode(mode)

    async def action_help(self) -> None:
        # Imported on first use: Markdown pulls in markdown-it and pygments (≈ 50 ms at start).
        from rnn_tui.tui.screens.help import HelpScreen

        await self._close_palette()
        screen = self.screen
        # Over a dialog, titled by the screen it belongs to.
        titled = self.screen_stack[-2] if hasattr(screen, "LEAVE_ANSWER") else screen
        self.push_screen(HelpScreen(screen, titled.sub_title or self.sub_title))

    async def action_toggle_explain(self) -> None:
        await self._close_palette()
        if explanation_of(self.screen) is not None:
            toggle_explain(self.screen)

    def action_leave_field(self) -> None:
        """Give the focus back to the screen, where its keys and the digits work."""
        self.screen.set_focus(None)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Fields never select their text on focus (Textual's default): the first key typed
        after Tab or a click would silently replace the whole value. Done here, for every
        field of every screen, rather than field by field."""
        for field in self.screen.query(Input):
            if field.select_on_focus:
                field.select_on_focus = False
                # The field that just got the focus has already selected its text.
                if field.has_focus:
                    field.selection = Selection.cursor(len(field.value))
