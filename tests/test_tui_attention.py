# ruff: noqa: F811 (pytest fixtures imported from test_tui_translate)
"""The Translate console's attention heatmap (Pilot), fed by test_tui_translate's FakeTranslator
with made-up alignments: each target word looks mostly at "its" source word, so what the map
highlights is known exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_translate import FakeTranslator, fake, open_translate, start_here  # noqa: F401
from textual.widgets import Input

from rnn_tui.decode.alignment import Alignment
from rnn_tui.tui.screens.translate import TranslateScreen
from rnn_tui.tui.widgets.attention_map import NO_ATTENTION, AttentionMap, column_widths, percent
from rnn_tui.tui.widgets.translate_results import TranslationResults
from rnn_tui.tui.widgets.translate_tables import BeamTable, SentenceTable

PEAK = 0.7


def made_up(source: list[str], target: list[str]) -> Alignment:
    """Row t puts PEAK on source position min(t, last) and spreads the rest evenly."""
    n = len(source)
    rows = []
    for t in range(len(target)):
        peak = min(t, n - 1)
        rest = (1 - PEAK) / (n - 1) if n > 1 else 0.0
        rows.append([PEAK if i == peak else rest for i in range(n)] if n > 1 else [1.0])
    return Alignment(list(source), list(target), rows)


class AttentionFake(FakeTranslator):
    def translate_many(self, sentences, *args, **kwargs):
        out = super().translate_many(sentences, *args, **kwargs)
        for t in out:
            best = t.beam[0] if t.beam else t.greedy
            target = t.beam_text.split(" ") + (["<eos>"] if best.finished else [])
            t.alignment = made_up(t.source_tokens + ["<eos>"], target)
        return out


@pytest.fixture
def attention_fake(fake, monkeypatch):  # noqa: F811
    translators: list[AttentionFake] = []

    def load(path: str) -> AttentionFake:
        translators.append(AttentionFake(Path(path)))
        return translators[-1]

    monkeypatch.setattr(TranslateScreen, "loader", staticmethod(load))
    return translators


async def translate(pilot, tui, text: str) -> TranslateScreen:
    screen = await open_translate(pilot, tui)
    screen.query_one("#tr-source", Input).value = text
    await pilot.press("end", "enter")
    await tui.settle(pilot)
    return screen


def lines(widget) -> list[str]:
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def test_an_attention_model_opens_on_the_heatmap_and_words_select(
    attention_fake,
    start_here,
    tui,  # noqa: F811
):
    async with tui.make_app().run_test(size=(80, 24)) as pilot:
        screen = await translate(pilot, tui, "i'm home .")
        heatmap = screen.query_one(AttentionMap)
        assert heatmap.display and not screen.query_one(BeamTable).display
        shown = "\n".join(lines(heatmap))
        for word in ("i'm", "home", "<eos>", "je", "suis", "chez", "moi"):
            assert word in shown
        assert "70" in shown  # the peak weight, in percent
        # The first target word attends to the first source word: highlighted and named.
        assert heatmap.attended()[0] == (0, pytest.approx(PEAK))
        assert "'je' ← i'm 70 %" in shown
        heatmap.focus()
        await pilot.press("down", "down")
        await pilot.pause()
        assert heatmap.selected == 2
        assert "'chez' ← . 70 %" in "\n".join(lines(heatmap))
        await pilot.press("end")
        assert heatmap.selected == len(heatmap.alignment.target) - 1
        # ctrl+g shows the beam instead, and back.
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert screen.query_one(BeamTable).display and not heatmap.display
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert heatmap.display


async def test_arrows_in_the_english_field_pick_the_heatmap_word(attention_fake, start_here, tui):  # noqa: F811
    """Right after translating the focus is in the field, and ↑ ↓ pick the word there too."""
    async with tui.make_app().run_test(size=(120, 40)) as pilot:
        screen = await translate(pilot, tui, "i'm home .")
        heatmap = screen.query_one(AttentionMap)
        field = screen.query_one("#tr-source", Input)
        assert screen.focused is field and heatmap.selected == 0
        await pilot.press("down", "down")
        await pilot.pause()
        assert heatmap.selected == 2 and screen.focused is field
        await pilot.press("up")
        await pilot.pause()
        assert heatmap.selected == 1
        await pilot.press("ctrl+g", "down")  # the beam shown: nothing to pick
        await pilot.pause()
        assert heatmap.selected == 1 and screen.focused is field


async def test_a_click_selects_a_target_word(attention_fake, start_here, tui):  # noqa: F811
    async with tui.make_app().run_test(size=(100, 30)) as pilot:
        screen = await translate(pilot, tui, "i lost .")
        heatmap = screen.query_one(AttentionMap)
        await pilot.click(AttentionMap, offset=(3, 1 + 1 + 2))  # border, header, third word
        await pilot.pause()
        assert heatmap.selected == 2


async def test_the_heatmap_follows_the_selected_sentence(attention_fake, start_here, tui):  # noqa: F811
    async with tui.make_app().run_test(size=(80, 24)) as pilot:
        screen = await translate(pilot, tui, "go . ; i'm home .")
        heatmap = screen.query_one(AttentionMap)
        assert heatmap.alignment.target == ["va", "!", "<eos>"]
        screen.query_one(SentenceTable).focus()
        await pilot.press("down")
        await pilot.pause()
        assert heatmap.alignment.target[0] == "je" and heatmap.selected == 0


async def test_a_fixed_context_model_shows_the_beam_and_says_why_no_map(fake, start_here, tui):  # noqa: F811
    async with tui.make_app().run_test(size=(80, 24)) as pilot:
        screen = await translate(pilot, tui, "go .")
        results = screen.query_one(TranslationResults)
        assert results.view == "beam" and screen.query_one(BeamTable).display
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert results.view == "attention"
        assert any("no attention" in n.message for n in pilot.app.shown)
        heatmap = screen.query_one(AttentionMap)
        assert " ".join(lines(heatmap)).split()[:4] == NO_ATTENTION.split()[:4]
        assert heatmap.border_title == "sentence 1: no attention in this model"


async def test_a_long_translation_scrolls_with_the_selection(attention_fake, start_here, tui):  # noqa: F811
    async with tui.make_app().run_test(size=(80, 24)) as pilot:
        screen = await translate(pilot, tui, "i'm home .")
        heatmap = screen.query_one(AttentionMap)
        long = [f"w{i}" for i in range(30)]
        heatmap.show(made_up(["a", "b", "<eos>"], long))
        heatmap.focus()
        await pilot.press("end")
        await pilot.pause()
        text = "\n".join(lines(heatmap))
        assert "▸ w29" in text and "(30 of 30, ↑↓)" in text


def test_columns_narrow_to_fit_and_percent_reads():
    assert column_widths(["a", "maison", "extraordinairement"], 80) == [3, 6, 8]
    assert column_widths(["word"] * 20, 40) == [3] * 20
    assert (percent(0.0), percent(0.004), percent(0.5), percent(1.0)) == ("·", "·", "50", "100")
