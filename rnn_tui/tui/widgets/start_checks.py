"""What a form checks before a trainer starts, that the trainer would otherwise refuse after a
run folder was made: a typed file it could not read, a device this torch lacks."""

from __future__ import annotations

import stat
import sys

from rnn_tui.files import FileProblem, check_file, expanded

SNIFF_BYTES = 4096  # read of a typed corpus before a run starts: a binary file shows early


def device_problem(device: str) -> str | None:
    """The trainer's refusal of a CUDA device where this torch is a CPU build (what the drop-down
    cannot know when it is drawn: torch is not imported then). Asked of torch only once the
    app's warm-up has imported it, and of its build alone, which calls no driver."""
    torch = sys.modules.get("torch")
    if not device.startswith("cuda") or torch is None or torch.version.cuda is not None:
        return None
    return f"device: {device}, but this torch {torch.__version__} has no CUDA support (auto or cpu)"


def path_problem(path: str, what: str, wide: bool = False) -> str | None:
    """Why the trainer could not read `path` (missing, a folder, a device, a name too long,
    empty, binary: a NUL byte in its first 4 KiB where the encoding is not UTF-16/32, `wide`),
    from one stat and one small read: refused under the form, not after a run folder was made
    and a trainer started, as the trainer would say it. A pipe passes: the trainer reads it
    once."""
    file = expanded(path)
    try:
        st = check_file(file, what)
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size == 0:
            return f"empty file: {file}"
        with open(file, "rb") as f:
            nul = -1 if wide else f.read(SNIFF_BYTES).find(b"\x00")
    except FileProblem as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read {what} {file}: {exc.strerror or exc}"
    return f"not a text file (NUL byte at offset {nul:,}): {file}" if nul >= 0 else None


__all__ = ["SNIFF_BYTES", "device_problem", "path_problem"]
