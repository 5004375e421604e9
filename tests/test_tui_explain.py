"""The explain panel: `e` (or F9 from a text field, or the palette) shows each screen's concept
and the seeds' formula it implements, and hides it again."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from rnn_tui.tui.app import SCREEN_SPECS
from rnn_tui.tui.widgets.explain import ExplainPanel
from rnn_tui.tui.widgets.footer import AppFooter

SPECS = {spec.mode: spec for spec in SCREEN_SPECS}

# The formula each screen implements, as the panel writes it.
FORMULAS = {
    "dataset": "exp(−1/n Σ_t log P(x_t | x_{t−1}, …, x_1))",
    "train": "H_t = φ(X_t W_xh + H_{t−1} W_hh + b_h)",
    "generate": "x_{t+1} = argmax softmax(o_t)",
    "translate": "(1/L^α) Σ_{t′=1..L} log P(y_t′ | y_1, …, y_{t′−1}, c)",
    "forecast": "h_t = g(h_{t−1}, x_{t−1}),   x̂_t = P(x_t | h_t)",
    "classify": "y = softmax(W h_T + b)",
    "gradients": "∂L_T/∂W_hh = Σ_t (∂L_T/∂h_T) (Π_{j=t+1..T} ∂h_j/∂h_{j−1}) ∂⁺h_t/∂W_hh",
}


def shown_text(panel: ExplainPanel) -> list[str]:
    """The panel's lines of text as drawn (its title, then each Static)."""
    return [str(panel.border_title)] + [str(static.render()) for static in panel.query(Static)]


def test_every_screen_explains_itself():
    for spec in SCREEN_SPECS:
        screen_class = spec.build().__class__
        assert screen_class.EXPLAIN.formulas, spec.mode
    assert set(FORMULAS) == set(SPECS)


def test_the_dataset_panel_explains_the_pairs_tab_too():
    # The Dataset screen's Pairs tab (preprocess_nmt, truncate_pad) had nothing in its panel.
    from rnn_tui.tui.explanations import DATASET

    assert "§9.5" in DATASET.title
    assert "truncate_pad" in dict(DATASET.formulas)
    for term in ("preprocess_nmt", "<pad>", "<eos>", "min_freq 2"):
        assert term in DATASET.concept, term


@pytest.mark.parametrize("mode", list(SPECS))
async def test_e_toggles_the_panel_with_the_screens_formula(mode, no_checkpoints, tui):
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await tui.open_screen(pilot, mode)
        screen.set_focus(None)  # where no text field would type the e
        await pilot.pause()
        assert not screen.query(ExplainPanel)
        await pilot.press("e")
        await pilot.pause()
        panel = screen.query_one(ExplainPanel)
        assert panel.display and panel.region.height > 2
        assert FORMULAS[mode] in shown_text(panel)
        # The formula's row is on screen at 80×24, not below the fold.
        formula = next(s for s in panel.query(Static) if str(s.render()) == FORMULAS[mode])
        assert formula.region.height >= 1 and panel.region.contains_region(formula.region)
        assert formula.region.bottom <= screen.query_one(AppFooter).region.y  # above the footer
        await pilot.press("e")
        await pilot.pause()
        assert not panel.display
        assert app.current_mode == mode


# Each screen's main view, and the rows it keeps at 80×24 with the panel shown.
MAIN_VIEWS = {
    "dataset": ("#vocab-table", 8),
    "train": ("#curves", 6),
    "generate": ("#gen-output", 6),
    "translate": ("#tr-results", 6),
}


@pytest.mark.parametrize("mode", list(MAIN_VIEWS))
async def test_at_80x24_the_panel_leaves_the_main_view_room(mode, no_checkpoints, tui):
    # At half the screen the panel left Generate's output box two lines (none once the facts
    # line wrapped): on a short screen it takes a third, and scrolls.
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await tui.open_screen(pilot, mode)
        screen.set_focus(None)
        await pilot.press("e")
        await pilot.pause()
        selector, rows = MAIN_VIEWS[mode]
        assert screen.query_one(ExplainPanel).display
        assert screen.query_one(selector).region.height >= rows
        # A terminal made taller gives the panel half again; made short, a third.
        panel = screen.query_one(ExplainPanel)
        for size, share in (((120, 40), 50), ((80, 24), 33)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert panel.styles.max_height.value == share
        assert panel.region.height <= 24 // 3
        assert screen.query_one(selector).region.height >= rows


async def test_f9_toggles_the_panel_from_inside_a_field(no_checkpoints, tui):
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await tui.open_screen(pilot, "generate")
        prefix = screen.query_one("#prefix", Input)
        prefix.focus()
        await pilot.pause()
        await pilot.press("e")
        assert prefix.value == "e"
        assert not screen.query(ExplainPanel)
        await pilot.press("f9")
        await pilot.pause()
        assert screen.query_one(ExplainPanel).display
        assert app.focused is prefix and prefix.value == "e"
        await pilot.press("f9")
        await pilot.pause()
        assert not screen.query_one(ExplainPanel).display


async def test_the_palette_toggles_the_panel(no_checkpoints, tui):
    app = tui.make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await tui.open_screen(pilot, "dataset")
        await tui.palette_choose(pilot, "explain")
        await pilot.pause()
        assert app.screen is screen
        panel = screen.query_one(ExplainPanel)
        assert panel.display
        assert "Zipf's law" in shown_text(panel)
