"""The rnn-tui Textual app: one mode per screen, switched with the number keys.

Importing this module must stay cheap (no torch): the app has to paint in well under a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from rnn_tui.tui.commands import RnnTuiCommands
from rnn_tui.tui.screens.dataset import DatasetScreen


@dataclass(frozen=True)
class ScreenSpec:
    """One top-level screen: its key, its mode name, its title and how to build it."""

    key: str
    mode: str
    title: str
    factory: Callable[[], Screen]

    def build(self) -> Screen:
        """The screen, titled: the header shows its title however the screen was reached
        (key, palette or code), unless the screen names itself (SUB_TITLE)."""
        screen = self.factory()
        if screen.sub_title is None:
            screen.sub_title = self.title
        return screen


def lazy(module: str, name: str) -> Callable[[], Screen]:
    """A factory that imports the screen's module on first use: only the first screen's code
    is loaded before the app paints."""

    def build() -> Screen:
        return getattr(import_module(module), name)()

    return build


# Adding a screen is one line here: modes, number-key bindings, header title and palette entries
# follow.
SCREEN_SPECS: tuple[ScreenSpec, ...] = (
    ScreenSpec("1", "dataset", "Dataset", DatasetScreen),
    ScreenSpec("2", "train", "Train", lazy("rnn_tui.tui.screens.train", "TrainScreen")),
    ScreenSpec("3", "generate", "Generate", lazy("rnn_tui.tui.screens.generate", "GenerateScreen")),
    ScreenSpec(
        "4", "translate", "Translate", lazy("rnn_tui.tui.screens.translate", "TranslateScreen")
    ),
)


class RnnTuiApp(App[None]):
    """Explore recurrent neural networks the d2l.ai way."""

    TITLE = "rnn-tui"
    # Absolute, so a subclass defined elsewhere (tests, tools) finds the stylesheet too.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    MODES: ClassVar[dict[str, str | Callable[[], Screen]]] = {
        spec.mode: spec.build for spec in SCREEN_SPECS
    }
    COMMANDS: ClassVar[set] = {RnnTuiCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                spec.key,
                f"show_screen('{spec.mode}')",
                spec.title,
                id=f"screen.{spec.mode}",
                tooltip=f"switch to the {spec.title} screen",
            )
            for spec in SCREEN_SPECS
        ),
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            key_display="?",
            tooltip="these keys and a guide to the screen (also F1)",
        ),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, tooltip="leave rnn-tui"),
    ]

    # Start straight in the first screen's mode (no blank default screen to build first).
    DEFAULT_MODE = SCREEN_SPECS[0].mode

    screen_specs = SCREEN_SPECS

    async def action_quit(self) -> None:
        """Quit, unless a screen with work that outlives the app (a training run it started)
        asks first: its `confirm_quit()` returns True when it took over (and exits itself)."""
        for spec in SCREEN_SPECS:
            try:
                stack = self.get_screen_stack(spec.mode)
            except KeyError:
                continue  # a mode not opened yet
            for screen in stack:
                confirm = getattr(screen, "confirm_quit", None)
                if confirm is not None and confirm():
                    return
        self.exit()

    def action_show_screen(self, mode: str) -> None:
        self.switch_mode(mode)

    def action_help(self) -> None:
        # Imported on first use: Markdown pulls in markdown-it and pygments (≈ 50 ms at start).
        from rnn_tui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        screen = self.screen
        self.push_screen(HelpScreen(screen, screen.sub_title or self.sub_title))
