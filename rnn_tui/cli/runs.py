"""`rnn-tui runs`: the training runs under a folder (no torch, no textual)."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from shlex import quote

from rich.text import Text

from rnn_tui.cli.output import fail, print_json
from rnn_tui.files import FileProblem, expanded, is_folder, look
from rnn_tui.metrics.perplexity import fmt_perplexity
from rnn_tui.quoting import plain, visible
from rnn_tui.runs.format import fmt_time


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


# (entry key, measure, format): the best score each task keeps, in the order columns show them.
_UNFOLDED = 1_000  # columns of a table printed to no terminal: wide enough for any row

_BEST = (
    ("best_val_ppl", "val ppl", ".2f"),
    ("best_bleu", "BLEU", ".1f"),
    ("best_rmse", "RMSE", ".4g"),
    ("best_macro_f1", "macro-F1", ".3f"),
)


# The score a task picks its best epoch by (a translation run also records a perplexity, and
# its best BLEU was shown as "val ppl", from another epoch); other tasks: the first present.
_TASK_BEST = {
    "seq2seq": "best_bleu",
    "forecast": "best_rmse",
    "classify": "best_macro_f1",
    "tag": "best_macro_f1",
}


def _best_kind(entry: dict) -> tuple[str, str, str] | None:
    """Which of `_BEST` the run is scored by: its task's own, else the first it has."""
    own = _TASK_BEST.get(entry.get("task"))  # type: ignore[arg-type]
    ordered = sorted(_BEST, key=lambda kind: kind[0] != own)
    return next((kind for kind in ordered if _number(entry.get(kind[0])) is not None), None)


def _best(entry: dict, shared: bool) -> str:
    """The run's best score; in a shared column, with its measure's name ("BLEU 31.2")."""
    kind = _best_kind(entry)
    if kind is None:
        return "—"
    key, measure, fmt = kind
    value = _number(entry.get(key))
    text = fmt_perplexity(value) if key == "best_val_ppl" else format(value, fmt)
    return f"{measure} {text}" if shared else text


def _cell(value: object, default: str = "?", style: str = "") -> Text:
    """A table cell as plain text: a run folder's strings are never read as Rich markup."""
    return Text(plain(value) if isinstance(value, str) and value else default, style=style)


def _stdout_is_a_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced, or closed
        return False


def run(args: argparse.Namespace) -> int:

    from rnn_tui.runs.listing import is_run_folder, list_runs
    from rnn_tui.runs.rundir import default_runs_root

    root = expanded(args.dir) if args.dir is not None else default_runs_root()
    if args.dir is not None and not args.dir.strip():
        return fail("--dir is empty: give the folder that holds the runs")
    try:
        seen = look(root, "the runs folder")
        if is_folder(seen):
            with os.scandir(root):  # a folder we may not read would list as "no runs"
                pass
    except FileProblem as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot read the runs folder {root}: {exc.strerror or exc}")
    if seen is not None and not is_folder(seen):
        named_by = "--dir" if args.dir is not None else "$RNN_TUI_RUNS"
        return fail(f"{root} is not a folder ({named_by} names the folder that holds the runs)")
    if args.dir is not None and seen is None:
        return fail(f"no folder {root}")
    entries = list_runs(root)
    if args.json:
        print_json({"root": str(root), "runs": entries})
        return 0
    if not entries:
        if is_run_folder(root):
            # --dir named one run (its config.json is inside), not the folder that holds runs.
            print(
                f"no runs in {visible(str(root))}: it is a run folder itself; pass its parent "
                f"(rnn-tui runs --dir {visible(quote(str(root.parent)))})"
            )
            return 0
        # ./runs by default: from another folder, say how to look where the runs are.
        elsewhere = "" if args.dir is not None else " (runs elsewhere: --dir ROOT or $RNN_TUI_RUNS)"
        print(
            f"no runs in {visible(str(root))} yet: start one with `rnn-tui train` "
            f"(see rnn-tui train --help){elsewhere}"
        )
        return 0

    from rnn_tui.cli.console import Console

    console = Console(highlight=False)
    if not _stdout_is_a_tty() and "COLUMNS" not in os.environ:
        # Piped or redirected: whole names on one line each, for grep and copying, not
        # folded to the 80 columns Rich assumes without a terminal; no padding after a line's
        # last character (the title was padded to the table's width). Asked of stdout, not
        # Rich: $FORCE_COLOR makes Rich take a pipe for a terminal (its colours are kept).
        console = Console(highlight=False, width=_UNFOLDED)
        with console.capture() as table:
            console.print(_table(entries, plain(str(root)), console.width))
        sys.stdout.write("".join(line.rstrip() + "\n" for line in table.get().splitlines()))
    else:
        console.print(_table(entries, plain(str(root)), console.width))
    for entry in entries:
        # Its row shows what the files say; a note says what in them is wrong or missing.
        notes = entry.get("notes")
        notes = list(notes) if isinstance(notes, list) else []
        if entry.get("status") == "unreadable" and entry.get("message"):
            notes.insert(0, entry["message"])  # why: its config.json (the row shows only "?")
        for note in notes:
            console.print(Text(f"note: {plain(str(entry.get('name')))}: {plain(str(note))}"))
    return 0


_STYLES = {
    "running": "green",
    "paused": "yellow",
    "failed": "red",
    "died": "red",
    "finished": "cyan",
}


def _frame(columns: int, boxed: bool) -> int:
    """Cells a table's frame takes: a space either side of each column, a rule between and
    around them when boxed; without rules, one space between columns and none at the edges."""
    return 3 * columns + 1 if boxed else columns - 1


def _table(entries: list[dict], root: str, width: int):
    """The runs as a table `width` columns wide at most, where it can be: the name folds, and
    on a narrow terminal the model, the best score and the date too; the other cells are short
    and stay whole on one line."""
    from rich.cells import cell_len
    from rich.table import Table

    from rnn_tui.runs.listing import model_label

    # A task column when the runs are of several tasks (an unreadable task does not count).
    tasks = {entry.get("task") for entry in entries} - {None}
    # Each run has one best score, of its task's kind. Runs of one kind get that kind's column;
    # runs of several kinds share one "best" column whose cells name their measure.
    kinds = [kind for kind in _BEST if kind in map(_best_kind, entries)] or [_BEST[0]]
    shared = len(kinds) > 1
    headers = ["name", *(["task"] if len(tasks) > 1 else []), "model", "status", "epochs"]
    headers += ["best" if shared else f"best {kinds[0][1]}", "updated"]
    rows = []
    for entry in entries:
        status = entry.get("status")
        style = _STYLES.get(status, "") if isinstance(status, str) else ""
        rows.append(
            [
                _cell(entry.get("name")),
                *([_cell(entry.get("task"))] if len(tasks) > 1 else []),
                _cell(model_label(entry)),
                _cell(status, "unknown", style),
                Text(_epochs(entry)),
                Text(_best(entry, shared)),
                Text(fmt_time(entry.get("updated"))),
            ]
        )
    natural = [max(cell_len(h), *(row[i].cell_len for row in rows)) for i, h in enumerate(headers)]
    if sum(natural) + _frame(len(headers), boxed=True) > width:
        # Narrow: this year's dates lose their year first (an older one its time), then the
        # name folds.
        this_year = time.strftime("%Y")
        for row, entry in zip(rows, entries, strict=True):
            stamp = entry.get("updated")
            short = "%m-%d %H:%M" if fmt_time(stamp, "%Y") == this_year else "%Y-%m-%d"
            row[-1] = Text(fmt_time(stamp, short))
        natural[-1] = max(len("updated"), *(row[-1].cell_len for row in rows))
    while True:
        # Rules between the columns while the name keeps 12 columns; without them when that
        # is what lets every other cell stay whole (runs of several tasks at 80 columns).
        # A name that fits whole without them keeps them off: a folded name cannot be copied
        # into --resume.
        whole = sum(natural) + _frame(len(headers), boxed=False) <= width
        boxed = sum(natural) + _frame(len(headers), boxed=True) <= width or (
            not whole and sum(natural[1:]) + 12 + _frame(len(headers), boxed=True) <= width
        )
        # The name folds first, down to 10 columns; narrower still, the model ("seq2seq+" /
        # "additive"), then the best score and the date break between their words.
        excess = sum(natural) + _frame(len(headers), boxed) - width
        widths = {}
        for i in (0, headers.index("model"), len(headers) - 2, len(headers) - 1):
            words = [headers[i], *(w for row in rows for w in row[i].plain.split())]
            least = 10 if i == 0 else 8 if headers[i] == "model" else max(map(cell_len, words))
            cut = min(max(excess, 0), max(natural[i] - least, 0))
            if i == 0 or cut:
                widths[i], excess = natural[i] - cut, excess - cut
        if excess <= 0 or headers[-1] != "updated":
            break
        # Still too wide (60 columns): the table cut every cell a little, and "48/200" read
        # "48/2…". The date goes instead, whole.
        headers, natural = headers[:-1], natural[:-1]
        rows = [row[:-1] for row in rows]
    if boxed:
        table = Table(title=Text(f"runs in {root}"), title_justify="left")
    else:
        table = Table(
            title=Text(f"runs in {root}"), title_justify="left", box=None, collapse_padding=True
        )
        table.pad_edge = False
    for i, header in enumerate(headers):
        right = header in ("epochs",) or header.startswith("best")
        justify = "right" if right else "left"
        if i in widths:
            table.add_column(header, justify=justify, overflow="fold", width=widths[i])
        else:
            table.add_column(header, justify=justify, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


__all__ = ["run"]
