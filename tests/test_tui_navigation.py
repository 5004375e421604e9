"""Navigation from anywhere: screen keys from inside text fields, Escape out of a field, typed
digits that never replace a field's text, and a header title that follows the screen."""

from __future__ import annotations

import pytest
from lm_fixtures import copy_checkpoint
from textual.widgets import Input, Select
from textual.widgets._header import HeaderTitle

from rnn_tui.runs import discover
from rnn_tui.tui.app import SCREEN_SPECS, RnnTuiApp, ScreenSpec
from rnn_tui.tui.screens.generate import GenerateScreen
from rnn_tui.tui.screens.help import HelpScreen
from rnn_tui.tui.widgets.footer import AppFooter

SPECS = {spec.mode: spec for spec in SCREEN_SPECS}


def header(app) -> str:
    """The title line the header shows."""
    return str(app.screen.query_one(HeaderTitle).render())


def filled_field(screen) -> Input:
    """The screen's first text field (in focus order) that holds some text."""
    return next(w for w in screen.focus_chain if isinstance(w, Input) and w.value)


def footer(app) -> AppFooter:
    return app.screen.query_one(AppFooter)


def footer_keys(app) -> list[str]:
    """Every key the footer has (those hidden to fit included), the palette key last."""
    return [key.display for key in footer(app).keys()]


def footer_text(app) -> str:
    return footer(app).render_line(0).text


async def test_function_keys_switch_screens_from_inside_a_field_that_keeps_its_text(
    no_checkpoints, tui
):
    """On every screen: in a text field a digit is typed, not a screen key; every function key
    switches screens from there; back on the screen, the field has the focus and its text.
    (One app for all screens, each built once: an app per screen took 13 s each.)"""
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await tui.settle(pilot)
        for spec in SCREEN_SPECS:
            await pilot.press(spec.function_key)
            await tui.settle(pilot)
            screen = app.screen
            assert app.current_mode == spec.mode
            assert header(app) == f"rnn-tui — {spec.title}"
            field = filled_field(screen)
            field.focus()
            await pilot.pause()
            text = field.value
            # A digit in a field is typed at the end, neither a screen key nor a replacement.
            await pilot.press(spec.key)
            assert app.current_mode == spec.mode
            assert field.value == text + spec.key
            for other in SCREEN_SPECS:
                await pilot.press(other.function_key)
                await pilot.pause()
                assert app.current_mode == other.mode
                assert header(app) == f"rnn-tui — {other.title}"
            await pilot.press(spec.function_key)
            await pilot.pause()
            assert app.screen is screen
            assert app.focused is field and field.value == text + spec.key


async def test_a_field_reached_with_tab_keeps_its_text_when_typed_into(no_checkpoints, tui):
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await tui.open_screen(pilot, "generate")
        prefix = screen.query_one("#prefix", Input)
        length = screen.query_one("#length", Input)
        prefix.focus()
        await pilot.pause()
        await pilot.press("tab")
        assert app.focused is length and length.value == "100"
        await pilot.press("4")
        assert length.value == "1004"
        assert prefix.value == ""
        assert app.current_mode == "generate"


async def test_escape_leaves_the_field_then_digits_switch(no_checkpoints, tui):
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await tui.open_screen(pilot, "generate")
        prefix = screen.query_one("#prefix", Input)
        prefix.focus()
        await pilot.pause()
        await pilot.press("4")
        assert app.current_mode == "generate" and prefix.value == "4"
        await pilot.press("escape")
        assert app.focused is None
        assert prefix.value == "4"
        await pilot.press("4")
        await tui.settle(pilot)
        assert app.current_mode == "translate"
        assert header(app) == "rnn-tui — Translate"


async def test_a_digit_on_a_drop_down_switches_and_the_value_stays(no_checkpoints, tui):
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await tui.open_screen(pilot, "generate")
        strategy = screen.query_one("#strategy", Select)
        strategy.focus()
        await pilot.pause()
        await pilot.press("4")
        await tui.settle(pilot)
        assert app.current_mode == "translate"
        await pilot.press("f4")  # Translate's path field has the focus: a digit would be typed
        assert app.screen is screen and app.focused is strategy
        assert strategy.value == "greedy"


async def test_the_footer_shows_the_keys_that_work_where_the_focus_is(no_checkpoints, tui):
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.open_screen(pilot, "generate")
        assert isinstance(app.focused, Input)
        keys = footer_keys(app)
        digits = [spec.key for spec in SCREEN_SPECS]
        function_keys = [spec.function_key for spec in SCREEN_SPECS]
        n = len(digits) + 3
        assert keys[-n:] == ["f1", *function_keys, "f9", "^p"]
        assert not {*digits, "?", "e"} & set(keys)
        await pilot.press("escape")
        await pilot.pause()
        keys = footer_keys(app)
        assert keys[-n:] == ["?", *digits, "e", "^p"]
        assert not {"f1", "f2", "f9"} & set(keys)


async def test_help_lists_both_keys_of_each_screen_and_opens_from_a_field(no_checkpoints, tui):
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await tui.open_screen(pilot, "generate")
        await pilot.press("escape")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.rows)
        for spec in SCREEN_SPECS:
            assert keys[f"{spec.key} / {spec.function_key}"].startswith(spec.title)
        assert keys["e / f9"].startswith("Explain") and keys["? / f1"].startswith("Help")
        await pilot.press("escape")
        screen.query_one("#prefix", Input).focus()
        await pilot.pause()
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        # From a field only the keys that work there are listed: no bare digits.
        assert dict(app.screen.rows)["f4"].startswith("Generate")
        await pilot.press("f1")
        assert app.screen is screen
        assert screen.query_one("#prefix", Input).value == ""


async def test_a_screen_key_over_the_help_closes_it_and_switches(no_checkpoints, tui):
    """The help lists the screen keys: pressed over it, one closes it and switches (it did
    nothing), and the screen left behind is not found still under its help on the way back.
    Over a dialog a screen key still waits for the answer."""
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await tui.open_screen(pilot, "generate")
        for key, mode in (("f3", "train"), ("4", "translate")):
            await pilot.press("f4")
            await pilot.pause()
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press(key)
            await tui.settle(pilot)
            assert app.current_mode == mode
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("f4")
            await pilot.pause()
            assert app.screen is screen
        # Over the command palette too: it closes, and the key switches (it did nothing).
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        await pilot.press("f3")
        await tui.settle(pilot)
        assert app.screen is not palette and app.current_mode == "train"


def test_a_screen_added_later_gets_its_digit_and_function_key():
    spec = ScreenSpec("7", "classify", "Classify", GenerateScreen)
    assert [(b.key, b.action, b.priority) for b in spec.bindings()] == [
        ("7", "show_screen('classify')", False),
        ("f8", "show_screen('classify')", True),
    ]
    assert spec.build().sub_title == "Classify"
    # Keys 1–7 use F2–F8: none collides with the help (F1) or the explain panel (F9).
    app_keys = [binding.key for binding in RnnTuiApp.BINDINGS]
    assert len(app_keys) == len(set(app_keys))
    assert {f"f{n + 1}" for n in range(1, 8)}.isdisjoint({"f1", "f9"})


@pytest.fixture
def slow_checkpoint(tmp_path, monkeypatch, char_checkpoint):
    """The tiny char checkpoint as the only one discovery finds."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    copy_checkpoint(char_checkpoint, folder / "tiny.safetensors")
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "no-shipped-checkpoints")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(folder))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(tmp_path)


async def test_escape_stops_a_running_generation_first_then_leaves_the_field(slow_checkpoint, tui):
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await tui.open_screen(pilot, "generate")
        length = screen.query_one("#length", Input)
        length.value = "100000"
        length.focus()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert screen.running
        await pilot.press("escape")
        await tui.settle(pilot)
        assert not screen.running
        assert app.focused is length
        await pilot.press("escape")
        assert app.focused is None


async def test_a_focus_move_repaints_the_footer_only_when_its_keys_change(tui):
    """Textual's Footer is a widget per key, removed and mounted again on every change: two
    whole-screen layouts and ~75 key renders a Dataset tab switch (20–85 ms of held loop each).
    Here the keys are one line: a focus move that keeps them draws nothing, one that changes
    them repaints the line, and neither asks for a layout or mounts a widget."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "train")
        screen.query_one("#form-hidden").focus()
        await tui.settle(pilot)
        line = footer(app)
        refreshes = []
        refresh = line.refresh

        def recording_refresh(*regions, **options):
            refreshes.append(options)
            return refresh(*regions, **options)

        line.refresh = recording_refresh
        await pilot.press("tab")
        await tui.settle(pilot)
        assert app.focused.id == "form-embed"
        assert refreshes == []  # the same keys: not drawn again
        in_field = footer_keys(app)
        assert "f3" in in_field
        await pilot.press("escape")  # out of the field: the digits are keys again
        await tui.settle(pilot)
        assert footer_keys(app) != in_field
        assert "2" in footer_keys(app) and "f3" not in footer_keys(app)
        assert " 1 2 3 4 5 6 7 screens " in footer_text(app)
        assert refreshes and not [options for options in refreshes if options.get("layout")]
        assert not line.children


async def test_tab_moves_between_fields_not_onto_a_form_itself(tui):
    """A form's scroll container took a Tab stop of its own, showing nothing focused, and
    focusing or leaving it restyled every field in it (~100 ms a Tab each way)."""
    from rnn_tui.tui.widgets.forecast_form import ForecastForm
    from rnn_tui.tui.widgets.options_form import OptionsForm
    from rnn_tui.tui.widgets.train_form import TrainForm

    forms = (TrainForm, ForecastForm, OptionsForm)
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for mode in ("train", "forecast", "classify"):
            await pilot.press(SPECS[mode].function_key)  # works from inside a field too
            await tui.settle(pilot)
            screen = app.screen
            assert app.current_mode == mode
            assert (
                screen.query(TrainForm) or screen.query(ForecastForm) or screen.query(OptionsForm)
            )
            stops = []
            for _ in range(30):  # more than one cycle of the Train form
                await pilot.press("tab")
                stops.append(app.focused)
            assert not [w for w in stops if isinstance(w, forms)], mode


async def test_the_footer_catches_up_with_a_focus_move_made_while_the_app_was_blurred(tui):
    """Textual does not rebuild the footer while the terminal has lost the app's focus; what
    changed meanwhile shows when the focus comes back."""
    from textual import events

    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "train")
        screen.query_one("#form-hidden").focus()
        await tui.settle(pilot)
        assert "f3" in footer_keys(app)  # in a field: the function keys
        app.post_message(events.AppBlur())
        await tui.settle(pilot)
        screen.query_one("#start").focus()  # a button: the digits are keys there
        await tui.settle(pilot)
        app.post_message(events.AppFocus())
        await tui.settle(pilot)
        assert app.focused.id == "start"
        assert "2" in footer_keys(app) and "f3" not in footer_keys(app)


@pytest.mark.parametrize("width", [80, 120])
async def test_the_footer_looks_like_textuals_compact_below_100_columns(tui, width):
    """The keys as Textual's Footer draws them: ` k Description ` wide, with the palette key
    at the right; `k Description` one column apart and no palette key below 100 columns."""
    app = tui.make_app()
    async with app.run_test(size=(width, 40)) as pilot:
        await tui.settle(pilot)
        assert footer(app).compact == (width < 100)
        text = footer_text(app)
        assert len(text) == width
        if width < 100:
            assert text.rstrip() == (
                "/ Search c Corpus t Token ] Next tab ? Help 1 2 3 4 5 6 7 screens e Explain"
            )
        else:
            assert text.startswith(
                " / Search  c Corpus  t Token  ] Next tab  ? Help  1 2 3 4 5 6 7 screens "
                " e Explain "
            )
            assert text.endswith(" ▏^p palette ")
        segments = list(footer(app).render_line(0))
        key = next(segment for segment in segments if segment.text.strip() == "/")
        description = next(segment for segment in segments if "Search" in segment.text)
        assert key.style.bold and key.style.color != description.style.color


def footer_line(app):
    """The footer's drawn keys (first column, column after, key) and those hidden to fit."""
    line = footer(app)
    hidden = [key for unit in line.layout()[1] for key in unit.keys]
    return line.shown_keys(), hidden


@pytest.mark.parametrize("width", [80, 120])
async def test_the_footer_fits_its_line_keeping_help_screens_and_explain(tui, width):
    """At 80 columns the Train, Generate, Translate, Forecast and Classify footers ran past
    the edge: the explain key and some screen keys were cut off (the Partitioning tab lost
    "2 … 7 screens"). The screen's own keys give way from the right, and the help, screen and
    explain keys stay."""
    app = tui.make_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await tui.settle(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket")  # Partitioning
        await tui.settle(pilot)
        places = ["dataset"]
        for mode in ("train", "generate", "translate", "forecast", "classify"):
            places.append(mode)
        for place in places:
            if place != "dataset":
                await pilot.press(SPECS[place].function_key)
                await tui.settle(pilot)
            await pilot.pause(0.1)
            shown, hidden = footer_line(app)
            displays = [key.display for _, _, key in shown]
            # Every shown key ends within the line (its last column may be a blank past it).
            assert all(end <= width + 1 for _, end, _ in shown), (place, displays)
            assert len([end for _, end, _ in shown if end > width]) <= 1, place
            actions = {key.action for _, _, key in shown}
            assert "help" in actions and "toggle_explain" in actions, place
            screens = {action for action in actions if action.startswith("show_screen(")}
            # Every screen key, or where other keys would give way, the range's two ends
            # (`1-7 screens`).
            text = footer(app).render_line(0).text
            condensed = any(f"{a}-{b} screens" in text for a, b in (("1", "7"), ("f2", "f8")))
            assert len(screens) == (2 if condensed else len(SCREEN_SPECS)), (place, displays)
            # What gives way is never the help or a screen key.
            assert all(not key.action.startswith(("help", "show_screen(")) for key in hidden)
            if width == 80 and place in ("train", "translate"):
                assert hidden, place  # these screens have more keys than 80 columns hold
            # Drawn keys do not overlap.
            spans = sorted((start, end) for start, end, _ in shown)
            assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), place


async def test_keys_hidden_at_80_columns_come_back_and_the_palette_key_follows_the_width(tui):
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.open_screen(pilot, "train")
        await tui.settle(pilot)
        shown, hidden = footer_line(app)
        assert "f" in [key.display for key in hidden]
        await pilot.resize_terminal(160, 40)
        await tui.settle(pilot)
        shown, hidden = footer_line(app)
        assert not hidden
        assert "f" in [key.display for _, _, key in shown]
        assert "command_palette" in [key.action for _, _, key in shown]
        await pilot.resize_terminal(80, 24)
        await tui.settle(pilot)
        shown, hidden = footer_line(app)
        assert "command_palette" not in [key.action for _, _, key in shown]
        assert "f" in [key.display for key in hidden]


async def test_a_click_on_a_footer_key_runs_it_and_hovering_shows_its_tooltip(tui):
    from rnn_tui.tui.widgets.explain import ExplainPanel

    def style_of(line: AppFooter, text: str):
        return next(s.style for s in line.render_line(0) if s.text.strip() == text)

    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        line = footer(app)
        spans = {key.action: (start, key) for start, _, key in line.shown_keys()}
        start, explain = spans["toggle_explain"]
        plain = style_of(line, "e")
        await pilot.hover(AppFooter, offset=(start, 0))
        await pilot.pause()
        assert line.hover_key is explain and line.tooltip == explain.tooltip
        assert "formulas" in explain.tooltip
        assert style_of(line, "e") != plain  # highlighted
        await pilot.hover(AppFooter, offset=(119, 0))  # the line's blank end: no key
        await pilot.pause()
        assert line.hover_key is None and line.tooltip is None
        assert style_of(line, "e") == plain
        await pilot.click(AppFooter, offset=(start, 0))
        await tui.settle(pilot)
        assert app.screen.query(ExplainPanel)
        start, _ = spans["show_screen('train')"]
        await pilot.click(AppFooter, offset=(start, 0))
        await tui.settle(pilot)
        assert app.current_mode == "train"


async def test_tab_switches_leave_nothing_alive_behind(tui) -> None:
    """Each Dataset tab focuses a widget with its own keys, so the footer changes each switch.
    Textual's footer kept every replaced key alive (its data binding of `compact`, and a style
    cache holding their lines): 2,300 objects more after every switch, walked by each full
    collection. What is alive does not grow with the number of switches."""
    import gc

    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)

        async def switches(count: int) -> int:
            for _ in range(count):
                await pilot.press("right_square_bracket")
                await pilot.pause(0.05)
            await tui.settle(pilot)
            gc.collect()
            return len(gc.get_objects())

        after_one_round = await switches(8)  # each tab shown twice: every cache filled
        after_three = await switches(16)
        assert after_three - after_one_round < 1_500


@pytest.mark.parametrize("key", ["f3", "f6", "f8"])
async def test_a_screens_first_run_scan_starts_once_it_has_been_drawn(tui, monkeypatch, key):
    """The scan's thread shares the GIL with the event loop: started at mount, 2,001 runs
    slowed the screen's first layout and drawing (longest gap 128–190 ms, 72–143 after)."""
    from textual.screen import Screen

    from rnn_tui.tui.screens.side_runs import SideRunsScreen

    drawn: set[int] = set()
    scans: list[bool] = []
    draw, scan = Screen._compositor_refresh, SideRunsScreen.refresh_runs

    def drawing(screen):
        drawn.add(id(screen))
        return draw(screen)

    def scanning(screen):
        scans.append(id(screen) in drawn)
        return scan(screen)

    monkeypatch.setattr(Screen, "_compositor_refresh", drawing)
    monkeypatch.setattr(SideRunsScreen, "refresh_runs", scanning)
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(key)
        await tui.settle(pilot)
        assert isinstance(app.screen, SideRunsScreen)
        assert scans and scans[0], scans


async def test_a_screen_is_laid_out_once_when_first_shown_and_again_on_a_resize(tui, monkeypatch):
    """Textual posts a screen just shown a Resize to the size it was just laid out at, and
    laid it all out again: the help over the Train screen spent 43 ms redrawing both."""
    from textual.screen import Screen

    from rnn_tui.tui.screens.help import HelpScreen

    relaid: list[str] = []  # layouts a Resize set off
    real = Screen._screen_resized

    def resized(screen, size):
        relaid.append(type(screen).__name__)
        return real(screen, size)

    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await tui.settle(pilot)
        monkeypatch.setattr(Screen, "_screen_resized", resized)
        await pilot.press("f1")
        await tui.settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert relaid == []
        await pilot.resize_terminal(100, 30)  # a real resize: laid out at the new size
        await tui.settle(pilot)
        assert "HelpScreen" in relaid and "TrainScreen" in relaid  # and the one beneath
        assert app.screen.query_one("#help-body").size.width < 100


@pytest.mark.parametrize("mode", ["dataset", "train"])
async def test_the_help_footer_shows_the_keys_that_work_in_the_help(no_checkpoints, tui, mode):
    """With the help open the footer listed the screen's keys beneath (s Start, f Panel, /
    Search), which do nothing there; now the help's own: close it, or switch screens."""
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.open_screen(pilot, mode)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert footer_text(app).split() == ["esc", "Close", "help", *"1234567", "screens"]
        await pilot.press("3")
        await tui.settle(pilot)
        assert app.current_mode == "generate"
