"""A new task is one module plus one registry entry: the CLI, the Train form's options and the
engine take it without other changes (docs/architecture.md, "Adding a task")."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from rnn_tui.cli import main
from rnn_tui.train import registry
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.options import pick
from rnn_tui.train.registry import TaskSpec

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def cycle_task(monkeypatch):
    """The toy task (tests/fixtures/toy_task.py) registered with one entry."""
    monkeypatch.syspath_prepend(str(FIXTURES))
    options = pick(
        "hidden", "batch_size", "num_steps", "lr", "optimizer", "epochs", "clip", "device",
        "seed", "sample_every", "log_every",
        hidden=dict(default=8), batch_size=dict(default=4), num_steps=dict(default=6),
        lr=dict(default=0.05), optimizer=dict(default="adam"), epochs=dict(default=3),
    )  # fmt: skip
    spec = TaskSpec("cycle", "repeating pattern", "predict the next symbol", options, "toy_task")
    monkeypatch.setitem(registry.TASKS, "cycle", spec)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield spec
    torch.set_num_threads(previous)
    sys.modules.pop("toy_task", None)


def test_the_cli_trains_a_task_added_with_one_registry_entry(cycle_task, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", "--task", "cycle", "--device", "cpu", "--run-dir", str(run), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["task"] == "cycle" and summary["epochs"] == 3
    assert summary["accuracy"] is not None and "accuracy" in err
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == "cycle" and config["hidden"] == 8
    epochs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs if e["event"] == "epoch"] == [1, 2, 3]
    assert (run / "checkpoints" / "best.json").is_file()


def test_its_options_are_its_own(cycle_task, capsys):
    assert Config("cycle").lr == 0.05 and Config("cycle").hidden == 8
    with pytest.raises(ConfigError, match="corpus does not apply"):
        Config("cycle", corpus="timemachine")
    code = main(["train", "--task", "cycle", "--corpus", "timemachine"])
    assert code == 2 and "--corpus does not apply to --task cycle" in capsys.readouterr().err


def test_the_registry_lists_each_task_with_its_options():
    assert list(registry.TASKS) == ["lm", "seq2seq", "forecast", "classify", "tag"]
    # The Train screen's form offers the tasks it trains; the forecast lab and the Classify
    # screen (names, tagging) start theirs from their own forms.
    assert list(registry.TRAIN_FORM_TASKS) == ["lm", "seq2seq"]
    assert {registry.TASKS[n].screen for n in ("classify", "tag")} == {"classify"}
    assert registry.TASKS["forecast"].option("lr").default == 0.01
    for spec in registry.TASKS.values():
        assert spec.options and len({o.name for o in spec.options}) == len(spec.options)
        assert spec.module.startswith("rnn_tui.train.tasks.")
    assert registry.TASKS["seq2seq"].option("lr").default == 0.005
    assert registry.TASKS["lm"].option("lr").default == 1.0
