# ruff: noqa: F811 (pytest fixtures imported from test_tui_translate and its _stop module)
"""What the Translate console says about the text typed (Pilot): a long source's warnings stay
in sight, and a bad piece is named by its place in what was typed."""

from __future__ import annotations

import pytest
from test_tui_translate import fake, open_translate, set_field, start_here  # noqa: F401
from test_tui_translate_stop import tiny  # noqa: F401


def shown_lines(widget) -> list[str]:
    """The lines `widget` draws on screen (its height may cut its content)."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def translate_typed(pilot, tui, screen, text: str) -> list[str]:
    """Type `text` as the source, press Enter; the detail's lines once the work is done."""
    await set_field(pilot, screen, "#tr-source", text)
    await pilot.press("enter")
    await tui.settle(pilot)
    return shown_lines(screen.query_one("#tr-detail"))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_a_long_sources_warnings_stay_in_sight(tiny, start_here, tui, size):
    # The detail shows three lines: the ⚠ line came after the source, below them.
    source = "the cat is very big and the dog is small " * 40 + "; Ça va très bien, 日本語 !"
    app = tui.make_app()
    async with app.run_test(size=size) as pilot:
        screen = await open_translate(pilot, tui)
        shown = await translate_typed(pilot, tui, screen, source)
        assert tui.errors(app) == []
        assert len(shown) == 3
        assert shown[0].strip().startswith("⚠ 392 source tokens past num_steps not read · ")
        assert shown[1].strip()  # the source follows, cut by the height


async def test_a_source_that_fills_num_steps_says_its_eos_is_not_read(tiny, start_here, tui):
    # Eight tokens, the model's num_steps: none is cut, but <eos> has no room; seven fit with it.
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        shown = await translate_typed(pilot, tui, screen, "the cat is very big and the dog")
        assert tui.errors(app) == []
        assert shown[0].strip().startswith("⚠ the source fills num_steps: its <eos> is not read")
        shown = await translate_typed(pilot, tui, screen, "the cat is very big and the")
        assert "<eos>" not in " ".join(shown)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        (" ; ; => ; go . => ; => va !", "sentence 3: no sentence to translate in '=>'"),
        ("go . ;; i lost . =>", "sentence 3: 'i lost . =>' has '=>' but no reference after it"),
        (" ; => va !", "sentence 2: no sentence to translate in '=> va !'"),
        ("=> va ! ; ", "no sentence to translate in '=> va !'"),
    ],
)
async def test_a_bad_piece_is_numbered_as_typed(fake, start_here, tui, typed, error):
    # The worker numbered the non-blank pieces: " ; ; => ; …" blamed sentence 1 for the third.
    tensors, translators = fake
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        await set_field(pilot, screen, "#tr-source", typed)
        await pilot.press("enter")
        await tui.settle(pilot)
        assert tui.errors(app) == [error]
        assert all(not t.calls for t in translators)  # refused before any work
