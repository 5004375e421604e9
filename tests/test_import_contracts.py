"""The package's layer contracts (pyproject.toml, [tool.importlinter]) hold: imports point down,
only the UI imports Textual, and the CLI's help and stats paths never reach torch."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "numpy", "textual")


def test_every_import_contract_is_kept():
    command = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(command).exists():
        pytest.fail("lint-imports is not installed (pip install -e '.[dev]')")
    proc = subprocess.run(
        [command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def loaded_after(*argvs: list[str]) -> list[str]:
    """Which of HEAVY a fresh interpreter has imported after running these commands."""
    code = (
        "import sys, contextlib, io\n"
        "from rnn_tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    for argv in {list(argvs)!r}:\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return eval(proc.stdout.strip().splitlines()[-1])


def test_help_loads_neither_torch_nor_numpy():
    """--help is read before anything is computed: numpy alone would double its start-up."""
    assert loaded_after(["--help"], ["train", "--help"], ["stats", "--help"]) == []


def test_help_and_stats_do_not_load_torch():
    assert "torch" not in loaded_after(["generate", "--help"], ["stats", "--json"])


def test_opening_any_screen_does_not_load_torch():
    """Each screen's module loads when the screen is first opened, on the UI's thread: torch
    (a second or two) is imported by its workers instead, so the switch is instant."""
    code = (
        "import sys, importlib\n"
        "from rnn_tui.tui.app import SCREEN_SPECS\n"
        "for spec in SCREEN_SPECS:\n"
        "    spec.build()\n"
        "print('torch' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"
