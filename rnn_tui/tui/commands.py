"""The command palette provider (ctrl+p): the screens, the help, the explain panel, the current
screen's actions, then Textual's own system commands (theme, keys, screenshot, quit).

Screens offer their own entries through a `palette_commands()` method returning
(title, help, callback) tuples; the app lists its screens in `screen_specs`. One provider for
all of them keeps our entries first (the palette shows discovery hits in arrival order).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

Command = tuple[str, str, Callable[[], object]]


class RnnTuiCommands(Provider):
    """Screens to switch to, the help, and what the screen below the palette can do."""

    def _commands(self) -> list[Command]:
        app = self.app
        commands: list[Command] = [
            (
                f"Screen: {spec.title}",
                f"Switch to the {spec.title} screen (key {spec.key}, or {spec.function_key})",
                partial(app.switch_mode, spec.mode),
            )
            for spec in getattr(app, "screen_specs", ())
        ]
        commands.append(
            (
                "Help: keys and guide",
                "The keys of this screen and what it shows (? or f1)",
                partial(app.run_action, "help"),
            )
        )
        if getattr(self.screen, "EXPLAIN", None) is not None:
            commands.append(
                (
                    "Explain: concept and formulas",
                    "Show or hide this screen's explain panel (e or f9)",
                    partial(app.run_action, "toggle_explain"),
                )
            )
        screen_commands = getattr(self.screen, "palette_commands", None)
        if screen_commands is not None:
            commands.extend(screen_commands())
        commands.extend(
            (system.title, system.help, system.callback)
            for system in app.get_system_commands(self.screen)
            if system.discover
        )
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
