"""A checkpoint on disk, committed in one step: a kill at any moment leaves the old checkpoint or
the new one, never neither.

A checkpoint NAME in a folder is NAME.json, which names its tensor file and holds that file's
sha256. Saving writes the tensors under a fresh name (NAME.<sha256[:12]>.safetensors), then
replaces NAME.json — one atomic rename, the commit — and only then removes the tensor files the
JSON no longer names. Until the rename, NAME.json still names the old tensor file, which is still
there; after it, the new one, which is complete. (Writing NAME.safetensors in place and the JSON
after it, as rnn-tui once did, left a torn pair behind a kill between the two renames.)

Reading goes the same way round: NAME.json first (capped, validated), then the tensor file it
names — its size compared with the recorded one before a byte of it is read — checked against
the recorded sha256. A reader that loses a race with a save (the tensor file it was told about
has just been replaced) reads NAME.json again.

Checkpoints written before (NAME.safetensors beside NAME.json naming it) and the shipped ones
read the same way, since their JSON names their tensor file too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path

from rnn_tui import json_pieces
from rnn_tui.atomic import atomic_write_bytes, atomic_write_text
from rnn_tui.atomic import json_text as atomic_json_text
from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.memory import allocatable
from rnn_tui.checkpoints.pickles import file_head, is_refused, refusal
from rnn_tui.files import FileProblem, open_regular, read_bytes
from rnn_tui.quoting import json_reason, quoted

MAX_JSON_BYTES = 64 * 2**20  # a checkpoint's JSON as written: config, vocabularies, progress
# ... and as read: checkpoints written before 2026-12 kept every counted token with its count
# and a full history, 83 MiB for 3M distinct words; read, they resume and are saved compact.
MAX_JSON_READ_BYTES = 4 * MAX_JSON_BYTES
MAX_TENSOR_BYTES = 64 * 2**30  # far above any model this app trains; lowered to the memory free
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TENSOR_NAME = re.compile(r"[A-Za-z0-9._-]+\.safetensors")
_NAME_MAX = 255  # bytes in a file name; the name is ASCII, so characters too
_READ_ATTEMPTS = 3


def tensor_file_name(name: str, data: bytes) -> str:
    """NAME.<first 12 hex digits of the sha256>.safetensors: a fresh name per content."""
    return f"{name}.{hashlib.sha256(data).hexdigest()[:12]}.safetensors"


def _dumps(value: object) -> str:
    return atomic_json_text(value, ensure_ascii=False, separators=(",", ":"))  # NaN as null


def json_text(record: dict) -> str:
    """A checkpoint's JSON as written: one line (vocabularies of thousands of tokens made the
    indented form three times larger, 1.3 MB for the shipped translator, and nobody reads
    them by eye), its top-level values smallest first, so that a reader of the small ones
    (config, progress: `read_leading`) stops before the vocabularies."""
    items = sorted(((_dumps(k), _dumps(v)) for k, v in record.items()), key=lambda kv: len(kv[1]))
    return "{" + ",".join(f"{key}:{value}" for key, value in items) + "}"


def json_size(record: dict) -> int:
    """The bytes `record` takes in a checkpoint's JSON (UTF-8)."""
    text = json_text(record)
    return len(text) if text.isascii() else len(text.encode())


def write_pair(folder: Path, name: str, data: bytes, record: dict) -> Path:
    """Commit `data` (a safetensors file) and `record` (its JSON, to which tensors_file, sha256
    and size are added) as checkpoint `name` in `folder`; return the tensor file's path."""
    tensors_name = tensor_file_name(name, data)
    record = {
        **record,
        "tensors_file": tensors_name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    try:
        text = json_text(record) + "\n"
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"cannot save checkpoint {folder / name}: {exc}") from None
    size = len(text.encode())
    if size > MAX_JSON_BYTES:  # past what this writes: keep the checkpoint there is
        raise CheckpointError(
            f"cannot save checkpoint {folder / name}: its JSON would be {size / 2**20:.1f} MiB, "
            f"more than the {MAX_JSON_BYTES / 2**20:.0f} MiB a checkpoint may hold"
        )
    folder.mkdir(parents=True, exist_ok=True)
    tensors_path = folder / tensors_name
    if not tensors_path.is_file() or tensors_path.stat().st_size != len(data):
        atomic_write_bytes(tensors_path, data)
    atomic_write_text(folder / f"{name}.json", text)  # the commit
    remove_superseded(folder, name, keep=tensors_name)
    return tensors_path


def _tensor_files_of(folder: Path, name: str) -> list[Path]:
    """NAME.safetensors (the old layout) and every NAME.<hash>.safetensors in `folder`."""
    pattern = re.compile(re.escape(name) + r"(\.[0-9a-f]{12})?\.safetensors")
    try:
        return [p for p in folder.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return []


def remove_superseded(folder: Path, name: str, keep: str) -> None:
    """Remove checkpoint `name`'s tensor files other than `keep` (what NAME.json names)."""
    for path in _tensor_files_of(folder, name):
        if path.name != keep:
            try:
                path.unlink()
            except OSError:
                pass  # removed by someone else, or read-only: harmless leftovers


def clean_stale(folder: Path, names: tuple[str, ...]) -> list[str]:
    """Remove what interrupted saves left in `folder`: temporary files of atomic writes and
    tensor files no checkpoint's JSON names. Only for a folder nobody else writes (a resumed
    run holds its run directory's lock). Returns the names removed."""
    removed: list[str] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        if path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file():
            try:
                path.unlink()
                removed.append(path.name)
            except OSError:
                pass
    for name in names:
        meta = _quiet_meta(folder / f"{name}.json")
        keep = meta.get("tensors_file") if meta else None
        if isinstance(keep, str):
            before = {p.name for p in _tensor_files_of(folder, name)}
            remove_superseded(folder, name, keep)
            after = {p.name for p in _tensor_files_of(folder, name)}
            removed += sorted(before - after)
    return removed


LEADING_BYTES = 1 << 20  # where the small values of a checkpoint's JSON are (json_text)
_SPACE = re.compile(r"[ \t\n\r]*")


def read_leading(json_path: Path, needed: frozenset[str], skip: frozenset[str]) -> dict | None:
    """The top-level values of a checkpoint's JSON up to the first key in `skip` (the
    vocabularies, megabytes for a large one), once every key in `needed` has been read, from
    its first LEADING_BYTES: json_text writes the small values first. Parsing 60 MB of
    vocabulary holds the interpreter for ~0.3 s, which a screen listing checkpoints in a worker
    thread felt as a stall. None where that prefix does not hold them (a checkpoint written
    before, values in another order): the caller reads the whole JSON then. OSError for a
    file that cannot be read, as open_regular."""
    with open_regular(json_path) as f:
        head = f.read(LEADING_BYTES)
    if is_refused(head[:16]):
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return None  # not UTF-8 (read_meta says so): only a character cut at the end is
        text = head[: exc.start].decode("utf-8")
    decode = json.JSONDecoder().raw_decode
    out: dict = {}
    try:
        at = _SPACE.match(text, 0).end()
        if text[at] != "{":
            return None
        at = _SPACE.match(text, at + 1).end()
        while text[at] != "}":
            key, at = decode(text, at)
            at = _SPACE.match(text, at).end()
            if not isinstance(key, str) or text[at] != ":":
                return None
            at = _SPACE.match(text, at + 1).end()
            if key in skip and needed <= out.keys():
                return out
            out[key], at = decode(text, at)
            at = _SPACE.match(text, at).end()
            if text[at] == ",":
                at = _SPACE.match(text, at + 1).end()
            elif text[at] != "}":
                return None
    except (ValueError, IndexError, RecursionError):
        return None  # cut by the prefix's end, or not JSON: the caller reads it whole
    return out


def _quiet_meta(json_path: Path) -> dict | None:
    try:
        return read_meta(json_path)
    except CheckpointError:
        return None


def read_meta(json_path: Path) -> dict:
    """A checkpoint's JSON, checked to be one (capped, not a pickle, an object)."""
    try:
        # pipes=False: a checkpoint is a pair of files rnn-tui wrote, never a pipe to wait on.
        raw = read_bytes(
            json_path,
            limit=MAX_JSON_READ_BYTES,
            what="checkpoint JSON",
            limit_hint="",
            pipes=False,
        )
    except FileProblem as exc:
        raise CheckpointError(str(exc)) from None
    if is_refused(raw[:16]):
        raise refusal(json_path)
    try:
        # A piece at a time: a vocabulary of 1M words parsed in one call held the GIL 137 ms,
        # in the worker of a screen that loads the checkpoint.
        meta = json_pieces.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CheckpointError(
            f"incomplete checkpoint {json_path}: unreadable JSON ({json_reason(exc)})"
        ) from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"incomplete checkpoint {json_path}: not a JSON object")
    return meta


def check_identity(json_path: Path, meta: dict) -> None:
    """CheckpointError unless `meta` says it is a checkpoint's: every rnn-tui checkpoint's JSON
    records its tensor file's sha256. Without this, any JSON object read as a checkpoint whose
    tensors were "missing" or "changed", which sent the user looking for an interrupted save."""
    if "sha256" not in meta and "format_version" not in meta:
        raise CheckpointError(
            f"{json_path} is not an rnn-tui checkpoint (it has no format_version or sha256)"
        )


def tensors_path_of(json_path: Path, meta: dict) -> Path:
    """The tensor file a checkpoint's JSON names, in the JSON's own folder, else where a link to
    the JSON points (a name with a folder in it, or another file type, is refused: a JSON cannot
    point elsewhere)."""
    name = meta.get("tensors_file")
    if name is None:
        name = json_path.with_suffix(".safetensors").name  # before JSONs named their file
    if (
        not isinstance(name, str)
        or len(name) > _NAME_MAX  # past it the OS refuses to look, with a traceback in pathlib
        or not _TENSOR_NAME.fullmatch(name)
        or name.startswith(".")
    ):
        raise CheckpointError(f"checkpoint {json_path} names a bad tensor file: {quoted(name)}")
    path = _beside(json_path, name)
    if not os.path.lexists(path):
        # A link to a JSON whose pair was not linked beside it: the pair is beside its target
        # (where every file is a link into its own store, the tensor file's link is beside).
        target = _beside(Path(os.path.realpath(json_path)), name)
        if os.path.lexists(target):
            return target
    return path


def _beside(json_path: Path, name: str) -> Path:
    path = json_path.parent / name
    own = json_path.with_suffix(".safetensors")
    # lexists, not is_file: a FIFO or folder there is named (read_bytes refuses it), where
    # skipping it reported the file the JSON names as missing.
    if path != own and not os.path.lexists(path) and os.path.lexists(own):
        # A pair copied or renamed by hand (NAME.json + NAME.safetensors) still names the file
        # it was saved beside; the sha256 check decides whether this one is really it.
        return own
    return path


def _size_problem(
    json_path: Path, tensors_path: Path, size: object, actual: int
) -> CheckpointError:
    """The recorded size is not the tensor file's (or not a size at all)."""
    recorded = f"{size:,}" if type(size) is int else quoted(size)
    return CheckpointError(
        f"checkpoint {json_path}: size is {recorded}, but {tensors_path} has {actual:,} bytes"
    )


def _tensor_limit() -> tuple[int, str]:
    """(bytes, hint) the tensor file may have: MAX_TENSOR_BYTES, or the memory this process
    can still take where that is less (read_bytes reads the file whole)."""
    free = allocatable()
    if free is None or free[0] >= MAX_TENSOR_BYTES:
        return MAX_TENSOR_BYTES, ""
    return free[0], f" ({free[1]} to read it into)"


def _size_text(st: os.stat_result | None) -> str:
    return "of unknown size" if st is None else f"{st.st_size / 2**20:,.1f} MiB"


def read_pair(json_path: Path) -> tuple[Path, dict, bytes]:
    """(tensor file path, JSON, tensor file bytes) of the checkpoint committed by `json_path`:
    the file's size compared with the recorded one before it is read, the bytes checked against
    the recorded sha256."""
    for attempt in range(_READ_ATTEMPTS):
        meta = read_meta(json_path)
        check_identity(json_path, meta)
        tensors_path = tensors_path_of(json_path, meta)
        size = meta.get("size")  # absent in hand-made pairs: the sha256 decides
        try:
            st = os.stat(tensors_path)
        except OSError:
            st = None  # missing or unreadable: read_bytes says which
        # Compared first: a file of the wrong size, 2 GB say, was read whole and hashed (38 s)
        # to be refused all the same. A FIFO's size says nothing (read_bytes refuses it).
        if st is not None and stat.S_ISREG(st.st_mode) and "size" in meta:
            if type(size) is not int or size != st.st_size:
                if is_refused(file_head(tensors_path)):
                    raise refusal(tensors_path)  # what it is says more than its size
                raise _size_problem(json_path, tensors_path, size, st.st_size)
        limit, hint = _tensor_limit()
        try:
            data = read_bytes(
                tensors_path,
                limit=limit,
                what="checkpoint tensors",
                limit_hint=hint,
                pipes=False,
            )
        except MemoryError:
            raise CheckpointError(
                f"checkpoint tensors {tensors_path} ({_size_text(st)}) do not fit in the memory "
                "this process has left to read them into"
            ) from None
        except FileProblem as exc:
            if not tensors_path.exists() and attempt + 1 < _READ_ATTEMPTS:
                continue  # a save replaced it since the JSON was read: read the JSON again
            if not tensors_path.exists():
                raise CheckpointError(
                    f"incomplete checkpoint {json_path}: {tensors_path.name} is missing"
                ) from None
            raise CheckpointError(str(exc)) from None
        if is_refused(data[:16]):
            raise refusal(tensors_path)
        digest = meta.get("sha256")
        if not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
            raise CheckpointError(
                f"checkpoint {json_path}: sha256 is {quoted(digest)}, not 64 hex digits"
            )
        if hashlib.sha256(data).hexdigest() != digest:
            raise CheckpointError(
                f"incomplete checkpoint {tensors_path}: its sha256 does not match "
                f"{json_path.name} (a save was interrupted, or the file was changed)"
            )
        if "size" in meta and (type(size) is not int or size != len(data)):
            raise _size_problem(json_path, tensors_path, size, len(data))  # changed as read
        return tensors_path, meta, data
    raise CheckpointError(f"checkpoint {json_path} kept changing while it was read")


def json_names(path: Path) -> list[Path]:
    """The JSONs that could commit the tensor file `path`, the likeliest last:
    NAME.safetensors → NAME.json, NAME.<hash>.safetensors → NAME.<hash>.json, NAME.json."""
    stem = path.name[: -len(".safetensors")]
    candidates = [path.with_name(f"{stem}.json")]
    base, dot, digest = stem.rpartition(".")
    if dot and re.fullmatch(r"[0-9a-f]{12}", digest):
        candidates.append(path.with_name(f"{base}.json"))
    return candidates


def json_of(path: Path) -> Path | None:
    """The JSON that commits the checkpoint a user named by a tensor file, or None when there
    is none (json_names)."""
    for candidate in json_names(path):
        if candidate.exists():
            return candidate
    return None


def no_json(path: Path) -> CheckpointError:
    """The error for a tensor file `path` with no JSON beside it: no save was interrupted (an
    interrupted one leaves the old pair), it is not one of rnn-tui's pairs."""
    return CheckpointError(
        f"{path} has no {json_names(path)[-1].name} beside it: "
        "an rnn-tui checkpoint is a .json and a .safetensors pair"
    )


__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_READ_BYTES",
    "json_size",
    "json_text",
    "read_leading",
    "clean_stale",
    "json_names",
    "json_of",
    "no_json",
    "read_meta",
    "read_pair",
    "remove_superseded",
    "tensor_file_name",
    "tensors_path_of",
    "write_pair",
]
