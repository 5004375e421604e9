"""What a notification says about an error a worker raised: one line a person can act on.

The backend's own errors (DataError, CheckpointError, ConfigError, TranslateError, RunError,
FileProblem, …) already are such lines. Anything else is a library's wording (a KeyError's
"'x'", a codec's sentence, an OSError's tuple), which is framed so the reader knows what it is.
"""

from __future__ import annotations

import re
from pathlib import Path

_FLAG = re.compile(r"--[a-z][a-z0-9-]*")
_ASIDE = re.compile(r"\s*\([^()]*\)")


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def error_text(error: BaseException | None, fields: dict[str, str] | None = None) -> str:
    """One line for a notification about `error`. `fields` maps the command line's names for
    an option, as the backend's messages give them ("--encoding"), to the label of the screen's
    field that sets it ("enc"): the advice then names what the screen shows."""
    if error is None:
        return "something went wrong (no error was given)"
    if type(error).__module__.startswith("rnn_tui"):
        return name_fields(_first_line(str(error)) or type(error).__name__, fields)
    if isinstance(error, MemoryError) or "out of memory" in str(error):
        return "out of memory: try a smaller model, batch or file"
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        return f"cannot read or write{where}: {error.strerror or _first_line(str(error))}"
    detail = _first_line(str(error))
    return f"unexpected error ({type(error).__name__})" + (f": {detail}" if detail else "")


def gist(text: str, folder: Path | None = None) -> str:
    """The point of a backend's line without its asides and the files it names: "no usable
    checkpoint in /runs/a (best: incomplete checkpoint /runs/a/checkpoints/best.….safetensors:
    its sha256 does not match …)" is "no usable checkpoint in a"; "/runs/a/…/best.json: the
    model and its class list disagree" is "the model and its class list disagree". Only a
    leading file is dropped: what follows a later colon is the point ("class 1 holds characters
    that are not printable: '\\x1b…'")."""
    while (shorter := _ASIDE.sub("", text)) != text:
        text = shorter
    head, colon, rest = text.partition(": ")
    if colon and rest.strip() and _names_a_file(head):
        text = rest.strip()
    if folder is not None:
        text = text.replace(str(folder), folder.name)
    return text


def _names_a_file(text: str) -> bool:
    return "/" in text or text.endswith((".json", ".safetensors", ".pt"))


def name_fields(text: str, fields: dict[str, str] | None) -> str:
    """`text` (a backend's advice: "use --device cpu or auto") with each whole flag that
    `fields` maps named as the screen's field ("use device cpu or auto"). A command to copy
    ("continue with: rnn-tui train --resume …") keeps its flags: it is typed in a shell."""
    if not fields:
        return text
    advice, command, rest = text.partition("rnn-tui ")
    advice = _FLAG.sub(lambda m: fields.get(m.group(), m.group()), advice)
    for word, label in fields.items():
        if not word.startswith("--"):  # another wording of the option ("min-freq")
            advice = advice.replace(word, label)
    return advice + command + rest


__all__ = ["error_text", "gist", "name_fields"]
