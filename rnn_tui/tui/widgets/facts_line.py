"""The checkpoint pickers' facts line, fitted to its width.

Textual wraps a long line at any space: at 80 columns the facts of fra-eng-attention ended their
second line with a dangling "·" and the path, on a third line, was cut off. Here the facts are
broken only between parts, and the checkpoint's path always ends the last line, cut at its
start ("…/name.safetensors") when it does not fit whole; the parts that leave it no room
(the last ones, the least telling) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual.widgets import Static

SEPARATOR = " · "
LINES = 2  # the picker's facts take two lines at most


def _rows(parts: Sequence[str], width: int) -> list[list[str]]:
    """`parts` packed into rows of at most `width` cells, broken only between parts."""
    rows: list[list[str]] = []
    for part in parts:
        if rows and cell_len(SEPARATOR.join([*rows[-1], part])) <= width:
            rows[-1].append(part)
        else:
            rows.append([part])
    return rows


def fitted_facts(parts: Sequence[str], path: str, width: int, lines: int = LINES) -> str:
    """`parts` and then `path` joined by " · " in at most `lines` rows of `width` cells (see
    the module docstring); `path` may be ""."""
    whole = _rows([*parts, path] if path else parts, width)
    if not path or (len(whole) <= lines and cell_len(path) <= width):
        return "\n".join(SEPARATOR.join(row) for row in whole[:lines])
    head = _rows(parts, width)[: lines - 1]
    # The path's room: whole, or at least its file name after "…/".
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    needed = min(cell_len(path), cell_len(name) + 2)
    last: list[str] = []
    for part in parts[sum(len(row) for row in head) :]:
        if cell_len(SEPARATOR.join([*last, part]) + SEPARATOR) + needed > width:
            break
        last.append(part)
    prefix = SEPARATOR.join(last) + SEPARATOR if last else ""
    room = max(width - cell_len(prefix), 2)
    shown = path if cell_len(path) <= room else "…" + path[len(path) - (room - 1) :]
    return "\n".join([*(SEPARATOR.join(row) for row in head), prefix + shown])


class FactsLine(Static):
    """Facts about a checkpoint (parts and its path), fitted again when the width changes;
    `show_text` shows a plain message instead."""

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None):
        super().__init__(text, id=id, classes=classes, markup=False)
        self._parts: tuple[str, ...] = (text,) if text else ()
        self._path = ""
        self._text = text

    def show(self, parts: Sequence[str], path: str = "") -> None:
        self._parts, self._path = tuple(parts), path
        self._fit()

    def show_text(self, text: str) -> None:
        self.show((text,) if text else ())

    @property
    def shown(self) -> tuple[tuple[str, ...], str]:
        """(parts, path) as given, to be shown again with `show`."""
        return self._parts, self._path

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        width = self.size.width
        if width > 0 and (self._path or len(self._parts) > 1):
            text = fitted_facts(self._parts, self._path, width)
        else:  # before the first layout, or a message: Textual wraps it
            text = SEPARATOR.join([*self._parts, self._path] if self._path else self._parts)
        if text != self._text:
            self._text = text
            self.update(text)


__all__ = ["LINES", "SEPARATOR", "FactsLine", "fitted_facts"]
