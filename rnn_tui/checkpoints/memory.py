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


def _mapped() -> tuple[int, int] | None:
    """(address space, data segment) this process has mapped, in bytes (Linux's statm)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            fields = f.read().split()
        page = os.sysconf("SC_PAGE_SIZE")
        return int(fields[0]) * page, int(fields[5]) * page
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def allocatable() -> tuple[int, str] | None:
    """(bytes, what bounds them) this process could still allocate: the system's available
    memory, or less under an address-space or data limit (`ulimit -v`, `ulimit -d`) after what
    is mapped already; None when none of them can be told."""
    bounds: list[tuple[int, str]] = []
    available = system_available()
    if available is not None:
        bounds.append((available, "the memory available"))
    mapped = _mapped() or (0, 0)  # not told: the whole limit
    limits = ()
    if resource is not None:
        limits = ((resource.RLIMIT_AS, mapped[0], "-v"), (resource.RLIMIT_DATA, mapped[1], "-d"))
    for limit, used, flag in limits:
        soft, _ = resource.getrlimit(limit)
        if soft != resource.RLIM_INFINITY:
            bounds.append((max(soft - used, 0), f"what ulimit {flag} leaves"))
    return min(bounds) if bounds else None


__all__ = ["allocatable", "system_available"]
