"""Automatic garbage collection paused while a worker thread builds many objects, and the
app's long-lived objects kept out of every later collection.

A worker that fits the n-gram model creates about a million tuples (the bigram and trigram
keys of its Counters). Python's collector walks every tracked object it has not yet examined
in a full collection, and it runs on whichever thread allocates, holding the GIL: on a 100 MB
corpus those walks stalled the app's event loop for 50–80 ms at a time. The objects form no
reference cycles (reference counting frees them), so collection is paused while such a worker
runs and resumes when the last one ends.

What the app builds later lives as long too: a screen opened for the first time (thousands of
widgets), torch imported by a worker (~160,000 objects). Left in the collector, they made every
full collection walk them: 88–113 ms with the GIL held, once every few step moves on the
Gradients screen. `Refreeze` freezes again once such growth has settled: 14–28 ms a full
collection after (measured, benchmarks/README.md). A screen's first opening is built with
collection paused (its compose set off 2–4 full collections, 30–185 ms each) and frozen as soon
as it has mounted, before collection resumes (`RnnTuiApp.switch_mode`, `freeze_built`). Data a
worker loads for good (the Dataset screen's 68,807 sentence pairs: 137,000 token lists) is
built with collection paused and frozen as the worker ends (`kept_for_good`); the widget that
takes it posts `LongLivedData`, so that what it builds around the data is frozen the same way.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

from textual.message import Message

_lock = threading.Lock()
_depth = 0
_was_enabled = False
# Whether this process freezes its long-lived objects (`freeze_long_lived` ran, no `thaw` since).
# A flag, not `gc.get_freeze_count()`: that counts the frozen objects one by one, 36 ms with
# the app's ~500,000 (measured), on the event loop where data is kept.
_freezing = False


@contextmanager
def collection_paused() -> Iterator[None]:
    """Automatic collection off for the duration (nested and concurrent uses count)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


@contextmanager
def kept_for_good() -> Iterator[None]:
    """Automatic collection paused while a worker builds data that the app then keeps as long as
    it runs (the Dataset screen's 68,807 sentence pairs: 137,000 token lists), and, where the
    process freezes its long-lived objects (`freeze_long_lived` has run), that data frozen as
    soon as it is built, before collection resumes. Not frozen when the body raises.

    Left to the collector, the data stalled the event loop while it loaded: a collection runs on
    the thread that allocates, with the GIL held, and every full one walked the pairs loaded so
    far (four of 17–104 ms in one first showing of the Pairs tab, measured). `gc.freeze` moves
    the young generations without walking them, so nothing walks the data again. What the app's
    other threads made meanwhile is frozen with it: its few garbage cycles wait for `thaw`."""
    with collection_paused():
        yield
        if _freezing:
            gc.freeze()


def freeze_long_lived() -> None:
    """Collect, then move every object alive into the collector's permanent generation.

    Called once, when the app has started: the ~110,000 objects of its modules, screens and
    widgets live as long as the app, and every full collection walked them again, 50–90 ms with
    the GIL held: the longest stalls left while a 100 MB corpus loads. Frozen, a full collection
    takes ~30 ms (measured). Frozen objects that later become unreachable are still freed by
    reference counting; only reference cycles among them wait for `thaw`."""
    global _freezing
    gc.collect()
    gc.freeze()
    _freezing = True


def refreeze() -> None:
    """Collect the young generations (cheap: only what is new), then freeze everything alive.
    An older reference cycle that is already garbage stays until `thaw` (measured after every
    screen was opened and torch imported: 6,645 objects, against 518,016 tracked); a full
    collection first would be the very stall this avoids (319 ms then)."""
    gc.collect(1)
    gc.freeze()


def freeze_built() -> None:
    """Freeze everything alive without collecting: for what was built with collection paused (a
    screen's first opening). A collection would walk all of it with the GIL held and find next
    to nothing: the young generation walked as collection resumed, then `refreeze`'s, 35-37 ms
    each for the Train screen, with no garbage found (Forecast, Classify: none either; Generate:
    2,796 objects, now kept until `thaw`). Called before collection resumes: `gc.freeze` also
    empties the young generation, so resuming sets off no collection."""
    gc.freeze()


class Refreeze:
    """Calls `freeze` (`refreeze`) once the app's `size()` — anything that grows when it builds
    long-lived objects: modules imported, screens built — has changed and then held still for
    one `tick` (a timer's), so a screen being built or a module being imported is frozen
    whole, after it is done."""

    def __init__(self, size: Callable[[], Hashable], freeze: Callable[[], None] = refreeze):
        self.size, self.freeze = size, freeze
        self._last = size()
        self._grew = False

    def tick(self) -> bool:
        """One timer tick; True when it froze."""
        now = self.size()
        if now != self._last:
            self._last, self._grew = now, True
            return False
        if self._grew:
            self._grew = False
            self.freeze()
            return True
        return False


class LongLivedData(Message):
    """Posted (bubbling to the app) by a widget that now holds many objects for as long as it
    lives, so that `Refreeze` freezes them once the growth has settled. Loaded by a worker, they
    reached the oldest generation unfrozen, and each full collection walked them: the pairs'
    token lists alone made a Dataset tab key's p95 190–230 ms instead of 140 (measured,
    benchmarks/README.md). Only for data without reference cycles that outlives the widget's
    ordinary churn: a frozen cycle is not freed until `thaw`."""


def thaw() -> None:
    """Give the frozen objects back to the collector (when the app ends: in a process that
    runs many apps, the test suite, each app's cycles are collected)."""
    global _freezing
    _freezing = False
    gc.unfreeze()


__all__ = [
    "LongLivedData",
    "Refreeze",
    "collection_paused",
    "freeze_built",
    "freeze_long_lived",
    "kept_for_good",
    "refreeze",
    "thaw",
]
