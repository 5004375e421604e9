"""The Train screen's form: `rnn-tui train`'s options, one compact row each, checked as typed.

Every text field carries Textual validators, so a bad value is marked as soon as it is typed;
`options()` re-checks them all when Start is pressed and returns the option dict for
`rnn_tui.tui.process.train_command`, or the list of problems. Defaults are the trainer's own
(`LMConfig`), so the form starts exactly where `rnn-tui train` without options would.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.validation import Function, Validator
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

# The trainer's choices (rnn_tui.models.registry.MODEL_NAMES, trainer.OPTIMIZERS, ...): repeated
# here because importing those modules loads torch; a test checks they agree.
TASKS = (("language model", "lm"),)
FILE = "file"
CORPORA = (
    ("The Time Machine", "timemachine"),
    ("fra-eng English", "fra-eng-en"),
    ("fra-eng French", "fra-eng-fr"),
    ("File…", FILE),
)
MODELS = ("rnn-scratch", "gru-scratch", "lstm-scratch", "rnn", "gru", "lstm")
OPTIMIZERS = ("sgd", "adam")
SAMPLINGS = ("sequential", "random")
DEVICES = ("auto", "cpu", "cuda")
MAX_VAL_FRACTION = 0.5
# Options a from-scratch model does not have (one layer, one direction, one-hot input).
CONCISE_ONLY = ("layers", "bidirectional", "embed", "dropout")


def _checked(test: Callable[[float], bool], integer: bool, description: str) -> Validator:
    def check(text: str) -> bool:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            return False
        return math.isfinite(value) and test(value)

    return Function(check, description)


@dataclass(frozen=True)
class Field:
    """One option: a drop-down when `choices` is given, else a validated text field."""

    name: str  # the trainer's option name (batch_size → --batch-size)
    label: str
    default: object
    help: str
    choices: tuple[tuple[str, object], ...] = ()
    validator: Validator | None = None
    integer: bool = False
    blank: str = ""  # when set, an empty field is valid and means this (the option's default)


def _choices(names: tuple[str, ...]) -> tuple[tuple[str, object], ...]:
    return tuple((name, name) for name in names)


FIELDS: tuple[Field, ...] = (
    Field("task", "task", "lm", "What to train (language models for now)", TASKS),
    Field("corpus", "corpus", "timemachine", "Text to train on", CORPORA),
    Field("token", "token", "char", "Character- or word-level tokens", _choices(("char", "word"))),
    Field(
        "model",
        "model",
        "lstm",
        "*-scratch: the seeds' equations; else nn.RNN/GRU/LSTM",
        _choices(MODELS),
    ),
    Field(
        "layers",
        "layers",
        1,
        "Stacked recurrent layers (concise models)",
        validator=_checked(lambda v: v >= 1, True, "an integer ≥ 1"),
        integer=True,
    ),
    Field(
        "bidirectional",
        "bidirect.",
        False,
        "Also read the sequence backwards (concise)",
        (("no", False), ("yes", True)),
    ),
    Field(
        "hidden",
        "hidden",
        256,
        "Hidden units per layer",
        validator=_checked(lambda v: v >= 1, True, "an integer ≥ 1"),
        integer=True,
    ),
    Field(
        "embed",
        "embed",
        None,
        "Embedding size; 0 one-hot; empty: 0 for char, 128 for word",
        validator=_checked(lambda v: v >= 0, True, "an integer ≥ 0, or empty"),
        integer=True,
        blank="auto",
    ),
    Field(
        "dropout",
        "dropout",
        0.0,
        "Dropout between layers, in [0, 1)",
        validator=_checked(lambda v: 0 <= v < 1, False, "a number in [0, 1)"),
    ),
    Field(
        "batch_size",
        "batch",
        32,
        "Subsequences per minibatch",
        validator=_checked(lambda v: v >= 1, True, "an integer ≥ 1"),
        integer=True,
    ),
    Field(
        "num_steps",
        "num_steps",
        35,
        "Time steps per subsequence (truncated BPTT length)",
        validator=_checked(lambda v: v >= 1, True, "an integer ≥ 1"),
        integer=True,
    ),
    Field(
        "lr",
        "lr",
        1.0,
        "Learning rate (the book: 1 with SGD)",
        validator=_checked(lambda v: v > 0, False, "a number > 0"),
    ),
    Field("optimizer", "optimizer", "sgd", "SGD as the book, or Adam", _choices(OPTIMIZERS)),
    Field(
        "epochs",
        "epochs",
        50,
        "Passes over the training tokens",
        validator=_checked(lambda v: v >= 1, True, "an integer ≥ 1"),
        integer=True,
    ),
    Field(
        "clip",
        "clip θ",
        1.0,
        "Gradient clipping threshold θ",
        validator=_checked(lambda v: v > 0, False, "a number > 0"),
    ),
    Field(
        "sampling",
        "sampling",
        "sequential",
        "sequential: carry the state across batches; random: reset it",
        _choices(SAMPLINGS),
    ),
    Field(
        "max_tokens",
        "max tokens",
        None,
        "Use only the first N tokens (book: 10000); empty: all",
        validator=_checked(lambda v: v >= 1, True, "an integer ≥ 1, or empty"),
        integer=True,
        blank="all",
    ),
    Field(
        "val_fraction",
        "val frac.",
        0.1,
        "Held-out share at the end of the corpus (0: none)",
        validator=_checked(
            lambda v: 0 <= v <= MAX_VAL_FRACTION, False, f"a number in [0, {MAX_VAL_FRACTION}]"
        ),
    ),
    Field("device", "device", "auto", "auto: CUDA when present, else CPU", _choices(DEVICES)),
    Field(
        "seed",
        "seed",
        0,
        "Random seed (initial weights, batches, samples)",
        validator=_checked(lambda v: v >= 0, True, "an integer ≥ 0"),
        integer=True,
    ),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}


def _text(value: object) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


class TrainForm(VerticalScroll):
    """The options, a hint line for the focused field, and the Start button."""

    def compose(self) -> ComposeResult:
        for field in FIELDS:
            with Horizontal(classes="form-row", id=f"row-{field.name}"):
                yield Label(field.label, classes="form-label")
                yield self._control(field)
            if field.name == "corpus":
                with Horizontal(classes="form-row", id="row-corpus-path"):
                    yield Label("path", classes="form-label")
                    yield Input(
                        placeholder="a UTF-8 text file",
                        id="form-corpus-path",
                        compact=True,
                        tooltip="Path of the text file to train on",
                    )
        yield Static("", id="form-hint", markup=False)
        yield Button("Start ▶", id="start", variant="success", compact=True)

    def _control(self, field: Field) -> Widget:
        widget_id = f"form-{field.name}"
        if field.choices:
            return Select(
                field.choices,
                value=field.default,
                allow_blank=False,
                compact=True,
                id=widget_id,
                tooltip=field.help,
            )
        return Input(
            _text(field.default),
            placeholder=field.blank,
            id=widget_id,
            compact=True,
            validators=[field.validator] if field.validator else [],
            valid_empty=bool(field.blank),
            tooltip=field.help,
        )

    def on_mount(self) -> None:
        self.query_one("#row-corpus-path").display = False

    # -- reading and checking -----------------------------------------------------------------

    def control(self, name: str) -> Input | Select:
        widget = self.query_one(f"#form-{name}")
        assert isinstance(widget, Input | Select)
        return widget

    def set_value(self, name: str, value: object) -> None:
        """Set a field (tests and the palette); a text field takes the value's text."""
        widget = self.control(name)
        if isinstance(widget, Select):
            widget.value = value
        else:
            widget.value = _text(value)

    def options(self) -> tuple[dict[str, object], list[str]]:
        """(options, problems): problems name each invalid field ("lr: a number > 0") and mark
        it; the options are meaningful only when there are none."""
        options: dict[str, object] = {}
        problems: list[str] = []
        for field in FIELDS:
            widget = self.control(field.name)
            if widget.disabled:
                continue
            if isinstance(widget, Select):
                options[field.name] = widget.value
                continue
            text = widget.value.strip()
            result = widget.validate(text)
            if result is not None and not result.is_valid:
                problems.append(f"{field.label}: {'; '.join(result.failure_descriptions)}")
                continue
            if not text:
                options[field.name] = None
            else:
                options[field.name] = int(text) if field.integer else float(text)
        if options.get("corpus") == FILE:
            path = self.query_one("#form-corpus-path", Input).value.strip()
            if path:
                options["corpus"] = path
            else:
                problems.append("corpus: type the path of a text file")
        return options, problems

    # -- events -------------------------------------------------------------------------------

    @on(Select.Changed, "#form-corpus")
    def _corpus_changed(self, event: Select.Changed) -> None:
        is_file = event.value == FILE
        self.query_one("#row-corpus-path").display = is_file
        if is_file:
            self.query_one("#form-corpus-path", Input).focus()

    @on(Select.Changed, "#form-model")
    def _model_changed(self, event: Select.Changed) -> None:
        scratch = str(event.value).endswith("-scratch")
        for name in CONCISE_ONLY:
            widget = self.control(name)
            if scratch:
                # A scratch model has exactly these: show them, so the form says what runs.
                self.set_value(name, FIELDS_BY_NAME[name].default)
            widget.disabled = scratch
        self._hint(
            FIELDS_BY_NAME["model"].help
            if not scratch
            else "scratch: one layer, one direction, one-hot input"
        )

    def on_descendant_focus(self, event) -> None:
        widget = event.widget
        if widget.id and widget.id.startswith("form-") and widget.id[5:] in FIELDS_BY_NAME:
            field = FIELDS_BY_NAME[widget.id[5:]]
            self._hint(field.help)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "")[5:]
        if name not in FIELDS_BY_NAME:
            return
        result = event.validation_result
        if result is not None and not result.is_valid:
            self._hint(
                f"{FIELDS_BY_NAME[name].label}: {'; '.join(result.failure_descriptions)}",
                error=True,
            )
        else:
            self._hint(FIELDS_BY_NAME[name].help)

    def _hint(self, text: str, error: bool = False) -> None:
        hint = self.query_one("#form-hint", Static)
        hint.update(text)
        hint.set_class(error, "-error")
