"""corpus_stats: the JSON `rnn-tui stats --json` prints, with the Time Machine figures."""

import json
import platform
import subprocess
import sys

import pytest

from rnn_tui.data.errors import DataError
from rnn_tui.data.stats import corpus_stats


def test_time_machine_word_stats():
    stats = corpus_stats("timemachine", token="word", top=10)
    assert json.loads(json.dumps(stats)) == stats
    assert {k: stats[k] for k in ("source", "token", "mode", "min_freq")} == {
        "source": "timemachine",
        "token": "word",
        "mode": "clean",
        "min_freq": 0,
    }
    assert (stats["num_lines"], stats["num_tokens"], stats["vocab_size"]) == (3221, 32775, 4580)
    assert [t[0] for t in stats["top_tokens"]] == [
        "<unk>", "the", "i", "and", "of", "a", "to", "was", "in", "that",
    ]  # fmt: skip
    assert [t[1] for t in stats["top_tokens"]] == list(range(10))
    assert stats["top_tokens"][0][2] == 0
    assert stats["top_tokens"][1] == ["the", 1, 2261]
    assert set(stats["top_ngrams"]) == {"1", "2", "3"}
    assert stats["top_ngrams"]["1"][0] == [["the"], 2261]
    assert stats["top_ngrams"]["2"][0] == [["of", "the"], 309]
    assert stats["top_ngrams"]["3"][0] == [["the", "time", "traveller"], 59]
    assert all(len(stats["top_ngrams"][n]) == 10 for n in "123")


def test_time_machine_char_stats():
    stats = corpus_stats("timemachine", token="char", top=3)
    assert (stats["num_lines"], stats["num_tokens"], stats["vocab_size"]) == (3221, 170580, 28)
    assert len(stats["top_tokens"]) == 3


def test_min_freq_shrinks_the_vocab():
    stats = corpus_stats("timemachine", min_freq=5, top=0)
    assert stats["min_freq"] == 5
    assert stats["vocab_size"] < 4580
    assert stats["top_tokens"] == [] and stats["top_ngrams"]["2"] == []


def test_errors_pass_through(tmp_path):
    with pytest.raises(DataError, match="not found"):
        corpus_stats(str(tmp_path / "missing.txt"))
    with pytest.raises(DataError, match="top"):
        corpus_stats(top=-1)


def test_a_megabyte_is_counted_whole(tmp_path):
    """Its speed is benchmarks/bench_scale.py's to measure (a stopwatch here reads the load)."""
    from rnn_tui.data.sources import read_text

    path = tmp_path / "big.txt"
    path.write_text(read_text("timemachine") * 6)  # ≈ 1.07 MB
    assert path.stat().st_size > 1_000_000
    stats = corpus_stats(str(path), token="char")
    assert stats["num_tokens"] == 6 * 170580
    assert stats["top_ngrams"]["3"][0][1] == 6 * 3629


# Run in a child (the allocator setting is process-wide): after a 30 MiB block is freed, glibc
# by default serves the next 20 MiB block from its heap, which keeps what is freed there; with
# `map_big_blocks` it gets a memory map of its own (mallinfo2's hblkhd counts those bytes).
_BIG_BLOCKS = """
import ctypes, sys
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = Info
if sys.argv[1] == "set":
    from rnn_tui.cli.stats import map_big_blocks
    assert map_big_blocks()
libc.free(libc.malloc(30 << 20))
before = libc.mallinfo2().hblkhd
block = libc.malloc(20 << 20)
print(libc.mallinfo2().hblkhd - before >= 20 << 20)
"""


@pytest.mark.skipif(
    tuple(map(int, (platform.libc_ver()[1] or "0.0").split(".")[:2])) < (2, 33)
    or platform.libc_ver()[0] != "glibc",
    reason="needs glibc 2.33+ (mallinfo2)",
)
def test_stats_gives_big_blocks_their_own_memory_maps():
    # What a 100 MB corpus of distinct words peaked ~120 MiB lower for (benchmarks/README.md).
    def mapped(mode: str) -> str:
        command = [sys.executable, "-c", _BIG_BLOCKS, mode]
        out = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert (mapped("default"), mapped("set")) == ("False", "True")


def test_ngrams_are_counted_without_a_string_object_per_distinct_word(tmp_path, monkeypatch):
    """6.6M distinct words held as str objects (~60 bytes each) while the n-gram counters took
    theirs put `stats` on 100 MB over 1.5 GB; packed, they cost about a byte a character."""
    import itertools
    import tracemalloc

    from rnn_tui.data import ngram_counts

    letters = "abcdefghij"
    words = ["".join(w) for w in itertools.islice(itertools.product(letters, repeat=6), 150_000)]
    path = tmp_path / "distinct.txt"
    path.write_text("\n".join(" ".join(words[i : i + 9]) for i in range(0, len(words), 9)))
    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))
    held = []
    count = ngram_counts.top_ngrams_of_ids

    def measured(*args, **kwargs):
        held.append(tracemalloc.get_traced_memory()[0])
        return count(*args, **kwargs)

    monkeypatch.setattr(ngram_counts, "top_ngrams_of_ids", measured)
    tracemalloc.start()
    try:
        stats = corpus_stats(str(path), top=3)
    finally:
        tracemalloc.stop()
    assert stats["vocab_size"] == 150_001  # and <unk>
    assert stats["top_ngrams"]["2"][0] == [["aaaaaa", "aaaaab"], 1]
    # Ids (4 bytes), counts (8), the packed words (7 + 8): ~27 bytes a word; as str ~90.
    assert held[0] / 150_000 < 45
