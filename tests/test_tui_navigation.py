"""Navigation from anywhere: screen keys from inside text fields, Escape out of a field, typed
digits that never replace a field's text, and a header title that follows the screen."""

from __future__ import annotations

import pytest
from lm_fixtures import copy_checkpoint
from textual.widgets import Input, Select
from textual.widgets._footer import FooterKey
from textual.widgets._header import HeaderTitle

from rnn_tui.runs import discover
from rnn_tui.tui.app import SCREEN_SPECS, RnnTuiApp, ScreenSpec
from rnn_tui.tui.screens.generate import GenerateScreen
from rnn_tui.tui.screens.help import HelpScreen

SPECS = {spec.mode: spec for spec in SCREEN_SPECS}


def header(app) -> str:
    """The title line the header shows."""
    return str(app.screen.query_one(HeaderTitle).render())


def filled_field(screen) -> Input:
    """The screen's first text field (in focus order) that holds some text."""
    return next(w for w in screen.focus_chain if isinstance(w, Input) and w.value)


def footer_keys(app) -> list[str]:
    return [key.key_display for key in app.screen.query(FooterKey)]


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
        assert prefix.value == "time traveller"
        assert app.current_mode == "generate"


async def test_escape_leaves_the_field_then_digits_switch(no_checkpoints, tui):
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await tui.open_screen(pilot, "generate")
        prefix = screen.query_one("#prefix", Input)
        prefix.focus()
        await pilot.pause()
        await pilot.press("4")
        assert app.current_mode == "generate" and prefix.value == "time traveller4"
        await pilot.press("escape")
        assert app.focused is None
        assert prefix.value == "time traveller4"
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
        assert screen.query_one("#prefix", Input).value == "time traveller"


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


async def test_the_footer_is_rebuilt_only_when_its_keys_change(tui):
    """Textual's Footer rebuilt all its keys on every focus move (50–190 ms a Tab on the Train
    form); between two text fields the keys are the same, so the same key widgets stay."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await tui.open_screen(pilot, "train")
        screen.query_one("#form-hidden").focus()
        await tui.settle(pilot)
        shown = list(screen.query(FooterKey))
        await pilot.press("tab")
        await tui.settle(pilot)
        assert app.focused.id == "form-embed"
        assert list(screen.query(FooterKey)) == shown  # the same widgets: not rebuilt
        in_field = footer_keys(app)
        await pilot.press("escape")  # out of the field: the digits are keys again
        await tui.settle(pilot)
        assert footer_keys(app) != in_field
        assert "2" in footer_keys(app) and "f3" not in footer_keys(app)


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
async def test_new_footer_keys_start_with_the_footers_compact_setting(tui, width):
    """A rebuilt footer's keys started compact and then took the footer's setting, restyling
    each key once or twice (25–30 ms of a Dataset tab switch); they are built with it."""
    app = tui.make_app()
    async with app.run_test(size=(width, 40)) as pilot:
        await tui.settle(pilot)
        footer = app.screen.query_one("AppFooter")
        assert footer.compact == (width < 100)
        restyled = []
        update_styles = app.update_styles

        def recording(node=None, animate=True):
            restyled.append(node)
            return update_styles(node, animate)

        app.update_styles = recording
        shown = list(app.screen.query(FooterKey))
        await pilot.press("right_square_bracket", "right_square_bracket")  # Partitioning's keys
        await tui.settle(pilot)
        keys = list(app.screen.query(FooterKey))
        assert keys and not set(keys) & set(shown)  # rebuilt
        # The palette key (ctrl+p, wide only) is not bound to the footer's setting.
        bound = [key for key in keys if not key.has_class("-command-palette")]
        assert len(bound) >= 10
        assert all(key.compact == footer.compact for key in bound)
        assert all(key.has_class("-compact") == footer.compact for key in bound)
        assert not [node for node in restyled if node in bound]


def footer_line(app) -> tuple[list[FooterKey], list[FooterKey]]:
    """The footer's keys that show, and those it hides."""
    keys = list(app.screen.query(FooterKey))
    shown = [key for key in keys if key.display and (key.parent.display if key.parent else True)]
    return shown, [key for key in keys if key not in shown]


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
            displays = [key.key_display for key in shown]
            # Every shown key ends within the line (its last column is a blank).
            assert all(key.region.right <= width + 1 for key in shown), (place, displays)
            assert len([key for key in shown if key.region.right > width]) <= 1, place
            assert "help" in {key.action for key in shown}, place
            assert "toggle_explain" in {key.action for key in shown}, place
            screens = {key.action for key in shown if key.action.startswith("show_screen(")}
            assert len(screens) == len(SCREEN_SPECS), (place, displays)
            # What gives way is never the help or a screen key.
            assert all(not key.action.startswith(("help", "show_screen(")) for key in hidden)
            if width == 80 and place in ("train", "translate"):
                assert hidden, place  # these screens have more keys than 80 columns hold


async def test_keys_hidden_at_80_columns_come_back_and_the_palette_key_follows_the_width(tui):
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await tui.open_screen(pilot, "train")
        await tui.settle(pilot)
        await pilot.pause(0.1)
        shown, hidden = footer_line(app)
        assert "v" in [key.key_display for key in hidden]
        await pilot.resize_terminal(160, 40)
        await tui.settle(pilot)
        await pilot.pause(0.1)
        shown, hidden = footer_line(app)
        assert not hidden
        assert "v" in [key.key_display for key in shown]
        # Wide enough for the palette key, which only a rebuild adds (or drops).
        assert [key for key in shown if key.has_class("-command-palette")]
        await pilot.resize_terminal(80, 24)
        await tui.settle(pilot)
        await pilot.pause(0.1)
        shown, hidden = footer_line(app)
        assert not [key for key in shown if key.has_class("-command-palette")]
        assert "v" in [key.key_display for key in hidden]


async def test_tab_switches_free_the_footer_keys_they_replace(tui) -> None:
    """Each Dataset tab focuses a widget with its own keys, so the footer is rebuilt each
    switch. The replaced keys were kept alive (Textual's data binding of `compact`, and a
    Textual style cache holding their lines): 2,300 objects more after every switch, walked by
    each full collection. Now what is alive does not grow with the number of switches."""
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
            # type(), not isinstance: the latter asks some of torch's objects, which warn.
            keys = [o for o in gc.get_objects() if type(o) is FooterKey]
            assert len(keys) == len(app.screen.query(FooterKey))  # only the keys shown
            return len(gc.get_objects())

        after_one_round = await switches(8)  # each tab shown twice: every cache filled
        after_three = await switches(16)
        assert after_three - after_one_round < 1_500
