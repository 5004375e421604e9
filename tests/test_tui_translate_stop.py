# ruff: noqa: F811 (pytest fixtures imported from test_tui_translate)
"""Stopping a translation on the Translate console (Pilot): escape ends the decoding itself
within a step, the next job waits for that step and says so, and the progress bar moves
within a chunk. A real tiny checkpoint decodes, its steps slowed and counted."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from test_tui_translate import (  # noqa: F401
    fake,
    open_translate,
    set_field,
    start_here,
    tiny_seq2seq_checkpoint,
)

from rnn_tui.decode.translate import Translator
from rnn_tui.runs import discover
from rnn_tui.tui.screens.translate import TranslateScreen
from rnn_tui.tui.widgets.status_bar import StatusBar


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """The only checkpoint found is a real tiny one."""
    folder = tmp_path / "checkpoints"
    path = tiny_seq2seq_checkpoint(folder)
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "none")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(folder))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    return path


@pytest.fixture
def slow_steps(monkeypatch) -> list[float]:
    """Every decoding step takes 20 ms and never writes <eos> (so a search runs to max
    length); returns the times the steps began."""
    began: list[float] = []
    step = Translator._step

    def slow(self, tokens, state):
        began.append(time.monotonic())
        time.sleep(0.02)
        log_probs, state = step(self, tokens, state)
        log_probs[:, self.eos] = float("-inf")
        return log_probs, state

    monkeypatch.setattr(Translator, "_step", slow)
    return began


async def wait_for(pilot, condition, seconds: float = 20.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "waited too long"
        await pilot.pause(0.02)


async def test_escape_stops_the_decoding_and_the_next_job_runs_at_once(
    tiny, slow_steps, start_here, tui
):
    # Escape said "stopped" while the worker decoded on for minutes, the next job stuck at 0 %.
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        await set_field(pilot, screen, "#tr-beam-size", "4")
        await set_field(pilot, screen, "#tr-max-len", "200")  # 400 steps, 8 s a chunk
        await set_field(pilot, screen, "#tr-source", " ; ".join(["go ."] * 5))
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: len(slow_steps) >= 3)
        await pilot.press("escape")
        await pilot.pause()
        stopped = time.monotonic()
        assert screen.status == "stopped after 0 of 5 sentences"
        await asyncio.sleep(0.3)
        # One step at most, one past its check as escape came (several before the fix).
        assert len([t for t in slow_steps if t > stopped]) <= 1
        await set_field(pilot, screen, "#tr-max-len", "3")
        await set_field(pilot, screen, "#tr-source", "go .")
        await pilot.press("ctrl+t")
        await tui.settle(pilot)
        # The next job did not wait for the stopped one's chunk (400 steps, 8 s) to be decoded:
        # counted in steps, which a loaded machine does not stretch (it did "< 3 s" of waiting).
        # One step of the stopped job at most, then the new one's: greedy and beam, 3 each.
        assert len([t for t in slow_steps if t > stopped]) <= 1 + 2 * 3
        assert screen.status.startswith("translated 1 sentence in ")
        assert tui.errors(app) == []


async def test_the_progress_bar_moves_within_a_chunk(
    tiny, slow_steps, start_here, tui, monkeypatch
):
    ticks = iter(range(10**6))  # each reading of the clock is a second later
    monkeypatch.setattr(TranslateScreen, "clock", staticmethod(lambda: float(next(ticks))))
    moves: list[float] = []
    advance = StatusBar.advance
    monkeypatch.setattr(
        StatusBar, "advance", lambda bar, done: moves.append(done) or advance(bar, done)
    )
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        await set_field(pilot, screen, "#tr-max-len", "6")
        await set_field(pilot, screen, "#tr-source", "go . ; i lost .")  # one chunk
        await pilot.press("enter")
        await tui.settle(pilot)
        assert screen.status.startswith("translated 2 sentences in ")
    assert moves == sorted(moves) and moves[-1] == 2
    assert len([m for m in moves if 0 < m < 2]) >= 4  # greedy's steps, then the beam's


async def test_a_job_behind_a_stopped_one_says_it_waits(fake, start_here, tui, monkeypatch):
    ticks = iter(range(10**6))  # each reading of the clock is a second later
    monkeypatch.setattr(TranslateScreen, "clock", staticmethod(lambda: float(next(ticks))))
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        await tui.settle(pilot)
        held = threading.Event()
        release = threading.Event()

        def stopped_job_step():  # a cancelled job still in its step holds the console's lock
            with screen._lock:
                held.set()
                release.wait(10)

        threading.Thread(target=stopped_job_step, daemon=True).start()
        held.wait(5)
        await set_field(pilot, screen, "#tr-source", "go .")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.status.startswith("waiting"))
        assert screen.status == (
            "waiting for the stopped job to end its step · translating 1 sentence…"
        )
        release.set()
        await tui.settle(pilot)
        # The time is the translation's; the wait before it is said too.
        assert screen.status.startswith("translated 1 sentence in ")
        assert screen.status.endswith(" · after waiting 1.00 s for the stopped job")
