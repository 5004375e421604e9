"""The command palette provider (ctrl+p): the screens, the help, the explain panel, the current
screen's actions, then Textual's own system commands (theme, keys, screenshot, quit).

Screens offer their own entries through a `palette_commands()` method returning
(title, help, callback) tuples; the app lists its screens in `screen_specs`. Every other key of
the screen (its BINDINGS) gets an entry too, made from the binding, so the palette offers all
that the keys do. One provider for all of them keeps our entries first (the palette shows
discovery hits in arrival order).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.actions import parse
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from rnn_tui.tui.widgets.option_input import sentence

Command = tuple[str, str, Callable[[], object]]

# Textual's own screen keys (focus moves, copy) and leaving a field: navigation, not commands.
NOT_COMMANDS = {binding.action for binding in Screen.BINDINGS} | {"leave_field"}


def runs(callback: Callable[[], object]) -> tuple[str, tuple]:
    """The action a palette entry's callback runs, as (name, arguments): `self.action_move` or
    `partial(self.action_move, 1)` (a lambda cannot be told)."""
    arguments: tuple = ()
    if isinstance(callback, partial):
        callback, arguments = callback.func, callback.args
    return getattr(callback, "__name__", "").removeprefix("action_"), arguments


def key_commands(screen: Screen, title: str, listed: list[Command]) -> list[Command]:
    """An entry for each of `screen`'s keys whose action no `listed` entry runs and that works
    now: "Gradients: rank by", its tooltip and key as help."""
    covered = {runs(callback) for _, _, callback in listed}
    commands: list[Command] = []
    for _, binding in screen._bindings:
        _, name, arguments = parse(binding.action)
        if (
            not binding.description
            or binding.action in NOT_COMMANDS
            or (name, arguments) in covered
            or screen.check_action(name, arguments) is False
        ):
            continue
        covered.add((name, arguments))
        what = binding.tooltip or binding.description
        what = sentence(what)  # as the forms' help: τ stays τ
        key = binding.key_display or screen.app.get_key_display(binding)
        if len(binding.key) == 1 and binding.key.isupper():
            key = f"shift+{binding.key.lower()}"  # as the screens' entries spell it
        commands.append(
            (
                f"{title}: {binding.description.lower()}",
                # The key, unless the tooltip names it already ("…, then enter (shift+e)").
                what if what.endswith(f"({key})") else f"{what} ({key})",
                partial(screen.run_action, binding.action),
            )
        )
    return commands


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
        listed = screen_commands() if screen_commands is not None else []
        commands.extend(listed)
        mode = app.current_mode
        title = next(
            (spec.title for spec in getattr(app, "screen_specs", ()) if spec.mode == mode),
            None,
        )
        if title is not None and self.screen is app.screen_stack[0]:  # not over a dialog
            commands.extend(key_commands(self.screen, title, listed))
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
