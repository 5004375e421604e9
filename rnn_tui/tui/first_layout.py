"""A screen laid out once when it is first shown, not twice.

Textual lays a screen out as it is shown, and its first layout counts the screen itself among
the widgets just shown, so it posts the screen a Resize to the size it has just been laid out
at; the screen's handler then lays everything out again and redraws the whole screen. For a
modal screen that redraw includes the screen beneath: the help over the Train screen spent
43 ms on it, its opening's longest gap 78–96 ms (51–61 without it, measured alternately). A
Resize to the size of the screen's current layout changes nothing, so it is dropped here; a
real one (the terminal resized: a new size) is handled as before.

For the help and the dialogs only: a mode screen is not yet current during its first layout,
so that second layout is what first draws it (5–10 ms there), and its first run scan waits for
that drawing (screens/side_runs.py).
"""

from __future__ import annotations

from textual import events


class FirstLayoutOnce:
    """Mixed into a Screen subclass, ahead of Textual's Screen in the bases."""

    async def _on_resize(self, event: events.Resize) -> None:
        # `_compositor.size` is the size of the last layout (Textual's attribute; it is pinned).
        if event.size == self._compositor.size:  # type: ignore[attr-defined]
            event.stop()
            event.prevent_default()  # Screen._on_resize: the same layout, done again


__all__ = ["FirstLayoutOnce"]
