"""The Train screen's form: `rnn-tui train`'s options, one compact row each, checked as typed.

The rows are built from the options' declarations (rnn_tui.train.options, through the task
registry): a drop-down for an option with choices or presets, a text field for the others,
checked by the option's own `parse`. The task drop-down shows the rows the chosen task has; an
option still at one task's default moves to the other's when the task changes (a typed value
stays). `options()` re-checks every field when Start is pressed and returns the option dict for
`rnn_tui.runs.process.train_command`, or the list of problems. An empty optional field means the
option's not-set value ("auto", "all") and is left out of the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from rnn_tui.data.corpus import source_label
from rnn_tui.models.names import CONCISE_ONLY
from rnn_tui.options import Option
from rnn_tui.runs.system import gpu_choices
from rnn_tui.train.options import FILE, OPTIONS
from rnn_tui.train.registry import DEFAULT_TASK
from rnn_tui.train.registry import TRAIN_FORM_TASKS as TASKS
from rnn_tui.tui.widgets.option_input import (
    OptionValidator,
    field_problem,
    help_sentence,
    option_control,
    read_field,
    set_field,
)
from rnn_tui.tui.widgets.start_checks import device_problem, path_problem
from rnn_tui.tui.widgets.text_field import TextField

if TYPE_CHECKING:
    from rnn_tui.data.corpus_analysis import CorpusRequest

SEQ2SEQ = "seq2seq"


def form_options() -> list[str]:
    """Every option any task shows in the form, in declaration order (one row each)."""
    shown = {o.name for spec in TASKS.values() for o in spec.options if o.form}
    return [option.name for option in OPTIONS if option.name in shown]


def task_rows(task: str) -> list[str]:
    """The option rows a run of `task` shows, in the form's order."""
    spec = TASKS[task]
    return [name for name in form_options() if spec.has(name) and spec.option(name).form]


def declaration(task: str, name: str) -> Option:
    """Option `name` as `task` declares it (its own default, range and help)."""
    spec = TASKS[task]
    if spec.has(name):
        return spec.option(name)
    return next(s.option(name) for s in TASKS.values() if s.has(name))


# The trainer's messages name its flags ("use --device cpu or auto", "try a smaller --hidden");
# where the app shows one, it names the form's fields instead (tui/errors.py name_fields).
FIELD_LABELS = {o.flag: o.title for o in OPTIONS if o.name in form_options()}


class TrainForm(VerticalScroll, can_focus=False):
    """The options, a hint line for the focused field, and the Start button."""

    DEFAULT_CSS = """
    TrainForm {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    TrainForm .form-row {
        height: 1;
    }
    TrainForm .form-label {
        width: 11;
        padding: 0 1 0 0;
        color: $text-muted;
    }
    TrainForm Input,
    TrainForm Select {
        width: 1fr;
    }
    TrainForm #form-hint {
        height: auto;
        margin: 1 0 0 0;
        color: $text-muted;
    }
    TrainForm #form-hint.-error {
        color: $text-error;
    }
    TrainForm #start {
        margin: 1 0 0 11;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selected_task: str = DEFAULT_TASK
        # The rows and fields by option name, kept as composed: an id query walks the whole
        # form, and the first showing asks for each row ~3 times (~40 ms of a ~100 ms opening).
        self._rows: dict[str, Horizontal] = {}
        self._path_rows: dict[str, Horizontal] = {}
        self._controls: dict[str, Input | Select] = {}
        self._paths: dict[str, TextField] = {}

    # -- building -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form-row", id="row-task"):
            yield Label("task", classes="form-label")
            self._controls["task"] = Select(
                [(spec.title, spec.name) for spec in TASKS.values()],
                value=DEFAULT_TASK,
                allow_blank=False,
                compact=True,
                id="form-task",
                tooltip="What to train: " + "; ".join(s.title for s in TASKS.values()),
            )
            yield self._controls["task"]
        for name in form_options():
            option = declaration(self.selected_task, name)
            with Horizontal(classes="form-row", id=f"row-{name}") as row:
                yield Label(option.title, classes="form-label")
                self._controls[name] = self._control(option)
                yield self._controls[name]
            self._rows[name] = row
            if option.presets:
                with Horizontal(classes="form-row", id=f"row-{name}-path") as row:
                    yield Label("path", classes="form-label")
                    self._paths[name] = TextField(
                        placeholder=option.extra.get("path_hint", "a file"),
                        id=f"form-{name}-path",
                        compact=True,
                        tooltip=f"Path of {option.extra.get('file', 'the file')}",
                    )
                    yield self._paths[name]
                self._path_rows[name] = row
        self._hint_line = Static("", id="form-hint", markup=False)
        yield self._hint_line
        yield Button("Start ▶", id="start", variant="success", compact=True)

    def _control(self, option: Option) -> Input | Select:
        # The device drop-down lists each GPU NVML finds (cuda:N · its name) after auto/cpu/cuda.
        extra = gpu_choices() if option.name == "device" else ()
        return option_control(option, f"form-{option.name}", help_sentence(option), extra)

    def on_mount(self) -> None:
        self._show_rows()

    # -- reading and checking -----------------------------------------------------------------

    def control(self, name: str) -> Input | Select:
        return self._controls[name]

    def _wide_text(self) -> bool:
        """Whether the encoding field names UTF-16 or UTF-32, whose text is full of NUL bytes."""
        field = self._controls.get("encoding")
        typed = field.value if isinstance(field, Input) else ""
        return (
            typed.strip()
            .lower()
            .replace("_", "-")
            .startswith(("utf-16", "utf16", "utf-32", "utf32"))
        )

    def set_value(self, name: str, value: object) -> None:
        """Set a field (tests and the palette); a text field takes the value's text."""
        widget = self.control(name)
        if name == "task":  # the task drop-down is not an option
            widget.value = value
            return
        option = self._option(name)
        if option.presets and value not in {FILE, *(preset for _, preset in option.presets)}:
            # A path: "File…" with the path beside it (the drop-down's change shows the row).
            widget.value = FILE
            self._paths[name].value = str(value)
            return
        set_field(widget, option, value)

    def apply(
        self, values: dict[str, object], focus: str | None = None, preset: bool = False
    ) -> None:
        """Set the form to `values`: the task first, the other fields once the task's rows are
        shown; then the field `focus`, if given, takes the focus. A `preset` sets the whole form:
        the fields it does not name go back to their defaults, so earlier edits do not change
        what it trains."""
        if "task" in values:
            self.set_value("task", values["task"])

        def rest() -> None:
            fields = {k: v for k, v in values.items() if k != "task"}
            if preset:
                defaults = {n: self._option(n).default for n in task_rows(self.selected_task)}
                fields = defaults | fields
                for path in self._paths.values():
                    path.value = ""
            for name, value in fields.items():
                self.set_value(name, value)
            if focus is not None:
                self.control(focus).focus()

        self.call_after_refresh(rest)

    def set_corpus(self, settings: CorpusRequest) -> str:
        """A language model on `settings`' corpus, read as the Dataset screen reads it; returns
        the line that says so."""
        self.apply(
            {
                "task": "lm",
                "corpus": settings.source,
                "token": settings.token,
                "mode": settings.mode,
                "encoding": settings.encoding,
                "min_freq": settings.min_freq,
            },
            focus="model",  # the next choice; a drop-down, so "s" starts from there
        )
        return (
            f"the form reads {source_label(settings.source)} at {settings.token} level, "
            f"{settings.mode}, min freq {settings.min_freq}: choose the model, then s starts"
        )

    def _option(self, name: str) -> Option:
        return declaration(self.selected_task, name)

    def options(self) -> tuple[dict[str, object], list[str]]:
        """(options, problems): problems name each invalid field ("lr: a number in (0,
        1000]") and mark it; the options are meaningful only when there are none. An empty
        optional field is None (left out: the option's not-set value)."""
        options: dict[str, object] = {"task": self.selected_task}
        problems: list[str] = []
        missing_paths: list[str] = []  # reported after the fields' own problems
        for name in task_rows(self.selected_task):
            widget, option = self.control(name), self._option(name)
            if widget.disabled:
                continue
            if isinstance(widget, Select):
                value = widget.value
                if value == FILE:
                    path = self._paths[name].value.strip()
                    if not path:
                        what = option.extra.get("file", "a file")
                        missing_paths.append(f"{name}: type the path of {what}")
                    else:
                        problem = path_problem(path, f"{name} file", self._wide_text())
                        if problem:
                            missing_paths.append(problem)
                    value = path
                elif name == "device" and (problem := device_problem(str(value))):
                    problems.append(problem)
                options[name] = value
                continue
            value, problem = read_field(widget, option)
            if problem is not None:
                problems.append(problem)
                continue
            options[name] = value
        return options, problems + missing_paths

    # -- events -------------------------------------------------------------------------------

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        name = (event.select.id or "").removeprefix("form-")
        if name == "task":
            self._task_changed(str(event.value))
        elif name == "model":
            self._model_changed(event.value)
        elif name in self._path_rows:
            is_file = event.value == FILE
            self._path_rows[name].display = is_file
            path = self._paths[name]
            if is_file and not path.value:  # a path set with the choice needs no typing
                path.focus()

    def _task_changed(self, task: str) -> None:
        if task == self.selected_task or task not in TASKS:
            return
        before, self.selected_task = self.selected_task, task
        for name in task_rows(task):
            # Still at the old task's default: take the new one's; a typed value stays.
            widget = self.control(name)
            old, new = declaration(before, name), self._option(name)
            current = widget.value if isinstance(widget, Select) else widget.value.strip()
            at_default = current == (
                old.default if isinstance(widget, Select) else old.text(old.default)
            )
            if at_default:
                self.set_value(name, new.default)
            widget.tooltip = help_sentence(new)
            if isinstance(widget, Input):
                # After the value: changing valid_empty re-validates the field at once.
                widget.validators = [OptionValidator(new)]
                widget.valid_empty = new.optional
                widget.placeholder = new.unset_label if new.optional else ""
                widget.validate(widget.value.strip())
        self._show_rows()
        self._apply_model(self.control("model").value if self._has("model") else None)
        self._hint(self.hint_for("task"))

    def _has(self, name: str) -> bool:
        return name in task_rows(self.selected_task)

    def _show_rows(self) -> None:
        rows = set(task_rows(self.selected_task))
        for name, row in self._rows.items():
            row.display = name in rows
        for name, row in self._path_rows.items():
            row.display = name in rows and self.control(name).value == FILE

    def hint_for(self, name: str) -> str:
        """The hint of option `name` for the task chosen."""
        if name == "task":
            spec = TASKS[self.selected_task]
            return f"{spec.name}: {spec.summary}"
        return help_sentence(self._option(name))

    def _model_changed(self, model: object) -> None:
        if not self._has("model"):
            return
        self._apply_model(model)
        scratch = str(model).endswith("-scratch")
        self._hint(
            help_sentence(self._option("model"))
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
                self.set_value(name, self._option(name).default)
            widget.disabled = scratch

    def first_field(self) -> Widget:
        """The first field of the chosen task (where "new run" puts the focus)."""
        return self.control(task_rows(self.selected_task)[0])

    def on_descendant_focus(self, event) -> None:
        widget = event.widget
        name = (widget.id or "").removeprefix("form-")
        if widget.id and widget.id.startswith("form-") and name in self._rows:
            self._hint(self.hint_for(name))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("form-")
        if name not in self._rows:
            return
        # Checked again with the field's validators as they are now: a task switch sets the
        # value before it swaps them, so the event's own result can judge by the other task.
        result = event.input.validate(event.input.value.strip())
        if result is not None and not result.is_valid:
            self._hint(field_problem(self._option(name), event.input.value), error=True)
        elif event.input.has_focus:
            # Not when the task switch sets defaults: its own hint stays.
            self._hint(self.hint_for(name))

    def _hint(self, text: str, error: bool = False) -> None:
        widget = self._hint_line
        widget.update(text)
        widget.set_class(error, "-error")
