"""The checkpoint drop-down the Generate and Translate consoles share: discovered checkpoints
(rnn_tui.runs.discover) followed by a "Path…" entry for typing any checkpoint or run directory."""

from __future__ import annotations

from textual.message_pump import MessagePump
from textual.widgets import Select

PATH = "path"  # the drop-down's "type a path" entry


def fill_checkpoint_select(
    owner: MessagePump, select: Select, entries: list[dict], typed_path: str
) -> str:
    """Put `entries` (then "Path…") into `select` without posting Select.Changed, keep the
    current choice while it is still offered (or "Path…" with a path typed), else take the
    first checkpoint (or "Path…" when there is none); return the value now selected."""
    current = select.value
    offered = {entry["path"] for entry in entries}
    if current in offered or (current == PATH and typed_path):
        value = current
    else:
        value = entries[0]["path"] if entries else PATH
    with owner.prevent(Select.Changed):
        select.set_options(
            [(entry["label"], entry["path"]) for entry in entries] + [("Path…", PATH)]
        )
        select.value = value
    return value


__all__ = ["PATH", "fill_checkpoint_select"]
