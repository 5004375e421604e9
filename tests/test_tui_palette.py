"""The command palette offers every action a screen's keys offer (Pilot)."""

from __future__ import annotations

import re

from textual.actions import parse

from rnn_tui.tui.app import SCREEN_SPECS
from rnn_tui.tui.commands import RnnTuiCommands

# Navigation, not commands: Textual's focus moves and copy, and leaving a field.
NAVIGATION = {"app.focus_next", "app.focus_previous", "screen.copy_text", "leave_field"}


async def test_every_screen_key_has_a_palette_entry(no_checkpoints, tui):
    """Gradients had no "previous step" (,) or "rank by" (u), Forecast no "next plot" (v),
    and no screen its "refresh" (r). Each key with a description is named in an entry's help
    (the screen's own entries say their key in brackets, the others are made from the key)."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for spec in SCREEN_SPECS:
            await pilot.press(spec.function_key)
            await tui.settle(pilot)
            screen = app.screen
            entries = RnnTuiCommands(screen)._commands()
            helps = " ".join(help_text for _, help_text, _ in entries)
            # The keys the entries name in brackets: "(r)", "(] or [)", "(ctrl+g or enter)".
            named = {
                word if len(word) == 1 else word.rstrip(",")
                for group in re.findall(r"\(([^)]*)\)", helps)
                for word in group.split()
            }
            for key, binding in screen._bindings:
                _, name, arguments = parse(binding.action)
                if binding.description and binding.action not in NAVIGATION:
                    if screen.check_action(name, arguments) is False:
                        continue
                    shown = binding.key_display or app.get_key_display(binding)
                    spelled = {shown, key, f"shift+{key.lower()}"}  # "T" is named "shift+t"
                    assert spelled & named, (spec.mode, key)
            titles = {title: callback for title, _, callback in entries}
            if spec.mode in ("train", "forecast", "classify"):
                assert f"{spec.title}: refresh" in titles
            if spec.mode == "forecast":
                assert "Forecast: next plot" in titles
            if spec.mode == "gradients":
                assert {"Gradients: previous step", "Gradients: rank by"} <= set(titles)
                feature = screen.query_one("#inside-feature").value
                await titles["Gradients: rank by"]()
                await pilot.pause()
                assert screen.query_one("#inside-feature").value != feature
