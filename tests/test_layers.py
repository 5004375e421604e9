"""Layers point one way: the backend never imports textual (statically or at run time)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import rnn_tui

PACKAGE = Path(rnn_tui.__file__).parent
# Every package below the UI; each must exist and import.
BACKEND = ("data", "models", "train", "decode", "checkpoints", "metrics", "runs")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_backend_sources_never_import_the_ui():
    offenders = []
    for layer in BACKEND:
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            bad = {
                name
                for name in _imports(path)
                if name.split(".")[0] in {"textual", "textual_plotext", "plotext"}
                or name.startswith("rnn_tui.tui")
                or name == "rnn_tui.cli"
            }
            if bad:
                offenders.append(f"{path.relative_to(PACKAGE)}: {sorted(bad)}")
    assert not offenders, offenders
    assert all((PACKAGE / layer / "__init__.py").is_file() for layer in BACKEND)


def test_importing_the_backend_loads_no_textual():
    code = (
        "import importlib, pkgutil, sys, rnn_tui\n"
        f"for layer in {BACKEND!r}:\n"
        "    pkg = importlib.import_module('rnn_tui.' + layer)\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "print('textual' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
