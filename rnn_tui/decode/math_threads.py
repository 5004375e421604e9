"""How many threads torch uses for the app's own work: the lab screens' held-out views, the
Generate and Translate consoles' jobs, the Gradients screen's passes — computed in worker threads
beside trainers that keep every core busy.

torch is imported on first use, so a screen's module can name `on_one_math_thread` without
importing torch on the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

_threads: list[int] = []  # torch's threads in this process before any job changed them
_threads_lock = threading.Lock()
_depth = threading.local()  # how many one_math_thread blocks this thread is inside

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def one_math_thread() -> Iterator[None]:
    """torch on one thread in this thread while the app's own work runs. Work is done beside
    trainers that keep every core busy, and torch's threads then wait for each other: on a busy
    2-core machine a 50,000-point forecast view took 2.9–3.4 s of CPU on two threads and 0.5 s
    on one. Idle, two threads bought at most 7 % of wall time (a Flow pass at 1,024 units, in
    a process of its own) for 60 % more CPU.

    torch keeps the setting per thread (new threads take the last one set), so this thread gets
    the process's first setting back after the outermost block; a nested block leaves it."""
    import torch

    with _threads_lock:
        if not _threads:
            _threads.append(torch.get_num_threads())
    depth = getattr(_depth, "value", 0)
    _depth.value = depth + 1
    torch.set_num_threads(1)
    try:
        yield
    finally:
        _depth.value = depth
        if depth == 0:
            torch.set_num_threads(_threads[0])


def on_one_math_thread(job: Callable[P, R]) -> Callable[P, R]:
    """`job` run inside `one_math_thread` (a worker's function)."""

    @wraps(job)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with one_math_thread():
            return job(*args, **kwargs)

    return run


__all__ = ["on_one_math_thread", "one_math_thread"]
