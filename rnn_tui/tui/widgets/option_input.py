"""A console's one-line field for a declared option (rnn_tui.options.Option).

The field checks what is typed with the option's own `parse`, so a value is marked invalid as
soon as it is typed exactly when pressing enter would refuse it, and its tooltip states the
option's help and range from the declaration: neither is restated here.
"""

from __future__ import annotations

from textual.validation import ValidationResult, Validator
from textual.widgets import Input

from rnn_tui.options import Option, OptionError


class OptionValidator(Validator):
    """Valid when `option.parse` accepts the text; the failure is parse's one-line message."""

    def __init__(self, option: Option) -> None:
        super().__init__(failure_description=f"{option.title} must be {option.describe()}")
        self.option = option

    def validate(self, value: str) -> ValidationResult:
        try:
            self.option.parse(value)
        except OptionError as exc:
            return self.failure(str(exc), value)
        return self.success()


def option_tooltip(option: Option, note: str = "") -> str:
    """ "Tokens to generate: an integer in [1, 100,000]" and the note after a "; "."""
    text = f"{option.help[:1].upper()}{option.help[1:]}: {option.describe()}"
    return f"{text}; {note}" if note else text


def option_input(
    option: Option,
    *,
    id: str,
    value: str | None = None,
    note: str = "",
    placeholder: str = "",
    disabled: bool = False,
) -> Input:
    """A compact Input for `option`, showing `value` (default: the option's default)."""
    return Input(
        option.text(option.default) if value is None else value,
        placeholder=placeholder,
        id=id,
        compact=True,
        disabled=disabled,
        validators=[OptionValidator(option)],
        tooltip=option_tooltip(option, note),
    )


__all__ = ["OptionValidator", "option_input", "option_tooltip"]
