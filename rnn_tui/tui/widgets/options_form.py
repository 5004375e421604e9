"""A compact form of a task's options, one row each, built from their one declaration and
checked as typed by each option's own parse: the Classify screen's three parts each have one
(the options of a names run, of a pair of tagger runs, of the bidirectional-LM demo). The rest of
the task's options keep their defaults; the CLI has them all."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from rnn_tui.options import Option
from rnn_tui.tui.widgets.option_input import option_control, option_tooltip, read_field, set_field


class OptionsForm(VerticalScroll, can_focus=False):
    """Rows for `options` (ids `{prefix}-{name}`), a note under them, and a Start button
    (`{prefix}-start`)."""

    DEFAULT_CSS = """
    OptionsForm {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    OptionsForm .form-row {
        height: 1;
    }
    OptionsForm .form-label {
        width: 11;
        padding: 0 1 0 0;
        color: $text-muted;
    }
    OptionsForm Input,
    OptionsForm Select {
        width: 1fr;
    }
    OptionsForm .form-note {
        height: auto;
        margin: 1 0 0 0;
        color: $text-muted;
    }
    OptionsForm Button {
        margin: 1 0 0 11;
    }
    """

    def __init__(
        self, options: Sequence[Option], prefix: str, note: str = "", *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.declared = {option.name: option for option in options}
        self.prefix = prefix
        self.note = note
        self._controls: dict[str, Input | Select] = {}  # by name, kept as composed

    def compose(self) -> ComposeResult:
        for name, option in self.declared.items():
            with Horizontal(classes="form-row"):
                yield Label(option.title, classes="form-label")
                control = option_control(option, f"{self.prefix}-{name}", option_tooltip(option))
                self._controls[name] = control
                yield control
        if self.note:
            yield Static(self.note, classes="form-note", markup=False)
        yield Button("Start ▶", id=f"{self.prefix}-start", variant="success", compact=True)

    def control(self, name: str) -> Input | Select:
        return self._controls[name]

    def first_field(self) -> Widget:
        return self.control(next(iter(self.declared)))

    def set_value(self, name: str, value: object) -> None:
        """Set a field (tests, the palette); a text field takes the value's text."""
        set_field(self.control(name), self.declared[name], value)

    def options(self) -> tuple[dict[str, object], list[str]]:
        """(the fields' values, problems): a problem names each invalid field and its range;
        the values mean something only when there are none. An empty optional field is None
        (left out of the command line)."""
        values: dict[str, object] = {}
        problems: list[str] = []
        for name, option in self.declared.items():
            widget = self.control(name)
            if isinstance(widget, Select):
                values[name] = widget.value
                continue
            value, problem = read_field(widget, option)
            if problem is not None:
                problems.append(problem)
            values[name] = value
        return values, problems


__all__ = ["OptionsForm"]
