"""Every subcommand's --help as argparse renders it: no doubled % or empty default, and every
numeric option states the range it is refused by."""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path

import pytest

from rnn_tui.cli.parser import build_parser


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    found = {"rnn-tui": parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


@pytest.mark.parametrize("name", list(_parsers()))
def test_help_has_no_escaping_left_nor_empty_defaults(name, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option
    parser = _parsers()[name]
    text = parser.format_help()
    assert "%%" not in text  # "60%% of the sine": the help escaped twice
    assert "default: )" not in text and "default: ;" not in text
    for action in parser._actions:
        option = (
            inspect.getclosurevars(action.type).nonlocals.get("option") if action.type else None
        )
        if option is None or option.kind not in (int, float) or option.choices:
            continue
        # A refusal says "must be an integer in [1, 1,000]": the help gives that range too.
        flag = action.option_strings[0]
        line = next(line for line in text.splitlines() if line.lstrip().startswith(flag + " "))
        assert option.describe() in line, line


def _readme_synopses() -> list[tuple[str, str]]:
    """README's command synopses: (command, its lines joined), "" for the app's."""
    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = text[text.index("rnn-tui [--no-mouse]") :]
    entries: list[list[str]] = []
    for line in block[: block.index("```")].splitlines():
        if line.startswith("rnn-tui "):
            command = re.match(r"rnn-tui (\w*)", line).group(1)
            entries.append([command, line])
        else:
            entries[-1][1] += " " + line
    return [(command, line) for command, line in entries]


def test_readme_synopses_list_every_option():
    # generate's lacked --device, and train's each lacked options its task takes.
    from rnn_tui.train.registry import TASKS

    parsers = _parsers()
    for command, line in _readme_synopses():
        written = set(re.findall(r"--[a-z][a-z0-9-]*", line))
        if command == "train":
            task = TASKS[re.search(r"--task (\w+)", line).group(1)]
            common = {"--task", "--run-dir", "--resume", "--max-file-mb", "--json"}
            wanted = {"--" + o.name.replace("_", "-") for o in task.options} | common
        else:
            parser = parsers[command or "rnn-tui"]
            wanted = {flag for a in parser._actions for flag in a.option_strings}
            wanted -= {"-h", "--help"}
        assert wanted <= written, (command, sorted(wanted - written))


@pytest.mark.parametrize(
    ("module", "name", "where"),
    [
        ("rnn_tui.tui.screens.train", "TrainScreen", "Train"),
        ("rnn_tui.tui.screens.forecast", "ForecastScreen", "Forecast"),
        ("rnn_tui.tui.screens.classify", "ClassifyScreen", "Classify"),
    ],
)
def test_readme_key_table_lists_every_key_of_the_screens_with_run_lists(module, name, where):
    """The Forecast row left out `n` (back to the form) and `r` (rescan), which the help
    lists: nothing else told how to get back to the form's tab."""
    import importlib

    from textual.binding import Binding

    screen = getattr(importlib.import_module(module), name)
    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    listed: set[str] = set()
    for row in re.findall(r"^\| (.+?) \| (.+?) \| .+ \|$", text, flags=re.MULTILINE):
        if row[1] == where or row[1].startswith(f"{where} ›"):
            listed.update(re.findall(r"`([^`]+)`", row[0]))
    keys = {b.key for b in screen.BINDINGS if isinstance(b, Binding) and b.key != "escape"}
    assert keys <= listed, sorted(keys - listed)
