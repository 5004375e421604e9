"""The memory this process could still take for a file it reads whole, without torch.

A checkpoint's tensor file is read into memory whole; one larger than that memory can only fail,
after a long read, as an out-of-memory error that names no file (8 GB of tensors under
`ulimit -v 6000000`). Reading is refused at once instead, naming the file (store.read_pair).
"""

from __future__ import annotations

import os

try:
    import resource
except ImportError:  # Windows: no rlimits
    resource = None


def system_available() -> int | None:
    """The system's available memory (Linux's MemAvailable: free plus reclaimable page cache),
    else its free pages; None when it cannot be told."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def rss_bytes(pid: int) -> int | None:
    """Resident memory of process `pid` in bytes, from /proc/<pid>/status (Linux); None
    elsewhere or when the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def allocatable() -> tuple[int, str] | None:
    """(bytes, what bounds them) a read into memory cannot exceed: the system's available
    memory, or an address-space or data limit (`ulimit -v`, `ulimit -d`) where lower; None
    when none of them can be told. A limit is taken whole, not less what is mapped already:
    the allocator serves part of a read from memory the process holds (a 24.6 MiB file loaded
    with 20 MiB of address space to spare), so a read that fits under the limit is tried."""
    bounds: list[tuple[int, str]] = []
    available = system_available()
    if available is not None:
        bounds.append((available, "the memory available"))
    if resource is not None:
        for limit, flag in ((resource.RLIMIT_AS, "-v"), (resource.RLIMIT_DATA, "-d")):
            soft, _ = resource.getrlimit(limit)
            if soft != resource.RLIM_INFINITY:
                bounds.append((soft, f"ulimit {flag}"))
    return min(bounds) if bounds else None


__all__ = ["allocatable", "rss_bytes", "system_available"]
