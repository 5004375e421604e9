"""Where in the app a task's runs open: the one rule a screen that follows one task's runs (the
Forecast screen, the Classify screen's parts) uses to send another task's run on. The Train
screen opens every run, so it is the place for a task no other screen shows."""

from __future__ import annotations

from rnn_tui.quoting import plain

HOMES = {
    "forecast": "the Forecast screen",
    "classify": "the Classify screen's names part",
    "tag": "the Classify screen's tagging part",
}
ANY = "the Train screen"


def task_home(task: object) -> str:
    """The screen (and part) where runs of `task` open."""
    return HOMES.get(task, ANY) if isinstance(task, str) else ANY


def wrong_task(name: str, task: object, wanted: str) -> str:
    """One line refusing the run `name` of `task` where runs of `wanted` open."""
    return (
        f"{plain(name)} is a run of task {plain(str(task))}, not {wanted}: "
        f"open it on {task_home(task)}"
    )


__all__ = ["ANY", "HOMES", "task_home", "wrong_task"]
