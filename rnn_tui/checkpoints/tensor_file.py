"""A checkpoint's tensor file: safetensors bytes, written and read by the `safetensors` package.

Layout (https://huggingface.co/docs/safetensors): 8 bytes N (u64, little-endian), an N-byte JSON
header {"name": {"dtype", "shape", "data_offsets"}, ..., "__metadata__": {str: str}}, then the
tensors' raw little-endian bytes. Nothing in it can run code: the header is JSON, the rest numbers.

The package is the format's reference implementation and writes every file. It checks the
header length (100 MB at most), the JSON, every dtype, each shape against its byte span, and that
the offsets tile the data without gaps, overlaps or trailing bytes; reading, this module makes the
same checks itself (`_spans`, held to the package's verdicts by a property test) and copies the
tensors out with numpy, which lets other threads run: the package copies holding the GIL, 100 ms
for a 228 MB checkpoint, a stall of the app that loaded it in a worker. The package still reads
what this module cannot locate a header in (it says why) and on a big-endian host. On top of the
format this module adds what rnn-tui promises:

- one error: whatever is wrong with a file is a one-line
  CheckpointError("not a safetensors file: PATH (reason)"), never a library traceback;
- two rules of the format that the package does not enforce, checked on the header first: the
  header starts with '{', and no key appears twice (the package keeps the last of two entries
  with one name, so two readers could see two different files in the same bytes);
- only the dtypes rnn-tui writes are read (`DTYPES`), and only those are written;
- saving takes any tensors: views and non-contiguous tensors are copied to contiguous CPU memory,
  and tensors sharing memory (tied weights) are each given their own copy, which the package
  otherwise refuses.

Loaded tensors own their memory: each tensor's bytes are copied out of the file's buffer into a
buffer of its own, so the file's bytes can be dropped or changed afterwards.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import torch

from rnn_tui.atomic import atomic_write_bytes
from rnn_tui.checkpoints import CheckpointError
from rnn_tui.files import FileProblem, read_bytes
from rnn_tui.json_pieces import refuse_lone_surrogates
from rnn_tui.quoting import json_reason

# The dtypes rnn-tui writes and reads, by their code in the header.
DTYPES: dict[str, torch.dtype] = {
    "BOOL": torch.bool,
    "U8": torch.uint8,
    "I8": torch.int8,
    "I16": torch.int16,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I32": torch.int32,
    "F32": torch.float32,
    "F64": torch.float64,
    "I64": torch.int64,
}
_WRITABLE = set(DTYPES.values())

# The package's limit: a larger header is refused by it, so the header is not parsed here.
MAX_HEADER_SIZE = 100_000_000
METADATA_KEY = "__metadata__"
_PACKAGE_PREFIX = "Error while deserializing: "


# ---------------------------------------------------------------------------------------------
# Writing


def _storable(name, tensor, seen: set[int]) -> torch.Tensor:
    """`tensor` as the package can store it: detached, on the CPU, contiguous, not sharing
    memory with a tensor already in `seen` (storage addresses)."""
    if not isinstance(name, str) or name == METADATA_KEY:
        raise CheckpointError(f"cannot save a tensor named {name!r}")
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor {name!r} is a {type(tensor).__name__}, not a torch.Tensor")
    if tensor.layout != torch.strided:
        raise CheckpointError(
            f"cannot save tensor {name}: {tensor.layout} tensors are not supported"
        )
    if tensor.dtype not in _WRITABLE:
        raise CheckpointError(f"cannot save tensor {name}: unsupported dtype {tensor.dtype}")
    out = tensor.detach().to("cpu").contiguous()
    address = out.untyped_storage().data_ptr()
    if address and address in seen:
        out = out.clone()
        address = out.untyped_storage().data_ptr()
    seen.add(address)
    return out


def serialize(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file holding `tensors` (and the optional str → str metadata).

    The package orders the tensors by alignment then name and writes a compact header, so the
    same tensors give the same layout and data; metadata keys come out in the order of its hash
    map, so with two or more of them two saves of the same tensors can differ in the header (the
    sha256 in a checkpoint's JSON is taken of the bytes actually written).
    """
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise TypeError(f"safetensors metadata must map str to str (bad key: {bad[0]!r})")
    seen: set[int] = set()
    storable = {name: _storable(name, tensor, seen) for name, tensor in tensors.items()}
    return safetensors.torch.save(storable, metadata)


def save_tensors(
    tensors: dict[str, torch.Tensor],
    path: str | os.PathLike,
    metadata: dict[str, str] | None = None,
) -> None:
    """Write `tensors` to `path` as a safetensors file, atomically (see atomic.py)."""
    atomic_write_bytes(path, serialize(tensors, metadata))


# ---------------------------------------------------------------------------------------------
# Reading


class _Invalid(Exception):
    """Internal: the reason a buffer is not a valid safetensors file."""


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise _Invalid(f"duplicate key {dup!r} in the header")
    return dict(pairs)


def _precheck(data: bytes | bytearray | memoryview) -> dict | None:
    """The header as a dict, after the checks the package does not make; None where the header
    cannot be located (too short, too long, past the end): the package refuses those itself."""
    size = len(data)
    if size < 8:
        return None
    n = int.from_bytes(bytes(data[:8]), "little")
    if n > MAX_HEADER_SIZE or 8 + n > size:
        return None
    raw = bytes(data[8 : 8 + n])
    # The format says the header MUST begin with '{'; the package skips leading whitespace.
    if not raw.startswith(b"{"):
        raise _Invalid("the header does not start with '{'")
    try:
        text = raw.decode("utf-8")
        header = json.loads(text, object_pairs_hook=_no_duplicates)
        refuse_lone_surrogates(text, header)  # a name printed in a message must be text
    except UnicodeDecodeError:
        raise _Invalid("the header is not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers too long to convert.
        raise _Invalid(f"the header is not valid JSON: {json_reason(exc)}") from None
    for name, info in header.items():
        code = info.get("dtype") if isinstance(info, dict) and name != METADATA_KEY else None
        # Checked before the package converts: it knows dtypes (float8, float4) that torch
        # builds may lack, and rnn-tui never writes them.
        if isinstance(code, str) and code not in DTYPES:
            raise _Invalid(f"tensor {name!r} has an unsupported dtype {code!r}")
    return header


def _spans(header: dict, body: int) -> list[tuple[int, int, str, torch.dtype, list]]:
    """(begin, end, name, dtype, shape) of each tensor, after the package's checks: a dtype
    rnn-tui reads, sizes ≥ 0, [begin, end] offsets that the shape fills exactly, and spans
    that tile the `body` bytes after the header with no gap, overlap or byte left over."""
    metadata = header.get(METADATA_KEY, {})
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise _Invalid("__metadata__ is not a map of strings to strings")
    spans = []
    for name, info in header.items():
        if name == METADATA_KEY:
            continue
        if not isinstance(info, dict):
            raise _Invalid(f"tensor {name!r} is not described by an object")
        code, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        dtype = DTYPES.get(code) if isinstance(code, str) else None
        if dtype is None:
            raise _Invalid(f"tensor {name!r} has no dtype rnn-tui reads")
        if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
            raise _Invalid(f"tensor {name!r} has a shape that is not a list of sizes")
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1]
        ):
            raise _Invalid(f"tensor {name!r} has data_offsets that are not [begin, end]")
        if dtype.itemsize * math.prod(shape) != offsets[1] - offsets[0]:
            raise _Invalid(f"tensor {name!r}: shape {shape} does not fill {offsets}")
        spans.append((offsets[0], offsets[1], name, dtype, shape))
    end = 0
    for begin, stop, name, _, _ in sorted(spans):
        if begin != end:
            raise _Invalid(f"tensor {name!r} does not start where the one before it ends")
        end = stop
    if end != body:
        raise _Invalid(f"the tensors take {end} bytes, and {body} follow the header")
    return spans


def _copied(data: bytes | bytearray | memoryview, header: dict) -> dict[str, torch.Tensor]:
    """The tensors `header` lays out in `data`, checked as the package checks them (`_spans`),
    each copied into memory of its own by numpy, which lets other threads run meanwhile. The
    package copies holding the GIL, and wants `bytes`: loading a checkpoint of 228 MB (a word
    LSTM over 147k words) in the Generate screen's worker held its event loop twice for 100 ms,
    the copy into `bytes` and the package's."""
    start = 8 + int.from_bytes(bytes(data[:8]), "little")
    spans = _spans(header, len(data) - start)
    raw = np.frombuffer(data, dtype=np.uint8)
    tensors = {}
    for begin, stop, name, dtype, shape in spans:
        tensor = torch.empty(shape, dtype=dtype)
        if stop > begin:  # its bytes, as one flat run of uint8
            target = tensor.view(-1).view(torch.uint8).numpy()
            np.copyto(target, raw[start + begin : start + stop])
        tensors[name] = tensor
    return tensors


def _package_reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.removeprefix(_PACKAGE_PREFIX)


def parse_tensors(
    data: bytes | bytearray | memoryview, label: str | os.PathLike = "<bytes>", device="cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Decode the bytes of a safetensors file: (tensors by name in file order, metadata).
    `label` names the file in errors; any problem is CheckpointError("not a safetensors file:
    LABEL (reason)")."""
    try:
        header = _precheck(data)
        if header is not None and sys.byteorder == "little":
            loaded = _copied(data, header)
        else:  # a header it cannot locate (the package says why), or a big-endian host
            try:
                loaded = safetensors.torch.load(bytes(data))
            except safetensors.SafetensorError as exc:
                raise _Invalid(_package_reason(exc)) from None
    except _Invalid as exc:
        raise CheckpointError(f"not a safetensors file: {label} ({exc})") from None
    # The package accepted the file, so `header` was located and parsed, names and all.
    metadata = header.pop(METADATA_KEY, None) or {}
    tensors = {name: loaded[name] for name in header}
    if str(device) != "cpu":
        tensors = {name: tensor.to(device) for name, tensor in tensors.items()}
    return tensors, dict(metadata)


def read_file_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a tensor file; a missing, unreadable or non-regular file (a FIFO, a
    device) is a one-line CheckpointError."""
    from rnn_tui.checkpoints.store import MAX_TENSOR_BYTES

    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"not a safetensors file: {path} (it is a directory)")
    try:
        return read_bytes(
            path, limit=MAX_TENSOR_BYTES, what="checkpoint file", limit_hint="", pipes=False
        )
    except FileProblem as exc:
        raise CheckpointError(str(exc)) from None


def load_tensors(
    path: str | os.PathLike, device="cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read a safetensors file: (tensors by name, metadata); see `parse_tensors`. The whole file
    is read once and parsed from memory, so what is parsed is what a caller hashed."""
    return parse_tensors(read_file_bytes(path), path, device)


__all__ = [
    "DTYPES",
    "MAX_HEADER_SIZE",
    "load_tensors",
    "parse_tensors",
    "read_file_bytes",
    "save_tensors",
    "serialize",
]
