"""How often live runs' views are computed: every VIEW_EVERY_S at most, and no more often than
their own CPU allows (VIEW_SHARE of one core). Two taggers' views (hidden 256) took 0.9 s of CPU
every 2 s: the Classify screen used a quarter of a core beside the runs it followed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.runs.view_pace import OPEN_LIMIT_S, VIEW_EVERY_S, VIEW_SHARE, ViewPace


class Clocks:
    def __init__(self) -> None:
        self.now = 0.0
        self.cpu = 0.0

    def pace(self) -> ViewPace:
        return ViewPace(clock=lambda: self.now, cpu=lambda: self.cpu)


def test_a_cheap_round_is_paced_by_the_interval_alone() -> None:
    c = Clocks()
    pace = c.pace()
    assert pace.due()
    c.cpu += 0.01  # 10 ms of views: well inside 4 % of 2 s
    pace.done()
    c.now = VIEW_EVERY_S - 0.01
    assert not pace.due()
    c.now = VIEW_EVERY_S
    assert pace.due()


def test_a_costly_round_waits_until_its_cpu_is_the_share_of_the_time_since() -> None:
    c = Clocks()
    pace = c.pace()
    assert pace.due()
    c.cpu += 0.9  # the two taggers' views
    pace.done()
    gap = 0.9 / VIEW_SHARE
    assert gap > VIEW_EVERY_S
    c.now = gap - 0.1
    assert not pace.due()
    c.now = gap
    assert pace.due()
    # The next round is cheap again: the pace comes back to the interval.
    c.cpu += 0.01
    pace.done()
    c.now = gap + VIEW_EVERY_S
    assert pace.due()


def test_a_round_still_computing_is_paced_by_the_round_before() -> None:
    """`done` closes the round `due` opened; a second `done` (a view of an ended run, which is
    not paced) changes nothing."""
    c = Clocks()
    pace = c.pace()
    assert pace.due()
    c.cpu += 0.01
    pace.done()
    c.cpu += 5.0  # later work of the app's own, outside any round
    pace.done()
    c.now = VIEW_EVERY_S
    assert pace.due()


def test_no_round_starts_while_the_last_is_still_being_drawn() -> None:
    """Its cost is known only once it is drawn: a costly round whose drawing ran past the
    interval started the next at the interval of the cheap round before it."""
    c = Clocks()
    pace = c.pace()
    assert pace.due() and pace.open
    c.cpu += 0.9
    c.now = VIEW_EVERY_S * 3  # computed, still drawing
    assert not pace.due()
    pace.done()
    assert not pace.open
    assert not pace.due()  # now paced by what it cost
    c.now = 0.9 / VIEW_SHARE
    assert pace.due()


def test_a_round_never_said_drawn_is_closed_after_a_while() -> None:
    """A drawing dropped without its call must not stop the views for good."""
    c = Clocks()
    pace = c.pace()
    assert pace.due()
    c.cpu += 0.1
    c.now = OPEN_LIMIT_S - 0.1
    assert not pace.due()
    c.now = OPEN_LIMIT_S
    assert pace.due()  # closed at its CPU so far (0.1 s: 2.5 s of pace, long past)


@given(
    costs=st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=30),
    poll=st.floats(0.05, 1.0),
)
def test_views_never_use_more_than_their_share_after_the_first_round(costs, poll) -> None:
    """Over any run of rounds, the CPU of every round but the last is at most VIEW_SHARE of the
    time until the next one starts, and rounds are VIEW_EVERY_S apart at least."""
    c = Clocks()
    pace = c.pace()
    starts = []
    for cost in costs:
        while not pace.due():
            c.now += poll
        starts.append(c.now)
        c.cpu += cost
        pace.done()
    for k in range(len(starts) - 1):
        gap = starts[k + 1] - starts[k]
        assert gap >= VIEW_EVERY_S - 1e-9
        assert costs[k] <= VIEW_SHARE * gap + 1e-9


@pytest.mark.parametrize(("share", "gap"), [(0.04, 25.0), (0.25, 4.0)])
def test_the_share_is_what_a_caller_gives(share, gap) -> None:
    c = Clocks()
    pace = ViewPace(clock=lambda: c.now, cpu=lambda: c.cpu, share=share)
    assert pace.due()
    c.cpu += 1.0
    pace.done()
    c.now = gap - 0.01
    assert not pace.due()
    c.now = gap
    assert pace.due()


def test_views_are_computed_on_one_math_thread_and_the_threads_come_back(monkeypatch):
    # Beside trainers on every core, torch's two threads waited for each other: a forecast
    # view took 2.9-3.4 s of CPU on two threads, 0.5 s on one.
    import threading

    import torch

    from rnn_tui.decode import math_threads

    saved = torch.get_num_threads()
    torch.set_num_threads(2)  # as on the 2-core machines where the waits were measured
    before = torch.get_num_threads()
    monkeypatch.setattr(math_threads, "_threads", [])
    seen = []

    def in_a_worker() -> None:
        with math_threads.one_math_thread():
            seen.append(torch.get_num_threads())
        seen.append(torch.get_num_threads())

    worker = threading.Thread(target=in_a_worker)
    worker.start()
    worker.join()
    torch.set_num_threads(saved)
    assert seen == [1, 2] and before == 2


def test_the_lab_screens_compute_their_views_on_one_math_thread(tmp_path, monkeypatch):
    import torch

    from rnn_tui.decode import forecast, math_threads, tag
    from rnn_tui.tui.screens import classify_jobs
    from rnn_tui.tui.screens.forecast import ForecastScreen

    threads = []
    monkeypatch.setattr(math_threads, "_threads", [])

    class View:
        def thinned(self, points):
            return self

    def record(path):
        threads.append(torch.get_num_threads())
        return View()

    monkeypatch.setattr(forecast, "forecast_view", record)
    monkeypatch.setattr(tag, "tag_view", record)
    monkeypatch.setattr(classify_jobs, "has_checkpoint", lambda path: True)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "best.json").write_text("{}")
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        ForecastScreen._compute_view(tmp_path)
        classify_jobs.compute_view("tag", tmp_path)
    finally:
        torch.set_num_threads(saved)
    assert threads == [1, 1]
