"""The on-disk token cache: where it lives, what it keys on, memory-mapped reads, and that a
corrupt, foreign or unwritable cache only ever means tokenizing again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.data import token_cache
from rnn_tui.data.corpus import load_corpus
from rnn_tui.data.packed_tokens import PackedTokens, packed
from rnn_tui.data.sources import read_text
from rnn_tui.data.stats import corpus_stats
from rnn_tui.data.token_cache import (
    CACHE_ENV,
    cache_dir,
    cache_key,
    load_cached,
    load_token_array,
)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(directory))
    return directory


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "tm.txt"
    path.write_text(read_text("timemachine")[:30_000], encoding="utf-8")
    return path


def test_the_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv(CACHE_ENV)
    assert cache_dir() == tmp_path / "xdg" / "rnn-tui"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "rnn-tui"


def test_keys_differ_by_content_and_every_option():
    base = ("d1", "word", "clean", 0, "utf-8")
    keys = {cache_key(*base)}
    for i, other in enumerate(("d2", "char", "raw", 2, "latin-1")):
        changed = list(base)
        changed[i] = other
        keys.add(cache_key(*changed))
    assert len(keys) == 6


@pytest.mark.parametrize("token", ["word", "char"])
def test_a_file_is_cached_then_memory_mapped(cache, corpus, token):
    reference = load_corpus(str(corpus), token=token, min_freq=2)
    first = load_token_array(str(corpus), token=token, min_freq=2)
    assert not isinstance(first.ids, np.memmap)
    assert sorted(p.suffix for p in cache.iterdir()) == [".json", ".npy"]  # no temp files
    second = load_token_array(str(corpus), token=token, min_freq=2)
    assert isinstance(second.ids, np.memmap) and not second.ids.flags.writeable
    for loaded in (first, second):
        assert loaded.vocab == reference.vocab
        assert loaded.ids.tolist() == reference.ids
        assert loaded.num_lines == reference.num_lines
        assert loaded.ids.dtype == (np.uint8 if token == "char" else np.uint16)
    # Another min_freq is another entry; a changed file is another key, never stale data.
    load_token_array(str(corpus), token=token, min_freq=0)
    assert len(list(cache.glob("*.npy"))) == 2
    corpus.write_text("a whole new text\n", encoding="utf-8")
    assert load_token_array(str(corpus), token=token).num_tokens == len(
        load_corpus(str(corpus), token=token).ids
    )


def test_a_cache_hit_does_not_decode_the_file(cache, corpus, monkeypatch):
    """The key is the bytes' digest and the options: decoding 100 MB for a hit cost time and
    held the text beside the cached vocabulary."""
    from rnn_tui.data import sources

    first = load_token_array(str(corpus), min_freq=2)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded for a cache hit")

    monkeypatch.setattr(sources, "decode_pieces", no_decoding)
    second = load_token_array(str(corpus), min_freq=2)
    assert isinstance(second.ids, np.memmap)
    assert second.vocab == first.vocab and second.ids.tolist() == first.ids.tolist()
    with pytest.raises(AssertionError, match="decoded"):  # any other option is a miss
        load_token_array(str(corpus), min_freq=2, mode="raw")


def test_bundled_corpora_are_not_cached(cache):
    assert load_token_array("timemachine").num_tokens == 32775
    assert not cache.exists()


def _entry(cache: Path) -> tuple[Path, Path]:
    (npy,) = cache.glob("*.npy")
    return npy, npy.with_suffix(".json")


def _rewrite_header(path: Path, **changes) -> None:
    """The JSON with `changes`, its digest made again: only the check under test can catch it."""
    header = json.loads(path.read_text())
    header.pop("json_sha256", None)
    header.update(changes)
    body = json.dumps(header)[:-1].encode()
    digest = hashlib.sha256(body).hexdigest()
    path.write_bytes(body + f', "json_sha256": "{digest}"}}'.encode())


def _edit_json(path: Path, old: bytes, new: bytes) -> None:
    """Bytes of the JSON replaced in place, as a bad disk or a hand edit leaves them."""
    raw = path.read_bytes()
    assert old in raw
    path.write_bytes(raw.replace(old, new, 1))


def _change_one_id(npy: Path) -> None:
    ids = np.load(npy)
    ids[3] = 1 if ids[3] == 0 else 0
    np.save(npy, ids)


CORRUPTIONS = {
    "truncated ids": lambda npy, meta: npy.write_bytes(npy.read_bytes()[:100]),
    "ids not an npy file": lambda npy, meta: npy.write_bytes(b"garbage" * 50),
    "ids missing": lambda npy, meta: npy.unlink(),
    "ids empty": lambda npy, meta: npy.write_bytes(b""),  # EOFError: a traceback, exit 1
    "length infinite": lambda npy, meta: meta.write_text(
        meta.read_text().replace('"length": ', '"length": 1e400, "was": ', 1)
    ),
    "header nested deep": lambda npy, meta: meta.write_text("[" * 100_000),
    "header not json": lambda npy, meta: meta.write_bytes(b"{not json"),
    "header a list": lambda npy, meta: meta.write_text("[1, 2]"),
    "wrong magic": lambda npy, meta: _rewrite_header(meta, magic="something else"),
    "wrong version": lambda npy, meta: _rewrite_header(meta, version=99),
    "wrong length": lambda npy, meta: _rewrite_header(meta, length=5),
    "wrong dtype": lambda npy, meta: _rewrite_header(meta, dtype="<u4"),
    "no vocabulary": lambda npy, meta: _rewrite_header(meta, tokens=None),
    "counts not matching": lambda npy, meta: _rewrite_header(meta, counts=[1]),
    "tokens repeated": lambda npy, meta: _rewrite_header(
        meta, tokens=["a"] * len(json.loads(meta.read_text())["tokens"])
    ),
    "one token repeated": lambda npy, meta: _rewrite_header(
        meta, tokens=(lambda t: [*t[:-1], t[0]])(json.loads(meta.read_text())["tokens"])
    ),
    "counts not whole": lambda npy, meta: _rewrite_header(
        meta, counts=[0.5] * len(json.loads(meta.read_text())["counts"])
    ),
    "id out of range": lambda npy, meta: np.save(npy, np.load(npy) + 200),
    "wide ids": lambda npy, meta: np.save(npy, np.load(npy).astype(np.int64)),
    # Every id still in the vocabulary, but not the corpus's: trained on, it is other text.
    "ids changed in range": lambda npy, meta: np.save(npy, np.load(npy)[::-1].copy()),
    "one id changed in range": lambda npy, meta: _change_one_id(npy),
    "no digest": lambda npy, meta: _rewrite_header(meta, ids_sha256=None),
    # The ids unchanged, but the vocabulary read back would give them other meanings.
    "a token's letter changed": lambda npy, meta: _edit_json(meta, b'"e"', b'"Q"'),
    "a count changed": lambda npy, meta: _edit_json(meta, b'"counts": [', b'"counts": [9'),
    "lines changed": lambda npy, meta: _edit_json(meta, b'"num_lines": ', b'"num_lines": 9'),
    "no json digest": lambda npy, meta: meta.write_text(
        json.dumps({k: v for k, v in json.loads(meta.read_text()).items() if k != "json_sha256"})
    ),
}


@pytest.mark.parametrize("damage", sorted(CORRUPTIONS))
def test_a_damaged_cache_is_rebuilt_not_trusted(cache, corpus, damage):
    reference = load_corpus(str(corpus), token="char")
    load_token_array(str(corpus), token="char")
    npy, meta = _entry(cache)
    key = npy.stem
    CORRUPTIONS[damage](npy, meta)
    assert load_cached(key) is None
    again = load_token_array(str(corpus), token="char")
    assert again.ids.tolist() == reference.ids and again.vocab == reference.vocab
    assert load_cached(key) is not None  # rewritten whole


def test_an_unwritable_cache_never_fails_stats_or_loading(tmp_path, monkeypatch, corpus):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    stats = corpus_stats(str(corpus), token="word")
    assert stats["num_tokens"] == len(load_corpus(str(corpus)).ids)
    assert load_token_array(str(corpus)).num_tokens == stats["num_tokens"]

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "full"))
    monkeypatch.setattr(token_cache.np, "save", full_disk)
    assert load_token_array(str(corpus)).num_tokens == stats["num_tokens"]
    assert [p.name for p in (tmp_path / "full").iterdir()] == []  # the temp file is gone


def test_stats_write_the_cache_training_reads(cache, corpus):
    corpus_stats(str(corpus), token="char", mode="raw")
    assert len(list(cache.glob("*.npy"))) == 1
    loaded = load_token_array(str(corpus), token="char", mode="raw")
    assert isinstance(loaded.ids, np.memmap)


@pytest.mark.parametrize("piece", [1, 2, 1 << 16])
def test_the_vocabulary_is_written_a_piece_at_a_time_as_one_json_object(
    cache, corpus, monkeypatch, piece
):
    # Written in pieces (11M distinct words at once took 450 MB beside them), read back whole:
    # tokens that JSON escapes, non-ASCII ones and counts cut anywhere.
    corpus.write_text('say "hi" \\ back\nnaïve café 東京 say\n', encoding="utf-8")
    monkeypatch.setattr(token_cache, "JSON_PIECE", piece)
    array = load_token_array(str(corpus), mode="raw")
    (written,) = cache.glob("*.json")
    header = json.loads(written.read_text(encoding="utf-8"))
    assert (
        header["tokens"]
        == list(array.tokens)
        == ["say", '"hi"', "\\", "back", "naïve", "café", "東京"]
    )
    assert header["counts"] == [2, 1, 1, 1, 1, 1, 1]
    assert header["magic"] == token_cache.MAGIC and header["length"] == 8
    cached = load_token_array(str(corpus), mode="raw")
    assert isinstance(cached.ids, np.memmap) and cached.vocab == array.vocab


PLAIN = st.lists(st.text(alphabet="ab é東\x7f\u2028", max_size=4), max_size=5)


@given(values=PLAIN, escaped=st.sampled_from('"\\\x00\x1f\n\t'), where=st.integers(0, 5))
def test_a_piece_of_a_list_is_written_as_jsons_own_text(values, escaped, where):
    # Plain strings are joined as they are; one that JSON escapes (any one such character, alone
    # among plain ones) takes json's own path; counts too.
    for items in (values, [*values[:where], f"a{escaped}", *values[where:]], [len(values), 7]):
        assert token_cache._json_items(items) == json.dumps(items, ensure_ascii=False)[1:-1]


TOKENS = st.lists(st.text(alphabet='ab é東"\\\x01\x1f\n\ud800', max_size=4), max_size=6)


@given(tokens=TOKENS, start=st.integers(0, 6), stop=st.integers(0, 6))
def test_packed_tokens_are_written_as_the_same_json(tokens, start, stop):
    # From the packed bytes where nothing needs an escape, else as before; a lone surrogate
    # fails alike (the cache is then not written).
    start, stop = min(start, len(tokens)), min(max(start, stop), len(tokens))
    if start == stop:
        return
    try:
        want = token_cache._json_items(tokens[start:stop]).encode("utf-8")
    except UnicodeEncodeError:
        want = None
    pack = packed(tokens)
    assert isinstance(pack, PackedTokens)
    try:
        got = token_cache._packed_json_items(pack, start, stop)
    except UnicodeEncodeError:
        got = None
    assert got == want


@pytest.mark.parametrize("mode", ["clean", "raw"])
def test_stats_write_the_very_files_loading_writes(tmp_path, monkeypatch, corpus, mode):
    # stats writes from packed tokens, beside its n-gram count; loading from the Vocab's own.
    corpus.write_text('say "hi" \\ back\nnaïve café 東京 say\n' * 50, encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "stats"))
    corpus_stats(str(corpus), mode=mode)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "load"))
    load_token_array(str(corpus), mode=mode)
    written = {p.name: p.read_bytes() for p in (tmp_path / "stats").iterdir()}
    assert written == {p.name: p.read_bytes() for p in (tmp_path / "load").iterdir()}
    assert len(written) == 2


def _load_new(cache: Path, path: Path) -> str:
    """Load `path` (not cached before) and return the key it was cached under."""
    before = {p.stem for p in cache.glob("*.npy")}
    load_token_array(str(path))
    (key,) = {p.stem for p in cache.glob("*.npy")} - before
    return key


def test_the_cache_keeps_to_its_budget_least_recently_used_first(cache, tmp_path, monkeypatch):
    # Every corpus and set of options left 70-200 MB in ~/.cache for good, with no limit.
    import os

    keys = {}
    for name in ("a", "b", "c", "d"):
        (tmp_path / f"{name}.txt").write_text(f"{name} " * 3000 + "the end\n", encoding="utf-8")
    for name in ("a", "b", "c"):
        keys[name] = _load_new(cache, tmp_path / f"{name}.txt")
    entry = sum(p.stat().st_size for p in cache.glob(keys["a"] + ".*"))
    for age, name in enumerate(("a", "b", "c")):  # a oldest, then b, then c
        for path in cache.glob(keys[name] + ".*"):
            os.utime(path, (1e9 + age, 1e9 + age))
    assert load_cached(keys["a"]) is not None  # a used now: b is the least recently used
    monkeypatch.setattr(token_cache, "CACHE_BUDGET_BYTES", 3 * entry)
    stale = cache / f".{keys['a']}.npy.x1.tmp"  # a killed writer's leftover
    stale.write_bytes(b"0" * 100)
    os.utime(stale, (1e9, 1e9))
    fresh = cache / f".{keys['a']}.npy.x2.tmp"  # a writer at work
    fresh.write_bytes(b"0" * 100)
    (cache / "notes.txt").write_text("mine")
    keys["d"] = _load_new(cache, tmp_path / "d.txt")  # the fourth: one has to go
    left = {p.name for p in cache.iterdir()}
    assert not any(name.startswith(keys["b"]) for name in left)
    for name in ("a", "c", "d"):
        assert {f"{keys[name]}.npy", f"{keys[name]}.json"} <= left, name
    assert stale.name not in left and fresh.name in left and "notes.txt" in left


def test_the_array_just_written_is_kept_even_over_the_budget(cache, corpus, monkeypatch):
    monkeypatch.setattr(token_cache, "CACHE_BUDGET_BYTES", 10)
    load_token_array(str(corpus))
    assert len(list(cache.glob("*.npy"))) == 1 and len(list(cache.glob("*.json"))) == 1


def test_a_cache_entry_that_is_not_a_regular_file_is_not_read(cache, corpus):
    # A FIFO where the vocabulary's JSON belongs blocked the read for ever.
    import os
    import threading

    load_token_array(str(corpus))
    npy, meta = _entry(cache)
    meta.unlink()
    os.mkfifo(meta)
    result = []
    reader = threading.Thread(target=lambda: result.append(load_cached(npy.stem)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    blocked = reader.is_alive()
    if blocked:  # release the blocked reader before failing
        with open(meta, "wb"):
            pass
    assert not blocked and result == [None]


def test_the_count_order_is_let_go_before_the_ids_are_built(monkeypatch):
    """8 bytes a distinct token (93 MB for 11.6M words) held at the build's peak."""
    import weakref

    from rnn_tui.data.token_array import TokenScan, scan_text
    from rnn_tui.data.token_cache import build_token_array

    scan = scan_text("b a b c\na d\n")
    orders, alive = [], []
    count_order, vocab_ids = TokenScan.count_order, TokenScan.vocab_ids

    def remembered(self):
        order = count_order(self)
        orders.append(weakref.ref(order))
        return order

    def checked(self, *args, **kwargs):
        alive.append(orders[0]() is not None)
        return vocab_ids(self, *args, **kwargs)

    monkeypatch.setattr(TokenScan, "count_order", remembered)
    monkeypatch.setattr(TokenScan, "vocab_ids", checked)
    array = build_token_array(scan, 0, "text")
    assert alive == [False]
    assert array.vocab.idx_to_token == ["<unk>", "b", "a", "c", "d"]
    assert array.ids.tolist() == [1, 2, 1, 3, 2, 4]
