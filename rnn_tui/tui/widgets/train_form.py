"""The Train screen's form: `rnn-tui train`'s options, one compact row each, checked as typed.

Every text field carries Textual validators, so a bad value is marked as soon as it is typed;
`options()` re-checks them all when Start is pressed and returns the option dict for
`rnn_tui.runs.process.train_command`, or the list of problems. Defaults are the trainer's own
(`LMConfig`), so the form starts exactly where `rnn-tui train` without options would.

The task drop-down switches between a language model and seq2seq translation (d2l §9.7,
`rnn-tui train --task seq2seq`): for seq2seq the language-model-only rows (corpus, token, model,
sampling, max tokens) hide, the pairs, number of pairs and minimum frequency rows show, and the
options still at one task's defaults move to the other's (`Seq2SeqConfig`); a typed value stays.
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
TASKS = (("language model", "lm"),)  # the language-model trainer's (trainer.TASKS)
SEQ2SEQ = "seq2seq"
TASK_CHOICES = (*TASKS, ("seq2seq translation", SEQ2SEQ))
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
PAIRS = (("fra-eng (bundled)", "fra-eng"), ("File…", FILE))
# Rows a seq2seq run does not have (its model is always the GRU encoder–decoder).
LM_ONLY = ("corpus", "token", "model", "sampling", "max_tokens")
# Seq2SeqConfig's defaults where they differ from LMConfig's (a test keeps them in step).
SEQ2SEQ_DEFAULTS: dict[str, object] = {
    "layers": 2,
    "embed": 256,
    "hidden": 256,
    "dropout": 0.1,
    "batch_size": 64,
    "num_steps": 10,
    "lr": 0.005,
    "optimizer": "adam",
    "epochs": 10,
}
# What a shared option means for seq2seq, where it differs (the field's hint and tooltip).
SEQ2SEQ_HELP = {
    "task": "seq2seq: a GRU encoder–decoder (d2l §9.7) on English→French pairs",
    "layers": "GRU layers of the encoder and of the decoder",
    "bidirectional": "Encoder reads the source both ways (decoder: one way)",
    "hidden": "Hidden units per GRU layer",
    "embed": "Word embedding size (source and target); empty: 256",
    "batch_size": "Sentence pairs per minibatch",
    "num_steps": "Tokens per sentence: longer ones are cut, shorter padded",
    "lr": "Learning rate (the book: 0.005 with Adam)",
    "optimizer": "Adam as the book, or SGD",
    "epochs": "Passes over the training pairs",
    "val_fraction": "Held-out share of the pairs, for loss and BLEU (0: none)",
    "seed": "Random seed (weights, held-out split, batches)",
}


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
    Field(
        "task",
        "task",
        "lm",
        "A language model, or English→French translation (seq2seq)",
        TASK_CHOICES,
    ),
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
# Rows only a seq2seq run has; they show below the task when it is seq2seq.
SEQ2SEQ_FIELDS: tuple[Field, ...] = (
    Field("pairs", "pairs", "fra-eng", "Sentence pairs: the bundled fra-eng, or a file", PAIRS),
    Field(
        "num_examples",
        "pairs used",
        None,
        "Use only the first N pairs (book: 600); empty: all",
        validator=_checked(lambda v: v >= 1, True, "an integer ≥ 1, or empty"),
        integer=True,
        blank="all",
    ),
    Field(
        "min_freq",
        "min freq",
        2,
        "Rarer words become <unk> (per language)",
        validator=_checked(lambda v: v >= 0, True, "an integer ≥ 0"),
        integer=True,
    ),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS + SEQ2SEQ_FIELDS}
# A seq2seq embedding is never one-hot: 0 is refused, empty means 256.
SEQ2SEQ_EMBED = _checked(lambda v: v >= 1, True, "an integer ≥ 1, or empty")


def _text(value: object) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def task_fields(task: object) -> tuple[Field, ...]:
    """The fields a run of `task` has, in the form's order."""
    if task == SEQ2SEQ:
        return (FIELDS[0], *SEQ2SEQ_FIELDS, *(f for f in FIELDS[1:] if f.name not in LM_ONLY))
    return FIELDS


def task_default(task: object, name: str) -> object:
    """The trainer's default of option `name` for a run of `task`."""
    if task == SEQ2SEQ and name in SEQ2SEQ_DEFAULTS:
        return SEQ2SEQ_DEFAULTS[name]
    return FIELDS_BY_NAME[name].default


class TrainForm(VerticalScroll):
    """The options, a hint line for the focused field, and the Start button."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selected_task: str = "lm"

    def compose(self) -> ComposeResult:
        for field in FIELDS:
            yield from self._row(field)
            if field.name == "corpus":
                yield from self._path_row(
                    "corpus", "a UTF-8 text file", "the text file to train on"
                )
            if field.name == "task":
                for s2s_field in SEQ2SEQ_FIELDS:
                    yield from self._row(s2s_field)
                    if s2s_field.name == "pairs":
                        yield from self._path_row(
                            "pairs",
                            "tab-separated English, French",
                            "a file of English<TAB>French lines",
                        )
        yield Static("", id="form-hint", markup=False)
        yield Button("Start ▶", id="start", variant="success", compact=True)

    def _row(self, field: Field) -> ComposeResult:
        with Horizontal(classes="form-row", id=f"row-{field.name}"):
            yield Label(field.label, classes="form-label")
            yield self._control(field)

    def _path_row(self, name: str, placeholder: str, what: str) -> ComposeResult:
        with Horizontal(classes="form-row", id=f"row-{name}-path"):
            yield Label("path", classes="form-label")
            yield Input(
                placeholder=placeholder,
                id=f"form-{name}-path",
                compact=True,
                tooltip=f"Path of {what}",
            )

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
        for row in (
            "#row-corpus-path",
            "#row-pairs-path",
            *(f"#row-{f.name}" for f in SEQ2SEQ_FIELDS),
        ):
            self.query_one(row).display = False

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
        for field in task_fields(self.selected_task):
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
        for name, what in (("corpus", "a text file"), ("pairs", "a file of sentence pairs")):
            if options.get(name) == FILE:
                path = self.query_one(f"#form-{name}-path", Input).value.strip()
                if path:
                    options[name] = path
                else:
                    problems.append(f"{name}: type the path of {what}")
        return options, problems

    # -- events -------------------------------------------------------------------------------

    @on(Select.Changed, "#form-corpus")
    @on(Select.Changed, "#form-pairs")
    def _source_changed(self, event: Select.Changed) -> None:
        name = (event.select.id or "")[5:]
        is_file = event.value == FILE
        self.query_one(f"#row-{name}-path").display = is_file
        if is_file:
            self.query_one(f"#form-{name}-path", Input).focus()

    @on(Select.Changed, "#form-task")
    def _task_changed(self, event: Select.Changed) -> None:
        task = SEQ2SEQ if event.value == SEQ2SEQ else "lm"
        if task == self.selected_task:
            return
        before, self.selected_task = self.selected_task, task
        seq2seq = task == SEQ2SEQ
        for name in SEQ2SEQ_DEFAULTS:
            # Still at the old task's default: take the new one's; a typed value stays.
            widget = self.control(name)
            current = widget.value if isinstance(widget, Select) else widget.value.strip()
            old = task_default(before, name)
            if current == (old if isinstance(widget, Select) else _text(old)):
                self.set_value(name, task_default(task, name))
        for name in LM_ONLY:
            self.query_one(f"#row-{name}").display = not seq2seq
        self.query_one("#row-corpus-path").display = (
            not seq2seq and self.control("corpus").value == FILE
        )
        for field in SEQ2SEQ_FIELDS:
            self.query_one(f"#row-{field.name}").display = seq2seq
        self.query_one("#row-pairs-path").display = seq2seq and self.control("pairs").value == FILE
        embed = self.control("embed")
        assert isinstance(embed, Input)
        embed.validators = [SEQ2SEQ_EMBED if seq2seq else FIELDS_BY_NAME["embed"].validator]
        embed.placeholder = "256" if seq2seq else FIELDS_BY_NAME["embed"].blank
        for field in FIELDS:
            self.control(field.name).tooltip = self.hint_for(field.name)
        # The model's scratch-only restrictions do not apply to the encoder–decoder.
        self._apply_model(None if seq2seq else self.control("model").value)
        for field in task_fields(task):
            widget = self.control(field.name)
            if isinstance(widget, Input):
                widget.validate(widget.value.strip())
        self._hint(self.hint_for("task"))

    def hint_for(self, name: str) -> str:
        """The hint of option `name` for the task chosen."""
        if self.selected_task == SEQ2SEQ and name in SEQ2SEQ_HELP:
            return SEQ2SEQ_HELP[name]
        return FIELDS_BY_NAME[name].help

    @on(Select.Changed, "#form-model")
    def _model_changed(self, event: Select.Changed) -> None:
        if self.selected_task == SEQ2SEQ:
            return
        self._apply_model(event.value)
        scratch = str(event.value).endswith("-scratch")
        self._hint(
            FIELDS_BY_NAME["model"].help
            if not scratch
            else "scratch: one layer, one direction, one-hot input"
        )

    def _apply_model(self, model: object) -> None:
        """Fix (and disable) the options a from-scratch `model` does not have."""
        scratch = str(model).endswith("-scratch")
        for name in CONCISE_ONLY:
            widget = self.control(name)
            if scratch:
                # A scratch model has exactly these: show them, so the form says what runs.
                self.set_value(name, FIELDS_BY_NAME[name].default)
            widget.disabled = scratch

    def on_descendant_focus(self, event) -> None:
        widget = event.widget
        if widget.id and widget.id.startswith("form-") and widget.id[5:] in FIELDS_BY_NAME:
            self._hint(self.hint_for(widget.id[5:]))

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
        elif event.input.has_focus:
            # Not when the task switch sets defaults: its own hint stays.
            self._hint(self.hint_for(name))

    def _hint(self, text: str, error: bool = False) -> None:
        hint = self.query_one("#form-hint", Static)
        hint.update(text)
        hint.set_class(error, "-error")
