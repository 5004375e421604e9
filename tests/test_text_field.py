"""Text fields act on keys in the order they were typed, even when they arrive in a burst."""

from __future__ import annotations

import pytest
from textual import events
from textual.app import App, ComposeResult

from rnn_tui.tui.widgets.text_field import TextField

# A burst as a busy event loop receives it: every key queued before the first is handled.
BURST = [
    *["backspace"] * 6,
    *"/tmp/h/ids",
    "backspace",
    "left",
    "left",
    "delete",
    *"_100.txt",
    "end",
    *"!",
]


class FieldApp(App[None]):
    def __init__(self, field_class: type) -> None:
        super().__init__()
        self.field_class = field_class
        self.submitted: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.field_class("abc", id="field")

    def on_input_submitted(self, event) -> None:
        self.submitted.append(event.value)


def key_event(key: str) -> events.Key:
    character = key if len(key) == 1 else None
    return events.Key(key, character)


@pytest.mark.parametrize("keys, value", [(BURST, "/tmp/h/_100.txtd!"), (["x", "enter"], "x")])
async def test_a_burst_of_keys_edits_the_field_in_order(keys, value):
    app = FieldApp(TextField)
    async with app.run_test() as pilot:
        field = app.query_one("#field", TextField)
        field.focus()
        field.value = ""
        await pilot.pause()
        for key in keys:  # queued at once, as keys are while the loop waits on other work
            app.post_message(key_event(key))
        await pilot.pause()
        assert field.value == value
        if "enter" in keys:
            assert app.submitted == [value]


@pytest.mark.parametrize(
    ("pasted", "value", "told"),
    [
        # Input kept the first line: a pasted paragraph lost its later lines without a word,
        # and a paste starting with a line end inserted nothing.
        ("first line\nsecond line\r\nthird", "first line second line third", 3),
        ("\nhello\n", "hello", 0),
        # One line is kept as it is: a character model reads the prefix's last space.
        ("the time ", "the time ", 0),
        (" ", " ", 0),
        # A terminal's colour codes and control characters are not text a field can show.
        ("ab\x1b[31mRED\x1b[0mxy\tz\x07", "abREDxy z", 0),
        ("\n\n", "", 0),
    ],
)
async def test_a_paste_keeps_every_line_and_says_when_they_are_joined(pasted, value, told):
    app = FieldApp(TextField)
    notified: list[str] = []
    app.notify = lambda message, **kwargs: notified.append(message)
    async with app.run_test() as pilot:
        field = app.query_one("#field", TextField)
        field.focus()
        field.value = ""
        await pilot.pause()
        field.post_message(events.Paste(pasted))
        await pilot.pause()
        assert field.value == value
        joined = f"{told} pasted lines joined into one: the field holds one line"
        assert notified == ([joined] if told else [])


async def test_a_paste_past_the_fields_room_is_cut_and_said(monkeypatch):
    """A million pasted characters made each key after it hold the event loop 105-145 ms:
    a field holds MAX_CHARS, a paste is cut to the room left (a selection it replaces counts
    as room) and says so, and a key past it is refused."""
    from rnn_tui.tui.widgets import text_field

    monkeypatch.setattr(text_field, "MAX_CHARS", 10)
    app = FieldApp(text_field.TextField)
    notified: list[str] = []
    app.notify = lambda message, **kwargs: notified.append(message)
    async with app.run_test() as pilot:
        field = app.query_one("#field", text_field.TextField)
        field.focus()
        field.value = "abc"
        field.cursor_position = 3
        await pilot.pause()
        field.post_message(events.Paste("0123456789"))
        await pilot.pause()
        assert field.value == "abc0123456"
        assert notified == ["the paste was cut to 7 characters: a field holds 10 at most"]
        await pilot.press("z")
        assert field.value == "abc0123456"  # full
        field.selection = field.selection.__class__(0, 3)
        field.post_message(events.Paste("xyz"))
        await pilot.pause()
        assert field.value == "xyz0123456" and len(notified) == 1  # the selection's room
