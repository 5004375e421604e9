"""A top-level screen is styled once when first opened (ModeScreen): no whole-app restyle, no
whole-screen restyle on its first resumes nor on a return when the app's state is unchanged,
and its styles are still right after a theme change made before it was built or while it was
away, or a change to its own nodes or to the terminal's focus while it was away."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")


def _colours(screen) -> tuple[list[tuple[str, str, str]], str]:
    """Each node's background and text colour, in DOM order, and the screen as drawn (its
    SVG, with the export's random class prefix taken out): widgets that draw with
    component-class styles show there."""
    import re

    nodes = [
        (type(node).__name__, str(node.styles.background), str(node.styles.color))
        for node in [screen, *screen.walk_children()]
    ]
    drawn = re.sub(r"terminal-\d+", "terminal", screen.app.export_screenshot())
    return nodes, drawn


async def _train_built_under_light(tui):
    """The Train screen's colours and drawing in an app started under the light theme."""
    app = tui.make_app()
    app.theme = "textual-light"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        return _colours(app.screen)


async def test_opening_each_screen_restyles_neither_the_app_nor_the_whole_screen(
    tui, monkeypatch
) -> None:
    from rnn_tui.tui.app import SCREEN_SPECS
    from rnn_tui.tui.screens.mode_screen import ModeScreen

    restyled: list[str] = []
    app = tui.make_app()
    refresh_css = app.refresh_css

    def counted_refresh_css(*args, **kwargs):
        restyled.append("the whole app")
        return refresh_css(*args, **kwargs)

    update_node_styles = ModeScreen.update_node_styles

    def counted_update_node_styles(self, *args, **kwargs):
        restyled.append(f"the whole {type(self).__name__}")
        return update_node_styles(self, *args, **kwargs)

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        monkeypatch.setattr(app, "refresh_css", counted_refresh_css)
        monkeypatch.setattr(ModeScreen, "update_node_styles", counted_update_node_styles)
        for spec in SCREEN_SPECS[1:]:
            await pilot.press(spec.function_key)
            await pilot.pause()
            await pilot.pause()
            assert app.screen.sub_title == spec.title
            assert restyled == [], f"opening {spec.title} restyled {restyled}"


async def test_a_screen_built_after_a_theme_change_has_the_new_theme(tui) -> None:
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        after_change = _colours(app.screen)

    assert after_change == await _train_built_under_light(tui)


async def test_a_screen_away_during_a_theme_change_is_restyled_on_return(tui) -> None:
    built_light = await _train_built_under_light(tui)
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        dark = _colours(app.screen)
        await pilot.press("f2")
        await pilot.pause()
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        back = _colours(app.screen)
    assert back != dark
    assert back == built_light


async def test_a_focus_move_repaints_the_widgets_it_restyles_not_the_whole_screen(tui) -> None:
    """Textual's `Screen.focused` repaints the whole screen on every focus move: each widget's
    lines composed again, 15–27 ms of a Dataset tab switch at 120×40."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "train")
        screen.query_one("#form-hidden").focus()
        await tui.settle(pilot)
        whole = []
        refresh = screen.refresh

        def recording(*regions, **options):
            if not regions:
                whole.append(options)
            return refresh(*regions, **options)

        screen.refresh = recording
        for _ in range(3):
            before = app.focused
            await pilot.press("tab")
            await tui.settle(pilot)
            assert app.focused is not before
        assert whole == []


def _restyled_whole(monkeypatch) -> list[str]:
    """The screens Textual restyles whole from now on (each by its name)."""
    from rnn_tui.tui.screens.mode_screen import ModeScreen

    restyled: list[str] = []
    update_node_styles = ModeScreen.update_node_styles

    def counted(self, *args, **kwargs):
        restyled.append(type(self).__name__)
        return update_node_styles(self, *args, **kwargs)

    monkeypatch.setattr(ModeScreen, "update_node_styles", counted)
    return restyled


def _fully_restyled(screen) -> tuple[list[tuple[str, str, str]], str]:
    """The screen's colours after every node of it is restyled, as Textual's resume did."""
    screen.app.stylesheet.update_nodes(screen.walk_children(with_self=True), animate=False)
    return _colours(screen)


async def test_a_return_restyles_nothing_when_only_the_screens_own_nodes_changed(
    tui, monkeypatch
) -> None:
    # Textual restyled every node on each return: 40-121 ms a switch at 120x40. A node that
    # changes while its screen is away is restyled at once, so nothing is stale.
    from textual.widgets import Button

    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "train")
        field = screen.query_one("#form-hidden")
        field.focus()
        await tui.settle(pilot)
        restyled = _restyled_whole(monkeypatch)
        await pilot.press("f2")
        await pilot.pause()
        start = screen.query_one("#start", Button)
        start.disabled = True
        field.add_class("-invalid")
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        assert app.screen is screen and app.focused is field
        assert restyled == []
        back = _colours(screen)
        assert back == _fully_restyled(screen)
        start.disabled = False
        field.remove_class("-invalid")
        await pilot.pause()
        assert _colours(screen) != back


async def test_a_return_restyles_the_screen_when_the_terminal_focus_changed_away(
    tui, monkeypatch
) -> None:
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "train")
        await pilot.press("f2")
        await pilot.pause()
        restyled = _restyled_whole(monkeypatch)
        app.app_focus = False  # the terminal lost the focus: Textual restyles the Dataset only
        await pilot.pause()
        app.switch_mode("train")  # not by a key: a key gives the app its focus back
        await pilot.pause()
        assert app.screen is screen and "TrainScreen" in restyled
        assert _colours(screen) == _fully_restyled(screen)


async def _dataset_under_light(tui):
    app = tui.make_app()
    app.theme = "textual-light"
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        return _colours(app.screen)


async def test_the_first_screen_returns_without_restyling_the_app(tui, monkeypatch) -> None:
    # Textual leaves the app's first screen at CSS count -1, so the first return to it
    # re-parsed the whole stylesheet and restyled every node of the app (~110 ms).
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        dataset = app.screen
        before = _colours(dataset)
        await tui.open_screen(pilot, "train")
        restyled = _restyled_whole(monkeypatch)
        refresh_css = app.refresh_css
        monkeypatch.setattr(
            app, "refresh_css", lambda *a, **k: (restyled.append("app"), refresh_css(*a, **k))
        )
        await pilot.press("f2")
        await pilot.pause()
        assert app.screen is dataset and restyled == []
        assert _colours(dataset) == before == _fully_restyled(dataset)


async def test_the_first_screen_away_during_a_theme_change_is_restyled_on_return(tui) -> None:
    light = await _dataset_under_light(tui)
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        dark = _colours(app.screen)
        await tui.open_screen(pilot, "train")
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("f2")
        await tui.settle(pilot)
        back = _colours(app.screen)
    assert back != dark and back == light


async def test_a_drop_down_left_open_is_closed_when_the_screen_is_left(tui) -> None:
    # Back on the screen, its list was still open and the next enter chose what it highlighted.
    from textual.widgets import Select

    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        select = pilot.app.screen.query(Select).first()
        select.focus()
        select.expanded = True
        await pilot.pause()
        await pilot.press("f4")
        await tui.settle(pilot)
        await pilot.press("f2")
        await tui.settle(pilot)
        assert pilot.app.current_mode == "dataset" and not select.expanded


async def test_a_widget_is_styled_as_it_mounts_not_as_its_classes_are_set_before(
    tui, monkeypatch
) -> None:
    # An Input sets its validity classes in its constructor; Textual styled it then and again
    # as it registered (a third of the Train screen's first styling).
    from textual.validation import Function
    from textual.widgets import Input

    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        styled: list[object] = []
        apply = app.stylesheet.apply

        def counted(node, *args, **kwargs):
            styled.append(node)
            return apply(node, *args, **kwargs)

        monkeypatch.setattr(app.stylesheet, "apply", counted)
        field = Input("x", validators=[Function(str.isdigit)])
        assert field.has_class("-invalid") and field not in styled
        await app.screen.mount(field)
        await pilot.pause()
        assert styled.count(field) == 1
        assert _colours(app.screen) == _fully_restyled(app.screen)
        # A class changed once it is mounted is still styled at once.
        before = styled.count(field)
        field.remove_class("-invalid")
        assert styled.count(field) == before + 1
