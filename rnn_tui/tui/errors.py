"""What a notification says about an error a worker raised: one line a person can act on.

The backend's own errors (DataError, CheckpointError, ConfigError, TranslateError, RunError,
FileProblem, …) already are such lines. Anything else is a library's wording (a KeyError's
"'x'", a codec's sentence, an OSError's tuple), which is framed so the reader knows what it is.
"""

from __future__ import annotations


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def error_text(error: BaseException | None) -> str:
    """One line for a notification about `error`."""
    if error is None:
        return "something went wrong (no error was given)"
    if type(error).__module__.startswith("rnn_tui"):
        return _first_line(str(error)) or type(error).__name__
    if isinstance(error, MemoryError) or "out of memory" in str(error):
        return "out of memory: try a smaller model, batch or file"
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        return f"cannot read or write{where}: {error.strerror or _first_line(str(error))}"
    detail = _first_line(str(error))
    return f"unexpected error ({type(error).__name__})" + (f": {detail}" if detail else "")


__all__ = ["error_text"]
