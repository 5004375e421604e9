"""A focusable container restyles itself alone on focus and blur, unless a rule styles its
descendants by its focus (`OwnFocusStyle`)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.color import Color
from textual.containers import VerticalScroll
from textual.widgets import Button, Label

from rnn_tui.tui.widgets.focus_style import OwnFocusStyle, focus_styles_descendants
from rnn_tui.tui.widgets.ngram_panel import NgramPanel


class Panel(OwnFocusStyle, VerticalScroll):
    DEFAULT_CSS = """
    Panel:focus {
        background: rgb(0, 0, 200);
    }
    """


class PanelApp(App):
    CSS = ""

    def compose(self) -> ComposeResult:
        with Panel(id="panel"):
            for i in range(20):
                yield Label(f"line {i}", id=f"label-{i}")
        yield Button("elsewhere", id="elsewhere")


def spy_restyles(app: App) -> list[list]:
    """Every list of nodes the stylesheet restyles from now on."""
    restyled: list[list] = []
    update_nodes = app.stylesheet.update_nodes

    def spied(nodes, animate=False):
        nodes = list(nodes)
        restyled.append(nodes)
        return update_nodes(nodes, animate)

    app.stylesheet.update_nodes = spied
    return restyled


async def test_focus_and_blur_restyle_the_container_alone() -> None:
    app = PanelApp()
    async with app.run_test(size=(60, 12)) as pilot:
        panel = app.query_one(Panel)
        assert not focus_styles_descendants(panel)
        app.query_one("#elsewhere").focus()
        await pilot.pause()
        restyled = spy_restyles(app)
        panel.focus()
        await pilot.pause()
        mine = [nodes for nodes in restyled if panel in nodes]
        assert mine and all(nodes == [panel] for nodes in mine)
        assert panel.styles.background == Color(0, 0, 200)  # its own :focus rule applied
        restyled.clear()
        app.query_one("#elsewhere").focus()
        await pilot.pause()
        mine = [nodes for nodes in restyled if panel in nodes]
        assert mine and all(nodes == [panel] for nodes in mine)
        assert panel.styles.background != Color(0, 0, 200)


async def test_a_rule_on_the_containers_focus_restyles_its_descendants() -> None:
    class StyledInside(PanelApp):
        CSS = "Panel:focus Label { color: rgb(200, 0, 0); }"

    app = StyledInside()
    async with app.run_test(size=(60, 12)) as pilot:
        panel, label = app.query_one(Panel), app.query_one("#label-3", Label)
        assert focus_styles_descendants(panel)
        app.query_one("#elsewhere").focus()
        await pilot.pause()
        assert label.styles.color != Color(200, 0, 0)
        panel.focus()
        await pilot.pause()
        assert label.styles.color == Color(200, 0, 0)
        app.query_one("#elsewhere").focus()
        await pilot.pause()
        assert label.styles.color != Color(200, 0, 0)


async def test_the_ngram_panel_restyles_alone_when_its_tab_takes_the_focus(tui) -> None:
    """It takes the focus each time its tab is shown: its 20-odd widgets were restyled on
    each focus and each blur (20–32 ms)."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        restyled = spy_restyles(app)
        await pilot.press("right_square_bracket")
        await tui.settle(pilot)
        panel = app.screen.query_one(NgramPanel)
        assert app.focused is panel and len(list(panel.walk_children())) > 10
        await pilot.press("right_square_bracket")  # blurred as the next tab is shown
        await tui.settle(pilot)
        await pilot.press("left_square_bracket")  # and focused again
        await tui.settle(pilot)
        mine = [nodes for nodes in restyled if panel in nodes]
        assert len(mine) >= 3 and all(nodes == [panel] for nodes in mine)
