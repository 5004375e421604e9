"""The model cache the consoles share: hits, reloads when the JSON changes, its bound, threads."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from rnn_tui.decode.cache import ModelCache, mtime_ns


class Loads:
    """A loader that records its calls and returns a fresh object per call."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[str] = []
        self.delay = delay

    def __call__(self, path: str) -> dict:
        self.calls.append(path)
        if self.delay:
            time.sleep(self.delay)
        return {"path": path, "n": len(self.calls)}


def checkpoint(folder: Path, name: str) -> Path:
    json_path = folder / f"{name}.json"
    json_path.write_text("{}")
    return folder / f"{name}.safetensors"


def json_of(obj: dict) -> Path:
    return Path(obj["path"]).with_suffix(".json")


def touch_later(path: Path) -> None:
    """Give the file a modification time surely different from the one it has."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_second_request_is_served_from_memory(tmp_path):
    cache, load = ModelCache(), Loads()
    path = str(checkpoint(tmp_path, "a"))
    first, fresh = cache.get("lm", path, load, json_of)
    assert fresh
    again, fresh = cache.get("lm", path, load, json_of)
    assert again is first and not fresh
    assert load.calls == [path]


def test_a_changed_json_reloads_the_model(tmp_path):
    cache, load = ModelCache(), Loads()
    path = checkpoint(tmp_path, "a")
    first, _ = cache.get("lm", str(path), load, json_of)
    touch_later(path.with_suffix(".json"))  # a run still training wrote a better checkpoint
    second, fresh = cache.get("lm", str(path), load, json_of)
    assert fresh and second is not first
    assert load.calls == [str(path), str(path)]
    third, fresh = cache.get("lm", str(path), load, json_of)
    assert third is second and not fresh


def test_kinds_keep_apart_what_two_loaders_make_of_one_path(tmp_path):
    cache, lm, seq2seq = ModelCache(), Loads(), Loads()
    path = str(checkpoint(tmp_path, "a"))
    a, _ = cache.get("lm", path, lm, json_of)
    b, fresh = cache.get("seq2seq", path, seq2seq, json_of)
    assert fresh and b is not a and seq2seq.calls == [path]


def test_at_most_capacity_models_stay_and_the_least_recent_goes_first(tmp_path):
    cache, load = ModelCache(capacity=2), Loads()
    a, b, c = (str(checkpoint(tmp_path, name)) for name in "abc")
    cache.get("lm", a, load, json_of)
    cache.get("seq2seq", b, load, json_of)
    cache.get("lm", a, load, json_of)  # a is now the most recent
    seen_while_loading: list[int] = []

    def load_c(path: str) -> dict:
        seen_while_loading.append(len(cache._entries))  # len(cache) would wait on its lock
        return load(path)

    cache.get("lm", c, load_c, json_of)
    assert seen_while_loading == [1]  # b was dropped before c was read
    assert cache.keys() == [("lm", a), ("lm", c)]
    assert len(cache) == 2
    with pytest.raises(ValueError):
        ModelCache(capacity=0)


def test_a_failed_load_caches_nothing(tmp_path):
    cache = ModelCache()
    path = str(checkpoint(tmp_path, "a"))

    def refuse(path: str) -> dict:
        raise ValueError("not a checkpoint")

    with pytest.raises(ValueError, match="not a checkpoint"):
        cache.get("lm", path, refuse, json_of)
    assert len(cache) == 0
    load = Loads()
    cache.get("lm", path, load, json_of)
    assert load.calls == [path]


def test_threads_asking_for_one_checkpoint_load_it_once(tmp_path):
    cache, load = ModelCache(), Loads(delay=0.05)
    path = str(checkpoint(tmp_path, "a"))
    got: list[dict] = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.get("lm", path, load, json_of)[0]))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert load.calls == [path]
    assert all(obj is got[0] for obj in got)


def test_mtime_of_a_missing_file_is_zero(tmp_path):
    assert mtime_ns(tmp_path / "none.json") == 0
    assert mtime_ns(checkpoint(tmp_path, "a").with_suffix(".json")) > 0
