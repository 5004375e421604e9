"""A one-line slider: a label, a track with a knob, the value. ←/→ step it, home/end go to the
ends, a click or a drag on the track sets it (the smoothing slider of the Train screen)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class Slider(Widget):
    """A value in [minimum, maximum] in steps of `step`, drawn as `label ━━━━●──── value`."""

    DEFAULT_CSS = """
    Slider {
        height: 1;
        width: 1fr;
    }
    Slider:focus {
        background-tint: $foreground 8%;
    }
    """

    can_focus = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,minus", "step(-1)", "Less", show=False),
        Binding("right,plus,equals_sign", "step(1)", "More", show=False),
        Binding("home", "to_end(0)", "Off", show=False),
        Binding("end", "to_end(1)", "Most", show=False),
    ]

    value: reactive[float] = reactive(0.0)

    class Changed(Message):
        """The value was changed by the user."""

        def __init__(self, slider: Slider, value: float) -> None:
            super().__init__()
            self.slider = slider
            self.value = value

        @property
        def control(self) -> Slider:
            return self.slider

    def __init__(
        self,
        label: str,
        value: float,
        *,
        minimum: float = 0.0,
        maximum: float = 1.0,
        step: float = 0.05,
        id: str | None = None,
        tooltip: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.minimum, self.maximum, self.step = minimum, maximum, step
        self.set_reactive(Slider.value, self._snap(value))
        if tooltip:
            self.tooltip = tooltip
        self._dragging = False

    def _snap(self, value: float) -> float:
        """`value` on the grid of steps, inside the range."""
        steps = round((value - self.minimum) / self.step)
        return min(self.maximum, max(self.minimum, round(self.minimum + steps * self.step, 6)))

    def set_value(self, value: float) -> None:
        """Move the knob to `value` and tell the screen (Changed) if that changed it."""
        value = self._snap(value)
        if value != self.value:
            self.value = value
            self.post_message(self.Changed(self, value))

    # -- drawing ----------------------------------------------------------------------------

    def _track(self) -> tuple[int, int]:
        """Where the track starts and how many cells it has."""
        start = len(self.label) + 1
        return start, max(3, self.size.width - start - 6)

    def render(self) -> Text:
        start, cells = self._track()
        share = (self.value - self.minimum) / ((self.maximum - self.minimum) or 1)
        knob = round(share * (cells - 1))
        text = Text(no_wrap=True, overflow="crop")
        text.append(self.label + " ", style="bold" if self.has_focus else "")
        text.append("━" * knob, style="bold")
        text.append("●", style="bold")
        text.append("─" * (cells - knob - 1), style="dim")
        text.append(f" {self.value:.2f}" if self.value else " off ")
        return text

    # -- input ------------------------------------------------------------------------------

    def action_step(self, direction: int) -> None:
        self.set_value(self.value + direction * self.step)

    def action_to_end(self, end: int) -> None:
        self.set_value(self.maximum if end else self.minimum)

    def _value_at(self, x: int) -> float:
        start, cells = self._track()
        share = (x - start) / max(1, cells - 1)
        return self.minimum + min(1.0, max(0.0, share)) * (self.maximum - self.minimum)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._dragging = True
        self.capture_mouse()
        self.set_value(self._value_at(event.x))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.set_value(self._value_at(event.x))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()


__all__ = ["Slider"]
