"""AppFooter on its own, in a small app: what the app's screens never show (a disabled key, a
compact key group) drawn as Textual's Footer draws them (the expected lines are what the
Footer-based AppFooter drew, cell for cell and style for style), and the palette key run by a
click."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding

from rnn_tui.tui.widgets.footer import AppFooter

GROUP = Binding.Group("moves", compact=True)


class FooterApp(App[None]):
    BINDINGS = [
        Binding("a", "ring", "Armed"),
        Binding("b", "blocked", "Blocked", tooltip="not now"),
        Binding("left", "move('left')", "left", group=GROUP),
        Binding("right", "move('right')", "right", group=GROUP),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rang: list[str] = []

    def compose(self) -> ComposeResult:
        yield AppFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "blocked" else True  # None: shown, disabled

    def action_ring(self) -> None:
        self.rang.append("ring")

    def action_move(self, where: str) -> None:
        self.rang.append(where)

    def bell(self) -> None:
        self.rang.append("bell")


def line(app: App) -> str:
    return app.screen.query_one(AppFooter).render_line(0).text


async def test_disabled_and_grouped_keys_are_drawn_like_textuals() -> None:
    app = FooterApp()
    async with app.run_test(size=(120, 10)) as pilot:
        await pilot.pause()
        footer = app.query_one(AppFooter)
        text = line(app)
        # A key ` k Description `; a compact group: a column, its keys together, its label.
        assert text.startswith(" a Armed  b Blocked  ←→ moves ")
        assert text.endswith("▏^p palette ")
        segments = list(footer.render_line(0))
        blocked = [s for s in segments if s.text in (" b ", "Blocked ")]
        armed = [s for s in segments if s.text in (" a ", "Armed ")]
        assert blocked and all(s.style.dim for s in blocked)
        assert armed and not any(s.style.dim for s in armed)

        spans = {key.action: start for start, _, key in footer.shown_keys()}
        await pilot.click(AppFooter, offset=(spans["blocked"], 0))
        await pilot.click(AppFooter, offset=(spans["ring"], 0))
        await pilot.click(AppFooter, offset=(spans["move('right')"], 0))
        await pilot.pause()
        assert app.rang == ["bell", "ring", "right"]

        await pilot.hover(AppFooter, offset=(spans["blocked"], 0))
        await pilot.pause()
        assert footer.tooltip == "not now"


async def test_at_80_columns_the_keys_are_compact_and_the_palette_key_goes() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        assert line(app).rstrip() == "a Armed b Blocked  ←→ moves"


async def test_a_click_on_the_palette_key_opens_the_palette() -> None:
    from textual.command import CommandPalette

    app = FooterApp()
    async with app.run_test(size=(120, 10)) as pilot:
        await pilot.pause()
        footer = app.query_one(AppFooter)
        start = next(s for s, _, key in footer.shown_keys() if key.action == "command_palette")
        await pilot.click(AppFooter, offset=(start + 1, 0))
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)


# The keys each screen keeps for its panels a narrow screen cannot show at once.
KEPT = (
    ("train", ["v Next plot"]),
    ("forecast", ["t Metric", "v Next plot"]),
    ("classify", ["v Matrix"]),
)


@pytest.mark.parametrize("width", [100, 105])
async def test_from_100_columns_too_each_screen_keeps_the_key_to_its_other_panels(
    tui, width
) -> None:
    """A wide line (no longer compact) dropped the kept keys first: at 100 columns Forecast
    showed one panel and listed neither `v` nor `t`, with room left on the line."""
    app = tui.make_app()
    async with app.run_test(size=(width, 24)) as pilot:
        for mode, kept in KEPT:
            await tui.open_screen(pilot, mode)
            text = line(app)
            assert all(key in text for key in kept), text
            assert "? Help" in text and "e Explain" in text, text


async def test_at_80_columns_each_screen_keeps_the_key_to_its_other_panels(tui) -> None:
    """At 80×24 one plot or panel shows: the key that shows the others stays in the footer
    (other keys give way first), and the screen keys take `1-7 screens` to leave room."""
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for mode, kept in KEPT:
            await tui.open_screen(pilot, mode)
            text = line(app)
            assert all(key in text for key in kept), text
            # Each end of the range is its screen's key, as a click.
            footer = app.screen.query_one(AppFooter)
            ends = [key.key for _, _, key in footer.shown_keys() if key.action.startswith("show")]
            assert text.rstrip().endswith("? Help 1-7 screens e Explain")
            assert ends == ["1", "7"]
        await tui.open_screen(pilot, "gradients")  # all its keys fit: the keys one by one
        assert line(app).rstrip().endswith("? Help 1 2 3 4 5 6 7 screens e Explain")
        await pilot.click(AppFooter, offset=(line(app).index("1 2 3"), 0))
        await tui.settle(pilot)
        assert app.current_mode == "dataset"
        # Translate's field has the focus: the function keys, and ctrl+g to the final beam.
        await tui.open_screen(pilot, "translate")
        text = line(app).rstrip()
        assert "^g Beam/Attn" in text and text.endswith("f1 Help f2-f8 screens f9 Explain")
