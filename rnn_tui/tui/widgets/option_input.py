"""A console's one-line field for a declared option (rnn_tui.options.Option).

The field checks what is typed with the option's own `parse`, so a value is marked invalid as
soon as it is typed exactly when pressing enter would refuse it, and its tooltip states the
option's help and range from the declaration: neither is restated here.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Select

from rnn_tui.options import Option, OptionError
from rnn_tui.train.options import FILE
from rnn_tui.tui.widgets.text_field import TextField


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
        problem = checked(self.option, value)
        return self.failure(problem, value) if problem else self.success()


def checked(option: Option, text: str) -> str | None:
    """The declaration's own further check of a parsed `text` (an encoding Python can read
    text with), as the backend makes it after a start: its problem, or None."""
    check = option.extra.get("check")
    return check(text.strip()) if check is not None and text.strip() else None


def field_problem(option: Option, text: str) -> str:
    """The line a form shows for a field whose `text` is refused: its range, or what the
    further check says (an encoding's range is "non-empty text", which says nothing)."""
    try:
        option.parse(text)
    except OptionError:
        return f"{option.title}: {option.describe(typed=True)}"
    return f"{option.title}: {checked(option, text) or option.describe(typed=True)}"


def problems_line(problems: list[str], whole: int = 2) -> str:
    """One notification for a form's invalid fields: the first `whole` problems with their
    ranges, the rest by field name only (each is marked red in the form). Every range in
    full ran past the bottom of an 80 × 24 screen, where the last ones could not be read."""
    if len(problems) <= whole + 1:
        return "; ".join(problems)
    names = [problem.split(":", 1)[0] for problem in problems[whole:]]
    return "; ".join(problems[:whole]) + f"; and {len(names)} more: " + ", ".join(names)


def help_sentence(option: Option) -> str:
    """The option's help as a sentence: a plain English first word capitalised ("tokens to
    generate" → "Tokens to generate"); a symbol (τ, θ, T) or a named value defined after a
    colon ("mlp: the AR model …", "on: …") kept as written, where a capital changes its
    meaning (Τ, Greek capital tau, reads as T)."""
    return sentence(option.help)


def sentence(text: str) -> str:
    """`text` with its first word capitalised where that is a plain English word (help_sentence)."""
    first = text.split(" ", 1)[0]
    if first[:1].isascii() and first[:1].islower() and not first.endswith(":"):
        return text[:1].upper() + text[1:]
    return text


def option_tooltip(option: Option, note: str = "") -> str:
    """ "Tokens to generate: an integer in [1, 100,000]" and the note after a "; "."""
    text = f"{help_sentence(option)}: {option.describe()}"
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
    return TextField(
        option.text(option.default) if value is None else value,
        placeholder=placeholder,
        id=id,
        compact=True,
        disabled=disabled,
        validators=[OptionValidator(option)],
        tooltip=option_tooltip(option, note),
    )


BOOLEAN_CHOICES = (("no", False), ("yes", True))


def option_control(
    option: Option,
    widget_id: str,
    tooltip: str | None = None,
    extra: Sequence[tuple[str, object]] = (),
) -> Input | Select:
    """A form's control for `option`: a drop-down for a switch, choices or presets (presets
    end with "File…"), else a text field checked by the option's own parse. `extra`: more
    (label, value) entries for a drop-down of choices (the GPUs found, for a device)."""
    tooltip = option_tooltip(option) if tooltip is None else tooltip
    if option.kind is bool:
        choices: tuple = BOOLEAN_CHOICES
    elif option.presets:
        choices = (*option.presets, ("File…", FILE))
    else:
        choices = (*((str(c), c) for c in option.choices), *extra)
    if choices:
        return Select(
            choices,
            value=option.default,
            allow_blank=False,
            compact=True,
            id=widget_id,
            tooltip=tooltip,
        )
    return TextField(
        option.text(option.default),
        placeholder=option.unset_label if option.optional else "",
        id=widget_id,
        compact=True,
        validators=[OptionValidator(option)],
        valid_empty=option.optional,
        tooltip=tooltip,
    )


def set_field(widget: Input | Select, option: Option, value: object) -> None:
    """Put `value` in a form's control: a drop-down takes it as is, a text field takes its text
    (a string as typed, anything else as the option writes it)."""
    if isinstance(widget, Select):
        widget.value = value
    else:
        widget.value = value if isinstance(value, str) else option.text(value)


def read_field(widget: Input, option: Option) -> tuple[object, str | None]:
    """(value, problem) of a form's text field: the parsed value (None for an empty optional
    field: the option's not-set value), or the problem naming the field and its range."""
    text = widget.value.strip()
    result = widget.validate(text)
    if result is not None and not result.is_valid:
        return None, field_problem(option, text)
    value = option.parse(text)
    if option.optional and option.text(value) == "":
        # Empty, or the not-set value's name ("all"): left out of the command line, as the
        # trainer refuses its inner value (-1) typed as a flag.
        return None, None
    return value, None


__all__ = [
    "BOOLEAN_CHOICES",
    "FILE",
    "OptionValidator",
    "checked",
    "field_problem",
    "option_control",
    "option_input",
    "help_sentence",
    "option_tooltip",
    "problems_line",
    "read_field",
    "set_field",
]
