"""Loaded models kept between requests, so generating or translating again is quick.

Loading a checkpoint builds its model and reads its tensors: worth doing once per checkpoint,
not once per sentence. `ModelCache` keeps the last few loaded objects (a language model, a
translator: whatever the given loader returns) keyed by (kind, path), and loads again when the
checkpoint's JSON has changed since — a run still training rewrites best.json as it improves.
At most `capacity` models stay in memory: the least recently used one is dropped, before the new
one is read, so two models never become three while a third loads.

Thread-safe (the app's workers share one cache); no torch here, the loader brings it.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_CAPACITY = 2  # the Generate and the Translate console's models, one each


def mtime_ns(path: str | os.PathLike) -> int:
    """The file's modification time in nanoseconds, 0 when it cannot be read."""
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return 0


class ModelCache(Generic[T]):
    """path → loaded object, reloaded when the checkpoint's JSON changes (see the module)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"a model cache holds at least one model (got {capacity})")
        self.capacity = capacity
        # (kind, path asked) -> (object, its checkpoint's JSON, that JSON's mtime); oldest first.
        self._entries: OrderedDict[tuple[str, str], tuple[T, Path, int]] = OrderedDict()
        # Held while loading too: two workers asking for one checkpoint load it once.
        self._lock = threading.Lock()

    def get(
        self,
        kind: str,
        path: str,
        load: Callable[[str], T],
        json_of: Callable[[T], str | os.PathLike],
    ) -> tuple[T, bool]:
        """(object, fresh): the cached object for `path` while its JSON (`json_of(object)`) is
        unchanged, else `load(path)` (fresh = True). `kind` keeps apart what different loaders
        make of one path. Whatever `load` raises propagates; nothing is cached then."""
        key = (kind, str(path))
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                obj, json_path, mtime = cached
                if mtime_ns(json_path) == mtime:
                    self._entries.move_to_end(key)
                    return obj, False
                del self._entries[key]  # stale: free it before reading the new one
            while len(self._entries) >= self.capacity:
                self._entries.popitem(last=False)
            obj = load(str(path))
            json_path = Path(json_of(obj))
            self._entries[key] = (obj, json_path, mtime_ns(json_path))
            return obj, True

    def keys(self) -> list[tuple[str, str]]:
        """The (kind, path) pairs held, least recently used first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every model."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


__all__ = ["DEFAULT_CAPACITY", "ModelCache", "mtime_ns"]
