"""A long load says so on a terminal: a checkpoint with a vocabulary of 2.26M words took
`rnn-tui generate` 4.4 s before its first word, with nothing on the screen."""

from __future__ import annotations

import io
import time

import pytest

from rnn_tui.cli import output
from rnn_tui.cli.output import TerminalProgress, Waiting


class Tty(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def stderr(monkeypatch):
    monkeypatch.setattr(TerminalProgress, "SHOW_AFTER_S", 0.05)

    def make(tty: bool) -> Tty:
        stream = Tty(tty)
        monkeypatch.setattr(output.sys, "stderr", stream)
        return stream

    return make


def test_a_long_call_shows_its_line_and_clears_it(stderr):
    stream = stderr(True)
    with Waiting("loading run\x1b[2J…"):
        time.sleep(0.3)
    # The path's escape shown as text, never sent to the terminal.
    assert stream.getvalue() == "\r\x1b[Kloading run\\x1b[2J…\r\x1b[K"


def test_a_quick_call_shows_nothing(stderr):
    stream = stderr(True)
    with Waiting("loading run…"):
        pass
    time.sleep(0.15)  # past the delay: the timer was cancelled
    assert stream.getvalue() == ""


def test_nothing_where_stderr_is_not_a_terminal(stderr):
    stream = stderr(False)
    with Waiting("loading run…"):
        time.sleep(0.15)
    assert stream.getvalue() == ""


def test_the_line_is_cleared_when_the_call_fails(stderr):
    stream = stderr(True)
    with pytest.raises(ValueError), Waiting("loading run…"):
        time.sleep(0.2)
        raise ValueError("bad checkpoint")
    assert stream.getvalue().endswith("\r\x1b[K")  # the error's line starts on a clean line
