"""The d2l benchmarks in a clone with no ../shared beside it: one line naming the missing anchor
(exit 2), and bench_all reports a section that crashed or refused instead of an empty one."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize(
    "script, argv",
    [
        ("bench_train.py", ["--mode", "paired", "--epochs", "1", "--repeat", "1"]),
        ("bench_train.py", ["--mode", "process", "--epochs", "1", "--repeat", "1"]),
        ("bench_translate.py", ["--epochs", "1", "--repeat", "1", "--skip-latency"]),
    ],
)
def test_a_missing_anchor_is_one_line(tmp_path, script, argv):
    anchor = tmp_path / "nowhere" / "d2l_anchor.py"
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *argv, "--anchor", str(anchor)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    name = script.removesuffix(".py")
    assert done.stderr == (
        f"{name}: d2l anchor not found at {anchor}; pass --anchor PATH "
        "(or set RNN_TUI_D2L_ANCHOR)\n"
    )


def test_the_anchor_can_be_named_by_the_environment(tmp_path):
    anchor = tmp_path / "elsewhere.py"
    done = subprocess.run(
        [sys.executable, str(BENCH / "bench_train.py"), "--mode", "paired"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RNN_TUI_D2L_ANCHOR": str(anchor)},
    )
    assert done.returncode == 2 and f"not found at {anchor};" in done.stderr


def _bench_all():
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # its helpers beside it, as when it runs as a script
    spec = importlib.util.spec_from_file_location("bench_all_under_test", BENCH / "bench_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_REFUSE = "import sys; print('d2l anchor not found', file=sys.stderr); sys.exit(2)"


def test_bench_all_reports_a_crashed_section(monkeypatch, capsys):
    bench_all = _bench_all()
    row = json.dumps({"ratio": 0.5, "ok": False})
    sections = [
        # Measured, a target missed: the rows count and it is no error.
        ("train", [sys.executable, "-c", f"print({row!r}); raise SystemExit(3)"]),
        # A traceback (exit 1) after a row: an error, though a row came.
        ("paths", [sys.executable, "-c", f"print({row!r}); raise RuntimeError('boom')"]),
        # Refused (exit 2) with its one line.
        ("seq2seq", [sys.executable, "-c", _REFUSE]),
    ]
    monkeypatch.setattr(bench_all, "_commands", lambda args, devices: sections)
    monkeypatch.setattr(bench_all, "_cuda", lambda: False)
    assert bench_all.main([]) == 1  # a section failed
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["sections"]
    assert "error" not in report["train"][0] and report["train"][0]["rows"]
    assert report["paths"][0]["error"] == "RuntimeError: boom"
    assert report["seq2seq"][0]["error"] == "d2l anchor not found"
