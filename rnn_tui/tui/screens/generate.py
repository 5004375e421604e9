"""The Generate console: text from a trained language model, streamed as it is produced.

Pick a checkpoint (the shipped ones and every run's, found by rnn_tui.runs.discover without
loading them, or a typed path), type a prefix, press enter. A thread worker loads the model —
torch is imported there, never when this module is imported, so the app paints fast — and runs
rnn_tui.decode.generate.predict. It posts what it produced at most every UPDATE_INTERVAL
seconds (one message per batch of tokens, never one per token), so the UI redraws a few times
a second however fast the model writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.validation import Function, Integer
from textual.widgets import Header, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from rnn_tui.data.errors import DataError
from rnn_tui.decode.options import (
    DEFAULT_LENGTH,
    MAX_LENGTH,
    STRATEGIES,
    GenerateOptions,
    draw_seed,
    parse_options,
    parse_temperature,
)
from rnn_tui.runs.discover import describe, discover_checkpoints
from rnn_tui.tui import explanations
from rnn_tui.tui.widgets.checkpoint_options import PATH, fill_checkpoint_select
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.generate_output import GenerationOutput
from rnn_tui.tui.widgets.generate_top import TopTokens

if TYPE_CHECKING:  # the module itself needs torch: imported by the worker only
    from rnn_tui.decode.generate import LoadedLM

DEFAULT_PREFIX = "time traveller"  # the seeds' prefix
UPDATE_INTERVAL = 0.1  # seconds between two batches of tokens posted by the worker
WIDE = 100  # columns from which the optional labels are shown
SAMPLING_FIELDS = ("#temperature", "#top-k", "#seed")


@dataclass(frozen=True)
class Request:
    """One job for the worker: load `path`, then (unless prefix is None) generate."""

    path: str
    prefix: str | None
    options: GenerateOptions


@dataclass(frozen=True)
class Summary:
    """How a generation ended."""

    count: int
    elapsed: float
    cancelled: bool


class CheckpointLoaded(Message):
    """The worker has the model of `path` in memory; `fresh` when it was just read from disk."""

    def __init__(self, request_id: int, path: str, facts: dict, warnings: list[str], fresh: bool):
        super().__init__()
        self.request_id, self.path, self.facts = request_id, path, facts
        self.warnings, self.fresh = warnings, fresh


class GenerationStarted(Message):
    """The prefix as the model reads it: its tokens, those mapped to `<unk>` and the warning
    that says so ("" when none is)."""

    def __init__(
        self, request_id: int, tokens: list[str], unknown: list[str], token: str, warning: str
    ):
        super().__init__()
        self.request_id, self.tokens, self.unknown, self.token = request_id, tokens, unknown, token
        self.warning = warning


class TokensGenerated(Message):
    """New tokens since the last message, and the latest step's top next tokens."""

    def __init__(
        self,
        request_id: int,
        tokens: list[str],
        top: list[tuple[str, float]],
        chosen: str,
        count: int,
    ):
        super().__init__()
        self.request_id, self.tokens, self.top = request_id, tokens, top
        self.chosen, self.count = chosen, count


def format_facts(facts: dict, path: str | None) -> str:
    """One line of facts: gru · char (clean) · vocabulary 28 · hidden 32 · val ppl 8.65 · PATH."""
    parts = []
    if facts.get("model"):
        layers = facts.get("layers")
        parts.append(f"{facts['model']}" + (f" ×{layers} layers" if layers and layers > 1 else ""))
    if facts.get("token"):
        parts.append(f"{facts['token']} ({facts['mode']})" if facts.get("mode") else facts["token"])
    if facts.get("vocab_size") is not None:
        parts.append(f"vocabulary {facts['vocab_size']:,}")
    if facts.get("hidden"):
        parts.append(f"hidden {facts['hidden']}")
    if facts.get("val_ppl") is not None:
        parts.append(f"val ppl {facts['val_ppl']:.2f}")
    elif facts.get("train_ppl") is not None:
        parts.append(f"train ppl {facts['train_ppl']:.2f}")
    if facts.get("epoch") is not None:
        parts.append(f"epoch {facts['epoch']}")
    if path:
        parts.append(_short_path(path))
    return " · ".join(parts)


def _short_path(path: str) -> str:
    p = Path(path)
    for base, shown in ((Path.cwd(), ""), (Path.home(), "~/")):
        try:
            return shown + str(p.relative_to(base))
        except ValueError:
            continue
    return str(p)


def _is_number(text: str) -> bool:
    try:
        parse_temperature(text)
    except DataError:
        return False
    return True


class GenerateScreen(Screen):
    """Checkpoint, prefix and options on top; the streamed text and the top-5 panel below."""

    AUTO_FOCUS = "#prefix"
    EXPLAIN = explanations.GENERATE
    # Times the generation (and paces the worker's updates); tests pin it for stable pictures.
    clock = staticmethod(time.perf_counter)

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
        Binding(
            "ctrl+r",
            "refresh",
            "Refresh",
            tooltip="look for checkpoints again (shipped ones and every run's)",
        ),
        Binding(
            "ctrl+o",
            "open_path",
            "Path",
            show=False,
            tooltip="type the path of a checkpoint or a run directory, then enter",
        ),
        Binding(
            "ctrl+l",
            "choose_checkpoint",
            "Checkpoint",
            show=False,
            tooltip="open the list of checkpoints",
        ),
    ]

    GUIDE = """\
**Prediction with warm-up** (d2l *RNN from scratch*, `predict_ch8`): the model starts from a
zero state and reads the prefix one token at a time without predicting (warm-up), so the hidden
state summarises it; then it predicts the next token, feeds it back as the next input, and so on
for *length* tokens.

**Greedy** takes the most probable token each time (the argmax of the output o): the same
prefix always gives the same text, which often falls into loops ("the the the").
**Sampling** draws the next token from softmax(o / T): a temperature T below 1 sharpens the
distribution (towards greedy), above 1 flattens it (more surprising, more mistakes); *top-k*
(0 = off) draws among the k most probable tokens only. The same seed gives the same text;
leave the seed empty for a fresh one (the status line says which was used).

**The prefix** is cleaned and tokenized as the model's corpus was: in *clean* mode letters are
lower-cased and every run of other characters becomes one space; a character-level model reads
characters, a word-level one words. Tokens the vocabulary does not know become `<unk>`
(highlighted, and listed in a warning line).

**The side panel** shows, for the latest step, the model's five most probable next tokens with
their probabilities softmax(o) (before temperature and top-k); ▸ marks the one chosen.

**Checkpoints** come from the shipped `checkpoints/` folder, `$RNN_TUI_CHECKPOINTS`, and every
run under `runs/` (or `$RNN_TUI_RUNS`); *Path…* takes any `.safetensors` checkpoint or run
directory. Pickle files (`.pt`) are refused: loading one could run code.
"""

    def __init__(self) -> None:
        super().__init__()
        self._entries: dict[str, dict] = {}  # path -> discovered entry
        self._selected: str | None = None  # the drop-down's value last acted on
        self._discover_worker: Worker | None = None
        self._found = False  # whether a search for checkpoints has finished
        self._worker: Worker | None = None  # the latest load/generate job
        self._request_id = 0
        self._request: Request | None = None
        self._count = 0  # tokens shown for the current request
        # Touched by worker threads only, one at a time (a cancelled job finishes its current
        # step before the next one starts).
        self._lock = threading.Lock()
        self._cache: tuple[str, LoadedLM, int] | None = None  # (path asked, model, json mtime)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="gen-source", classes="gen-row"):
            yield Label("checkpoint", classes="control-label")
            yield Select(
                [("Path…", PATH)],
                value=PATH,
                allow_blank=False,
                compact=True,
                id="checkpoint",
                tooltip="The model to generate with (ctrl+l); ctrl+r looks for new ones",
            )
        with Horizontal(id="gen-path-row", classes="gen-row"):
            yield Label("path", classes="control-label")
            yield Input(
                placeholder="a .safetensors checkpoint or a run directory, then enter",
                id="ckpt-path",
                compact=True,
            )
        yield Static("looking for checkpoints…", id="gen-facts", markup=False)
        with Horizontal(id="gen-prefix-row", classes="gen-row"):
            yield Label("prefix", classes="control-label")
            yield Input(
                DEFAULT_PREFIX,
                id="prefix",
                compact=True,
                tooltip="The text to continue; enter generates",
            )
        with Horizontal(id="gen-options", classes="gen-row"):
            yield Label("length", classes="control-label")
            yield Input(
                str(DEFAULT_LENGTH),
                id="length",
                compact=True,
                validators=[Integer(minimum=1, maximum=MAX_LENGTH)],
                tooltip=f"Tokens to generate (1–{MAX_LENGTH:,}); enter generates",
            )
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
            yield Input(
                "1.0",
                id="temperature",
                compact=True,
                disabled=True,
                validators=[Function(_is_number, "temperature must be > 0")],
                tooltip="Sampling temperature > 0: below 1 sharper, above 1 flatter",
            )
            yield Label("top-k", classes="control-label")
            yield Input(
                "0",
                id="top-k",
                compact=True,
                disabled=True,
                validators=[Integer(minimum=0)],
                tooltip="Sample among the k most probable tokens (0 = all)",
            )
            yield Label("seed", classes="control-label")
            yield Input(
                "",
                placeholder="random",
                id="seed",
                compact=True,
                disabled=True,
                tooltip="Random seed for sampling; empty draws a fresh one",
            )
        yield Static("", id="gen-unknown", markup=False)
        with Horizontal(id="gen-main"):
            yield GenerationOutput(id="gen-output")
            yield TopTokens(id="gen-top")
        with Horizontal(id="gen-status-row"):
            yield Static("", id="gen-status", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="gen-progress")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#gen-top", TopTokens).border_title = "next token"
        self.refresh_checkpoints()

    def on_resize(self, event: events.Resize) -> None:
        for widget in self.query(".-optional-label"):
            widget.display = event.size.width >= WIDE

    # -- checkpoints --------------------------------------------------------------------------

    def refresh_checkpoints(self) -> None:
        """Look for checkpoints again, in a worker (it reads every checkpoint's JSON)."""
        self._set_status("looking for checkpoints…")
        self._discover_worker = self._discover()

    @work(thread=True, exclusive=True, group="discover", exit_on_error=False)
    def _discover(self) -> list[dict]:
        return discover_checkpoints(task="lm")

    def _checkpoints_found(self, entries: list[dict]) -> None:
        self._found = True
        self._entries = {entry["path"]: entry for entry in entries}
        value = fill_checkpoint_select(
            self,
            self.query_one("#checkpoint", Select),
            entries,
            self.query_one("#ckpt-path", Input).value.strip(),
        )
        if value != self._selected:
            self._checkpoint_chosen(value)
        elif value in self._entries and not self.running:
            # Same checkpoint, perhaps newer metrics (a run still training).
            entry = self._entries[value]
            self.query_one("#gen-facts", Static).update(format_facts(entry, entry["path"]))
        count = len(entries)
        if count:
            self._set_status(
                f"{count} checkpoint{'s' if count != 1 else ''} found · enter generates"
            )
        else:
            self._set_status(
                "no checkpoints found: train one (Train screen) or type a path (ctrl+o)"
            )

    @on(Select.Changed, "#checkpoint")
    def _checkpoint_changed(self, event: Select.Changed) -> None:
        self._checkpoint_chosen(event.value)

    def _checkpoint_chosen(self, value: object) -> None:
        # The drop-down reports its first value on mount, before the list is known.
        if value == self._selected or not self._found:
            return
        self._selected = str(value)
        is_path = value == PATH
        path_row = self.query_one("#gen-path-row")
        if not is_path and path_row.has_focus_within:
            self.query_one("#prefix", Input).focus()
        path_row.display = is_path
        facts = self.query_one("#gen-facts", Static)
        if is_path:
            typed = self.query_one("#ckpt-path", Input).value.strip()
            if not typed:
                facts.update("type the path of a .safetensors checkpoint or a run directory")
                self.query_one("#ckpt-path", Input).focus()
                return
            self._load(typed)
            return
        entry = self._entries[str(value)]
        facts.update(format_facts(entry, entry["path"]))
        self._load(entry["path"])

    @property
    def checkpoint_paths(self) -> list[str]:
        """The paths of the checkpoints the list offers (the last search's)."""
        return list(self._entries)

    def current_path(self) -> str:
        """The checkpoint path generation would use ("" when none is chosen)."""
        value = self.query_one("#checkpoint", Select).value
        if value == PATH:
            return self.query_one("#ckpt-path", Input).value.strip()
        return str(value)

    @on(Input.Submitted, "#ckpt-path")
    def _path_submitted(self) -> None:
        path = self.current_path()
        if not path:
            self.notify("type a checkpoint path first", severity="error", markup=False)
            return
        self._load(path)
        self.query_one("#prefix", Input).focus()

    def _load(self, path: str) -> None:
        """Load a checkpoint in the background (to show its facts; generating is then quick)."""
        self._start(Request(path, None, GenerateOptions()))

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
        prefix = self.query_one("#prefix", Input).value
        if not prefix:
            self.notify("type a prefix to start from", severity="error", markup=False)
            self.query_one("#prefix", Input).focus()
            return
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
        self._start(Request(path, prefix, options))

    def _start(self, request: Request) -> None:
        self._request_id += 1
        self._request = request
        self._count = 0
        name = Path(request.path).name or request.path
        if request.prefix is None:
            self._set_status(f"loading {name}…")
        else:
            self._set_status(f"generating with {name}…")
        self._set_busy(True, total=None)
        self._worker = self._run(request, self._request_id)

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def _run(self, request: Request, request_id: int) -> Summary | None:
        worker = get_current_worker()
        with self._lock:
            if worker.is_cancelled:
                return None
            lm, fresh = self._load_lm(request.path)
            self.post_message(
                CheckpointLoaded(
                    request_id, str(lm.path), describe(lm.meta), list(lm.warnings), fresh
                )
            )
            if request.prefix is None:
                return None
            from rnn_tui.data.prefix import encode_prefix, unknown_message
            from rnn_tui.decode.generate import predict

            opts = request.options
            encoded = encode_prefix(request.prefix, lm.vocab, lm.token, lm.mode)
            steps = predict(
                request.prefix,
                opts.length,
                lm.model,
                lm.vocab,
                lm.token,
                strategy=opts.strategy,
                temperature=opts.temperature,
                top_k=opts.top_k,
                seed=opts.seed,
                device=lm.device,
                mode=lm.mode,
            )
            warning = unknown_message(encoded.unknown) if encoded.unknown else ""
            self.post_message(
                GenerationStarted(request_id, encoded.tokens, encoded.unknown, lm.token, warning)
            )
            started = last_post = self.clock()
            pending: list[str] = []
            count = 0
            step = None
            for step in steps:
                pending.append(step.token)
                count += 1
                if worker.is_cancelled:
                    break
                now = self.clock()
                if now - last_post >= UPDATE_INTERVAL:
                    self.post_message(
                        TokensGenerated(request_id, pending, step.top, step.token, count)
                    )
                    pending, last_post = [], now
            steps.close()
            if pending and step is not None:
                self.post_message(TokensGenerated(request_id, pending, step.top, step.token, count))
            return Summary(count, self.clock() - started, worker.is_cancelled)

    def _load_lm(self, path: str) -> tuple[LoadedLM, bool]:
        """The LoadedLM for `path` (worker thread): cached until its JSON changes."""
        from rnn_tui.decode.generate import load_lm

        if self._cache is not None:
            cached_path, lm, mtime = self._cache
            if cached_path == path and _mtime_ns(lm.path.with_suffix(".json")) == mtime:
                return lm, False
        self._cache = None  # free the old model before reading the new one
        lm = load_lm(path, "cpu")
        self._cache = (path, lm, _mtime_ns(lm.path.with_suffix(".json")))
        return lm, True

    @on(CheckpointLoaded)
    def _checkpoint_loaded(self, message: CheckpointLoaded) -> None:
        if message.request_id != self._request_id:
            return
        self.query_one("#gen-facts", Static).update(format_facts(message.facts, message.path))
        if message.fresh:
            for warning in message.warnings:
                self.notify(warning, severity="warning", markup=False)

    @on(GenerationStarted)
    def _generation_started(self, message: GenerationStarted) -> None:
        if message.request_id != self._request_id or self._request is None:
            return
        self.query_one(GenerationOutput).begin(message.tokens, message.unknown, message.token)
        self.query_one(TopTokens).reset()
        warning = self.query_one("#gen-unknown", Static)
        warning.update(f"⚠ {message.warning}")
        warning.display = bool(message.warning)
        self._set_busy(True, total=self._request.options.length)

    @on(TokensGenerated)
    def _tokens_generated(self, message: TokensGenerated) -> None:
        if message.request_id != self._request_id or self._request is None:
            return
        self._count = message.count
        self.query_one(GenerationOutput).extend(message.tokens)
        self.query_one(TopTokens).show(message.count, message.top, message.chosen)
        self.query_one("#gen-progress", ProgressBar).update(progress=message.count)
        total = self._request.options.length
        if self._worker is not None and self._worker.is_running:
            self._set_status(f"generating… {message.count:,} of {total:,} tokens")
        elif self._worker is not None and self._worker.is_cancelled:
            # The tokens produced while the worker noticed the stop arrive after it.
            self._set_status(f"stopped after {message.count:,} of {total:,} tokens")

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._discover_worker:
            if event.state == WorkerState.SUCCESS:
                self._checkpoints_found(event.worker.result or [])
            elif event.state == WorkerState.ERROR:
                self._set_status("could not look for checkpoints")
                self._notify_error(event.worker.error)
            return
        if event.worker is not self._worker or self._request is None:
            return
        request = self._request
        if event.state == WorkerState.SUCCESS:
            summary = event.worker.result
            if summary is None:
                self._set_status(f"ready · {Path(request.path).name} loaded")
            else:
                self._set_status(self._summary_text(summary, request.options))
        elif event.state == WorkerState.CANCELLED:
            if request.prefix is not None:
                total = request.options.length
                self._set_status(f"stopped after {self._count:,} of {total:,} tokens")
        elif event.state == WorkerState.ERROR:
            self._set_status("ready")
            self._notify_error(event.worker.error)
        else:
            return
        self._set_busy(False)

    def _notify_error(self, error: BaseException | None) -> None:
        text = str(error).strip().splitlines()[0] if error and str(error).strip() else ""
        self.notify(text or type(error).__name__, severity="error", markup=False)

    @staticmethod
    def _summary_text(summary: Summary, options: GenerateOptions) -> str:
        rate = summary.count / summary.elapsed if summary.elapsed > 0 else 0.0
        how = "greedy"
        if options.strategy == "sample":
            how = f"sample, T {options.temperature:g}"
            if options.top_k:
                how += f", top-k {options.top_k}"
            how += f", seed {options.seed}"
        verb = "stopped after" if summary.cancelled else "generated"
        timing = ""
        if summary.elapsed > 0:
            timing = f" in {summary.elapsed:.2f} s ({rate:,.0f} tokens/s)"
        return f"{verb} {summary.count:,} tokens{timing} · {how}"

    # -- status -------------------------------------------------------------------------------

    def _set_status(self, text: str) -> None:
        self.query_one("#gen-status", Static).update(text)

    def _set_busy(self, busy: bool, total: int | None = None) -> None:
        progress = self.query_one("#gen-progress", ProgressBar)
        progress.display = busy
        if busy:
            progress.update(total=total, progress=0)
        self.query_one("#gen-status").set_class(busy, "-busy")
        self.refresh_bindings()

    @property
    def running(self) -> bool:
        """Whether a load or a generation is under way."""
        return self._worker is not None and self._worker.is_running

    # -- controls -----------------------------------------------------------------------------

    @on(Select.Changed, "#strategy")
    def _strategy_changed(self, event: Select.Changed) -> None:
        sampling = event.value == "sample"
        for selector in SAMPLING_FIELDS:
            self.query_one(selector, Input).disabled = not sampling

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if self.running else None
        return True

    def action_stop(self) -> None:
        if self.running and self._worker is not None:
            self._worker.cancel()

    def action_toggle_strategy(self) -> None:
        select = self.query_one("#strategy", Select)
        select.value = "sample" if select.value == "greedy" else "greedy"

    def action_refresh(self) -> None:
        self.refresh_checkpoints()

    def action_open_path(self) -> None:
        self.query_one("#checkpoint", Select).value = PATH
        self.query_one("#gen-path-row").display = True
        self.query_one("#ckpt-path", Input).focus()

    def action_choose_checkpoint(self) -> None:
        select = self.query_one("#checkpoint", Select)
        select.focus()
        select.expanded = True

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


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
