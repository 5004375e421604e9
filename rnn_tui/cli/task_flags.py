"""`rnn-tui train` flags the tasks read differently: one flag stands for every task's
declaration of an option (parser.py `_loosest`), so where they disagree (--embed: lm, classify
and tag take 0 and empty for auto, seq2seq neither) the help says each task's range, and an
empty value is kept as EMPTY_BY_TASK until the task is known, then read by its declaration."""

from __future__ import annotations

import argparse

from rnn_tui.cli.usage import converter
from rnn_tui.options import Option, OptionError
from rnn_tui.train.registry import TASKS


class _EmptyByTask:
    """A flag left empty (or given its not-set name, "auto") whose meaning depends on the task."""

    def __repr__(self) -> str:
        return "EMPTY_BY_TASK"


EMPTY_BY_TASK = _EmptyByTask()


def ranges(name: str) -> str:
    """ "lm, tag: an integer in [0, 16,384], or empty for auto; seq2seq: an integer in [1, …]"
    where the tasks with option `name` accept different values, else "" (one range)."""
    tasks_of: dict[str, list[str]] = {}
    for spec in TASKS.values():
        if spec.has(name):
            tasks_of.setdefault(spec.option(name).describe(), []).append(spec.name)
    if len(tasks_of) < 2:
        return ""
    return "; ".join(f"{', '.join(tasks)}: {accepted}" for accepted, tasks in tasks_of.items())


def by_task(option: Option, accepted: str):
    """argparse `type=` for the loosest declaration `option` of a flag whose tasks accept
    `accepted` (`ranges`): empty or not-set is EMPTY_BY_TASK; a value no task takes is
    refused with each task's range."""
    convert = converter(option)

    def read(text: str) -> object:
        try:
            value = convert(text)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"{text!r} is no task's value ({accepted})") from None
        return EMPTY_BY_TASK if option.optional and value is option.unset else value

    read.__name__ = option.name
    return read


def read_empties(given: dict, task: str | None) -> dict:
    """`given` with each EMPTY_BY_TASK read by `task`'s own declaration: its not-set value
    (None: left out, so the task's default applies); OptionError (one line) where the task has
    none. Without a task (a resumed run's config unreadable) they are left out: the resume's
    own checks say what is wrong."""
    read = {}
    for name, value in given.items():
        if value is EMPTY_BY_TASK and task is not None and TASKS[task].has(name):
            option = TASKS[task].option(name)
            if not option.optional:
                auto = [s.name for s in TASKS.values() if s.has(name) and s.option(name).optional]
                raise OptionError(
                    f"{option.flag} for --task {task} must be {option.describe()} (empty means "
                    f"{option.unset_label or 'auto'} for {', '.join(auto)} only)"
                )
            value = option.unset
        if value is not None and value is not EMPTY_BY_TASK:
            read[name] = value
    return read


__all__ = ["EMPTY_BY_TASK", "by_task", "ranges", "read_empties"]
