"""Automatic garbage collection paused for the length of a worker's heavy allocation."""

from __future__ import annotations

import gc
import threading

from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.collection_pause import Refreeze, collection_paused


def test_collection_is_paused_inside_and_restored_after():
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():  # nested: the inner end does not resume it
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_workers_resume_collection_when_the_last_ends():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first():
        with collection_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with collection_paused():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first worker ended, this one still runs

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_collection_left_off_by_someone_else_stays_off():
    gc.disable()
    try:
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_exception_inside_still_resumes_collection():
    try:
        with collection_paused():
            raise ValueError("worker failed")
    except ValueError:
        pass
    assert gc.isenabled()


async def test_an_app_in_a_terminal_freezes_its_long_lived_objects_and_thaws_at_exit(
    tui, monkeypatch
):
    """Full collections walked the app's ~110,000 long-lived objects, 50–90 ms each: they are
    frozen once the app has started, and given back when it ends. A headless app (the tests')
    does not freeze unless asked."""
    monkeypatch.setattr(RnnTuiApp, "FREEZE_AFTER_S", 0.05)
    headless = tui.make_app()
    async with headless.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert gc.get_freeze_count() == 0
    app = tui.make_app()
    app.freeze_long_lived_objects = True  # what not being headless means
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0


def test_refreeze_waits_for_growth_to_settle_then_freezes_once():
    sizes = iter([(100, 1), (100, 1), (180, 1), (240, 2), (240, 2), (240, 2), (241, 2), (241, 2)])
    frozen = []
    refreezing = Refreeze(lambda: next(sizes), lambda: frozen.append(True))
    ticks = [refreezing.tick() for _ in range(7)]
    # No growth; growing; still growing; settled: freeze; nothing new; growing; settled: freeze.
    assert ticks == [False, False, False, True, False, False, True]
    assert len(frozen) == 2


async def test_a_screen_built_after_start_up_is_frozen_too(tui, monkeypatch):
    """A screen opened later (and torch, imported later by a worker) lives as long as the
    app: once the growth has settled, it is frozen as well."""
    monkeypatch.setattr(RnnTuiApp, "FREEZE_AFTER_S", 0.05)
    monkeypatch.setattr(RnnTuiApp, "REFREEZE_EVERY_S", 0.1)
    app = tui.make_app()
    app.freeze_long_lived_objects = True
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        at_start = gc.get_freeze_count()
        await pilot.press("f3")  # the Train screen, built now
        await tui.settle(pilot)
        await pilot.pause(0.5)
        assert gc.get_freeze_count() > at_start + 1_000
    assert gc.get_freeze_count() == 0
