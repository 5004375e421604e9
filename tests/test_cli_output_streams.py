"""What the commands write where stdout is not a UTF-8 file: a locale that encodes ASCII or
Latin-1 (Python's UTF-8 mode and locale coercion off), and a reader that leaves early."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from rnn_tui import cli

ASCII = {**os.environ, "PYTHONIOENCODING": "ascii"}


def _run(*args: str, env=ASCII) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_tui", *args],
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=env,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("stats", "--top", "2"),
        ("gradients", "--length", "5"),
        ("translate", "--checkpoint", "fra-eng-gru", "go ."),
    ],
)
def test_a_locale_without_unicode_gets_escapes_not_a_traceback(args):
    # stats' box lines, gradients' ρ and translate's → raised UnicodeEncodeError (exit 1).
    proc = _run(*args)
    assert proc.returncode == 0, proc.stderr.decode()[-300:]
    assert proc.stdout.isascii() and proc.stdout.strip()
    if args[0] == "stats":
        assert b"+-------+" in proc.stdout and b"\\u" not in proc.stdout


def test_json_is_valid_whatever_stdouts_encoding():
    proc = _run("translate", "--checkpoint", "fra-eng-gru", "--json", "i lost .")
    assert proc.returncode == 0, proc.stderr.decode()[-300:]
    record = json.loads(proc.stdout)
    assert record["translations"][0]["translation"] == "j'ai perdu ."


def test_a_reader_that_leaves_early_is_no_error():
    # Rich turned the broken pipe into SystemExit(1): `stats | head -1` exited 1.
    for args in (["stats"], ["stats", "--token", "char", "--top", "40"]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "rnn_tui", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert proc.stdout is not None and proc.stdout.readline()
        proc.stdout.close()  # as `head -1` does
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-300:]
        assert not err


def test_the_app_refuses_a_terminal_that_cannot_draw_unicode(monkeypatch, capsys):
    class Tty(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    terminal = Tty(io.BytesIO(), encoding="latin-1")
    monkeypatch.setattr(sys, "stdin", terminal)
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(sys, "__stderr__", terminal)
    monkeypatch.delenv("TEXTUAL_DRIVER", raising=False)
    from rnn_tui.tui.app import RnnTuiApp

    monkeypatch.setattr(RnnTuiApp, "run", lambda *a, **k: pytest.fail("the app started"))
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "this terminal's locale encodes iso8859-1" in err or "latin-1" in err, err
    assert "LC_ALL=C.UTF-8" in err
