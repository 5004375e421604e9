"""How many threads torch uses for the app's own figures (the lab screens' held-out views),
computed in worker threads beside trainers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

_threads: list[int] = []  # torch's threads in this process before any view changed them
_threads_lock = threading.Lock()


@contextmanager
def one_math_thread() -> Iterator[None]:
    """torch on one thread in this thread while a view is computed. Views are computed beside
    trainers that keep every core busy, and torch's threads then wait for each other: on a busy
    2-core machine a 50,000-point forecast view took 2.9–3.4 s of CPU on torch's two threads and
    0.5 s on one. torch keeps the setting per thread (new threads take the last one set), so
    this thread gets the process's first setting back after."""
    with _threads_lock:
        if not _threads:
            _threads.append(torch.get_num_threads())
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(_threads[0])


__all__ = ["one_math_thread"]
