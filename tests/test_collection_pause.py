"""Automatic garbage collection paused for the length of a worker's heavy allocation."""

from __future__ import annotations

import gc
import threading

import pytest

import rnn_tui.tui.app as app_module
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.collection_pause import (
    Refreeze,
    collection_paused,
    freeze_long_lived,
    kept_for_good,
    thaw,
)


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


def collecting_during(monkeypatch, owner, name: str) -> list[bool]:
    """Whether automatic collection was on at each call of `owner.name` from now on."""
    seen: list[bool] = []
    original = getattr(owner, name)

    def spied(*args, **kwargs):
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spied)
    return seen


def collected_into(walked: list[int]):
    """A collector callback that appends the number of objects each collection walked."""

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            generation = info["generation"]
            walked.append(sum(len(gc.get_objects(g)) for g in range(generation + 1)))

    return callback


def _tracked_ids() -> set[int]:
    """Every object in a generation the collector walks (the frozen ones are not)."""
    return {id(o) for o in gc.get_objects()}


def test_data_kept_for_good_is_built_with_collection_paused_and_frozen_at_once():
    freeze_long_lived()  # a process that freezes its long-lived objects, as the app in a terminal
    try:
        with kept_for_good():
            assert not gc.isenabled()
            kept = [[str(i)] for i in range(1_000)]
        assert gc.isenabled()
        walked = _tracked_ids()
        assert all(gc.is_tracked(row) and id(row) not in walked for row in kept)
    finally:
        thaw()


def test_keeping_data_does_not_count_the_frozen_objects(monkeypatch):
    """Whether the process freezes is a flag: `gc.get_freeze_count()` walks every frozen
    object (36 ms with the app's ~500,000), and the Train screen keeps its run list, on the
    event loop, each time the list changes."""

    def counting():
        raise AssertionError("counted the frozen objects")

    freeze_long_lived()
    try:
        monkeypatch.setattr(gc, "get_freeze_count", counting)
        with kept_for_good():
            kept = [[str(i)] for i in range(100)]
        assert id(kept[0]) not in _tracked_ids()  # frozen all the same
    finally:
        thaw()
    with kept_for_good():
        kept = [[str(i)] for i in range(100)]
    assert id(kept[0]) in _tracked_ids()  # after thaw: left to the collector


def test_data_kept_for_good_is_left_to_the_collector_where_nothing_is_frozen():
    assert gc.get_freeze_count() == 0  # the tests' headless apps freeze nothing
    with kept_for_good():
        kept = [[str(i)] for i in range(100)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert id(kept[0]) in _tracked_ids()


def test_a_failed_build_is_not_frozen_and_collection_resumes():
    freeze_long_lived()
    try:
        frozen_before = gc.get_freeze_count()
        try:
            with kept_for_good():
                partial = [[str(i)] for i in range(100)]
                raise ValueError("the file went away")
        except ValueError:
            pass
        assert gc.isenabled()
        assert gc.get_freeze_count() == frozen_before
        assert id(partial[0]) in _tracked_ids()
    finally:
        thaw()


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
        # A timer's doing: waited for, not a fixed pause a busy machine may outlast.
        await tui.until(pilot, lambda: gc.get_freeze_count() > 10_000)
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("wait_s", [10.0, 0.3])
async def test_the_start_up_freeze_waits_for_the_warm_up_s_imports(tui, monkeypatch, wait_s):
    """The warm-up's imports (torch's: ~140,000 objects) freeze what they built when done; a
    full collection before that walked them all, 125-220 ms with the event loop held, when the
    imports ran past FREEZE_AFTER_S (a busy machine). At most FREEZE_WAIT_S, then it freezes."""
    monkeypatch.setattr(RnnTuiApp, "FREEZE_AFTER_S", 0.05)
    monkeypatch.setattr(RnnTuiApp, "FREEZE_RETRY_S", 0.05)
    monkeypatch.setattr(RnnTuiApp, "FREEZE_WAIT_S", wait_s)
    importing = threading.Event()
    importing.set()
    monkeypatch.setattr(RnnTuiApp, "_warming_up", lambda self: importing.is_set())
    app = tui.make_app()
    app.freeze_long_lived_objects = True
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.6)
        assert app._frozen == (wait_s < 0.6) and (gc.get_freeze_count() > 0) == app._frozen
        importing.clear()
        await tui.until(pilot, lambda: app._frozen and gc.get_freeze_count() > 0)
    assert gc.get_freeze_count() == 0


def test_the_warm_up_lasts_while_its_worker_or_its_import_thread_runs():
    from types import SimpleNamespace

    app = RnnTuiApp()
    assert not app._warming_up()  # no warm-up (headless)
    app._warming = SimpleNamespace(is_finished=False, result=None)  # loading the libraries
    assert app._warming_up()
    done, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=lambda: (done.set(), release.wait(10)))
    thread.start()
    done.wait(10)
    app._warming = SimpleNamespace(is_finished=True, result=thread)  # importing
    assert app._warming_up()
    release.set()
    thread.join(10)
    assert not app._warming_up()
    app._warming = SimpleNamespace(is_finished=True, result=None)  # failed: nothing to wait for
    assert not app._warming_up()


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
        await tui.until(pilot, lambda: gc.get_freeze_count() > 0)
        at_start = gc.get_freeze_count()
        await pilot.press("f3")  # the Train screen, built now
        await tui.settle(pilot)
        await tui.until(pilot, lambda: gc.get_freeze_count() > at_start + 1_000)
    assert gc.get_freeze_count() == 0


async def test_a_first_opening_is_built_with_collection_paused_then_frozen(tui, monkeypatch):
    """Building a screen's thousands of widgets set off 2–4 full collections (30–185 ms each,
    the event loop held): the first opening composes with automatic collection off, and its
    objects are frozen as soon as it has mounted (not on the next growth check)."""
    from rnn_tui.tui.screens.train import TrainScreen

    monkeypatch.setattr(RnnTuiApp, "FREEZE_AFTER_S", 0.05)
    monkeypatch.setattr(RnnTuiApp, "REFREEZE_EVERY_S", 3600.0)  # only the opening freezes
    collecting_while_composed = collecting_during(monkeypatch, TrainScreen, "compose")
    collecting_while_frozen = collecting_during(monkeypatch, app_module, "freeze_built")
    app = tui.make_app()
    app.freeze_long_lived_objects = True
    async with app.run_test(size=(80, 24)) as pilot:
        # Started up: frozen once, and collecting again after the first listings' pauses.
        await tui.settle(pilot)
        await tui.until(pilot, lambda: gc.get_freeze_count() > 0 and gc.isenabled())
        at_start = gc.get_freeze_count()
        # Frozen without a collection, before collection resumes: a collection then walked the
        # whole new screen twice (35-37 ms each, the event loop held) and found no garbage.
        collections = collecting_during(monkeypatch, gc, "collect")
        walked: list[int] = []
        monkeypatch.setattr(gc, "callbacks", [*gc.callbacks, collected_into(walked)])
        await pilot.press("f3")
        await tui.settle(pilot)
        assert collecting_while_composed == [False] and collecting_while_frozen == [False]
        assert collections == [] and max(walked, default=0) < 1_000
        assert gc.isenabled()
        assert gc.get_freeze_count() > at_start + 1_000
        await pilot.press("f2", "f3")  # opened before: Textual's plain switch
        await tui.settle(pilot)
        assert collecting_while_composed == [False] and gc.isenabled()
    assert gc.get_freeze_count() == 0


async def test_the_sentence_pairs_are_frozen_once_the_dataset_screen_has_loaded_them(
    tui, monkeypatch
):
    """The Pairs tab's 68,807 pairs (137,000 token lists), loaded by a worker after start-up,
    reached the oldest generation unfrozen: every full collection walked them, the longest
    stalls of a Dataset tab key. While they load, collection is paused (its full collections
    walked the pairs loaded so far, 17–104 ms each with the loop held), and they are frozen as
    the worker ends, not at the app's next growth check (which never comes here)."""
    from rnn_tui.tui.widgets import pairs_panel

    monkeypatch.setattr(RnnTuiApp, "FREEZE_AFTER_S", 0.05)
    monkeypatch.setattr(RnnTuiApp, "REFREEZE_EVERY_S", 3600.0)
    # The modules that loading and drawing import are imported first (their growth alone sets
    # off a refreeze; in a session the n-grams tab, shown before, has imported them). The pairs
    # are then loaded by the app, after its start-up freeze, as in a session.
    import rich.ansi  # noqa: F401  (the plots' Text.from_ansi)

    pairs_panel._load(pairs_panel.SOURCE)
    pairs_panel._load.cache_clear()
    collecting_while_loaded = collecting_during(monkeypatch, pairs_panel, "load_translation")
    app = tui.make_app()
    app.freeze_long_lived_objects = True
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.until(pilot, lambda: gc.get_freeze_count() > 0)
        app.screen.query_one("#tabs").active = "tab-pairs"
        panel = app.screen.query_one(pairs_panel.PairsPanel)
        await tui.until(pilot, lambda: panel._summary is not None, 60)
        await tui.settle(pilot)
        await pilot.pause(0.5)
        data = panel._summary.data
        collected = {id(o) for o in gc.get_objects()}  # every generation but the frozen one
        tokens = [data.source[0], data.source[-1], data.target[0], data.target[-1]]
        assert all(gc.is_tracked(t) and id(t) not in collected for t in tokens)
        assert collecting_while_loaded == [False] and gc.isenabled()
    assert gc.get_freeze_count() == 0


async def test_checkpoints_and_runs_are_listed_with_collection_paused(tui, monkeypatch):
    """With 1,500 runs, listing them (~100,000 objects in a worker) set off a full collection on
    that thread, which walked every object of the app with the GIL held: the Gradients screen's
    first opening waited 330 ms. The checkpoint pickers and the run lists list with automatic
    collection off."""
    from rnn_tui.tui.screens import side_runs
    from rnn_tui.tui.widgets import checkpoint_picker

    discovering = collecting_during(monkeypatch, checkpoint_picker, "discover_checkpoints")
    listing = collecting_during(monkeypatch, side_runs, "list_runs")
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for key in ("f7", "f3", "f6"):  # a checkpoint picker, the run list, a run picker
            await pilot.press(key)
            await tui.settle(pilot)
        assert discovering and not any(discovering)
        assert listing and not any(listing)
        assert gc.isenabled()
