"""Whether a folder's path leaves room for the file names a run writes in it.

The system refuses a path longer than PATH_MAX ("File name too long"). A run writes its longest
name in checkpoints/ (a checkpoint's temporary tensor file), and only at its first checkpoint:
a --run-dir that left no room for it trained a whole epoch before failing. This is checked when
a run directory is claimed, before anything is written.
"""

from __future__ import annotations

import os
from pathlib import Path

FALLBACK_PATH_MAX = 4095  # Linux's 4096, less the final NUL
# The longest file name a run writes: a checkpoint's temporary tensor file (atomic.py), with room.
RUN_LONGEST_NAME = len(".best.0123456789ab.safetensors.abcdefgh.tmp") + 8


def path_limit(folder: Path) -> int:
    """The longest path, in bytes, the file system under `folder` (or its nearest existing
    ancestor) takes."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        return os.pathconf(existing, "PC_PATH_MAX") - 1  # the count includes the final NUL
    except (OSError, ValueError):
        return FALLBACK_PATH_MAX


def path_room_problem(folder: Path, longest_name: int) -> str:
    """ "" when a name of `longest_name` bytes fits in `folder`, else why not."""
    absolute = Path(os.path.abspath(folder))
    longest = len(os.fsencode(absolute)) + 1 + longest_name
    limit = path_limit(absolute)
    if longest <= limit:
        return ""
    return (
        f"its checkpoint files would have paths of {longest:,} bytes, more than the {limit:,} "
        "this system allows"
    )


__all__ = ["RUN_LONGEST_NAME", "path_limit", "path_room_problem"]
