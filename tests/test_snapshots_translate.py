"""Snapshots of the Translate console, fed by test_tui_translate's FakeTranslator (recorded
outputs, no model, a clock that never moves), and of its empty state.

Regenerate with `pytest tests/test_snapshots_translate.py --snapshot-update` after reading
snapshot_report.html, and only for a change meant to alter the picture.
"""

from __future__ import annotations

from functools import partial

from test_tui_attention import attention_fake  # noqa: F401
from test_tui_translate import SEEDS_EXAMPLES, fake, open_translate, start_here  # noqa: F401
from textual.widgets import Input

from rnn_tui.runs import discover
from rnn_tui.tui.widgets.attention_map import AttentionMap
from rnn_tui.tui.widgets.translate_tables import SentenceTable


async def _translate(pilot, tui, text: str = SEEDS_EXAMPLES, select: int = 0) -> None:
    screen = await open_translate(pilot, tui)
    screen.query_one("#tr-source", Input).value = text
    await pilot.press("end", "enter")
    await tui.settle(pilot)
    if select:
        screen.query_one(SentenceTable).focus()
        await pilot.press(*["down"] * select)
        await pilot.pause()


def test_translate_seeds_and_an_unknown_word_120x40(snap_compare, fake, tui):  # noqa: F811
    text = SEEDS_EXAMPLES + " ; i lost xyzzy ."
    run_before = partial(_translate, tui=tui, text=text, select=4)
    assert snap_compare(tui.make_app(), terminal_size=(120, 40), run_before=run_before)


def test_translate_seeds_80x24(snap_compare, fake, start_here, tui):  # noqa: F811
    run_before = partial(_translate, tui=tui, select=2)
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)


def test_translate_without_checkpoints_80x24(snap_compare, tmp_path, monkeypatch, start_here, tui):  # noqa: F811
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "none")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(tmp_path / "empty"))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    run_before = partial(open_translate, tui=tui)
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)


def test_translate_attention_heatmap_80x24(snap_compare, attention_fake, start_here, tui):  # noqa: F811
    async def run_before(pilot):
        await _translate(pilot, tui, text="i'm home . => je suis chez moi .")
        pilot.app.screen.query_one(AttentionMap).focus()
        await pilot.press("down", "down")
        await pilot.pause()

    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)
