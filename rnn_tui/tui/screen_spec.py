"""The app's top-level screens as data: a ScreenSpec (key, mode, title, how to build it) gives
each screen its digit and function key, its header title and its palette entry; `lazy` imports a
screen's module on first use, and `warm_up` imports them soon after start-up, off the event loop.

Importing this module must stay cheap (no torch): the app has to paint in well under a second.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module

from textual.binding import Binding
from textual.screen import Screen

from rnn_tui.tui.collection_pause import collection_paused, freeze_built
from rnn_tui.tui.torch_libraries import preload_torch_libraries

# The screen keys share one footer entry ("1 2 3 4 screens", "f2 f3 f4 f5 screens" in a field):
# with their names they would not fit at 80 columns next to the screen's own keys. The header,
# the help and the palette name them.
SCREENS = Binding.Group("screens")


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

    @property
    def function_key(self) -> str:
        """The key that reaches this screen from anywhere: F1 is the help, so screen N is F(N+1)."""
        return f"f{int(self.key) + 1}"

    def bindings(self) -> list[Binding]:
        """The digit (where no text field would type it) and the function key (a priority
        binding: it works from inside a field too). One action, so the footer shows the first
        of the two that is active: the digit, or the function key where a field has the focus."""
        action = f"show_screen('{self.mode}')"
        return [
            Binding(
                self.key,
                action,
                self.title,
                id=f"screen.{self.mode}",
                tooltip=f"switch to the {self.title} screen ({self.function_key} in a text field)",
                group=SCREENS,
            ),
            Binding(
                self.function_key,
                action,
                self.title,
                id=f"screen.{self.mode}.anywhere",
                tooltip=f"switch to the {self.title} screen, even from a text field",
                priority=True,
                group=SCREENS,
            ),
        ]


def lazy(module: str, name: str) -> Callable[[], Screen]:
    """A factory that imports the screen's module on first use: only the first screen's code
    is loaded before the app paints (`warm_up` imports it soon after, in a thread)."""

    def build() -> Screen:
        return getattr(import_module(module), name)()

    build.module, build.name = module, name  # type: ignore[attr-defined]
    return build


def _screen_class(factory: Callable[[], Screen]) -> type | None:
    """The class a screen factory builds (its module imported), None when it cannot tell."""
    module = getattr(factory, "module", None)
    if module is not None:
        return getattr(import_module(module), factory.name)  # type: ignore[attr-defined]
    return factory if isinstance(factory, type) else None


def warm_up(specs: Sequence[ScreenSpec], freeze: bool = False) -> threading.Thread:
    """What the first opening of a screen would otherwise do with the event loop waiting, done
    soon after start-up: torch's libraries loaded with the GIL released (torch_libraries.py;
    its first import held the loop 182–230 ms), then `import_ahead` started in a daemon thread,
    which it returns.

    The libraries load in the calling thread (a thread worker, which the interpreter's exit
    waits for: 0.23 s at most, and the loader never runs beside the exit's teardown). The
    imports run in a daemon thread, which the exit does not wait for: as a worker, a quit during
    torch's import left the shell waiting up to 1.3 s after the app had gone."""
    preload_torch_libraries()
    thread = threading.Thread(
        target=import_ahead, args=(specs, freeze), name="rnn-tui import ahead", daemon=True
    )
    thread.start()
    return thread


# Modules the app imports on first use: the help's (Markdown, markdown-it, pygments) was imported
# by the first `?` with the loop waiting, 33–36 ms of CPU on top of building the help.
APP_MODULES = ("rnn_tui.tui.screens.help",)


def import_ahead(specs: Sequence[ScreenSpec], freeze: bool = False) -> None:
    """The help's module (`APP_MODULES`), the lazy screens' modules (52 ms for the Train
    screen's, 7–17 ms each other's), then the backend modules their workers use
    (`ModeScreen.WORKER_MODULES`, torch's Python part with them: 0.85 s, 140,000 objects).
    Importing Python code lets the loop run every few milliseconds; a screen opened meanwhile
    waits only for its own module.

    The imports run with automatic collection paused: torch's, left to a screen's first worker,
    set off full collections of 40–65 ms with the GIL held. With `freeze` (the app freezes its
    long-lived objects) what they built is frozen before collection resumes."""
    with collection_paused():
        for module in APP_MODULES:
            import_module(module)
        for spec in specs:
            screen = _screen_class(spec.factory)
            for module in getattr(screen, "WORKER_MODULES", ()):
                import_module(module)
        if freeze:
            freeze_built()


__all__ = ["APP_MODULES", "SCREENS", "ScreenSpec", "import_ahead", "lazy", "warm_up"]
