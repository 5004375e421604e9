"""The Train header's title fitted to its width: what follows the run's name is cut between
its parts, never inside one ("lstm 256 bidir · char …", not "… · timema…")."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rnn_tui.runs.follow import RunFollower
from rnn_tui.tui.widgets.train_header import title_line

LSTM = Path(__file__).parent / "fixtures" / "recorded" / "lm-lstm-recorded"


@pytest.fixture(scope="module")
def snap():
    follower = RunFollower(LSTM, clock=lambda: 2e9)
    follower.poll()
    snap = follower.snapshot()
    config = dict(snap.config, bidirectional=True)
    return dataclasses.replace(snap, config=config, name="lm-lstm-bidir-20261204-085500")


def test_the_title_is_cut_between_the_runs_parts(snap):
    line = title_line(snap)
    whole = line.fitted(500).plain
    assert whole.endswith("lstm 256 bidir · char · timemachine · 299k params")
    parts = whole.split("  ")[-1].split(" · ")
    for width in range(len(whole) - 30, len(whole)):
        shown = line.fitted(width).plain
        assert len(shown) <= width
        assert shown.endswith(" …"), shown
        kept = shown.split("  ")[-1].removesuffix(" …").split(" · ")
        assert kept == parts[: len(kept)], shown  # whole parts only
    assert line.fitted(75).plain.endswith("  lstm 256 bidir · char …")
