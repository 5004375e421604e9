"""Keys that arrive in a burst (typed fast, or several in one SSH packet) act in order: each
lands where the key before it left the focus (tui/key_order.py). Pilot's press() waits between
keys; here they are posted at once, as a terminal delivers them."""

from __future__ import annotations

from textual import events
from textual.widgets import Input, Select


def burst(app, *keys: tuple[str, str | None]) -> None:
    for key, character in keys:
        app.post_message(events.Key(key, character))


async def slash_the_searches(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await tui.settle(pilot)
        screen = app.screen
        screen.query_one("#vocab-table").focus()
        await pilot.pause()
        burst(app, ("slash", "/"), ("t", "t"), ("h", "h"), ("e", "e"))
        await tui.settle(pilot)
        assert screen.query_one("#vocab-search", Input).value == "the"
        assert screen.query_one("#token", Select).value == "word"


async def test_slash_then_a_word_searches_the_vocabulary(tui):
    # "/the" switched the token level to char (t) and lost "he".
    await slash_the_searches(tui)


async def test_a_key_waits_for_the_one_before_it_through_a_stalled_process(tui, monkeypatch):
    # A process that lost the CPU for longer than the settle cap (a busy machine, an SSH box
    # under load) handed "t" on before "/" had moved the focus: the token level switched.
    import time

    from rnn_tui.tui.widgets.vocab_panel import VocabPanel

    def stalled(self, event) -> None:
        # Off the CPU, as the scheduler would have it, while "/" bubbles towards its binding.
        if event.key == "slash":
            time.sleep(0.6)

    monkeypatch.setattr(VocabPanel, "on_key", stalled, raising=False)
    await slash_the_searches(tui)


async def test_m_then_a_number_sets_min_freq(tui):
    # "m5" switched to the Forecast screen (5) instead of typing 5 into min_freq.
    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await tui.settle(pilot)
        app.screen.query_one("#vocab-table").focus()
        await pilot.pause()
        burst(app, ("m", "m"), ("5", "5"))
        await tui.settle(pilot)
        assert app.current_mode == "dataset"
        assert app.screen.query_one("#min-freq", Input).value.endswith("5")


async def test_a_field_hides_the_punctuation_keys_it_types(tui):
    # Inside a Dataset field the footer showed "/ Search", and "/" was typed into the field.
    from rnn_tui.tui.widgets.footer import AppFooter

    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await tui.settle(pilot)
        screen = app.screen

        def footer_keys() -> list[str]:
            return [key.key for key in screen.query_one(AppFooter).keys()]

        screen.query_one("#vocab-table").focus()
        await pilot.pause()
        assert "slash" in footer_keys()
        screen.query_one("#min-freq", Input).focus()
        await pilot.pause()
        assert "slash" not in footer_keys()


async def test_screen_keys_help_and_explain_work_from_the_command_palette(tui):
    # With the palette open F1, F2…F8 and F9 did nothing (the palette stayed open).
    from textual.command import CommandPalette

    from rnn_tui.tui.screens.help import HelpScreen
    from rnn_tui.tui.widgets.explain import ExplainPanel

    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await tui.settle(pilot)
        await pilot.press("ctrl+p")
        await tui.settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("f4")  # screen 3, Generate
        await tui.settle(pilot)
        assert app.current_mode == "generate" and not isinstance(app.screen, CommandPalette)
        await pilot.press("ctrl+p")
        await tui.settle(pilot)
        await pilot.press("f1")
        await tui.settle(pilot)
        assert isinstance(app.screen, HelpScreen) and len(app.screen_stack) == 2
        await pilot.press("escape")
        await tui.settle(pilot)
        await pilot.press("ctrl+p")
        await tui.settle(pilot)
        await pilot.press("f9")
        await tui.settle(pilot)
        assert len(app.screen_stack) == 1
        assert app.screen.query_one(ExplainPanel).display
