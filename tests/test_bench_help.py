"""Every benchmark's --help opens with the whole first paragraph of its docstring, not a line cut
off mid-sentence."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if not p.name.startswith("_"))  # _: helpers


def words(text: str) -> str:
    # argparse wraps lines after a hyphen too ("UI-" / "overhead").
    return re.sub(r"-\s+", "-", " ".join(text.split()))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help_gives_the_whole_first_paragraph(script: Path) -> None:
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")), clean=False)
    assert doc, f"{script.name} has no docstring"
    first = words(doc.split("\n\n")[0])
    shown = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert first in words(shown.stdout)
