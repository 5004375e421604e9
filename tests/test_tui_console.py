"""What the Generate and Translate consoles share: fields built from option declarations, and one
model cache per app (rnn_tui.tui.screens.console)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from lm_fixtures import copy_checkpoint
from test_tui_translate import FakeTranslator, write_fake_checkpoint

from rnn_tui.decode.generate import load_lm
from rnn_tui.decode.options import BEAM, LENGTH, MAX_LEN_OPTION, OptionError
from rnn_tui.runs import discover
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.screens.generate import GenerateScreen
from rnn_tui.tui.screens.translate import TranslateScreen
from rnn_tui.tui.widgets.option_input import OptionValidator, option_tooltip


def test_option_fields_refuse_what_enter_would_refuse_and_say_why():
    beam = OptionValidator(BEAM)
    for text in ("1", " 4 ", "64"):
        assert beam.validate(text).is_valid
    for text in ("0", "65", "four", "2.5", ""):
        result = beam.validate(text)
        assert not result.is_valid
        try:
            BEAM.parse(text)
        except OptionError as exc:
            assert result.failure_descriptions == [str(exc)]
    assert OptionValidator(MAX_LEN_OPTION).validate("").is_valid  # empty: the run's num_steps
    tooltip = option_tooltip(LENGTH, "enter generates")
    assert tooltip == "Tokens to generate: an integer in [1, 100,000]; enter generates"


async def test_both_consoles_keep_their_models_in_the_apps_one_cache(
    tmp_path, monkeypatch, char_checkpoint, tui
):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    copy_checkpoint(char_checkpoint, folder / "tiny-gru.safetensors")
    seq2seq = write_fake_checkpoint(folder)
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "no-shipped-checkpoints")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(folder))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(RnnTuiApp, "DEFAULT_MODE", "generate")
    loads: list[str] = []

    def load(path: str):
        loads.append(path)
        return load_lm(path, "cpu")

    monkeypatch.setattr(GenerateScreen, "loader", staticmethod(load))
    monkeypatch.setattr(TranslateScreen, "loader", staticmethod(lambda p: FakeTranslator(Path(p))))
    lm = str(folder / "tiny-gru.safetensors")
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await tui.settle(pilot)
        assert isinstance(app.screen, GenerateScreen)
        assert app.model_cache.keys() == [("lm", lm)]
        await app.run_action("show_screen('translate')")  # the prefix field has the keys
        await tui.settle(pilot)
        assert isinstance(app.screen, TranslateScreen)
        assert app.model_cache.keys() == [("lm", lm), ("seq2seq", str(seq2seq))]
        await app.run_action("show_screen('generate')")
        await tui.settle(pilot)
        app.screen.query_one("#length").value = "5"
        await pilot.press("ctrl+g")
        await tui.settle(pilot)
        assert app.screen.status.startswith("generated 5 tokens")
        assert loads == [lm]  # generating used the model loaded when it was chosen
        assert app.model_cache.keys() == [("seq2seq", str(seq2seq)), ("lm", lm)]
        assert tui.errors(app) == []


async def test_a_slow_first_load_keeps_its_line_until_the_model_is_ready(
    tmp_path, monkeypatch, char_checkpoint, tui
):
    # The search for checkpoints ends while the first one still loads: its "2 checkpoints
    # found · enter generates" must not replace "loading …" while the busy bar runs.
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    copy_checkpoint(char_checkpoint, folder / "tiny-gru.safetensors")
    copy_checkpoint(char_checkpoint, folder / "tiny-gru-2.safetensors")
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "no-shipped-checkpoints")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(folder))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(RnnTuiApp, "DEFAULT_MODE", "generate")
    release = threading.Event()

    def load(path: str):
        assert release.wait(30)
        return load_lm(path, "cpu")

    monkeypatch.setattr(GenerateScreen, "loader", staticmethod(load))
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        # The search's result is in (the picker lists both): waited for, not given 2 s, which a
        # loaded machine could spend before the search ended, and the checks below then failed.
        deadline = time.monotonic() + 60
        while len(app.screen.checkpoint_paths) != 2:
            assert time.monotonic() < deadline, "the search for checkpoints never ended"
            await pilot.pause(0.05)
        screen = app.screen
        assert isinstance(screen, GenerateScreen)
        # The picker's first choice starts its load a message after the list is filled: on a
        # loaded machine the list was seen filled before that (the load has to be waited for).
        await tui.until(pilot, lambda: screen.running)
        await tui.until(pilot, lambda: screen.status.startswith("loading tiny-gru"))
        release.set()
        await tui.settle(pilot)
        assert not screen.running
        assert screen.status.startswith("ready · tiny-gru"), screen.status
        await pilot.press("ctrl+r")  # a search with nothing running does say what it found
        await tui.settle(pilot)
        assert screen.status == "2 checkpoints found · enter generates"


async def test_choosing_another_checkpoint_clears_the_text_the_last_one_wrote(
    tmp_path, monkeypatch, char_checkpoint, tui
):
    """Text generated by one checkpoint is not left under another's name: choosing another
    clears it (and the next-token panel) and says so; enter then generates with the new one."""
    from textual.widgets import Select

    from rnn_tui.tui.widgets.generate_output import GenerationOutput
    from rnn_tui.tui.widgets.generate_top import TopTokens

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    paths = [str(folder / f"{name}.safetensors") for name in ("tiny-a", "tiny-b")]
    for path in paths:
        copy_checkpoint(char_checkpoint, Path(path))
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "no-shipped-checkpoints")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(folder))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(RnnTuiApp, "DEFAULT_MODE", "generate")
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await tui.settle(pilot)
        screen = app.screen
        select = screen.query_one("#checkpoint", Select)
        first = select.value
        second = next(p for p in paths if p != first)
        output = screen.query_one(GenerationOutput)
        screen.query_one("#length").value = "5"
        await pilot.press("ctrl+g")
        await tui.settle(pilot)
        assert output.generated == 5 and output.text
        select.value = second
        await tui.settle(pilot)
        assert output.text == "" and output.generated == 0
        shown = str(output.query_one("#gen-text").render())
        assert shown.startswith("Press enter to generate with the checkpoint above")
        assert str(screen.query_one(TopTokens).render()).startswith("the top 5 appear here")
        assert screen.status == "ready · tiny-b.safetensors loaded"
        await pilot.press("ctrl+g")
        await tui.settle(pilot)
        assert output.generated == 5 and screen.status.startswith("generated 5 tokens")
        select.value = first  # and back, a model the app's cache holds
        await tui.settle(pilot)
        assert output.text == ""
        assert tui.errors(app) == []


@pytest.mark.parametrize(
    ("mode", "ids"),
    [
        ("generate", ("#checkpoint", "#ckpt-path", "#prefix")),
        ("translate", ("#tr-checkpoint", "#tr-path", "#tr-source")),
    ],
)
async def test_ctrl_o_opens_the_typed_path_without_loading_it(
    mode, ids, tmp_path, monkeypatch, char_checkpoint, tui
):
    """ctrl+o after a checkpoint was picked from the list shows the path typed before and waits
    for enter: it reloaded that path at once, and the cursor then moved to the text field, where
    the next key meant for the path landed."""
    from textual.widgets import Input, Select

    folder, typed_folder = tmp_path / "checkpoints", tmp_path / "typed"
    folder.mkdir()
    typed_folder.mkdir()
    if mode == "generate":
        copy_checkpoint(char_checkpoint, folder / "tiny-gru.safetensors")
        typed = str(copy_checkpoint(char_checkpoint, typed_folder / "typed.safetensors"))
    else:
        write_fake_checkpoint(folder)
        typed = str(write_fake_checkpoint(typed_folder, "typed"))
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "no-shipped-checkpoints")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(folder))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(RnnTuiApp, "DEFAULT_MODE", mode)
    monkeypatch.setattr(TranslateScreen, "loader", staticmethod(lambda p: FakeTranslator(Path(p))))
    select_id, path_id, text_id = ids
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await tui.settle(pilot)
        screen = app.screen
        listed = screen.query_one(select_id, Select).value
        await pilot.press("ctrl+o")
        screen.query_one(path_id, Input).value = typed
        await pilot.press("enter")
        await tui.settle(pilot)
        assert screen.request.path == typed
        assert app.focused is screen.query_one(text_id)
        text = screen.query_one(text_id, Input).value

        screen.query_one(select_id, Select).value = listed
        await tui.settle(pilot)
        assert screen.request.path == listed
        await pilot.press("ctrl+o")
        await tui.settle(pilot)
        assert screen.request.path == listed  # nothing loaded yet
        assert app.focused is screen.query_one(path_id)
        await pilot.press("q")
        assert screen.query_one(path_id, Input).value == typed + "q"
        assert screen.query_one(text_id, Input).value == text
        await pilot.press("backspace", "enter")  # enter loads it
        await tui.settle(pilot)
        assert screen.request.path == typed
        assert tui.errors(app) == []
