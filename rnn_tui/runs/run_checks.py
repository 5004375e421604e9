"""What the run list reads from a run's status.json and config.json, checked by type and range.

A trainer writes these files right; a hand edit or a damaged disk may not. A value of the wrong
type or out of its range is not shown as if it were right (a status of 5 is "unknown"), and
each problem is one line naming the file, the field and what is wrong with it — "status.json:
"status" is 5, not one of running|paused|stopped|finished|failed" — the notes `rnn-tui runs`
prints under its table, `--json` carries and the app's run list shows. config.json's options
are checked by their own declarations (`Option.check`), so a range is written in one place.
"""

from __future__ import annotations

import math

from rnn_tui.options import OptionError
from rnn_tui.quoting import quoted
from rnn_tui.runs.rundir import CONFIG_FILE, STATUS_FILE, STATUSES
from rnn_tui.train.registry import DEFAULT_TASK, TASKS

MAX_PID = 2**31 - 1  # a pid_t; Linux's pid_max is at most 2**22


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def status_problems(status: dict) -> list[str]:
    """What is wrong with the fields of a status.json the run list reads (status, message, and
    pid and updated, which decide and date a "died"), one line each."""
    problems = []
    state = status.get("status")
    if "status" not in status:
        problems.append(f'there is no "status" (one of {"|".join(STATUSES)})')
    elif not isinstance(state, str) or state not in STATUSES:
        problems.append(f'"status" is {quoted(state)}, not one of {"|".join(STATUSES)}')
    message = status.get("message", "")
    if not isinstance(message, str):
        problems.append(f'"message" is {quoted(message)}, not text')
    if "pid" in status and not _whole(status["pid"], 1, MAX_PID):
        problems.append(f'"pid" is {quoted(status["pid"])}, not a process id')
    updated = status.get("updated")
    if updated is not None and not (
        isinstance(updated, int | float)
        and not isinstance(updated, bool)
        and math.isfinite(updated)
        and updated >= 0
    ):
        problems.append(f'"updated" is {quoted(updated)}, not a time in seconds since 1970')
    return [f"{STATUS_FILE}: {problem}" for problem in problems]


def config_problems(config: dict) -> list[str]:
    """What is wrong with a config.json's task and its options' values, one line each: each
    option the task declares is checked by that declaration (other keys are the model's config
    and the data sizes, which a checkpoint's own checks cover)."""
    task = config.get("task", DEFAULT_TASK)
    spec = TASKS.get(task) if isinstance(task, str) else None
    if spec is None:
        return [f'{CONFIG_FILE}: "task" is {quoted(task)}, not one of {"|".join(TASKS)}']
    problems = []
    for option in spec.options:
        if option.name in config:
            try:
                option.check(config[option.name])
            except OptionError as exc:
                problems.append(f"{CONFIG_FILE}: {exc}")
    return problems


__all__ = ["config_problems", "status_problems"]
