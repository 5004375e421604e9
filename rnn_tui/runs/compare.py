"""Comparing runs, as TensorBoard's and W&B's run tables do: each run's best scores side by side,
sorted by any of them, with the settings that differ between the runs compared.

Plain data over `list_runs` entries (no Textual): the Train screen's runs table draws it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rnn_tui.runs.format import fmt_number


@dataclass(frozen=True)
class Column:
    """One fixed column: the entry's key, its heading, and which way is better (None: text)."""

    key: str
    title: str
    better: str | None = None  # "low" or "high": the direction a sort by it starts with

    def value(self, entry: Mapping) -> object:
        if self.key == "epoch":
            return entry.get("epoch")
        return entry.get(self.key)

    def text(self, entry: Mapping) -> str:
        value = self.value(entry)
        if self.key == "epoch":
            total = entry.get("epochs")
            return f"{value if value is not None else '?'}/{total if total is not None else '?'}"
        if value is None:
            return "—"
        if self.key == "tokens_per_s":
            return f"{value:,.0f}"
        if self.key == "best_bleu":
            return f"{value:.1f}"
        if isinstance(value, float):
            return fmt_number(value)
        return str(value)


COLUMNS = (
    Column("name", "run"),
    Column("model", "model"),
    Column("status", "status"),
    Column("epoch", "epochs", "high"),
    Column("best_val_ppl", "best val ppl", "low"),
    Column("best_bleu", "best BLEU", "high"),
    Column("best_macro_f1", "macro-F1", "high"),
    Column("best_rmse", "best RMSE", "low"),  # forecast runs: held-out, the series' units
    # "med": the median of its epochs (the header shows the last epoch's); short, so the column
    # fits beside the others at 80 columns
    Column("tokens_per_s", "med tok/s", "high"),
)
SORTABLE = tuple(c for c in COLUMNS if c.better is not None)
BY_KEY = {c.key: c for c in COLUMNS}


def differing(entries: Sequence[Mapping]) -> list[str]:
    """The settings whose values are not the same in every entry's config (a setting one run
    lacks counts as a different value), in the order they first appear."""
    configs = [e.get("config") or {} for e in entries]
    if len(configs) < 2:
        return []
    keys = list(dict.fromkeys(k for c in configs for k in c))
    missing = object()

    def kind(value: object) -> str:
        # 1 and True are equal in Python, yet a setting that turned from a number into a switch
        # has changed; 1 and 1.0 are the same number.
        if isinstance(value, bool):
            return "bool"
        return "number" if isinstance(value, int | float) else type(value).__name__

    out = []
    for key in keys:
        values = [c.get(key, missing) for c in configs]
        first = values[0]
        if any(
            (v is missing) != (first is missing) or kind(v) != kind(first) or v != first
            for v in values
        ):
            out.append(key)
    return out


def setting_text(entry: Mapping, key: str) -> str:
    """A run's value of one setting as the table shows it ("—" where it has none)."""
    config = entry.get("config") or {}
    if key not in config:
        return "—"
    value = config[key]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt_number(value)
    return str(value)


def sort_entries(entries: Sequence[Mapping], key: str, descending: bool) -> list[Mapping]:
    """`entries` ordered by `key` (a fixed column or a setting); runs without a value last, in
    either direction; ties keep the listing's order (newest first)."""
    column = BY_KEY.get(key)

    def value(entry: Mapping) -> object:
        if column is not None:
            return column.value(entry)
        return (entry.get("config") or {}).get(key)

    present = [e for e in entries if value(e) is not None]
    absent = [e for e in entries if value(e) is None]
    numbers = all(
        isinstance(value(e), int | float) and not isinstance(value(e), bool) for e in present
    )
    if numbers:
        present.sort(key=lambda e: value(e), reverse=descending)
    else:
        present.sort(key=lambda e: str(value(e)).lower(), reverse=descending)
    return [*present, *absent]


def best_first(key: str) -> bool:
    """The direction a sort by `key` starts in: descending where higher is better."""
    column = BY_KEY.get(key)
    return column is not None and column.better == "high"


__all__ = [
    "BY_KEY",
    "COLUMNS",
    "SORTABLE",
    "Column",
    "best_first",
    "differing",
    "setting_text",
    "sort_entries",
]
