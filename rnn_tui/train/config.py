"""A run's configuration: the values of its task's options, each checked against its one
declaration (train/options.py). config.json and every checkpoint hold `to_dict()`.
"""

from __future__ import annotations

from rnn_tui.options import OptionError
from rnn_tui.train.registry import DEFAULT_TASK, TASKS, TaskSpec


class ConfigError(ValueError):
    """An invalid training configuration; the message is one line naming the option."""


class Config:
    """The options of one run of one task, checked: `Config("lm", hidden=32).hidden == 32`.

    Options left out take their declared default (the task's own, where it has one); an
    option the task does not have, or a value out of range, is a ConfigError. A Config does
    not change: `replace(**changes)` gives a checked copy.
    """

    __slots__ = ("_task", "_values")

    def __init__(self, task: str = DEFAULT_TASK, **values: object) -> None:
        spec = task_spec(task)
        unknown = sorted(set(values) - {option.name for option in spec.options})
        if unknown:
            names = ", ".join(unknown)
            raise ConfigError(f"{names} does not apply to --task {task}")
        checked = {}
        for option in spec.options:
            try:
                checked[option.name] = option.check(values.get(option.name, option.default))
            except OptionError as exc:
                raise ConfigError(str(exc)) from None
        object.__setattr__(self, "_task", task)
        object.__setattr__(self, "_values", checked)

    @property
    def task(self) -> str:
        return self._task

    @property
    def spec(self) -> TaskSpec:
        return TASKS[self._task]

    def __getattr__(self, name: str) -> object:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"a {self._task} run has no option {name!r}") from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Config does not change; use replace(**changes)")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and other.to_dict() == self.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_dict().items(), key=lambda kv: kv[0])))

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Config({self._task!r}, {values})"

    def get(self, name: str, default: object = None) -> object:
        """An option's value, or `default` when this task has no such option."""
        return self._values.get(name, default)

    def replace(self, **changes: object) -> Config:
        return Config(self._task, **{**self._values, **changes})

    def to_dict(self) -> dict:
        """{"task": ..., every option: value}: what config.json and checkpoints record."""
        return {"task": self._task, **self._values}

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        """The config recorded in config.json or a checkpoint. Keys that are not options of
        its task (data sizes, the model's own config) are ignored; a run recorded before tasks
        existed is a language model."""
        if not isinstance(data, dict):
            raise ConfigError("a run's config must be a JSON object")
        task = data.get("task", DEFAULT_TASK)
        spec = task_spec(task)
        return cls(task, **{o.name: data[o.name] for o in spec.options if o.name in data})


def task_spec(task: object) -> TaskSpec:
    if not isinstance(task, str) or task not in TASKS:
        raise ConfigError(f"unknown task {task!r} (choose from {', '.join(TASKS)})")
    return TASKS[task]


__all__ = ["Config", "ConfigError", "task_spec"]
