"""Every subcommand's --help as argparse renders it: no doubled % or empty default, and every
numeric option states the range it is refused by."""

from __future__ import annotations

import argparse
import inspect

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
