"""Keys typed in a burst act in order: each lands where the one before it left the focus.

Textual hands a key to the widget that has the focus when the app reads it. A key that moves
the focus does so later: its binding runs once the key has bubbled from the focused widget up
to the screen, and `Widget.focus` itself waits for the app's next turn. Keys already read by
then went to the old focus — over SSH, or typed fast, `/the` on the Dataset screen switched the
token level (t) and lost "he" instead of searching for "the"; `m5` switched screens instead of
setting min_freq to 5; ctrl+o then a path typed the path into the sentence field.

So a key read while the previous one is still working its way through (its widget, the
widgets it bubbles through, the screen, the app) waits, and is handed on once they have
nothing left to do: as a person typing slowly would have it. At a normal typing pace no key
waits; a burst waits a few event-loop turns a key.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from textual import events
from textual.dom import DOMNode

# The longest a key may take to settle before the next goes anyway, counted in the event
# loop's own CPU time: a process kept off the CPU (a busy machine, a loaded SSH box) stalls
# mid-key, and a wall-clock cap then handed the next key to the old focus. The wall-clock cap
# is only for a loop that is never quiet and never busy.
SETTLE_MAX_S = 0.25
SETTLE_WALL_MAX_S = 2.0
SPIN_TURNS = 20  # event-loop turns yielded before waiting in short sleeps


class KeysInOrder:
    """Mixed into the app, ahead of Textual's App in the bases."""

    _key_backlog: deque[events.Key]
    _key_settling: bool = False
    _key_released: list[events.Key]
    _key_task: asyncio.Task | None = None

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)  # type: ignore[misc]
            return
        if not hasattr(self, "_key_backlog"):
            self._key_backlog, self._key_released = deque(), []
        released = any(event is key for key in self._key_released)
        if released:
            self._key_released = [key for key in self._key_released if key is not event]
        elif self._key_settling:
            self._key_backlog.append(event)
            return
        self._key_settling = True
        target = self.focused or self.screen  # type: ignore[attr-defined]
        try:
            await super().on_event(event)  # type: ignore[misc]
        finally:
            # Held: the event loop keeps only a weak reference to a task.
            self._key_task = asyncio.get_running_loop().create_task(self._settle(target))

    async def _settle(self, target: DOMNode | None) -> None:
        """Wait until the key's path (the widget it went to and its ancestors, the app) has
        no messages left, then hand on the next key that waited."""
        loop = asyncio.get_running_loop()
        deadline, wall_deadline = time.thread_time() + SETTLE_MAX_S, loop.time() + SETTLE_WALL_MAX_S
        turns = 0
        while time.thread_time() < deadline and loop.time() < wall_deadline:
            # A key settles in a few turns; past them, short sleeps rather than a busy spin
            # (a redraw or a worker's messages may keep a queue busy for milliseconds).
            await asyncio.sleep(0 if turns < SPIN_TURNS else 0.002)
            turns += 1
            if self._quiet(target):
                break
        if self._key_backlog:
            key = self._key_backlog.popleft()
            self._key_released.append(key)
            self.post_message(key)  # type: ignore[attr-defined]
        else:
            self._key_settling = False

    def _quiet(self, target: DOMNode | None) -> bool:
        node = target
        while node is not None:
            if not node._message_queue.empty():  # type: ignore[attr-defined]
                return False
            node = node.parent
        app = self  # the focus a binding set waits in the app's queue (call_later)
        return app._message_queue.empty()  # type: ignore[attr-defined]


__all__ = ["KeysInOrder"]
