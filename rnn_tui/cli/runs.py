"""`rnn-tui runs`: the training runs under a folder (no torch, no textual)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime


def _epochs(entry: dict) -> str:
    total = entry.get("epochs")
    return f"{entry.get('epoch') or 0}/{total if total is not None else '?'}"


def _ppl(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _bleu(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _updated(stamp) -> str:
    if not stamp:
        return "—"
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rnn_tui.runs.listing import list_runs
    from rnn_tui.runs.rundir import default_runs_root

    root = Path(args.dir).expanduser() if args.dir else default_runs_root()
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

    table = Table(title=f"runs in {root}", title_justify="left")
    table.add_column("name", overflow="fold")
    table.add_column("model")
    table.add_column("status")
    table.add_column("epochs", justify="right")
    table.add_column("best val ppl", justify="right")
    translation = any(entry.get("best_bleu") is not None for entry in entries)
    if translation:
        table.add_column("best BLEU", justify="right")
    table.add_column("updated")
    styles = {"running": "green", "paused": "yellow", "failed": "red", "finished": "cyan"}
    for entry in entries:
        status = entry.get("status") or "unknown"
        bleu = [_bleu(entry.get("best_bleu"))] if translation else []
        table.add_row(
            entry["name"],
            entry.get("model") or "?",
            f"[{styles[status]}]{status}[/]" if status in styles else status,
            _epochs(entry),
            _ppl(entry.get("best_val_ppl")),
            *bleu,
            _updated(entry.get("updated")),
        )
    Console(highlight=False).print(table)
    return 0


__all__ = ["run"]
