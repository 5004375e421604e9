"""What the system says of the cores a CPU trainer shares, read without torch.

A trainer sets its math threads by two counters (train/core_share.py): how long its threads
waited for a CPU and how idle the machine was. Linux keeps both in /proc; elsewhere there is
nothing to go by and a trainer keeps its threads. The app asks the same question before it
starts trainers side by side (runs/process.py), so this module stays free of torch.

Where trainers share the cores themselves, the app does not fix a pair's threads
(OMP_NUM_THREADS) or make a trainer started beside another wait passively (OMP_WAIT_POLICY):
both lasted the whole run. A tagger pair's two-way run went on at 1 thread after the one-way
run ended (50 minibatches/s against 84 with its threads taken back); a names run started beside
another, once alone, waiting passively, 147 and 238 against 231 and 350. It says how many
threads to start on instead (START_THREADS_ENV), and the trainer takes more as cores go idle.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

SCHEDSTAT = "/proc/self/task/*/schedstat"
FIXED = "OMP_NUM_THREADS"  # threads the user chose are kept
# The threads a trainer starts on (an integer from 1 to its cores), set by whoever starts it
# beside other trainers; it takes more as cores go idle. Anything else is ignored.
START_THREADS_ENV = "RNN_TUI_START_THREADS"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Counters:
    """Seconds this process's threads have waited for a CPU, and the machine's idle seconds
    (summed over its cores), both since boot."""

    waited: float
    idle: float


def read_counters() -> Counters | None:
    """The counters now, or None where the system does not keep them."""
    try:
        waited = 0
        for path in glob.glob(SCHEDSTAT):
            with open(path, "rb") as f:  # procfs: three numbers on one line
                waited += int(f.read(200).split()[1])
        with open("/proc/stat", "rb") as f:
            fields = f.readline(400).split()
        idle = int(fields[4]) + int(fields[5])  # idle and iowait, in clock ticks
    except (OSError, ValueError, IndexError):
        return None
    return Counters(waited / 1e9, idle / CLOCK_TICKS)


def shares_cores() -> bool:
    """Whether a CPU trainer started here sets its own threads by the counters."""
    return read_counters() is not None


def start_threads(most: int, env: dict[str, str] | None = None) -> int:
    """The threads to start on: START_THREADS_ENV where it is an integer from 1 to `most`,
    else `most`."""
    value = (os.environ if env is None else env).get(START_THREADS_ENV, "").strip()
    if not (value.isascii() and value.isdigit()):
        return most
    try:
        threads = int(value)
    except ValueError:  # more digits than int() reads
        return most
    return threads if 1 <= threads <= most else most


__all__ = [
    "CLOCK_TICKS",
    "Counters",
    "FIXED",
    "SCHEDSTAT",
    "START_THREADS_ENV",
    "read_counters",
    "shares_cores",
    "start_threads",
]
