"""The Generate console driven by keys (Pilot) and pictured (snapshots), fed by the tiny trained
checkpoints of lm_fixtures: discovery is pointed at them through $RNN_TUI_CHECKPOINTS, runs at an
empty folder, and the repository's own checkpoints/ folder is hidden."""

from __future__ import annotations

import json
from functools import partial

import pytest
import torch
from lm_fixtures import copy_checkpoint
from textual.widgets import Input, Select

from rnn_tui.decode.generate import generate_text, load_lm
from rnn_tui.runs import discover
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.screens.console import ModelLoaded, Request
from rnn_tui.tui.screens.generate import GenerateScreen
from rnn_tui.tui.widgets.checkpoint_picker import PATH, CheckpointPicker
from rnn_tui.tui.widgets.generate_output import GenerationOutput
from rnn_tui.tui.widgets.generate_top import TopTokens, bar


@pytest.fixture
def checkpoints(tmp_path, monkeypatch, char_checkpoint):
    """A folder holding the char checkpoint as tiny-gru.*, the only one discovery finds; the
    working directory is that folder, so the screen shows its path as a bare file name."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    copy_checkpoint(char_checkpoint, folder / "tiny-gru.safetensors")
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "no-shipped-checkpoints")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(folder))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(folder)
    # Timings would change every picture: a clock that never moves hides them.
    monkeypatch.setattr(GenerateScreen, "clock", staticmethod(lambda: 0.0))
    return folder


@pytest.fixture
def start_here(monkeypatch):
    """Open the app on the Generate screen, skipping the Dataset screen's corpus load (the
    tests that go through key 3 show that path works)."""
    monkeypatch.setattr(RnnTuiApp, "DEFAULT_MODE", "generate")


async def open_generate(pilot, tui) -> GenerateScreen:
    await tui.settle(pilot)
    if not isinstance(pilot.app.screen, GenerateScreen):
        await pilot.press("3")
        await tui.settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, GenerateScreen)
    # tui.settle stills the cursors of the first screen's fields only (app.query stops there).
    for field in screen.query(Input):
        field.cursor_blink = False
    return screen


async def set_field(pilot, screen, selector: str, value: str) -> None:
    field = screen.query_one(selector, Input)
    field.value = value
    field.focus()
    await pilot.pause()


def status(screen) -> str:
    return str(screen.query_one("#gen-status").render())


def output(screen) -> GenerationOutput:
    return screen.query_one(GenerationOutput)


async def test_enter_streams_the_prefix_and_the_tokens_and_fills_the_top5(checkpoints, tui):
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_generate(pilot, tui)
        select = screen.query_one("#checkpoint", Select)
        assert select.value == str(checkpoints / "tiny-gru.safetensors")
        facts = str(screen.query_one("#gen-facts").render())
        assert facts.startswith("gru · char (clean) · vocabulary 28 · hidden 32 · val ppl ")
        assert app.focused is screen.query_one("#prefix")
        await set_field(pilot, screen, "#length", "30")
        await set_field(pilot, screen, "#prefix", "Time Traveller!")
        await pilot.press("enter")
        await tui.settle(pilot)
        lm = load_lm(checkpoints / "tiny-gru.safetensors")
        expected, _ = generate_text("Time Traveller!", 30, lm.model, lm.vocab, "char")
        assert output(screen).text == expected
        assert output(screen).generated == 30
        rows = screen.query_one(TopTokens).rows
        assert len(rows) == 5
        assert [p for _, p in rows] == sorted((p for _, p in rows), reverse=True)
        assert status(screen) == "generated 30 tokens · greedy"
        # The '!' is read as a space, and said so (no token is unknown).
        warning = str(screen.query_one("#gen-unknown").render())
        assert warning == "⚠ cleaned as the corpus was (letters a–z only): '!' read as spaces"
        assert tui.errors(app) == []


async def test_sampling_with_a_seed_repeats_and_says_how(checkpoints, start_here, tui):
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_generate(pilot, tui)
        assert screen.query_one("#temperature", Input).disabled
        await pilot.press("ctrl+t")
        assert screen.query_one("#strategy", Select).value == "sample"
        assert not screen.query_one("#temperature", Input).disabled
        await set_field(pilot, screen, "#length", "40")
        await set_field(pilot, screen, "#temperature", "0.7")
        await set_field(pilot, screen, "#top-k", "4")
        await set_field(pilot, screen, "#seed", "11")
        await pilot.press("enter")
        await tui.settle(pilot)
        first = output(screen).text
        assert status(screen) == "generated 40 tokens · sample, T 0.7, top-k 4, seed 11"
        await pilot.press("ctrl+g")
        await tui.settle(pilot)
        assert output(screen).text == first
        await set_field(pilot, screen, "#seed", "")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert "seed " in status(screen)  # the drawn seed is shown, to be reused


async def test_words_outside_the_vocabulary_are_flagged(
    checkpoints, start_here, tui, word_checkpoint
):
    copy_checkpoint(word_checkpoint, checkpoints / "words.safetensors")
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_generate(pilot, tui)
        screen.query_one("#checkpoint", Select).value = str(checkpoints / "words.safetensors")
        await tui.settle(pilot)
        assert "word (clean) · vocabulary 4,580" in str(screen.query_one("#gen-facts").render())
        await set_field(pilot, screen, "#length", "5")
        await set_field(pilot, screen, "#prefix", "The Time! xyzzy")
        await pilot.press("enter")
        await tui.settle(pilot)
        words = output(screen).text.split(" ")
        assert words[:3] == ["the", "time", "<unk>"] and len(words) == 8
        warning = screen.query_one("#gen-unknown")
        assert warning.display
        assert str(warning.render()) == (
            "⚠ cleaned as the corpus was (letters a–z only): '!' read as spaces · "
            "1 prefix token not in the vocabulary → <unk>: 'xyzzy'"
        )


async def test_bad_paths_and_options_notify_and_keep_the_output(
    checkpoints, start_here, tui, tmp_path
):
    torch.save({"w": torch.zeros(2)}, tmp_path / "model.pt")
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_generate(pilot, tui)
        await set_field(pilot, screen, "#length", "10")
        await pilot.press("enter")
        await tui.settle(pilot)
        shown = output(screen).text
        assert len(shown) == len("time traveller") + 10

        await pilot.press("ctrl+o")
        assert screen.query_one("#checkpoint", Select).value == PATH
        assert app.focused is screen.query_one("#ckpt-path")
        await set_field(pilot, screen, "#ckpt-path", str(tmp_path / "no-such.safetensors"))
        await pilot.press("enter")
        await tui.settle(pilot)
        assert "checkpoint not found" in tui.errors(app)[-1]

        await set_field(pilot, screen, "#ckpt-path", str(tmp_path / "model.pt"))
        await pilot.press("enter")
        await tui.settle(pilot)
        assert "it is a pickle (loading it could run code)" in tui.errors(app)[-1]
        # The cursor stays in the refused path's field, to correct it: a key typed next lands
        # there, never in the prefix.
        assert app.focused is screen.query_one("#ckpt-path")
        await pilot.press("x")
        assert screen.query_one("#ckpt-path", Input).value.endswith("model.ptx")
        assert screen.query_one("#prefix", Input).value == ""
        # A path that loads moves it on to the prefix.
        await set_field(pilot, screen, "#ckpt-path", str(checkpoints / "tiny-gru.safetensors"))
        await pilot.press("enter")
        await tui.settle(pilot)
        assert app.focused is screen.query_one("#prefix")
        await set_field(pilot, screen, "#ckpt-path", str(tmp_path / "model.pt"))
        await pilot.press("enter")
        await tui.settle(pilot)

        await set_field(pilot, screen, "#prefix", "time")
        await pilot.press("enter")  # generating from the refused path fails the same way
        await tui.settle(pilot)
        assert "it is a pickle" in tui.errors(app)[-1]
        assert output(screen).text == shown

        screen.query_one("#checkpoint", Select).value = str(checkpoints / "tiny-gru.safetensors")
        await tui.settle(pilot)
        assert not screen.query_one("#gen-path-row").display
        for selector, value, fragment in [
            ("#length", "0", "length"),
            ("#length", "ten", "length"),
            ("#prefix", "t" * 100_001, "the prefix is 100,001 char tokens long; at most"),
        ]:
            await set_field(pilot, screen, selector, value)
            await pilot.press("enter")
            await tui.settle(pilot)
            assert fragment in tui.errors(app)[-1]
            await set_field(pilot, screen, selector, "10" if selector == "#length" else "time")
        await pilot.press("ctrl+t")
        await set_field(pilot, screen, "#temperature", "0")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert "temperature must be a number in (0, " in tui.errors(app)[-1]
        assert output(screen).text == shown
        assert app.is_running


async def test_escape_stops_a_long_generation(checkpoints, start_here, tui):
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_generate(pilot, tui)
        assert screen.check_action("stop", ()) is None  # nothing to stop yet
        await set_field(pilot, screen, "#length", "100000")
        await pilot.press("enter")
        # Under way: its worker has passed its check for a stop and writes at least one token.
        await tui.until(pilot, lambda: screen.shown is not None and screen.shown is screen.request)
        assert screen.running and screen.check_action("stop", ())
        await pilot.press("escape")
        await tui.settle(pilot)
        # The tokens made while the worker noticed the stop arrive after it.
        await tui.until(pilot, lambda: status(screen).startswith("stopped after "))
        assert 0 < output(screen).generated < 100_000
        assert f"stopped after {output(screen).generated:,} of 100,000" in status(screen)


async def test_without_checkpoints_the_path_field_is_offered(
    tmp_path, monkeypatch, start_here, tui
):
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "none")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(tmp_path / "empty"))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_generate(pilot, tui)
        assert screen.query_one("#checkpoint", Select).value == PATH
        assert screen.query_one("#gen-path-row").display
        assert status(screen).startswith("no checkpoints found")
        await set_field(pilot, screen, "#prefix", "time")
        await pilot.press("enter")
        assert "choose a checkpoint first" in tui.errors(app)[-1]


def run_checkpoint(checkpoints, tmp_path):
    """The tiny checkpoint saved as a run's best, as a run trained meanwhile would save it."""
    run = tmp_path / "runs" / "lm-gru-1" / "checkpoints"
    run.mkdir(parents=True)
    return copy_checkpoint(checkpoints / "tiny-gru.safetensors", run / "best.safetensors")


async def test_refresh_finds_a_new_checkpoint(checkpoints, start_here, tui, tmp_path):
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_generate(pilot, tui)
        saved = run_checkpoint(checkpoints, tmp_path)
        await pilot.press("ctrl+r")
        await tui.settle(pilot)
        select = screen.query_one("#checkpoint", Select)
        assert screen.checkpoint_paths == [
            str(checkpoints / "tiny-gru.safetensors"),
            str(saved),
        ]
        assert select.value == str(checkpoints / "tiny-gru.safetensors")  # the choice stays
        assert status(screen).startswith("2 checkpoints found")


def test_bars_are_drawn_in_eighths():
    assert bar(1.0, 4) == "████"
    assert bar(0.5, 3) == "█▌"
    assert bar(0.0, 5) == ""


async def _generate_greedy(pilot, tui) -> None:
    await open_generate(pilot, tui)
    await pilot.press("enter")
    await tui.settle(pilot)


def test_snapshot_100x32(snap_compare, checkpoints, tui):
    run_before = partial(_generate_greedy, tui=tui)
    assert snap_compare(tui.make_app(), terminal_size=(100, 32), run_before=run_before)


def test_snapshot_80x24(snap_compare, checkpoints, tui):
    run_before = partial(_generate_greedy, tui=tui)
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)


async def test_the_prefix_field_follows_the_chosen_checkpoints_own_prefix(
    checkpoints, start_here, tui, tmp_path
):
    """A checkpoint whose samples started from its corpus's opening offers that prefix as the
    field's placeholder, which enter uses while the field is empty; what the user typed stays."""
    other = checkpoints / "opening.safetensors"
    copy_checkpoint(checkpoints / "tiny-gru.safetensors", other)
    meta = json.loads(other.with_suffix(".json").read_text(encoding="utf-8"))
    meta["config"]["prefix"] = "the tim"  # the trainer writes its config, prefix included
    other.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_generate(pilot, tui)
        select, field = screen.query_one("#checkpoint", Select), screen.query_one("#prefix", Input)
        first = str(checkpoints / "opening.safetensors")
        assert select.value == first  # listed by name: "opening" before "tiny-gru"
        assert (field.value, field.placeholder) == ("", "the tim")
        select.value = str(checkpoints / "tiny-gru.safetensors")
        await tui.settle(pilot)
        assert (field.value, field.placeholder) == ("", "time traveller")
        await set_field(pilot, screen, "#prefix", "my own")
        select.value = first
        await tui.settle(pilot)
        assert (field.value, field.placeholder) == ("my own", "the tim")
        # A load made for a generation (enter pressed before the choice's own load was done)
        # leaves the field alone: the text being continued is the one shown.
        field.value, field.placeholder = "", "time traveller"
        loaded = ModelLoaded(7, first, {"trained_prefix": "the tim"}, [], fresh=False)
        screen.request = Request(first, job="generate")
        screen.model_loaded(loaded)
        assert field.placeholder == "time traveller"
        screen.request = Request(first)  # the choice's own load
        screen.model_loaded(loaded)
        assert (field.value, field.placeholder) == ("", "the tim")
        assert tui.errors(app) == []


async def test_coming_back_lists_checkpoints_saved_meanwhile(
    checkpoints, start_here, tui, tmp_path
):
    """A run trained on another screen saves checkpoints: the list shows them on return,
    without ctrl+r; a return that finds nothing new keeps the status line's last words."""

    async def away_and_back(pilot) -> None:
        await pilot.press("f2")  # the Dataset screen (the prefix field has the cursor)
        await tui.settle(pilot)
        await pilot.press("f4")
        await tui.settle(pilot)

    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_generate(pilot, tui)
        saved = run_checkpoint(checkpoints, tmp_path)
        await away_and_back(pilot)
        assert pilot.app.screen is screen
        assert screen.checkpoint_paths == [
            str(checkpoints / "tiny-gru.safetensors"),
            str(saved),
        ]
        assert status(screen).startswith("2 checkpoints found")
        await pilot.press("enter")  # a generation: its line is the status
        await tui.settle(pilot)
        said = status(screen)
        assert said.startswith("generated")
        await away_and_back(pilot)
        assert status(screen) == said


async def test_a_checkpoint_that_fails_to_load_leaves_the_loaded_one_named(
    checkpoints, start_here, tui
):
    """A listed checkpoint whose tensors are cut short fails to load: the picker and its facts
    line go back to the checkpoint loaded before, whose text is still shown and which still
    generates; chosen first, with none loaded before, its facts line says it is not loaded."""
    broken = copy_checkpoint(
        checkpoints / "tiny-gru.safetensors", checkpoints / "a-cut.safetensors"
    )
    with open(broken, "r+b") as handle:
        handle.truncate(100)
    good = str(checkpoints / "tiny-gru.safetensors")
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_generate(pilot, tui)
        select = screen.query_one("#checkpoint", Select)
        assert select.value == str(broken)  # listed first, chosen by the search, not loaded
        assert "a-cut.safetensors has 100 bytes" in tui.errors(app)[-1]  # refused unread
        assert str(screen.query_one("#gen-facts").render()).startswith("not loaded")
        select.value = good
        await tui.settle(pilot)
        facts = str(screen.query_one("#gen-facts").render())
        await set_field(pilot, screen, "#length", "10")
        await pilot.press("enter")
        await tui.settle(pilot)
        shown = output(screen).text
        errors = len(tui.errors(app))

        select.value = str(broken)
        await tui.settle(pilot)
        assert len(tui.errors(app)) == errors + 1
        assert select.value == good
        assert str(screen.query_one("#gen-facts").render()) == facts
        assert output(screen).text == shown
        await set_field(pilot, screen, "#prefix", "the")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert len(tui.errors(app)) == errors + 1
        assert output(screen).text.startswith("the") and status(screen).startswith("generated")


@pytest.mark.parametrize("searched", [False, True])
async def test_a_search_ending_before_the_path_choice_is_handled_keeps_it(
    checkpoints, start_here, tui, searched
):
    """A search that finishes after "Path…" was chosen (ctrl+o, the palette) but before the
    drop-down's change reached the picker, or before the first search had ended, keeps it."""
    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_generate(pilot, tui)
        picker = screen.query_one(CheckpointPicker)
        entries = list(picker._entries.values())
        assert entries
        if not searched:
            picker._found = False
        picker.open_path()
        picker._fill(entries)  # the search's result, handled before Select.Changed
        await tui.settle(pilot)
        assert screen.query_one("#checkpoint", Select).value == PATH
        assert screen.query_one(".path-row").display
        assert app.focused is screen.query_one("#ckpt-path")


async def test_the_palettes_open_a_path_opens_the_path_field(checkpoints, start_here, tui):
    # The palette closed, the screen searched for checkpoints again on its return, and the
    # search put the first checkpoint back over the "Path…" just chosen: nothing happened.
    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_generate(pilot, tui)
        await tui.palette_choose(pilot, "open a checkpoint path")
        await tui.settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#checkpoint", Select).value == PATH
        assert screen.query_one(".path-row").display
        assert app.focused is screen.query_one("#ckpt-path")
        # Left empty, the field gives way to the checkpoint still loaded and in use (the header
        # said "Path…" over its results).
        await pilot.press("escape")
        await tui.settle(pilot)
        select = screen.query_one("#checkpoint", Select)
        assert select.value == str(checkpoints / "tiny-gru.safetensors")
        assert not screen.query_one(".path-row").display
        assert "tiny-gru" in str(screen.query_one("#gen-facts").render())


async def test_a_long_prefix_shows_how_much_of_it_is_read(
    checkpoints, start_here, tui, monkeypatch
):
    """A 100,000-character prefix took seconds to read while the bar stood at 0 %: the status
    counts the prefix's tokens read, then the tokens written."""
    from rnn_tui.models import base
    from rnn_tui.tui.widgets.status_bar import StatusBar

    monkeypatch.setattr(base, "WARM_UP_CHUNK", 16)
    texts: list[str] = []
    real = StatusBar.text
    monkeypatch.setattr(
        StatusBar,
        "text",
        property(real.fget, lambda bar, text: texts.append(text) or real.fset(bar, text)),
    )
    prefix = "the time traveller " * 20  # 380 characters: 379 read before the first step
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_generate(pilot, tui)
        await set_field(pilot, screen, "#prefix", prefix)
        await set_field(pilot, screen, "#length", "20")
        await pilot.press("enter")
        await tui.until(pilot, lambda: status(screen).startswith("generated 20 tokens"))
    assert "reading the prefix… 0 of 379 tokens" in texts  # at once, before the first pass
    assert "reading the prefix… 379 of 379 tokens" in texts
    assert texts.index("reading the prefix… 379 of 379 tokens") < len(texts) - 1


def test_a_stop_while_the_prefix_is_read_ends_the_job_at_once(char_checkpoint):
    """Escape is obeyed between two passes over the prefix, not only between new tokens."""
    from rnn_tui.decode.options import parse_options
    from rnn_tui.tui.screens import generate_job

    class Cancelled:
        is_cancelled = True

    posted: list[object] = []
    job = generate_job.Generation("the time " * 200, parse_options("50", "greedy", "1", "0", ""))
    lm = generate_job.load_lm(str(char_checkpoint))
    summary = generate_job.generate(lm, job, 1, Cancelled(), posted.append, lambda: 0.0)
    assert (summary.count, summary.cancelled) == (0, True)
    assert [type(m).__name__ for m in posted] == ["GenerationStarted"]


@pytest.mark.parametrize("separator", ["", " "])
@pytest.mark.parametrize("leading", [False, True])
@pytest.mark.parametrize(
    "tokens", [[], ["a"], ["the", "time", "", "x"], list("traveller"), ["<unk>", "b"]]
)
def test_tokens_without_unknown_ones_are_joined_at_once_as_a_token_at_a_time(
    tokens, leading, separator
):
    """A long prefix is added in one join; the runs are those the token-at-a-time path makes."""
    fast, slow = GenerationOutput(), GenerationOutput()
    for output in (fast, slow):
        output._parts, output._length, output._separator = [], 0, separator
    fast._add_tokens(tokens, {"zz"}, "s", leading)
    slow._add_runs(tokens, {"zz"}, "s", leading)
    assert (fast._parts, fast._length) == (slow._parts, slow._length)


async def test_the_output_follows_its_end_until_scrolled_up_and_a_new_text_follows_again():
    """Text arriving keeps the end in view, in the frame that lays it out; scrolled up, the
    reader's place is kept while text arrives, until they scroll back down; a new text (the
    next generation) starts at its end again."""
    from textual.app import App

    class OutputApp(App):
        def compose(self):
            yield GenerationOutput()

    app = OutputApp()
    async with app.run_test(size=(40, 12)) as pilot:
        output = app.query_one(GenerationOutput)
        output.begin(list("prefix"), [], "char")
        for _ in range(6):
            output.extend(list("a line of text\n" * 3))
            await pilot.pause()
            assert output.scroll_y == output.max_scroll_y
        assert output.max_scroll_y > 0
        output.scroll_home(animate=False)
        await pilot.pause()
        output.extend(list("more\n" * 20))
        await pilot.pause()
        assert output.scroll_y == 0 < output.max_scroll_y
        output.scroll_end(animate=False)
        await pilot.pause()
        output.extend(list("and more\n" * 20))
        await pilot.pause()
        assert output.scroll_y == output.max_scroll_y
        output.scroll_home(animate=False)
        await pilot.pause()
        output.begin(list("another prefix\n" * 30), [], "char")
        await pilot.pause()
        assert output.scroll_y == output.max_scroll_y > 0
