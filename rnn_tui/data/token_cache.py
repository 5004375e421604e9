"""A corpus file's token ids, cached on disk and memory-mapped (d2l's `load_corpus_time_machine`
for corpora too big to hold as Python lists).

`load_token_array` gives a corpus file's Vocab and `vocab[tokens]` as a compact numpy array
(uint8 when the vocabulary has at most 256 entries, else uint16 or uint32). The array is kept in
the cache directory — $RNN_TUI_CACHE, else $XDG_CACHE_HOME/rnn-tui, else ~/.cache/rnn-tui —
under a key made of the file's BLAKE2b digest and the options (token level, cleaning mode,
min_freq, encoding), as `<key>.npy` (the ids) and `<key>.json` (header, the ids' SHA-256 and
the vocabulary, then the SHA-256 of all the JSON before it), each written to a temporary file
and renamed into place. A later load memory-maps the .npy file (np.load(mmap_mode="r")) after
checking the JSON's digest (a token or count changed in place is another vocabulary: the same
ids would mean other words), the header, dtype, length, largest id and the ids' digest (an id
changed within the vocabulary is other text); anything
amiss, or any failure to read or write the cache, means the corpus is tokenized again and
never an error (a failure to write is one line to the caller's `cache_problem`). Bundled
corpora are small and not cached. The cache keeps at most CACHE_BUDGET_BYTES (4 GiB): saving an
array removes the least recently used others beyond it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn_tui import json_pieces
from rnn_tui.atomic import atomic_write
from rnn_tui.data.errors import DataError, nothing_left
from rnn_tui.data.hashed_words import all_distinct
from rnn_tui.data.packed_tokens import PackedTokens
from rnn_tui.data.sources import (
    BUNDLED_CORPORA,
    read_corpus_bytes,
    read_text_pieces,
    rereader,
    text_of_bytes,
)
from rnn_tui.data.token_array import (
    Progress,
    TokenScan,
    check_options,
    compact_dtype,
    scan_text,
)
from rnn_tui.data.vocab import Vocab
from rnn_tui.files import expanded, home

CACHE_ENV = "RNN_TUI_CACHE"
MAGIC = "rnn-tui token array"
VERSION = 3  # 2: the header holds the ids' digest; 3: corpora are read composed (NFC)
JSON_PIECE = 1 << 16  # list items written to the cache's JSON at a time
# The most the cache keeps: a 100 MB corpus takes 70-200 MB a set of options, so about twenty
# of them; the least recently used go first. Leftovers of a killed writer go after an hour.
CACHE_BUDGET_BYTES = 4 << 30
STALE_TMP_S = 3600.0
# A cached vocabulary's JSON is read whole: 11M distinct words take about 200 MB.
MAX_JSON_BYTES = 1 << 30
_ENTRY = re.compile(r"[0-9a-f]{40}\.(npy|json)")
# The JSON's last member: the SHA-256 of every byte before it.
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # what JSON escapes when ensure_ascii is off
# Among packed tokens' bytes, whose NULs end the tokens (no token holds one), those JSON
# escapes as \u00XX: left to json.dumps.
_JSON_CONTROL_BYTES = re.compile(rb"[\x01-\x1f]")
_JSON_DIGEST = re.compile(rb', "json_sha256": "([0-9a-f]{64})"\}\Z')


def cache_dir() -> Path:
    """$RNN_TUI_CACHE, else $XDG_CACHE_HOME/rnn-tui, else ~/.cache/rnn-tui."""
    explicit = os.environ.get(CACHE_ENV, "").strip()
    if explicit:
        return expanded(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg:
        return expanded(xdg) / "rnn-tui"
    user_home = home()
    if user_home is None:  # no $HOME and no passwd entry: a per-user folder in the temp dir
        return Path(tempfile.gettempdir()) / f"rnn-tui-cache-{getattr(os, 'getuid', str)()}"
    return user_home / ".cache" / "rnn-tui"


def cache_key(digest: str, token: str, mode: str, min_freq: int, encoding: str) -> str:
    """The name a file's token array is cached under: its content digest and the options."""
    fields = [VERSION, digest, token, mode, int(min_freq), encoding.lower()]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:40]


@dataclass(eq=False)
class TokenArray:
    """A corpus as d2l's (corpus, vocab): `ids` is `vocab[tokens]`, possibly a read-only
    memory map of the cached file."""

    vocab: Vocab
    ids: np.ndarray
    num_lines: int
    # The counted tokens in first-seen order and their counts (what the Vocab is built from).
    tokens: Sequence[str]  # a list, or a TokenList
    counts: Sequence[int]  # a list, or an int64 array

    @property
    def num_tokens(self) -> int:
        return len(self.ids)

    def counts_as_read(self, stop: int | None = None) -> np.ndarray:
        """`vocab.counts_by_index(stop)`, but `<unk>`'s count is the tokens read as it (the
        rare ones min_freq drops): d2l's token_freqs gives it 0, and a table of the vocabulary
        showed "<unk> 0" beside the thousands of words it stands for."""
        counts = self.vocab.counts_by_index(stop)
        if len(counts):
            counts[0] = int(np.count_nonzero(self.ids == 0))
        return counts


def ids_digest(ids: np.ndarray) -> str:
    """SHA-256 of the ids' bytes (about 0.08 s for 100 MB here; reading them costs more)."""
    return hashlib.sha256(memoryview(np.ascontiguousarray(ids)).cast("B")).hexdigest()


def save_cached(
    key: str,
    array: TokenArray,
    directory: Path | None = None,
    problem: Callable[[str], None] | None = None,
) -> bool:
    """Store `array` under `key`; False (and nothing raised) when the cache cannot be written:
    a read-only or full disk only means the next load tokenizes again, said to `problem` (one
    line) so that a cache that is never written is not silently paid for on every run."""
    parts = CachedParts(
        array.ids, array.num_lines, array.vocab.min_freq, array.tokens, array.counts
    )
    return save_parts(key, parts, directory, problem)


@dataclass(frozen=True)
class CachedParts:
    """What the cache keeps of a TokenArray: the Vocab is rebuilt from the first-seen tokens
    (a list, a TokenList or PackedTokens) and their counts, so it need not be held."""

    ids: np.ndarray  # vocabulary ids
    num_lines: int
    min_freq: int
    tokens: Sequence[str]
    counts: Sequence[int]


def save_parts(
    key: str,
    parts: CachedParts,
    directory: Path | None = None,
    problem: Callable[[str], None] | None = None,
) -> bool:
    """`save_cached` of the parts the cache keeps."""
    directory = cache_dir() if directory is None else directory
    header = {
        "magic": MAGIC,
        "version": VERSION,
        "key": key,
        "dtype": np.dtype(parts.ids.dtype).str,
        "length": int(len(parts.ids)),
        "num_lines": int(parts.num_lines),
        "min_freq": int(parts.min_freq),
    }
    # Then "tokens" and "counts": the counts in first-seen order rebuild the Vocab
    # (`Vocab.from_counts`); far quicker to write and read than `Vocab.to_dict` for a
    # vocabulary of a million words.
    lists = {"tokens": parts.tokens, "counts": parts.counts}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        ids = np.ascontiguousarray(parts.ids)
        header["ids_sha256"] = ids_digest(ids)
        for path in (directory / f"{key}.npy", directory / f"{key}.json"):
            _clear_directory_entry(path)
        atomic_write(directory / f"{key}.npy", lambda h: np.save(h, ids, allow_pickle=False))
        atomic_write(directory / f"{key}.json", lambda h: _write_json(h, header, lists))
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        if problem is not None:
            problem(_cache_problem(directory, exc))
        return False
    prune(directory, keep=key)
    return True


def _clear_directory_entry(path: Path) -> None:
    """An empty directory where an entry's file goes (left by hand or by a tool) is removed, so
    the entry is written again; a non-empty one is left alone (not ours to delete), and the
    write's error says what is in the way."""
    if path.is_dir() and not path.is_symlink():
        with contextlib.suppress(OSError):
            path.rmdir()


def _cache_problem(directory: Path, exc: BaseException) -> str:
    """One line: the cache is not used, and why (each run then tokenizes the corpus again)."""
    if directory.exists() and not directory.is_dir():
        why = f"{directory} is not a folder"
    elif isinstance(exc, OSError) and exc.strerror:
        # A rename's error names its temporary source first: the destination is what matters.
        where = exc.filename2 or exc.filename or directory
        why = f"{where}: {exc.strerror}"
    else:
        why = str(exc) or type(exc).__name__
    return (
        f"warning: token cache not used ({why}): the corpus is tokenized again on every run; "
        f"set {CACHE_ENV} to a writable folder"
    )


def prune(directory: Path, keep: str = "", budget: int | None = None) -> None:
    """Remove the least recently used cached arrays until the cache holds at most `budget`
    bytes (CACHE_BUDGET_BYTES), never `keep`'s; and temporary files a killed writer left over
    an hour ago. Failures are ignored: the cache is only ever a shortcut."""
    budget = CACHE_BUDGET_BYTES if budget is None else budget
    entries: dict[str, list] = {}  # key -> [last use, bytes, paths]
    now = time.time()
    try:
        with os.scandir(directory) as scan:
            for item in scan:
                info = item.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode):
                    continue
                if item.name.startswith(".") and item.name.endswith(".tmp"):
                    if now - info.st_mtime > STALE_TMP_S:
                        with contextlib.suppress(OSError):
                            os.unlink(item.path)
                    continue
                if not _ENTRY.fullmatch(item.name):
                    continue
                entry = entries.setdefault(item.name[:40], [0.0, 0, []])
                entry[0] = max(entry[0], info.st_mtime)
                entry[1] += info.st_size
                entry[2].append(item.path)
    except OSError:
        return
    total = sum(size for _, size, _ in entries.values())
    for name, (_, size, paths) in sorted(entries.items(), key=lambda kv: kv[1][0]):
        if total <= budget:
            break
        if name == keep:
            continue
        for path in paths:
            with contextlib.suppress(OSError):
                os.unlink(path)
        total -= size


def _regular_size(path: Path) -> int:
    """The size of `path` if it is a regular file (a FIFO put in its place would block a read
    for ever); OSError otherwise."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"{path} is not a regular file")
    return info.st_size


def _write_json(handle, header: dict, lists: dict[str, Sequence]) -> None:
    """`header` with `lists` added, as one JSON object, written a piece of each list at a time:
    the text of 11M distinct words at once took 450 MB beside them (a list, a str, its bytes)."""
    digest = hashlib.sha256()

    def write(data: bytes) -> None:
        digest.update(data)
        handle.write(data)

    write(json.dumps(header, ensure_ascii=False)[:-1].encode("utf-8"))
    for name, items in lists.items():
        write(f", {json.dumps(name)}: [".encode())
        for start in range(0, len(items), JSON_PIECE):
            write((", " if start else "").encode())
            if isinstance(items, PackedTokens):
                write(_packed_json_items(items, start, min(start + JSON_PIECE, len(items))))
                continue
            part = items[start : start + JSON_PIECE]
            values = part.tolist() if hasattr(part, "tolist") else list(part)
            write(_json_items(values).encode("utf-8"))
        write(b"]")
    handle.write(f', "json_sha256": "{digest.hexdigest()}"}}'.encode())


def _json_items(values: list) -> str:
    """`json.dumps(values, ensure_ascii=False)` without its brackets. Strings that need no
    escape are joined as they are: the same text, in a third of the time (11M words: 1.0 s)."""
    try:
        joined = "".join(values)
    except TypeError:  # not all strings: the counts
        joined = None
    if joined is not None and values and _JSON_ESCAPED.search(joined) is None:
        return '"' + '", "'.join(values) + '"'
    return json.dumps(values, ensure_ascii=False)[1:-1]


def _packed_json_items(tokens: PackedTokens, start: int, stop: int) -> bytes:
    """`_json_items(tokens[start:stop])` in UTF-8, from the packed bytes themselves where no
    token needs an escape and the bytes are UTF-8 (a lone surrogate is packed, and is refused
    by the encoder as before): no str object made per token."""
    data = tokens.utf8(start, stop)[:-1]  # the tokens, a NUL between each two
    if _JSON_CONTROL_BYTES.search(data) is None:
        # Quotes and backslashes get a backslash before each, as json.dumps gives them (raw
        # words of punctuation: 17.6M tokens took 4 s through json.dumps).
        data = data.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        try:
            if not data.isascii():
                data.decode("utf-8")  # a lone surrogate's bytes raise
        except UnicodeDecodeError:
            pass
        else:
            return b'"' + data.replace(b"\0", b'", "') + b'"'
    return _json_items(tokens.strings(start, stop)).encode("utf-8")


def _checked_json(raw: bytes) -> dict | None:
    """The cache's JSON, or None unless its last member is the SHA-256 of the bytes before it
    (the ids' digest cannot see a vocabulary changed in place)."""
    end = _JSON_DIGEST.search(raw, max(0, len(raw) - 100))
    if end is None or hashlib.sha256(raw[: end.start()]).hexdigest() != end[1].decode():
        return None
    return json_pieces.loads(raw.decode("utf-8"))


def load_cached(key: str, directory: Path | None = None) -> TokenArray | None:
    """The array cached under `key`, memory-mapped, or None if it is missing or fails a check
    (the JSON's digest, header, dtype, length, an id outside the vocabulary, the ids' digest)."""
    directory = cache_dir() if directory is None else directory
    try:
        json_path, npy_path = directory / f"{key}.json", directory / f"{key}.npy"
        if _regular_size(json_path) > MAX_JSON_BYTES:
            return None
        _regular_size(npy_path)
        header = _checked_json(json_path.read_bytes())
        if not isinstance(header, dict) or header.get("magic") != MAGIC:
            return None
        if header.get("version") != VERSION or header.get("key") != key:
            return None
        tokens, counts = header["tokens"], header["counts"]
        if not isinstance(tokens, list) or not isinstance(counts, list):
            return None
        if len(tokens) != len(counts) or not all(isinstance(t, str) for t in tokens):
            return None
        if not all_distinct(tokens):
            return None
        if not all(type(c) is int and c > 0 for c in counts):
            return None
        vocab = Vocab.from_token_counts(tokens, counts, int(header["min_freq"]))
        length, num_lines = int(header["length"]), int(header["num_lines"])
        ids = np.load(npy_path, mmap_mode="r", allow_pickle=False)
        if ids.ndim != 1 or len(ids) != length or length < 1:
            return None
        if ids.dtype != np.dtype(header["dtype"]) or ids.dtype != compact_dtype(len(vocab)):
            return None
        if int(ids.max()) >= len(vocab) or num_lines < 1:
            return None
        if header.get("ids_sha256") != ids_digest(ids):
            return None
    except (
        OSError,
        ValueError,
        TypeError,
        KeyError,
        DataError,
        UnicodeError,
        MemoryError,
        EOFError,  # np.load of an empty .npy
        OverflowError,  # a length of 1e400
        RecursionError,  # a JSON nested 100,000 deep
    ):
        return None
    with contextlib.suppress(OSError):
        os.utime(json_path)  # used now: the last to be pruned
    return TokenArray(vocab, ids, num_lines, tokens, counts)


def build_token_array(scan: TokenScan, min_freq: int, source: str) -> TokenArray:
    """The Vocab and `vocab[tokens]` of a scanned stream, with `load_corpus`'s checks (nothing
    left after cleaning; min_freq dropping every token)."""
    if not scan.num_tokens:
        raise nothing_left(source, scan.mode)
    order = scan.count_order()  # one sort for both (seconds for millions of distinct words)
    vocab = scan.vocab(min_freq, order)
    vocab.check_not_empty(BUNDLED_CORPORA.get(source, source))
    table = scan.id_table(vocab, order)
    del order  # 8 bytes a distinct token: gone before the ids take theirs
    ids = scan.vocab_ids(vocab, table=table)
    return TokenArray(vocab, ids, scan.num_lines, scan.tokens, scan.counts)


def load_token_array(
    source: str,
    token: str = "word",
    mode: str = "clean",
    min_freq: int = 0,
    encoding: str = "utf-8",
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    use_cache: bool = True,
    chunk_chars: int | None = None,
    cache_problem: Callable[[str], None] | None = None,
) -> TokenArray:
    """A corpus as (vocab, compact ids), from the cache when the file's digest and the options
    match, else tokenized (`scan_text`) and cached. Bad input raises DataError as
    `load_corpus` does; the cache never does: a cache that cannot be written is one line to
    `cache_problem`."""
    check_options(token, mode, min_freq)
    raw = read_corpus_bytes(source, encoding, cancelled=cancelled)
    if raw is None:  # a bundled corpus: small, not cached
        text, key, again = read_text_pieces(source, encoding, cancelled=cancelled)[0], None, None
    else:
        # The key is the bytes' digest and every option the ids depend on: a hit needs no
        # decoding (100 MB of text held beside the cached vocabulary while it was read).
        key = cache_key(raw[1], token, mode, min_freq, encoding)
        cached = load_cached(key) if use_cache else None
        if cached is not None:
            return cached
        text = text_of_bytes(raw[0], source, encoding)
        again = rereader(source, encoding, raw[1], cancelled)
        del raw
    scan = scan_text(
        text, token, mode, chunk_chars, progress, cancelled, label=source, reread=again
    )
    del text
    array = build_token_array(scan, min_freq, source)
    if key is not None and use_cache:
        save_cached(key, array, problem=cache_problem)
    return array


__all__ = [
    "CACHE_ENV",
    "CachedParts",
    "TokenArray",
    "build_token_array",
    "cache_dir",
    "cache_key",
    "load_cached",
    "load_token_array",
    "prune",
    "save_cached",
    "save_parts",
]
