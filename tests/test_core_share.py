"""A CPU trainer gives up a math thread for each core other processes take and takes it back as
cores go idle (rnn_tui.train.core_share): beside one busy core a char LSTM on two threads fell
from 70-85k tokens/s to 0.7-5k."""

from __future__ import annotations

import time

import torch
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.train import core_share
from rnn_tui.train.core_counters import START_THREADS_ENV, start_threads
from rnn_tui.train.core_share import GIVE_UP, TAKE_BACK, WINDOW_S, CoreShare, Counters
from rnn_tui.train.core_share import threads_for as decide


@given(
    most=st.integers(1, 64),
    now=st.integers(1, 64),
    waited=st.floats(0, 100),
    idle=st.floats(0, 100),
)
def test_the_threads_stay_between_one_and_the_runs_own(most, now, waited, idle):
    now = min(now, most)
    threads = decide(now, most, waited, idle)
    assert 1 <= threads <= most
    if waited >= GIVE_UP:
        assert threads < now or now == 1  # others take cores: never more
    elif idle >= TAKE_BACK and now < most:
        assert threads > now
    else:
        assert threads == now


def test_the_measured_cases_on_two_cores():
    assert decide(2, 2, 0.01, 0.0) == 2  # alone
    assert decide(2, 2, 0.28, 0.12) == 2  # beside a 20 % burst load: shared
    assert decide(2, 2, 1.0, 0.0) == 1  # beside a busy core
    assert decide(1, 2, 0.0, 0.0) == 1  # still busy
    assert decide(1, 2, 0.0, 0.95) == 2  # its core idle again
    assert decide(16, 16, 1.0, 0.0) == 15  # one core taken of sixteen: one thread given up
    assert decide(16, 16, 3.2, 0.0) == 13
    assert decide(10, 16, 0.0, 2.9) == 13


class Machine:
    """Counters as a test makes them: seconds waited by this process, idle core-seconds."""

    def __init__(self) -> None:
        self.t = 0.0
        self.counters = Counters(0.0, 0.0)
        self.set: list[int] = []

    def run(self, seconds: float, waited_per_s: float, idle_per_s: float) -> None:
        self.t += seconds
        c = self.counters
        self.counters = Counters(c.waited + waited_per_s * seconds, c.idle + idle_per_s * seconds)


def test_a_run_gives_up_a_thread_while_a_core_is_busy_and_takes_it_back_after():
    m = Machine()
    share = CoreShare(2, read=lambda: m.counters, clock=lambda: m.t, set_threads=m.set.append)
    for _ in range(4):  # alone
        share.tick()
        m.run(WINDOW_S, 0.01, 0.0)
    share.tick()
    assert m.set == [] and share.now == 2
    m.run(WINDOW_S / 10, 1.0, 0.0)
    share.tick()  # before the window ends: not read
    assert m.set == []
    m.run(WINDOW_S, 1.0, 0.0)  # another process takes a core
    share.tick()
    assert m.set == [1] and share.now == 1
    for _ in range(4):  # still busy: one thread, on its own core
        m.run(WINDOW_S, 0.0, 0.0)
        share.tick()
    assert m.set == [1]
    m.run(WINDOW_S, 0.0, 0.9)
    share.tick()  # the first window with one thread only starts the count
    m.run(WINDOW_S, 0.0, 0.9)
    share.tick()
    assert m.set == [1, 2] and share.changes == 2
    share.restore()  # back at its own threads: nothing to set
    assert m.set == [1, 2]


def test_no_counters_no_change_and_restore_gives_the_threads_back():
    m = Machine()
    idle = CoreShare(2, read=lambda: m.counters, clock=lambda: m.t, set_threads=m.set.append)
    idle.active = False
    for _ in range(5):
        m.run(WINDOW_S, 3.0, 0.0)
        idle.tick()
    assert m.set == []
    share = CoreShare(4, read=lambda: None, clock=lambda: m.t, set_threads=m.set.append)
    for _ in range(5):
        m.run(WINDOW_S, 3.0, 0.0)
        share.tick()
    assert m.set == []
    share = CoreShare(4, read=lambda: m.counters, clock=lambda: m.t, set_threads=m.set.append)
    share.tick()
    m.run(WINDOW_S, 3.0, 0.0)
    share.tick()
    assert m.set == [1]
    share.restore()
    assert m.set == [1, 4]


def test_only_a_single_cpu_process_on_several_threads_shares(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        cpu = torch.device("cpu")
        assert not CoreShare.for_trainer(torch.device("cuda"), False).active
        assert not CoreShare.for_trainer(cpu, True).active  # each rank keeps its threads
        monkeypatch.setattr(core_share, "read_counters", lambda: None)
        assert not CoreShare.for_trainer(cpu, False).active  # no /proc: nothing to go by
        monkeypatch.undo()
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        assert not CoreShare.for_trainer(cpu, False).active  # the user's threads are kept
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert CoreShare.for_trainer(cpu, False).active
        torch.set_num_threads(1)
        assert not CoreShare.for_trainer(cpu, False).active
    finally:
        torch.set_num_threads(saved)


@given(value=st.text(max_size=12), most=st.integers(1, 64))
def test_the_start_hint_is_an_integer_from_one_to_the_runs_own_threads(value, most):
    env = {START_THREADS_ENV: value}
    threads = start_threads(most, env)
    assert 1 <= threads <= most
    stripped = value.strip()
    if stripped.isascii() and stripped.isdigit() and 1 <= int(stripped) <= most:
        assert threads == int(stripped)
    assert start_threads(most, {}) == most


def test_a_trainer_started_beside_another_starts_on_its_share(monkeypatch):
    """The app starts a pair's runs (or a run beside another at work) on their share of the
    cores, and they take more as cores go idle: a fixed share kept a tagger pair's two-way run
    on 1 thread (0.73 of its speed) after the one-way run ended."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    saved = torch.get_num_threads()
    cpu = torch.device("cpu")
    m = Machine()
    try:
        torch.set_num_threads(2)
        monkeypatch.setenv(START_THREADS_ENV, "1")
        share = CoreShare.for_trainer(cpu, False)
        assert share.active and (share.now, share.most) == (1, 2)
        assert torch.get_num_threads() == 1
        share.read, share.clock = (lambda: m.counters), (lambda: m.t)
        share.tick()
        m.run(WINDOW_S, 0.0, 1.0)  # the other run ended: a core idle
        share.tick()
        assert share.now == 2 and torch.get_num_threads() == 2
        # Threads the user fixed stand, and a hint out of range is no hint.
        torch.set_num_threads(2)
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        assert CoreShare.for_trainer(cpu, False).now == 2 and torch.get_num_threads() == 2
        monkeypatch.delenv("OMP_NUM_THREADS")
        for bad in ("0", "3", "one", ""):
            monkeypatch.setenv(START_THREADS_ENV, bad)
            assert CoreShare.for_trainer(cpu, False).now == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(saved)


def test_the_counters_read_this_process_and_the_machine():
    first = core_share.read_counters()
    if first is None:  # not Linux
        return
    x = 0
    deadline = time.perf_counter() + 0.05
    while time.perf_counter() < deadline:
        x += 1
    second = core_share.read_counters()
    assert second is not None and second.waited >= first.waited >= 0
    assert second.idle >= first.idle >= 0


def test_a_training_run_sets_the_threads_by_what_the_counters_say(monkeypatch, tmp_path):
    """The engine ticks once a minibatch: counters saying a core is taken put the run on one
    thread, and the run ends with its threads given back."""
    from rnn_tui.runs.rundir import RunDir
    from rnn_tui.train.config import Config
    from rnn_tui.train.engine import Trainer

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    m = Machine()
    seen: list[int] = []

    def counters():
        m.run(WINDOW_S, 1.5, 0.0)  # every read: another window of a busy core
        seen.append(torch.get_num_threads())
        return m.counters

    monkeypatch.setattr(core_share, "read_counters", counters)
    monkeypatch.setattr(core_share, "WINDOW_S", 0.0)
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        config = Config(model="gru", hidden=8, batch_size=4, num_steps=5, epochs=1, max_tokens=2000)
        trainer = Trainer(config)
        trainer.run(RunDir(tmp_path / "run"))
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(saved)
    assert 1 in seen and after == 2
