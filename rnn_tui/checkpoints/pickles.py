"""Recognizing what rnn-tui refuses to load by its first bytes: pickles, since `torch.load` of
one can run any code, and zip archives, torch.save's (a pickle inside) or any other.

A pickle is recognized by its extension (what `torch.save` files are usually called) or by its
first bytes (a `.safetensors` or unnamed file may still be one). No torch here.
"""

from __future__ import annotations

import struct
from pathlib import Path

from rnn_tui.checkpoints import CheckpointError

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")
# A member's local header, and the end record that is all an empty archive holds.
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_READS = ".safetensors + .json"


def looks_like_pickle(head: bytes) -> bool:
    """Whether a file's first bytes are a pickle (protocol ≥ 2 starts with the PROTO opcode
    0x80). A safetensors file whose header length has the low byte 0x80 starts with 0x80 too,
    but its JSON header begins at byte 8 with '{'."""
    return head[:1] == b"\x80" and head[8:9] != b"{"


def looks_like_zip(head: bytes) -> bool:
    """Whether a file's first bytes are a zip archive's (torch.save's format, among others)."""
    return head.startswith(ZIP_SIGNATURES)


def is_refused(head: bytes) -> bool:
    """Whether a file's first bytes are a pickle or a zip archive: `refusal` says which."""
    return looks_like_pickle(head) or looks_like_zip(head)


def file_head(path: Path, size: int = 16) -> bytes:
    """The first `size` bytes of a file (16 are enough for `is_refused`); b"" when
    unreadable."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError:
        return b""


def pickle_refusal(path: Path) -> CheckpointError:
    """The one error for every pickle refused, naming the file."""
    return CheckpointError(
        f"refusing to load {path}: it is a pickle (loading it could run code); "
        f"rnn-tui reads {_READS}"
    )


def refusal(path: Path) -> CheckpointError:
    """The error for a file refused by its name or its first bytes: a zip archive that is not
    torch.save's is named as one (it holds no pickle to warn about); anything else is a
    pickle."""
    if looks_like_zip(file_head(path)) and not _is_torch_archive(path):
        return CheckpointError(
            f"refusing to load {path}: it is a zip archive, not an rnn-tui checkpoint; "
            f"rnn-tui reads {_READS}"
        )
    return pickle_refusal(path)


def _is_torch_archive(path: Path) -> bool:
    """Whether the zip archive at `path` has torch.save's layout: its pickle, NAME/data.pkl
    (torch.jit.save's archives hold one too)."""
    import zipfile  # only for a refused file

    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        # A cut archive has no central directory: torch.save writes data.pkl first.
        head = file_head(path, 30 + 1024)
        if len(head) < 30:
            return False
        (length,) = struct.unpack_from("<H", head, 26)
        names = [head[30 : 30 + length].decode("utf-8", "replace")]
    return any(name == "data.pkl" or name.endswith("/data.pkl") for name in names)


__all__ = [
    "PICKLE_SUFFIXES",
    "file_head",
    "is_refused",
    "looks_like_pickle",
    "looks_like_zip",
    "pickle_refusal",
    "refusal",
]
