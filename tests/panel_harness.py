"""A tiny app that mounts one Dataset-screen panel with the app's stylesheet, for Pilot tests."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Input, Static

APP_TCSS = Path(__file__).resolve().parents[1] / "rnn_tui" / "tui" / "app.tcss"


def count_builds(plot) -> list[str]:
    """Every figure plotext builds for `plot` (a PlotextPlot) from now on, in order."""
    built: list[str] = []
    build = plot.plt.build

    def counted() -> str:
        built.append(build())
        return built[-1]

    plot.plt.build = counted
    return built


def panel_app(make_panel: Callable[[], Widget]) -> type[App]:
    """An App class showing `make_panel()` alone, animations and cursor blink off."""

    class PanelApp(App):
        CSS_PATH = APP_TCSS

        def __init__(self) -> None:
            super().__init__()
            self.animation_level = "none"

        def compose(self) -> ComposeResult:
            yield make_panel()

        def on_mount(self) -> None:
            self.theme = "textual-dark"
            for field in self.query(Input):
                field.cursor_blink = False

    return PanelApp


def text_of(app: App, selector: str, width: int = 200) -> str:
    """What a Static shows, as plain text (wide, so nothing wraps)."""
    out = io.StringIO()
    Console(width=width, file=out, color_system=None).print(app.query_one(selector, Static).content)
    return out.getvalue()


def errors(app: App) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]
