"""Keys that arrive in a burst (typed fast, or several in one SSH packet) act in order: each
lands where the key before it left the focus (tui/key_order.py). Pilot's press() waits between
keys; here they are posted at once, as a terminal delivers them."""

from __future__ import annotations

from textual import events
from textual.widgets import Input, Select


def burst(app, *keys: tuple[str, str | None]) -> None:
    for key, character in keys:
        app.post_message(events.Key(key, character))


async def test_slash_then_a_word_searches_the_vocabulary(tui):
    # "/the" switched the token level to char (t) and lost "he".
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
