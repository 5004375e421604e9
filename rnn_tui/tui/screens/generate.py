"""The Generate console: text from a trained language model, streamed as it is produced.

Pick a checkpoint (the shipped ones and every run's, found by rnn_tui.runs.discover without
loading them, or a typed path), type a prefix, press enter. A thread worker loads the model —
torch is imported there, never when this module is imported, so the app paints fast — and runs
rnn_tui.decode.generate.predict (screens.generate_job), posting the tokens in batches as they
come. The checkpoint picker, the status bar and the job's life cycle are the consoles' own
(screens.console): this module lays the screen out and wires it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Header, Input, Label, Select, Static
from textual.worker import Worker

from rnn_tui.data.errors import DataError
from rnn_tui.decode.options import (
    LENGTH,
    SEED,
    SEEDS_PREFIX,
    STRATEGIES,
    TEMPERATURE,
    TOP_K,
    draw_seed,
    parse_options,
)
from rnn_tui.runs.discover import describe
from rnn_tui.tui import explanations, guides
from rnn_tui.tui.screens.console import ConsoleScreen, ModelLoaded, checkpoint_bindings
from rnn_tui.tui.screens.generate_job import (
    Generation,
    GenerationStarted,
    PrefixRead,
    Summary,
    TokensGenerated,
    generate,
    load_lm,
)
from rnn_tui.tui.widgets.checkpoint_picker import CheckpointPicker
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.generate_output import GenerationOutput
from rnn_tui.tui.widgets.generate_top import TopTokens
from rnn_tui.tui.widgets.option_input import option_input
from rnn_tui.tui.widgets.status_bar import StatusBar
from rnn_tui.tui.widgets.text_field import TextField

if TYPE_CHECKING:  # the module itself needs torch: imported by the worker only
    from rnn_tui.decode.generate import LoadedLM

DEFAULT_PREFIX = SEEDS_PREFIX
SAMPLING_FIELDS = ("#temperature", "#top-k", "#seed")


class GenerateScreen(ConsoleScreen):
    """Checkpoint, prefix and options on top; the streamed text and the top-5 panel below."""

    DEFAULT_CSS = """
    GenerateScreen .gen-row {
        height: 1;
    }
    GenerateScreen .control-label {
        padding: 0 1;
        color: $text-muted;
    }
    GenerateScreen #prefix {
        width: 1fr;
    }
    GenerateScreen #length {
        width: 8;
    }
    GenerateScreen #strategy {
        width: 12;
    }
    GenerateScreen #temperature, GenerateScreen #top-k {
        width: 6;
    }
    GenerateScreen #seed {
        width: 1fr;
        max-width: 12;
    }
    GenerateScreen #gen-unknown {
        display: none;
        height: auto;
        padding: 0 1;
        color: $text-warning;
    }
    GenerateScreen #gen-main {
        height: 1fr;
        margin-top: 1;
    }
    """

    AUTO_FOCUS = "#prefix"
    EXPLAIN = explanations.GENERATE
    WORKER_MODULES = ("rnn_tui.decode.generate",)
    TASK = "lm"
    loader = staticmethod(load_lm)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+g",
            "generate",
            "Generate",
            tooltip="generate from the prefix (enter in a field does it too)",
        ),
        Binding("escape", "stop", "Stop", tooltip="stop the generation running now"),
        Binding(
            "ctrl+t",
            "toggle_strategy",
            "Greedy/sample",
            tooltip="switch between greedy decoding and sampling",
        ),
        *checkpoint_bindings("checkpoints"),
    ]

    GUIDE = guides.GENERATE

    def __init__(self) -> None:
        super().__init__()
        self._count = 0  # tokens shown for the current request
        self._reading = False  # the bar counts the prefix read (PrefixRead), not tokens yet

    def compose(self) -> ComposeResult:
        yield Header()
        yield CheckpointPicker(
            self.TASK,
            select_id="checkpoint",
            path_id="ckpt-path",
            path_row_id="gen-path-row",
            facts_id="gen-facts",
            tooltip="The model to generate with (ctrl+l); ctrl+r looks for new ones",
            then_focus="#prefix",
            id="gen-source",
        )
        with Horizontal(id="gen-prefix-row", classes="gen-row"):
            yield Label("prefix", classes="control-label")
            # Empty, offering the seeds' prefix (or the checkpoint's own) as its placeholder,
            # which enter uses: what a user types is their prefix, not more of that one.
            yield TextField(
                placeholder=DEFAULT_PREFIX,
                id="prefix",
                compact=True,
                tooltip="The text to continue (empty: the one shown dimmed); enter generates",
            )
        with Horizontal(id="gen-options", classes="gen-row"):
            yield Label("length", classes="control-label")
            yield option_input(LENGTH, id="length", note="enter generates")
            yield Label("strategy", classes="control-label -optional-label")
            yield Select(
                [(s, s) for s in STRATEGIES],
                value="greedy",
                allow_blank=False,
                compact=True,
                id="strategy",
                tooltip="greedy: the most probable token; sample: a draw (ctrl+t switches)",
            )
            yield Label("T", classes="control-label")
            yield option_input(TEMPERATURE, id="temperature", value="1.0", disabled=True)
            yield Label("top-k", classes="control-label")
            yield option_input(TOP_K, id="top-k", disabled=True)
            yield Label("seed", classes="control-label")
            yield option_input(SEED, id="seed", placeholder="random", disabled=True)
        yield Static("", id="gen-unknown", markup=False)
        with Horizontal(id="gen-main"):
            yield GenerationOutput(id="gen-output")
            yield TopTokens(id="gen-top")
        yield StatusBar("gen", id="gen-status-row")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#gen-top", TopTokens).border_title = "next token, before T"
        self.refresh_checkpoints()

    def checkpoints_found(self, count: int) -> str:
        if count:
            return f"{count} checkpoint{'s' if count != 1 else ''} found · enter generates"
        return "no checkpoints found: train one (Train screen) or type a path (ctrl+o)"

    # -- generating ---------------------------------------------------------------------------

    @on(Input.Submitted, "#prefix, #length, #temperature, #top-k, #seed")
    def _field_submitted(self) -> None:
        self.action_generate()

    def action_generate(self) -> None:
        """Generate from the prefix with the options shown (a notification if one is bad)."""
        path = self.current_path()
        if not path:
            self.notify(
                "choose a checkpoint first, or type its path (ctrl+o)",
                severity="error",
                markup=False,
            )
            return
        field = self.query_one("#prefix", Input)
        prefix = field.value or field.placeholder
        try:
            options = parse_options(
                self.query_one("#length", Input).value,
                str(self.query_one("#strategy", Select).value),
                self.query_one("#temperature", Input).value,
                self.query_one("#top-k", Input).value,
                self.query_one("#seed", Input).value,
            )
        except DataError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if options.strategy == "sample" and options.seed is None:
            options = replace(options, seed=draw_seed())
        self._count, self._reading = 0, False
        name = Path(path).name or path
        self.start(path, Generation(prefix, options), f"generating with {name}…")

    def json_of(self, model: LoadedLM, path: str) -> Path:
        return model.path.with_suffix(".json")

    def model_facts(self, model: LoadedLM, path: str) -> tuple[str, dict, list[str]]:
        facts = {**describe(model.meta), "trained_prefix": model.trained_prefix}
        return str(model.path), facts, list(model.warnings)

    def model_loaded(self, message: ModelLoaded) -> None:
        """A checkpoint trained on another corpus than the seeds' samples from its own opening
        text: the prefix field offers that (else the seeds' prefix) as its placeholder, used
        while the field is empty; what the user typed stays."""
        if self.request is None or self.request.job is not None:
            return  # loaded to generate: the text being continued is the field's, kept as is
        if self.shown is not None and self.shown.path != self.request.path:
            self._clear_output()
        trained = message.facts.get("trained_prefix") or DEFAULT_PREFIX
        self.query_one("#prefix", Input).placeholder = trained

    def _clear_output(self) -> None:
        """Another checkpoint loaded: the text shown was the previous one's, and goes (a path
        that fails to load leaves it)."""
        self.query_one(GenerationOutput).clear(
            "Press enter to generate with the checkpoint above (the text before came from "
            "another one)."
        )
        self.query_one(TopTokens).reset()
        self.query_one("#gen-unknown", Static).display = False
        self.forget_results()

    def run_job(self, lm: LoadedLM, job: Generation, request_id: int, worker: Worker) -> Summary:
        return generate(lm, job, request_id, worker, self.post_message, self.clock)

    @on(GenerationStarted)
    def _generation_started(self, message: GenerationStarted) -> None:
        if not self.is_current(message.request_id) or self.request is None:
            return
        self.results_shown()
        self.query_one(GenerationOutput).begin(message.tokens, message.unknown, message.token)
        self.query_one(TopTokens).reset()
        warning = self.query_one("#gen-unknown", Static)
        warning.update(f"⚠ {message.warning}")
        warning.display = bool(message.warning)
        self.set_busy(True, total=self.request.job.options.length)

    @on(PrefixRead)
    def _prefix_read(self, message: PrefixRead) -> None:
        if not self.is_current(message.request_id) or not self.running:
            return
        if not self._reading:  # the bar counts the prefix's tokens until the first new one
            self._reading = True
            self.status_bar.set_busy(True, total=message.total)
        self.status_bar.advance(message.read)
        self.status_bar.text = f"reading the prefix… {message.read:,} of {message.total:,} tokens"

    @on(TokensGenerated)
    def _tokens_generated(self, message: TokensGenerated) -> None:
        if not self.is_current(message.request_id) or self.request is None:
            return
        if self._reading:
            self._reading = False
            self.status_bar.set_busy(self.running, total=self.request.job.options.length)
        self._count = message.count
        self.query_one(GenerationOutput).extend(message.tokens)
        self.query_one(TopTokens).show(message.count, message.top, message.chosen)
        self.status_bar.advance(message.count)
        if self.running:
            total = self.request.job.options.length
            self.status_bar.text = f"generating… {message.count:,} of {total:,} tokens"
        elif self.job is not None and self.job.is_cancelled:
            # The tokens produced while the worker noticed the stop arrive after it.
            self.status_bar.text = self.stopped_text(self.request.job)

    def stopped_text(self, job: Generation) -> str:
        return f"stopped after {self._count:,} of {job.options.length:,} tokens"

    def done_text(self, job: Generation, summary: Summary) -> str:
        return summary.text(job.options)

    # -- controls -----------------------------------------------------------------------------

    @on(Select.Changed, "#strategy")
    def _strategy_changed(self, event: Select.Changed) -> None:
        sampling = event.value == "sample"
        for selector in SAMPLING_FIELDS:
            self.query_one(selector, Input).disabled = not sampling

    def action_toggle_strategy(self) -> None:
        select = self.query_one("#strategy", Select)
        select.value = "sample" if select.value == "greedy" else "greedy"

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) entries the command palette offers on this screen."""
        strategy = self.query_one("#strategy", Select).value
        return [
            ("Generate: generate", "Continue the prefix (ctrl+g or enter)", self.action_generate),
            ("Generate: stop", "Stop the generation running now (escape)", self.action_stop),
            (
                f"Generate: strategy → {'sample' if strategy == 'greedy' else 'greedy'}",
                "Greedy decoding or sampling with temperature and top-k (ctrl+t)",
                self.action_toggle_strategy,
            ),
            (
                "Generate: choose a checkpoint",
                "Shipped checkpoints and every run's (ctrl+l)",
                self.action_choose_checkpoint,
            ),
            (
                "Generate: open a checkpoint path",
                "A .safetensors checkpoint or a run directory (ctrl+o)",
                self.action_open_path,
            ),
            (
                "Generate: refresh the checkpoint list",
                "Look for new checkpoints and runs (ctrl+r)",
                self.action_refresh,
            ),
        ]
