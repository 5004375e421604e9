"""The Forecast screen's form: the series and its split, then the two models' training options,
one compact row each, built from the forecast task's declarations (train/forecast_options.py)
and checked as typed by each option's own parse.

Under the rows a line counts what the choices give — "996 pairs (first τ dropped): 600 train,
396 held out" — after the trainer's own checks (train/forecast_plan.py: the split, the horizons'
reach, the transform of the values), so Start never starts runs the trainer refuses. The sine is
made here from its fields; another series is read by the screen in a worker and handed to
`set_points`.
"""

from __future__ import annotations

import numpy as np
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from rnn_tui.data.errors import DataError
from rnn_tui.data.series_files import SINE, load_series
from rnn_tui.options import Option, by_name
from rnn_tui.train.forecast_options import FORECAST_OPTIONS, LATENT
from rnn_tui.train.forecast_plan import SINE_NOISE, plan_split, plan_transform, scaled
from rnn_tui.train.options import FILE
from rnn_tui.tui.errors import name_fields
from rnn_tui.tui.widgets.option_input import (
    option_control,
    option_tooltip,
    read_field,
    set_field,
)
from rnn_tui.tui.widgets.text_field import TextField

OPTIONS = by_name((*FORECAST_OPTIONS, LATENT))
FIELD_LABELS = {o.flag: o.title for o in OPTIONS.values()}  # the trainer's flags, as fields
# The rows, in order; the rest of the task's options keep their defaults (the CLI has them all).
SERIES_ROWS = ("series", "column", "encoding", "length", "noise_seed", "tau", "first", "n_train")
FILE_ONLY = ("series-path", "column", "encoding")
TRANSFORM_ROWS = ("log", "diff", "scale", "period", "horizons")
MODEL_ROWS = ("latent", "hidden", "layers", "num_steps", "batch_size", "epochs", "lr", "seed")
ROWS = SERIES_ROWS + TRANSFORM_ROWS + MODEL_ROWS
SINE_ONLY = ("length", "noise_seed")
# Options only the latent model has (the MLP reads τ values and has one hidden layer).
LATENT_ONLY = ("layers", "num_steps")


class ForecastForm(VerticalScroll, can_focus=False):
    """The option rows, the pair counts, a hint line for the focused field, and Start."""

    DEFAULT_CSS = """
    ForecastForm {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    ForecastForm .form-row {
        height: 1;
    }
    ForecastForm .form-label {
        width: 11;
        padding: 0 1 0 0;
        color: $text-muted;
    }
    ForecastForm .form-section {
        color: $text-accent;
        text-style: bold;
    }
    ForecastForm Input,
    ForecastForm Select {
        width: 1fr;
    }
    ForecastForm #fc-counts {
        height: auto;
        margin: 1 0 0 0;
    }
    ForecastForm #fc-counts.-error,
    ForecastForm #fc-hint.-error {
        color: $text-error;
    }
    ForecastForm #fc-hint {
        height: auto;
        margin: 1 0 0 0;
        color: $text-muted;
    }
    ForecastForm #fc-start {
        margin: 1 0 0 11;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._points: int | None = None  # length of the series chosen (sine: the field's T)
        self._points_error = ""
        self._values: np.ndarray | None = None  # the chosen file's values, once read
        # The last transform checked and its answer: a million values take ~20 ms to check,
        # and every keystroke recounts.
        self._checked: tuple[tuple, str | None] = ((), None)
        self._sine: tuple[tuple, np.ndarray | None] = ((), None)
        # The rows and fields by name, kept as composed: an id query walks the whole form, and
        # every keystroke recounts the split from ~10 of them.
        self._rows: dict[str, Horizontal] = {}
        self._controls: dict[str, Input | Select] = {}

    def compose(self) -> ComposeResult:
        yield Static("series", classes="form-section")
        for name in ROWS:
            if name == "log":
                yield Static("transform", classes="form-section")
            if name == "latent":
                yield Static("models: the MLP and a latent one", classes="form-section")
            option = OPTIONS[name]
            with Horizontal(classes="form-row", id=f"fc-row-{name}") as row:
                yield Label(option.title, classes="form-label")
                self._controls[name] = option_control(option, f"fc-{name}", option_tooltip(option))
                yield self._controls[name]
            self._rows[name] = row
            if name == "series":
                with Horizontal(classes="form-row", id="fc-row-series-path") as row:
                    yield Label("path", classes="form-label")
                    self._path = TextField(
                        placeholder=option.extra["path_hint"],
                        id="fc-series-path",
                        compact=True,
                        tooltip=(
                            "Path of a CSV file (a header row, or one value a line): "
                            "a numeric column, no gaps"
                        ),
                    )
                    yield self._path
                self._rows["series-path"] = row
        self._counts = Static("", id="fc-counts", markup=False)
        yield self._counts
        self._hint_line = Static("", id="fc-hint", markup=False)
        yield self._hint_line
        yield Button("Start ▶", id="fc-start", variant="success", compact=True)

    def on_mount(self) -> None:
        self._show_rows()
        self._update_counts()

    # -- reading ------------------------------------------------------------------------------

    def control(self, name: str) -> Input | Select:
        return self._controls[name]

    def set_value(self, name: str, value: object) -> None:
        """Set a field (tests, the palette); a text field takes the value's text."""
        set_field(self.control(name), OPTIONS[name], value)

    def series_source(self) -> tuple[str, str]:
        """(series, column) as chosen: "sine", "airline" or the typed path ("" when File… has
        no path yet), and the column ("" for the only numeric one)."""
        series = self.control("series").value
        if series == FILE:
            series = self._path.value.strip()
        column = self.control("column").value.strip() if series not in (SINE, "airline") else ""
        return str(series), column

    def encoding(self) -> str:
        """The file's text encoding as typed, when valid (else the default: the field says
        what is wrong with it)."""
        value = self._valid("encoding")
        return str(value) if value else str(OPTIONS["encoding"].default)

    def options(self) -> tuple[dict[str, object], str, list[str]]:
        """(options shared by both runs, the latent model or "none", problems): a problem names
        each invalid field and its range; the options mean something only when there are none.
        Options left at "auto" or empty are None (left out of the command line)."""
        options: dict[str, object] = {"task": "forecast"}
        problems: list[str] = []
        series, column = self.series_source()
        if not series:
            problems.append("series: type the path of a CSV file")
        options["series"], options["column"] = series, column or None
        for name in ROWS:
            if name in ("series", "column") or not self._rows[name].display:
                continue
            widget, option = self.control(name), OPTIONS[name]
            if isinstance(widget, Select):
                options[name] = widget.value
                continue
            value, problem = read_field(widget, option)
            if problem is not None:
                problems.append(problem)
            options[name] = value
        latent = str(options.pop("latent"))
        return options, latent, problems

    def _valid(self, name: str) -> object | None:
        """The field's value when it is valid (the option's default when its row is hidden)."""
        option: Option = OPTIONS[name]
        if not self._rows[name].display:
            return option.default
        widget = self.control(name)
        if isinstance(widget, Select):
            return widget.value
        value, problem = read_field(widget, option)
        if problem is not None:
            return None
        return option.unset if value is None and option.optional else value

    # -- the split ----------------------------------------------------------------------------

    def set_points(
        self, points: int | None, error: str = "", values: np.ndarray | None = None
    ) -> None:
        """The chosen series' length (None while unknown) and values, or why it cannot be
        read."""
        self._points, self._points_error, self._values = points, error, values
        self._update_counts()

    def pending(self) -> bool:
        """Whether the chosen file is still being read (nothing about it is known yet)."""
        series, _ = self.series_source()
        return series not in ("", SINE) and self._points is None and not self._points_error

    def _update_counts(self) -> None:
        line = self._counts
        text, error = self.counts_text()
        line.update(text)
        line.set_class(error, "-error")

    def counts_text(self) -> tuple[str, bool]:
        """The split the options give, as one line, and whether it is an error."""
        series, _ = self.series_source()
        points = self._valid("length") if series == SINE else self._points
        if series != SINE and self._points_error:
            return self._points_error, True
        values = [self._valid(n) for n in ("tau", "first", "n_train", "diff")]
        if points is None or any(v is None for v in values):
            return "pairs: (fill in the fields)" if points is not None else "pairs: …", False
        tau, first, n_train, diff = values
        horizons = self._valid("horizons")
        if horizons is None:
            return "pairs: (fill in the fields)", False
        try:
            _, split = plan_split(
                int(points), tau=int(tau), first=str(first), diff=bool(diff),
                n_train=int(n_train), horizons=str(horizons),
                sine_length=int(points) if series == SINE else None,
            )  # fmt: skip
            problem = self._transform_problem(series, split, bool(diff))
        except (DataError, ValueError) as exc:
            return name_fields(str(exc), FIELD_LABELS), True  # "lower horizons", not --horizons
        if problem:
            return problem, True
        how = "first τ dropped" if first == "drop" else "first τ padded"
        return (
            f"{points:,} points → {split.pairs:,} pairs ({how}): {split.n_train:,} train, "
            f"{split.held_out:,} held out",
            False,
        )

    def _transform_problem(self, series: str, split, diff: bool) -> str | None:
        """Why the trainer could not transform the values (log of values ≤ 0, values too large
        to difference or scale), or None; None too while the values are unknown."""
        log, scale = self._valid("log"), self._valid("scale")
        values = self._sine_values() if series == SINE else self._values
        if values is None or log is None or scale is None:
            return None
        key = (id(values), len(values), split.first_test, bool(log), diff, str(scale))
        if self._checked[0] != key:
            try:
                plan_transform(
                    values, split, log=bool(log), diff=diff, scale=scaled(str(scale), series)
                )
                problem = None
            except DataError as exc:
                problem = name_fields(str(exc), FIELD_LABELS)
            self._checked = (key, problem)
        return self._checked[1]

    def _sine_values(self) -> np.ndarray | None:
        """The sine the fields make (the trainer's own), kept while they stay the same."""
        length, seed = self._valid("length"), self._valid("noise_seed")
        if length is None or seed is None:
            return None
        key = (int(length), int(seed))
        if self._sine[0] != key:
            series = load_series(SINE, length=int(length), noise=SINE_NOISE, seed=int(seed))
            self._sine = (key, series.values)
        return self._sine[1]

    # -- events -------------------------------------------------------------------------------

    def _show_rows(self) -> None:
        series = self.control("series").value
        for name in FILE_ONLY:
            self._rows[name].display = series == FILE
        for name in SINE_ONLY:
            self._rows[name].display = series == SINE
        latent = self.control("latent").value != "none"
        for name in LATENT_ONLY:
            self._rows[name].display = latent

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        name = (event.select.id or "").removeprefix("fc-")
        if name in ("series", "latent"):
            self._show_rows()
        if name == "series" and event.value == FILE:
            self._path.focus()
        self._update_counts()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("fc-")
        result = event.validation_result
        if name in OPTIONS and result is not None and not result.is_valid:
            option = OPTIONS[name]
            self._hint(f"{option.title}: {option.describe(typed=True)}", error=True)
        elif name in OPTIONS and event.input.has_focus:
            self._hint(option_tooltip(OPTIONS[name]))
        self._update_counts()

    def on_descendant_focus(self, event) -> None:
        name = (event.widget.id or "").removeprefix("fc-")
        if name in OPTIONS:
            self._hint(option_tooltip(OPTIONS[name]))

    def _hint(self, text: str, error: bool = False) -> None:
        widget = self._hint_line
        widget.update(text)
        widget.set_class(error, "-error")

    def first_field(self) -> Select:
        series = self._controls["series"]
        assert isinstance(series, Select)
        return series


__all__ = ["ROWS", "ForecastForm"]
