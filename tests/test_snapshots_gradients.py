"""Snapshots of the Gradients screen's Flow tab: four fresh cells with seeded weights read one
seeded sequence (a forward and a backward pass, no training; animations off, fixed theme) —
the three cases and the linear closed form, with the facts under the plot.

Regenerate with `pytest tests/test_snapshots_gradients.py --snapshot-update` after reading
snapshot_report.html, and only for a change meant to alter the picture.
"""

from __future__ import annotations

from functools import partial

from test_tui_gradients import open_gradients


async def _flow(pilot, tui) -> None:
    screen = await open_gradients(pilot, tui)
    screen.set_focus(None)
    await tui.settle(pilot)


def test_gradients_flow_120x40(snap_compare, no_checkpoints, tui):
    run_before = partial(_flow, tui=tui)
    assert snap_compare(tui.make_app(), terminal_size=(120, 40), run_before=run_before)


def test_gradients_flow_80x24(snap_compare, no_checkpoints, tui):
    run_before = partial(_flow, tui=tui)
    assert snap_compare(tui.make_app(), terminal_size=(80, 24), run_before=run_before)
