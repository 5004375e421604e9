"""`rnn-tui runs`: the training runs under a folder (no torch, no textual)."""

from __future__ import annotations

import argparse
import json
import math
import sys

from rich.text import Text

from rnn_tui.cli.output import fail
from rnn_tui.runs.format import fmt_time, plain


def _number(value: object) -> float | None:
    """A finite number, else None (list_runs promises that; a caller's dict may not)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def _epochs(entry: dict) -> str:
    done, total = entry.get("epoch"), entry.get("epochs")
    done = done if isinstance(done, int) and not isinstance(done, bool) else "?"
    total = total if isinstance(total, int) and not isinstance(total, bool) else "?"
    return f"{done}/{total}"


def _ppl(value) -> str:
    value = _number(value)
    return "—" if value is None else f"{value:.2f}"


def _bleu(value) -> str:
    value = _number(value)
    return "—" if value is None else f"{value:.1f}"


def _rmse(value) -> str:
    value = _number(value)
    return "—" if value is None else f"{value:.4g}"


def _f1(value) -> str:
    value = _number(value)
    return "—" if value is None else f"{value:.3f}"


def _cell(value: object, default: str = "?", style: str = "") -> Text:
    """A table cell as plain text: a run folder's strings are never read as Rich markup."""
    return Text(plain(value) if isinstance(value, str) and value else default, style=style)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rnn_tui.runs.listing import list_runs
    from rnn_tui.runs.rundir import default_runs_root

    root = Path(args.dir).expanduser() if args.dir is not None else default_runs_root()
    if args.dir is not None and not args.dir.strip():
        return fail("--dir is empty: give the folder that holds the runs")
    if root.exists() and not root.is_dir():
        return fail(f"{root} is not a folder (--dir names the folder that holds the runs)")
    if args.dir is not None and not root.exists():
        return fail(f"no folder {root}")
    entries = list_runs(root)
    if args.json:
        json.dump({"root": str(root), "runs": entries}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if not entries:
        print(f"no runs in {root} yet: start one with `rnn-tui train` (see rnn-tui train --help)")
        return 0

    from rich.console import Console
    from rich.table import Table

    table = Table(title=Text(f"runs in {plain(str(root))}"), title_justify="left")
    table.add_column("name", overflow="fold")
    # A task column when the runs are of several tasks (an unreadable task does not count).
    tasks = {entry.get("task") for entry in entries} - {None}
    if len(tasks) > 1:
        table.add_column("task", no_wrap=True, min_width=8)
    table.add_column("model")
    table.add_column("status")
    table.add_column("epochs", justify="right")
    table.add_column("best val ppl", justify="right")
    translation = any(entry.get("best_bleu") is not None for entry in entries)
    if translation:
        table.add_column("best BLEU", justify="right")
    forecast = any(entry.get("best_rmse") is not None for entry in entries)
    if forecast:
        table.add_column("best RMSE", justify="right")
    scored = any(entry.get("best_macro_f1") is not None for entry in entries)
    if scored:
        table.add_column("best macro-F1", justify="right")
    table.add_column("updated")
    styles = {
        "running": "green",
        "paused": "yellow",
        "failed": "red",
        "died": "red",
        "finished": "cyan",
    }
    for entry in entries:
        status = entry.get("status")
        bleu = [Text(_bleu(entry.get("best_bleu")))] if translation else []
        rmse = [Text(_rmse(entry.get("best_rmse")))] if forecast else []
        f1 = [Text(_f1(entry.get("best_macro_f1")))] if scored else []
        task = [_cell(entry.get("task"))] if len(tasks) > 1 else []
        table.add_row(
            _cell(entry.get("name")),
            *task,
            _cell(entry.get("model")),
            _cell(status, "unknown", styles.get(status, "") if isinstance(status, str) else ""),
            Text(_epochs(entry)),
            Text(_ppl(entry.get("best_val_ppl"))),
            *bleu,
            *rmse,
            *f1,
            Text(fmt_time(entry.get("updated"))),
        )
    Console(highlight=False).print(table)
    return 0


__all__ = ["run"]
