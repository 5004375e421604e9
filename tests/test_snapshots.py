"""Snapshots of the Dataset screen, fed by the bundled Time Machine (deterministic).

Regenerate with `pytest tests/test_snapshots.py --snapshot-update` after reading
snapshot_report.html, and only for a change meant to alter the picture.
"""

from __future__ import annotations


def test_dataset_vocabulary_80x24(snap_compare, tui) -> None:
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=tui.settle)


def test_dataset_vocabulary_120x40(snap_compare, tui) -> None:
    assert snap_compare(tui.make_app(), terminal_size=(120, 40), run_before=tui.settle)


def test_dataset_ngrams_120x40(snap_compare, tui) -> None:
    async def show_ngrams(pilot) -> None:
        await tui.settle(pilot)
        await pilot.press("right_square_bracket")
        await tui.settle(pilot)

    assert snap_compare(tui.make_app(), terminal_size=(120, 40), run_before=show_ngrams)


def test_dataset_search_80x24(snap_compare, tui) -> None:
    async def search(pilot) -> None:
        await tui.settle(pilot)
        await pilot.press("slash", *"time", "enter")
        await tui.settle(pilot)

    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=search)


def test_dataset_explain_panel_80x24(snap_compare, tui) -> None:
    async def explain(pilot) -> None:
        await tui.settle(pilot)
        await pilot.press("e")
        await tui.settle(pilot)

    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=explain)
