"""The training options that name a file (--corpus, --pairs, --series): saved in a run's
config.json as absolute paths, so that `--resume NAME` continues the run from any folder.

Saved as typed ("c/book.txt"), a run resumed from another folder did not find its corpus, or
read another file of the same name there; and giving the full path was refused as a change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePath

from rnn_tui.files import expanded
from rnn_tui.train.registry import TASKS

# A pipe's name (--corpus <(zcat f)): its own, not a path under the current folder.
PIPE = re.compile(r"/dev/(fd/\d+|stdin)|/proc/(self|\d+)/fd/\d+")


def file_option_names() -> set[str]:
    """The options whose value may be a file's path (a form's "File…" entry)."""
    return {o.name for spec in TASKS.values() for o in spec.options if "file" in o.extra}


def _presets(name: str) -> set[object]:
    return {v for spec in TASKS.values() if spec.has(name) for _, v in spec.option(name).presets}


def is_path(name: str, value: object) -> bool:
    """Whether `value` of option `name` is a file's path (not a bundled name, nor a pipe)."""
    return (
        name in file_option_names()
        and isinstance(value, str)
        and value.strip() != ""
        and value not in _presets(name)
        and not PIPE.fullmatch(value)
    )


def shadowed(name: str, value: object) -> str | None:
    """A note when `value` of file option `name` is a bundled data set's name and a file of
    that name is in the current folder: the bundled set is read, and `./NAME` reads the file
    (a user with their own `airline` file got the bundled series without a word)."""
    if not isinstance(value, str) or value not in _presets(name) or not os.path.exists(value):
        return None
    flag = "--" + name.replace("_", "-")
    return f"{flag} {value} is the bundled data set; ./{value} reads the file here"


def absolute_files(given: dict) -> dict:
    """`given` with each file option's path made absolute (~ expanded; `..` kept: past a
    symbolic link it means what the file system says, not what the text says)."""
    return {
        k: str(Path.cwd() / expanded(v)) if is_path(k, v) and not os.path.isabs(v) else v
        for k, v in given.items()
    }


def same_file(saved: object, given: object) -> bool:
    """Whether `given` (absolute) names the file a run saved: the same file by another path;
    for a saved relative path (a run from before paths were saved absolute), a path that ends
    with it. The folder it was relative to is unknown, and the tokens read are checked against
    the checkpoint's anyway."""
    if not (isinstance(saved, str) and isinstance(given, str)):
        return False
    if os.path.isabs(saved):
        try:  # /a/b/../c/f.txt, or a link to the file: the same file
            return os.path.samefile(saved, given)
        except OSError:
            return False
    parts = PurePath(os.path.normpath(saved)).parts
    ends = PurePath(os.path.normpath(given)).parts[-len(parts) :]
    return len(parts) > 0 and ".." not in parts and ends == parts


__all__ = ["PIPE", "absolute_files", "file_option_names", "is_path", "same_file"]
