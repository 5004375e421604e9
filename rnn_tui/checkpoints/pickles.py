"""Recognizing pickles, which rnn-tui refuses to load: `torch.load` of one can run any code.

A pickle is recognized by its extension (what `torch.save` files are usually called) or by its
first bytes (a `.safetensors` or unnamed file may still be one). No torch here.
"""

from __future__ import annotations

from pathlib import Path

from rnn_tui.checkpoints import CheckpointError

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")


def looks_like_pickle(head: bytes) -> bool:
    """Whether a file's first bytes are torch.save's zip archive or a pickle (protocol ≥ 2
    starts with the PROTO opcode 0x80). A safetensors file whose header length has the low
    byte 0x80 starts with 0x80 too, but its JSON header begins at byte 8 with '{'."""
    if head.startswith(b"PK\x03\x04"):
        return True
    return head[:1] == b"\x80" and head[8:9] != b"{"


def file_head(path: Path) -> bytes:
    """The first 16 bytes of a file (enough for `looks_like_pickle`); b"" when unreadable."""
    try:
        with open(path, "rb") as f:
            return f.read(16)
    except OSError:
        return b""


def pickle_refusal(path: Path) -> CheckpointError:
    """The one error for every pickle refused, naming the file."""
    return CheckpointError(
        f"refusing to load {path}: it is a pickle (loading it could run code); "
        "rnn-tui reads .safetensors + .json"
    )


__all__ = ["PICKLE_SUFFIXES", "file_head", "looks_like_pickle", "pickle_refusal"]
