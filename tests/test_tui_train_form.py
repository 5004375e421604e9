"""The Train screen's form: its error line, its presets and the fields it checks as typed."""

from __future__ import annotations

from rnn_tui.tui.widgets.train_form import TrainForm


async def open_form(pilot, tui):
    screen = await tui.open_screen(pilot, "train")
    return screen, screen.query_one(TrainForm)


def hint_line(screen) -> tuple[str, bool]:
    widget = screen.query_one("#form-hint")
    return str(widget.render()), widget.has_class("-error")


async def test_the_error_line_judges_the_fields_by_the_task_shown(no_checkpoints, tui) -> None:
    """Back from seq2seq, embed's empty "auto" was judged by seq2seq's rule (no empty) and the
    error line said so, while the field showed auto and Start worked."""
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen, form = await open_form(pilot, tui)
        form.set_value("task", "seq2seq")
        await pilot.pause()
        form.set_value("task", "lm")
        for _ in range(3):
            await pilot.pause()
        text, error = hint_line(screen)
        assert not error and "embed" not in text, text
        assert form.options()[1] == []
        form.set_value("hidden", "0")  # a real problem still shows
        await pilot.pause()
        text, error = hint_line(screen)
        assert error and text.startswith("hidden:"), text


async def test_a_preset_sets_every_field(no_checkpoints, tui) -> None:
    """The bidirectional-LM preset names six fields; earlier edits of the others stayed and
    changed what it trained (or kept Start from working)."""
    from rnn_tui.train.options import BIDIRECTIONAL_LM

    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen, form = await open_form(pilot, tui)
        pristine, problems = form.options()
        assert problems == []
        form.set_value("hidden", 16)
        form.set_value("graph", "on")
        form.set_value("lr", "banana")
        await pilot.pause()
        screen.action_bidirectional_lm()
        for _ in range(3):
            await pilot.pause()
        options, problems = form.options()
        assert problems == []
        assert options == {**pristine, **BIDIRECTIONAL_LM}


async def test_max_tokens_refuses_the_hidden_all_value(no_checkpoints, tui) -> None:
    """-1 is the option's "all" inside; typed, it passed although the hint says [1, …] or
    empty. Empty and "all" still mean all."""
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen, form = await open_form(pilot, tui)
        form.set_value("max_tokens", "-1")
        await pilot.pause()
        options, problems = form.options()
        assert problems == ["max tokens: an integer in [1, 1,000,000,000,000], or empty for all"]
        assert hint_line(screen)[1]
        for text in ("", "all"):
            form.set_value("max_tokens", text)
            await pilot.pause()
            options, problems = form.options()
            assert problems == [] and options["max_tokens"] is None


def test_the_cli_refuses_the_hidden_all_value_too(capsys) -> None:
    from cli_helpers import call

    code, _, err = call(["train", "--max-tokens", "-1"], capsys)
    assert code == 2 and "an integer in [1, 1,000,000,000,000], or all (got '-1')" in err


async def test_the_encoding_is_checked_as_typed(no_checkpoints, tui) -> None:
    """A codec that is not a text encoding (rot13) passed the form and the trainer refused it
    after its start; now the field is refused as typed, with the backend's own line."""
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen, form = await open_form(pilot, tui)
        for typed, problem in (
            ("rot13", "encoding: 'rot13' is not a text encoding (for the file; try utf-8,"),
            ("klingon", "encoding: unknown encoding 'klingon' for the file"),
        ):
            form.set_value("encoding", typed)
            await pilot.pause()
            text, error = hint_line(screen)
            assert error and text.startswith(problem), text
            problems = form.options()[1]
            assert len(problems) == 1 and problems[0].startswith(problem), problems
        form.set_value("encoding", "latin-1")
        await pilot.pause()
        assert form.options()[1] == []


async def test_trainer_advice_names_the_forms_fields(no_checkpoints, tui) -> None:
    """The trainer's lines name its flags; in the app they name the form's fields, but a
    command to copy into a shell keeps its flags."""
    from rnn_tui.runs.followed import Notice

    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen, _ = await open_form(pilot, tui)
        screen._tell(
            [
                Notice("rnn-tui: error: cuda is not available: use --device cpu or auto", "error"),
                Notice(
                    "out of memory: try a smaller --hidden, --layers, --batch-size or --num-steps"
                ),
                Notice("stopped; continue with: rnn-tui train --resume runs/x --epochs 9"),
            ]
        )
        told = [text for text, *_ in pilot.app.notified[-3:]]
        assert told == [
            "rnn-tui: error: cuda is not available: use device cpu or auto",
            "out of memory: try a smaller hidden, layers, batch or num_steps",
            "stopped; continue with: rnn-tui train --resume runs/x --epochs 9",
        ]
