"""The safetensors file format, read and written here without the `safetensors` package.

Layout (https://huggingface.co/docs/safetensors, same bytes as the reference implementation):

    8 bytes      N, the header length, an unsigned little-endian 64-bit integer
    N bytes      a UTF-8 JSON object {"name": {"dtype": "F32", "shape": [2, 3],
                 "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "value"}},
                 padded with spaces so that N is a multiple of 8 (8-byte aligned data)
    the rest     the tensors' raw bytes, little-endian, C order; `data_offsets` are relative to
                 the start of this buffer and tile it exactly, without gaps or overlaps

Tensors are written in the reference's order (largest dtype alignment first, then by name) and
the header as the reference's serde_json writes it (compact, "__metadata__" first), so a file
saved here is byte-identical to `safetensors.torch.save_file` of the same tensors. Reading
accepts any order. Nothing here can run code from a file: the header is JSON, the rest is
numbers.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path

import numpy as np
import torch

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.atomic import atomic_write_bytes

# dtype code → (torch dtype, itemsize); listed in the reference's increasing alignment order,
# which is also the sort key for writing (largest first).
DTYPES: dict[str, tuple[torch.dtype, int]] = {
    "BOOL": (torch.bool, 1),
    "U8": (torch.uint8, 1),
    "I8": (torch.int8, 1),
    "I16": (torch.int16, 2),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I32": (torch.int32, 4),
    "F32": (torch.float32, 4),
    "F64": (torch.float64, 8),
    "I64": (torch.int64, 8),
}
_CODE_OF = {dtype: code for code, (dtype, _) in DTYPES.items()}
_RANK = {code: rank for rank, code in enumerate(DTYPES)}

# The reference refuses headers above 100 MB (a hostile file could claim 2**64 bytes).
MAX_HEADER_SIZE = 100_000_000
METADATA_KEY = "__metadata__"
_LITTLE_ENDIAN = sys.byteorder == "little"


def _swap_bytes(raw: torch.Tensor, itemsize: int) -> torch.Tensor:
    """Reverse the byte order of each item of a flat uint8 tensor (big-endian hosts only)."""
    if itemsize == 1 or raw.numel() == 0:
        return raw
    return raw.reshape(-1, itemsize).flip(-1).reshape(-1)


def _tensor_bytes(name: str, tensor: torch.Tensor) -> tuple[str, list[int], bytes]:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor {name!r} is a {type(tensor).__name__}, not a torch.Tensor")
    if tensor.layout != torch.strided:
        raise CheckpointError(
            f"cannot save tensor {name}: {tensor.layout} tensors are not supported"
        )
    code = _CODE_OF.get(tensor.dtype)
    if code is None:
        raise CheckpointError(f"cannot save tensor {name}: unsupported dtype {tensor.dtype}")
    # contiguous() copies views (a transpose, a slice) into C order; reshape(-1) makes 0-d
    # tensors viewable as bytes.
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    raw = flat.view(torch.uint8)
    if not _LITTLE_ENDIAN:
        raw = _swap_bytes(raw, DTYPES[code][1])
    return code, list(tensor.shape), raw.numpy().tobytes()


def serialize(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file holding `tensors` (and the optional str → str metadata)."""
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise TypeError(f"safetensors metadata must map str to str (bad key: {bad[0]!r})")
    entries = []
    for name, tensor in tensors.items():
        if not isinstance(name, str) or name == METADATA_KEY:
            raise CheckpointError(f"cannot save a tensor named {name!r}")
        entries.append((name, *_tensor_bytes(name, tensor)))
    entries.sort(key=lambda e: (-_RANK[e[1]], e[0]))

    header: dict[str, object] = {}
    if metadata is not None:
        header[METADATA_KEY] = dict(metadata)
    offset = 0
    for name, code, shape, data in entries:
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return b"".join([struct.pack("<Q", len(text)), text, *(e[3] for e in entries)])


def save_tensors(
    tensors: dict[str, torch.Tensor],
    path: str | os.PathLike,
    metadata: dict[str, str] | None = None,
) -> None:
    """Write `tensors` to `path` as a safetensors file, atomically (see atomic.py)."""
    atomic_write_bytes(path, serialize(tensors, metadata))


class _Invalid(Exception):
    """Internal: the reason a buffer is not a valid safetensors file."""


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise _Invalid(f"duplicate key {dup!r} in the header")
    return dict(pairs)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _nbytes(shape: list[int], itemsize: int, limit: int) -> int:
    """shape × itemsize, or limit + 1 as soon as the product passes `limit` (a hostile shape
    of millions of huge dimensions must not make a giant integer)."""
    if 0 in shape:
        return 0
    total = itemsize
    for d in shape:
        total *= d
        if total > limit:
            return limit + 1
    return total


def _parse_header(data: bytes | bytearray | memoryview) -> tuple[int, dict, dict[str, str]]:
    """Validate the header of a whole file's bytes; return (data start, entries, metadata)."""
    size = len(data)
    if size < 8:
        raise _Invalid(f"{size} bytes, too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", bytes(data[:8]))
    if n > MAX_HEADER_SIZE:
        raise _Invalid(f"header length {n} is over the {MAX_HEADER_SIZE}-byte limit")
    if 8 + n > size:
        raise _Invalid(f"header length {n} runs past the end of the {size}-byte file")
    try:
        text = bytes(data[8 : 8 + n]).decode("utf-8")
    except UnicodeDecodeError:
        raise _Invalid("the header is not UTF-8") from None
    if not text.startswith("{"):
        raise _Invalid("the header is not a JSON object")
    try:
        header = json.loads(text, object_pairs_hook=_reject_duplicates)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers too long to convert.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _Invalid(f"the header is not valid JSON: {reason}") from None
    if not isinstance(header, dict):
        raise _Invalid("the header is not a JSON object")

    metadata = header.pop(METADATA_KEY, None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _Invalid("__metadata__ must map strings to strings")

    buffer_len = size - 8 - n
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict):
            raise _Invalid(f"entry {name!r} is not an object")
        code, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(code, str) or code not in DTYPES:
            raise _Invalid(f"tensor {name!r} has an unsupported dtype {code!r}")
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise _Invalid(f"tensor {name!r} has a malformed shape")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_count(o) for o in offsets)
            or offsets[0] > offsets[1]
        ):
            raise _Invalid(f"tensor {name!r} has malformed data_offsets")
        if _nbytes(shape, DTYPES[code][1], buffer_len) != offsets[1] - offsets[0]:
            raise _Invalid(f"tensor {name!r}: shape {shape} × {code} does not match its byte span")
        spans.append((offsets[0], offsets[1], name))

    start = 0
    for begin, end, name in sorted(spans):
        if begin != start:
            what = "overlaps the previous tensor" if begin < start else "leaves a gap before it"
            raise _Invalid(f"tensor {name!r} {what}")
        start = end
    if start != buffer_len:
        raise _Invalid(f"the tensors cover {start} data bytes but the file holds {buffer_len}")
    return 8 + n, header, metadata


def parse_tensors(
    data: bytes | bytearray | memoryview, label: str | os.PathLike = "<bytes>", device="cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Decode the bytes of a safetensors file (see `load_tensors`); `label` names it in errors."""
    try:
        data_start, header, metadata = _parse_header(data)
    except _Invalid as exc:
        raise CheckpointError(f"not a safetensors file: {label} ({exc})") from None
    view = memoryview(data)
    tensors: dict[str, torch.Tensor] = {}
    for name, info in header.items():
        dtype, itemsize = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        shape = info["shape"]
        # A fresh tensor, not torch.frombuffer on the file's buffer: the data of a file written
        # in another order may be misaligned for its dtype, and the tensor must own its memory.
        # numpy reads a read-only buffer (bytes) without the warning torch.frombuffer gives.
        out = torch.empty(end - begin, dtype=torch.uint8)
        np.copyto(out.numpy(), np.frombuffer(view[data_start + begin : data_start + end], np.uint8))
        if not _LITTLE_ENDIAN:
            out = _swap_bytes(out, itemsize).contiguous()
        tensors[name] = out.view(dtype).reshape(shape)
        if str(device) != "cpu":
            tensors[name] = tensors[name].to(device)
    return tensors, dict(metadata)


def read_file_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a file; a missing or unreadable file is a one-line CheckpointError."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint file not found: {path}") from None
    except IsADirectoryError:
        raise CheckpointError(f"not a safetensors file: {path} (it is a directory)") from None
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from None


def load_tensors(
    path: str | os.PathLike, device="cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read a safetensors file: (tensors by name, metadata). The header is validated strictly
    (length, JSON, dtypes, shapes against byte spans, offsets tiling the data exactly); any
    problem raises CheckpointError("not a safetensors file: PATH (reason)"). Never unpickles."""
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
