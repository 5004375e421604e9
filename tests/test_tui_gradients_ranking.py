"""The Gradients screen's Inside tab with Pilot: how the tokens are shown and the units ranked
for a word model (its words whole, its own features) and a feature a text never varies."""

from __future__ import annotations

from test_tui_gradients import SHIPPED_LSTM, drawn, open_gradients, read_with, until
from textual.widgets import Input, Select, Static

from rnn_tui.tui.widgets.heatmap import Heatmap


async def test_a_word_model_shows_its_words_and_ranks_by_word_features(
    no_checkpoints, tui, word_checkpoint
) -> None:
    # Each word was drawn as its first letter ("tttwearmtu") in the influence row and over the
    # heatmap, and the character features ranked every unit +0.00.
    text = "the time traveller was expounding a recondite matter to us"
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        screen.query_one("#inside-text", Input).value = text
        await read_with(pilot, tui, screen, word_checkpoint)
        await until(pilot, lambda: screen.inside is not None)
        await until(
            pilot, lambda: "after step 10" in drawn(screen.query_one("#inside-connectivity"))
        )
        await tui.settle(pilot)
        row = drawn(screen.query_one("#inside-connectivity", Static)).split("\n")[1]
        assert row.strip() == text
        heatmap = screen.query_one(Heatmap)
        header = heatmap.render_line(0).text
        assert header.strip() == text
        feature = screen.query_one("#inside-feature", Select)
        assert feature.value == "word length"
        assert any(not label.endswith("+0.00") for label in heatmap.labels)
        screen.set_focus(None)
        await pilot.press("u", "u")
        await pilot.pause()
        assert feature.value == "position"
        # The cells line up under their words.
        cells = heatmap.render_line(1).text
        assert [len(w) for w in cells[12:].split()] == [len(w) for w in text.split()]


async def test_a_feature_the_text_never_varies_ranks_nothing(no_checkpoints, tui) -> None:
    # A text without quotes listed every unit +0.00 for "inside quotes"; so would one without
    # spaces for "space".
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        screen.query_one("#inside-text", Input).value = "thetimetraveller"
        await read_with(pilot, tui, screen, SHIPPED_LSTM)
        feature = screen.query_one("#inside-feature", Select)
        # The shipped model reads clean text, which has no quotes left: not offered.
        assert [value for _, value in feature._options if value != Select.BLANK] == [
            "space", "vowel", "word position"
        ]  # fmt: skip
        feature.value = "space"
        await pilot.pause()
        heatmap = screen.query_one(Heatmap)
        assert heatmap.labels[:3] == ["u0", "u1", "u2"] and heatmap.corner == "not ranked"
        assert heatmap.render_line(0).text.startswith("not ranked")


async def test_the_step_reads_a_word_the_vocabulary_lacks_as_unk(
    no_checkpoints, tui, word_checkpoint
) -> None:
    # "reads 'zzqx'" was shown, though the model read <unk> (a warning named it, once).
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await open_gradients(pilot, tui)
        screen.query_one("#inside-text", Input).value = "the time traveller zzqx"
        await read_with(pilot, tui, screen, word_checkpoint)
        await until(pilot, lambda: "step 4:" in drawn(screen.query_one("#inside-step", Static)))
        step = drawn(screen.query_one("#inside-step", Static))
        assert "step 4: reads '<unk>'" in step and "typed 'zzqx', which the vocabulary" in step
        # Every line of the step is on screen, the GRU's note of its candidate the last one
        # (a fixed height cut it off).
        widget = screen.query_one("#inside-step", Static)
        assert widget.size.height >= len(step.splitlines())
        assert "r_t ⊙ (h·W_hh + b_hh)" in step.splitlines()[-1]
