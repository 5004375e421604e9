"""Automatic garbage collection paused for the length of a worker's heavy allocation."""

from __future__ import annotations

import gc
import threading

from rnn_tui.tui.collection_pause import collection_paused


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
