"""Textual's @work, without a description, builds one on the event loop from repr() of every
argument: the Gradients screen's step worker, given the model and its activations, spent 33 ms
of every step move on it. Every @work in the app names its description, so no argument, however
large, is printed on the event loop."""

from __future__ import annotations

import ast
from pathlib import Path

TUI = Path(__file__).parents[1] / "rnn_tui" / "tui"


def work_decorators(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                target = call.func if call else decorator
                if isinstance(target, ast.Name) and target.id == "work":
                    yield node.name, call


def test_every_work_decorator_names_its_description() -> None:
    found, bare = [], []
    for path in sorted(TUI.rglob("*.py")):
        for name, call in work_decorators(ast.parse(path.read_text(), str(path))):
            found.append(name)
            keywords = {k.arg for k in call.keywords} if call else set()
            if "description" not in keywords:
                bare.append(f"{path.relative_to(TUI)}: {name}")
    assert len(found) >= 10  # the check sees the decorators
    assert bare == []
