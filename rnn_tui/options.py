"""Options, declared once: name, type, default, range, choices, help text.

Every option a user can set — on the command line, in a form of the app, in a run's config — is
one `Option`. The CLI builds its arguments from the declarations (`rnn_tui.cli.parser`), the
app's forms build their fields from them, and the trainer and the decoders check values with
them, so a range or a default is written in exactly one place. The declarations live with what
they configure: training options in `rnn_tui.train.options`, generation and translation options
in `rnn_tui.decode.options`.

Nothing here imports torch or textual (this is the lowest layer of the package).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from rnn_tui.quoting import quoted

__all__ = ["UNSET", "Option", "OptionError", "with_changes"]


class OptionError(ValueError):
    """A value an option cannot take; the message is one line naming the option."""


class _Unset:
    """The marker for "this option has no not-set value" (None is a real not-set value)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()

_KIND_NAMES = {int: "an integer", float: "a number", str: "text", bool: "true or false"}
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@dataclass(frozen=True)
class Option:
    """One option: what it is called, what it takes and what it means.

    `minimum`/`maximum` bound numbers (`open_minimum`/`open_maximum` exclude the bound: lr > 0,
    dropout < 1). `choices` lists the only values allowed; `pattern` (a regular expression)
    admits more text values besides them ("cuda:1"). `unset` is a value outside the range that
    means "not set", shown as `unset_label` ("all", "auto", "random"): -1 tokens is the whole
    corpus, None embed is chosen from the token level. `presets` are (label, value) suggestions a
    form offers for a free text option (the bundled corpora). `label` is the short name a form
    shows; `form=False` keeps an option out of the app's forms; `empty_ok=False` refuses an
    empty (or blank) text; `typed_unset=False` refuses the not-set value typed as a number
    ("-1"), which is then only ever empty or its label, while staying the value inside.
    """

    name: str
    kind: type
    default: object
    help: str
    minimum: float | None = None
    maximum: float | None = None
    open_minimum: bool = False
    open_maximum: bool = False
    choices: tuple = ()
    pattern: str | None = None
    unset: object = UNSET
    unset_label: str = ""
    presets: tuple[tuple[str, object], ...] = ()
    label: str = ""
    noun: str = ""
    hint: str = ""
    metavar: str | None = None
    form: bool = True
    empty_ok: bool = True
    typed_unset: bool = True
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.kind not in _KIND_NAMES:
            raise TypeError(f"option {self.name}: unsupported kind {self.kind!r}")
        if self.default is not UNSET:
            self.check(self.default)  # a declaration whose default is out of range is a bug

    # -- names ----------------------------------------------------------------------------

    @property
    def flag(self) -> str:
        """The command-line flag: batch_size → --batch-size."""
        return "--" + self.name.replace("_", "-")

    @property
    def title(self) -> str:
        """The label a form shows."""
        return self.label or self.name.replace("_", " ")

    @property
    def optional(self) -> bool:
        """Whether the option has a not-set value (an empty form field)."""
        return self.unset is not UNSET

    # -- what it takes --------------------------------------------------------------------

    def describe(self, typed: bool = False) -> str:
        """What a valid value is, for messages: "an integer in [1, 4096]", "a number > 0",
        "one of sgd, adam"; with its not-set value ("…, or -1 for all"; "or empty for all"
        where the value is `typed` into a field, whose empty text is the not-set value)."""
        if self.choices:
            text = "one of " + ", ".join(str(c) for c in self.choices)
            if self.pattern:
                text += " (or " + self.extra.get("pattern_help", self.pattern) + ")"
        elif self.kind in (int, float):
            text = _KIND_NAMES[self.kind] + _range_text(self)
        elif self.pattern:
            text = self.extra.get("pattern_help", self.pattern)
        else:
            text = ("" if self.empty_ok else "non-empty ") + _KIND_NAMES[self.kind]
        if self.optional and not typed and not self.typed_unset:
            text += f", or {self.unset_label}"  # its name is what can be typed: "all"
        elif self.optional:
            shown = "empty" if typed or self.unset is None else repr(self.unset)
            text += f", or {shown} for {self.unset_label or 'the default'}"
        return text

    def check(self, value: object) -> object:
        """`value` if this option can take it, else OptionError: "hidden must be an integer in
        [1, 16384] (got 0)". An int is accepted where a number is asked for."""
        if self.optional and _is_unset(value, self.unset):
            return self.unset
        if not self._valid(value):
            raise OptionError(self._refusal(value))
        return float(value) if self.kind is float else value

    def _refusal(self, value: object) -> str:
        what = self.noun or self.name
        if self.kind is float and isinstance(value, int | float) and _tiny(value):
            return (
                f"{what} must be {self.describe()} (got {value:g}: a denormal number, under "
                f"{SMALLEST_NORMAL:.1e}, which the trainer's flush-to-zero reads as 0)"
            )
        if isinstance(value, str) and not _utf8(value):
            # Bytes that are not UTF-8 (a file name from another system): saved in the run's
            # JSON they could not be written, and printed they are not text.
            return f"{what} {quoted(value)} holds bytes that are not UTF-8 text"
        if self.choices and isinstance(value, str):
            allowed = ", ".join(str(c) for c in self.choices)
            if self.pattern:
                allowed += ", " + self.extra.get("pattern_help", self.pattern)
            text = f"unknown {what} {quoted(value)} (choose from {allowed})"
        else:
            text = f"{what} must be {self.describe()} (got {quoted(value)})"
        return f"{text}: {self.hint}" if self.hint else text

    def _valid(self, value: object) -> bool:
        kind = self.kind
        if kind is bool:
            return isinstance(value, bool)
        if isinstance(value, bool):
            return False
        if kind is int and not isinstance(value, int):
            return False
        if kind is float and not (isinstance(value, int | float) and math.isfinite(value)):
            return False
        if kind is float and _tiny(value):
            return False
        if kind is str and not isinstance(value, str):
            return False
        if kind is str and not _utf8(value):
            return False
        if kind is str and not self.empty_ok and not value.strip():
            return False
        if kind is str and self.pattern and not self.choices:
            # A pattern alone is the whole rule (--horizons): the CLI, a form and the trainer
            # then refuse the same texts.
            return _matches(self.pattern, value)
        if self.choices and value not in self.choices:
            return bool(self.pattern) and isinstance(value, str) and _matches(self.pattern, value)
        if kind in (int, float):
            return _in_range(self, value)
        return True

    def parse(self, text: str) -> object:
        """The value of `text` as typed on a command line or in a form, checked; OptionError
        (one line) otherwise. An empty text is the not-set value where there is one."""
        raw = text.strip() if self.kind is not str else text
        if not raw.strip() and self.optional:
            return self.unset
        if self.optional and self.kind is not str and self._names_unset(raw):
            return self.unset  # "--max-tokens all", as --help's "(default: all)" reads
        try:
            if self.kind in (int, float) and (not raw.isascii() or "_" in raw):
                # Python reads "１２８", "٣" and "1_000" as numbers; a form field showing them
                # would hold another text than the value used.
                raise ValueError
            if self.kind is int:
                value: object = int(raw)
            elif self.kind is float:
                value = float(raw)
            elif self.kind is bool:
                lowered = raw.strip().lower()
                if lowered not in _TRUE + _FALSE:
                    raise ValueError
                value = lowered in _TRUE
            else:
                value = raw
        except ValueError:
            raise OptionError(self._refusal(text)) from None
        if self.optional and not self.typed_unset and _is_unset(value, self.unset):
            raise OptionError(self._refusal(text))  # a hidden sentinel, not a value to type
        if not (self.optional and _is_unset(value, self.unset)) and not self._valid(value):
            # The text as typed, not as converted; a tiny number says why it is refused.
            tiny = self.kind is float and _tiny(value)  # type: ignore[arg-type]
            raise OptionError(self._refusal(value if tiny else text))
        return self.check(value)

    def _names_unset(self, raw: str) -> bool:
        """Whether `raw` is the one-word name of the not-set value ("all", "auto", "num_steps")."""
        label = self.unset_label
        return label.replace("_", "").isalpha() and raw.strip().lower() == label.lower()

    def text(self, value: object) -> str:
        """How a value reads in a form field ("" for the not-set value)."""
        if self.optional and _is_unset(value, self.unset):
            return ""
        if isinstance(value, float):
            return f"{value:g}"
        return "" if value is None else str(value)


SMALLEST_NORMAL = sys.float_info.min  # 2.2e-308: below it a float is denormal


def _tiny(value: float) -> bool:
    """Whether `value` is not 0 but denormal: the trainer flushes denormals to zero, after which
    even the option's own range check reads `--lr 5e-324` as 0."""
    return value != 0 and abs(value) < SMALLEST_NORMAL


def _utf8(text: str) -> bool:
    """Whether `text` is UTF-8 text: no lone surrogates, which is how Python carries the bytes
    of a command-line argument or a file name that are not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def with_changes(option: Option, **changes) -> Option:
    """A variant of a declaration (another default or help text for one task)."""
    return replace(option, **changes)


def by_name(options: Iterable[Option]) -> dict[str, Option]:
    return {option.name: option for option in options}


def _is_unset(value: object, unset: object) -> bool:
    # -1 read back from JSON is another int object: ints compare by value (a bool never does).
    return value is unset or (type(value) is int and type(unset) is int and value == unset)


def _matches(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def _in_range(option: Option, value: float) -> bool:
    low, high = option.minimum, option.maximum
    if low is not None and (value <= low if option.open_minimum else value < low):
        return False
    if high is not None and (value >= high if option.open_maximum else value > high):
        return False
    return True


def _number(value: float, kind: type) -> str:
    return f"{int(value):,}" if kind is int else f"{value:g}"


def _range_text(option: Option) -> str:
    low, high = option.minimum, option.maximum
    if low is None and high is None:
        return ""
    if high is None:
        return f" {'>' if option.open_minimum else '≥'} {_number(low, option.kind)}"
    if low is None:
        return f" {'<' if option.open_maximum else '≤'} {_number(high, option.kind)}"
    left = "(" if option.open_minimum else "["
    right = ")" if option.open_maximum else "]"
    return f" in {left}{_number(low, option.kind)}, {_number(high, option.kind)}{right}"
