"""A text field whose editing keys act in the order they were typed.

Textual's Input inserts a typed character when its key event reaches the field, but its editing
keys (backspace, delete, the arrows, home and end, enter) are bindings, found only once the key
has bubbled up from the field to the app. While the event loop is busy (a 100 MB corpus loading
beside it), keys arrive in bursts and the two paths reorder them: 25 backspaces and then a path,
typed into the Dataset screen's file field, left "/tmp/h/ids_1txt" or "/tmp/h/ids_100.t" — the
backspaces' actions ran after the path's first characters were in, and deleted them. This field
runs its own bindings as each key reaches it, in order with the characters; keys it does not
bind (tab, escape, the screen keys) go on bubbling as before.
"""

from __future__ import annotations

import re
from typing import Any

from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input

# Every printable ASCII character by its key's name. Textual finds the character of most names
# itself, not of "slash", "plus", "minus", "at", "backslash" and "underscore": a screen's "/"
# binding was then not known to be typed in a field, and its footer showed "/ Search" there.
TYPED = {_character_to_key(chr(code)): chr(code) for code in range(32, 127)}


# The characters a field holds at most. Textual's Input measures its whole value at each key:
# after a paste of a million characters every key held the event loop 105-145 ms (100,000:
# 25-29 ms).
MAX_CHARS = 100_000

# What a paste holds that a one-line field cannot: a terminal's colour codes (text copied from a
# coloured log) and other control characters.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def pasted_lines(text: str) -> list[str]:
    """The lines of a paste, colour codes and control characters taken out and tabs read as
    spaces: one line as it is (a character model's prefix "the time " ends in a space it reads),
    else the non-blank ones without their surrounding blanks."""
    lines = _CONTROLS.sub("", _ANSI.sub("", text).replace("\t", " ")).splitlines()
    if len(lines) == 1:
        return lines
    kept = [line for line in lines if line.strip()]
    return kept if len(kept) == 1 else [line.strip() for line in kept]


class TextField(Input):
    """An Input whose bindings act in key order (module docstring), and which keeps every line of
    a paste: Input keeps the first (a pasted "\nhello" inserted nothing) and says nothing."""

    JOIN = " "  # what joins pasted lines
    TELL_JOINED = True  # whether joining them is news (a list of sentences expects it)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_CHARS)  # a key past it is refused, as Input does
        super().__init__(*args, **kwargs)

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # Input's own handler would insert the first line again
        event.stop()
        lines = pasted_lines(event.text)
        if not lines:
            return
        if len(lines) > 1 and self.TELL_JOINED:
            self.notify(
                f"{len(lines):,} pasted lines joined into one: the field holds one line",
                markup=False,
            )
        line = self.JOIN.join(lines)
        selection = self.selection
        room = MAX_CHARS - len(self.value) + abs(selection.end - selection.start)
        if len(line) > room:
            line = line[: max(room, 0)]
            self.notify(
                f"the paste was cut to {len(line):,} characters: a field holds "
                f"{MAX_CHARS:,} at most",
                severity="warning",
                markup=False,
            )
        if selection.is_empty:
            self.insert_text_at_cursor(line)
        else:
            self.replace(line, *selection)

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return super().check_consume_key(key, character or TYPED.get(key))

    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)


__all__ = ["MAX_CHARS", "TextField"]
