"""A CPU trainer's math threads on a machine it shares: as many as there are cores for it.

torch runs one math thread per core, and its threads meet at a barrier after every parallel
product. When another process takes a core (the app generating text, a Flow pass, a build),
the thread that lost its core holds up the other, which spins on: a char LSTM at 70-85k
tokens/s alone ran at 0.7-5k beside one busy core (2 cores, the trainer at nice 5 as the app
starts it). On one thread it keeps its own core.

So every WINDOW_S the trainer reads how long its threads waited for a CPU (Linux's
/proc/self/task/*/schedstat) and how idle the machine was (/proc/stat): it gives up a thread
for each core others took (`run delay` ≥ GIVE_UP thread-seconds a second), and takes threads
back as cores go idle (≥ TAKE_BACK cores). Alone, its threads wait 0.01 thread-seconds a
second; beside a busy core 1.0; beside a 20 % burst load 0.23-0.28, which it keeps sharing.
Elsewhere than Linux, with one thread, with threads the user fixed (OMP_NUM_THREADS), or in a
distributed run, nothing changes. A trainer the app starts beside another starts on fewer
threads (core_counters.START_THREADS_ENV) and takes more as the other ends. A product split over
other threads can round differently (the scratch RNN's loss moved in its eighth digit between
one thread and two; the LSTM's and GRU's did not), so a run beside other work agrees with its
repeat to rounding, not bit for bit; one that must repeat exactly fixes its threads.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

import torch

from rnn_tui.train.core_counters import FIXED, Counters, read_counters, start_threads

WINDOW_S = 0.5  # how often the counters are read (63 µs each time on this 2-core machine)
GIVE_UP = 0.5  # thread-seconds waited per second for each thread given up
TAKE_BACK = 0.6  # idle cores per second for each thread taken back


def threads_for(now: int, most: int, waited_per_s: float, idle_per_s: float) -> int:
    """How many threads to run with next, from `now` (at most `most`): one fewer for each
    GIVE_UP thread-seconds a second waited, or one more for each TAKE_BACK idle cores."""
    if waited_per_s >= GIVE_UP:
        return max(1, now - max(1, math.floor(waited_per_s + 1 - GIVE_UP)))
    if now < most and idle_per_s >= TAKE_BACK:
        return min(most, now + max(1, math.floor(idle_per_s + 1 - TAKE_BACK)))
    return now


class CoreShare:
    """Called once a minibatch (`tick`); reads the counters every WINDOW_S and sets torch's
    threads when they say so."""

    def __init__(
        self,
        most: int,
        read: Callable[[], Counters | None] = read_counters,
        clock: Callable[[], float] = time.perf_counter,
        set_threads: Callable[[int], None] = torch.set_num_threads,
        active: bool = True,
    ) -> None:
        self.most = self.now = most
        self.active = active  # False: a tick does nothing, so the threads never change
        self.read, self.clock, self.set_threads = read, clock, set_threads
        self.changes = 0  # how often the threads changed (a test's and a benchmark's count)
        self._due = -math.inf
        self._last: tuple[float, Counters] | None = None

    @classmethod
    def for_trainer(cls, device: torch.device, distributed: bool) -> CoreShare:
        """Active for a single CPU process on more than one thread where the counters exist and
        the user left the threads to the library; it starts on the threads whoever started it
        asked for (START_THREADS_ENV) unless the user fixed them."""
        most = torch.get_num_threads()
        fixed = bool(os.environ.get(FIXED))
        active = device.type == "cpu" and not distributed and most >= 2
        active = active and not fixed and read_counters() is not None
        share = cls(most, read=read_counters, active=active)
        start = most if fixed else start_threads(most)
        if start != most:  # started beside another trainer: fewer threads until cores go idle
            share.set_threads(start)
            share.now = start
        return share

    def tick(self) -> None:
        if not self.active:
            return
        t = self.clock()
        if t < self._due:
            return
        self._due = t + WINDOW_S
        counters = self.read()
        if counters is None:
            return
        last, self._last = self._last, (t, counters)
        if last is None or t <= last[0]:
            return
        span = t - last[0]
        waited = (counters.waited - last[1].waited) / span
        idle = (counters.idle - last[1].idle) / span
        threads = threads_for(self.now, self.most, waited, idle)
        if threads != self.now:
            self.set_threads(threads)
            self.now = threads
            self.changes += 1
            self._last = None  # the next window starts with the new threads

    def restore(self) -> None:
        """The threads the run started with, given back when it ends (a caller training in its
        own process keeps its setting)."""
        if self.now != self.most:
            self.set_threads(self.most)
            self.now = self.most


__all__ = ["CoreShare", "Counters", "read_counters", "threads_for"]
