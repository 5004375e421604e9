"""The Translate console: English → French with a seq2seq checkpoint, greedy and beam search.

Pick a checkpoint (the seq2seq ones rnn_tui.runs.discover finds without loading them, or a
typed path), type one sentence — or several separated by `;`, or paste several lines — and press
enter. "sentence => reference" adds the seeds' BLEU (k = 2) of that sentence, and with two
references or more the corpus BLEU (sacreBLEU) of greedy and beam output. A thread worker loads
the model and translates (rnn_tui.decode.translate: torch is imported there, never when this
module is imported, so the app paints fast); it posts finished sentences at most every
UPDATE_INTERVAL seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.validation import Function, Integer
from textual.widgets import Header, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from rnn_tui.decode.search import worked_example_summary
from rnn_tui.runs.discover import describe, discover_checkpoints, read_meta
from rnn_tui.tui import explanations
from rnn_tui.tui.widgets.checkpoint_options import PATH, fill_checkpoint_select
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.translate_input import SentenceInput, split_sentences
from rnn_tui.tui.widgets.translate_results import TranslationResults
from rnn_tui.tui.widgets.translate_tables import ResultRow

if TYPE_CHECKING:  # the module itself needs torch: imported by the worker only
    from rnn_tui.decode.translate import Translator

# The seeds' four test sentences with the book's references (d2l §9.7).
SEEDS_EXAMPLES = (
    "go . => va ! ; i lost . => j'ai perdu . ; he's calm . => il est calme . ; "
    "i'm home . => je suis chez moi ."
)
DEFAULT_BEAM = 4
DEFAULT_ALPHA = 0.75  # the seeds' length penalty
MAX_BEAM = 64
MAX_LEN = 200
MAX_SENTENCES = 1000
CHUNK = 16  # sentences per translate_many call (one encoder batch; cancelling waits at most one)
UPDATE_INTERVAL = 0.25  # seconds between two batches of results posted by the worker
WIDE = 100  # columns from which the optional labels are shown

EMPTY_MESSAGE = """\
No seq2seq checkpoint found. Train one, then press ctrl+r here:

    rnn-tui train --task seq2seq

or the book's run (600 pairs, a few minutes on a CPU):

    rnn-tui train --task seq2seq --num-examples 600 --embed 32 \\
        --hidden 32 --epochs 300 --val-fraction 0

Checkpoints are looked for in checkpoints/, $RNN_TUI_CHECKPOINTS and every
run under runs/; or type the path of a checkpoint or run directory (ctrl+o)."""

START_MESSAGE = """\
Type an English sentence and press enter: the greedy and the beam-search translations appear \
side by side, and the final beam of the selected sentence below.

  go . => va !        a reference after => adds the seeds' BLEU (k = 2)
  go . ; i lost .     ; separates sentences (so does pasting lines)

Beam size 1 is greedy; α is the length penalty in score = log P / L^α."""


class OptionError(ValueError):
    """A beam size, α or max length that cannot be used (one line)."""


@dataclass(frozen=True)
class Options:
    beam_size: int = DEFAULT_BEAM
    alpha: float = DEFAULT_ALPHA
    max_len: int | None = None  # None: the run's num_steps (d2l)


def parse_beam(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise OptionError(f"beam size must be a whole number 1–{MAX_BEAM}, not {text!r}") from None
    if not 1 <= value <= MAX_BEAM:
        raise OptionError(f"beam size must be a whole number 1–{MAX_BEAM}, not {value}")
    return value


def parse_alpha(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise OptionError(f"α must be a number ≥ 0 (0.75 in the seeds), not {text!r}")
    return value


def parse_max_len(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LEN:
        raise OptionError(f"max length must be empty (num_steps) or 1–{MAX_LEN}, not {text!r}")
    return value


def parse_options(beam: str, alpha: str, max_len: str) -> Options:
    """The three fields as Options; OptionError (one line) for the first bad one."""
    return Options(parse_beam(beam), parse_alpha(alpha), parse_max_len(max_len))


def _valid(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            parse(text)
        except OptionError:
            return False
        return True

    return check


@dataclass(frozen=True)
class Request:
    """One job for the worker: load `path`, then (unless lines is None) translate them."""

    path: str
    lines: tuple[str, ...] | None
    options: Options = Options()


@dataclass(frozen=True)
class Outcome:
    """How a translation request ended; `corpus` holds {"greedy", "beam", "references"}
    (sacreBLEU 0–100) when two sentences or more had a reference."""

    count: int
    total: int
    elapsed: float
    cancelled: bool
    corpus: dict | None


class TranslatorLoaded(Message):
    """The worker has the model of `path` in memory; `fresh` when it was just read from disk."""

    def __init__(self, request_id: int, path: str, facts: dict, warnings: list[str], fresh: bool):
        super().__init__()
        self.request_id, self.path, self.facts = request_id, path, facts
        self.warnings, self.fresh = warnings, fresh


class SentencesTranslated(Message):
    """Rows finished since the last message; `done` of `total` sentences so far."""

    def __init__(self, request_id: int, rows: list[ResultRow], done: int, total: int):
        super().__init__()
        self.request_id, self.rows, self.done, self.total = request_id, rows, done, total


def format_facts(facts: dict, path: str | None) -> str:
    """seq2seq bidirectional ×2 layers · hidden 32 · vocab 184 → 201 · num_steps 10 ·
    val ppl 9.12 · BLEU 41.3 · epoch 300 · PATH (the parts that are known)."""
    parts = []
    if facts.get("model"):
        model = str(facts["model"]) + (" bidirectional" if facts.get("bidirectional") else "")
        layers = facts.get("layers")
        parts.append(model + (f" ×{layers} layers" if layers and layers > 1 else ""))
    if facts.get("hidden"):
        parts.append(f"hidden {facts['hidden']}")
    if facts.get("src_vocab") is not None and facts.get("tgt_vocab") is not None:
        parts.append(f"vocab {facts['src_vocab']:,} → {facts['tgt_vocab']:,}")
    if facts.get("num_steps"):
        parts.append(f"num_steps {facts['num_steps']}")
    if facts.get("val_ppl") is not None:
        parts.append(f"val ppl {facts['val_ppl']:.2f}")
    elif facts.get("train_ppl") is not None:
        parts.append(f"train ppl {facts['train_ppl']:.2f}")
    if facts.get("bleu") is not None:
        parts.append(f"BLEU {facts['bleu']:.1f}")
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


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def checkpoint_facts(meta: dict | None) -> dict:
    """describe(meta) plus what a seq2seq checkpoint adds: its held-out BLEU (the metrics' own
    or the last epoch's) and whether the encoder is bidirectional."""
    if not meta:
        return {}
    facts = describe(meta)
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    history = metrics.get("history")
    last = history[-1] if isinstance(history, list) and history else {}
    last = last if isinstance(last, dict) else {}
    facts["bleu"] = _number(metrics.get("bleu")) or _number(last.get("bleu"))
    model_config = meta.get("model_config") if isinstance(meta.get("model_config"), dict) else {}
    facts["bidirectional"] = bool(model_config.get("bidirectional"))
    return facts


def _load_translator(path: str) -> Translator:
    from rnn_tui.decode.translate import load_translator

    return load_translator(path, "cpu")


class TranslateScreen(Screen):
    """Checkpoint, sentences and search options on top; the results below."""

    AUTO_FOCUS = "#tr-source"
    EXPLAIN = explanations.TRANSLATE
    # Times the translation (and paces the worker's updates); tests pin it for stable pictures.
    clock = staticmethod(time.perf_counter)
    # path -> Translator; tests swap in a fake.
    loader = staticmethod(_load_translator)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+t",
            "translate",
            "Translate",
            tooltip="translate the sentences (enter in a field does it too)",
        ),
        Binding("escape", "stop", "Stop", tooltip="stop the translation running now"),
        Binding(
            "ctrl+s",
            "examples",
            "Examples",
            tooltip="the seeds' four sentences with their references",
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
            tooltip="open the list of seq2seq checkpoints",
        ),
    ]

    GUIDE = """\
**Sequence to sequence** (d2l §9.7): the encoder reads the English sentence (its tokens and
`<eos>`, cut to the run's *num_steps*) into a state; the decoder starts from `<bos>` and that
state and writes French one token at a time until it writes `<eos>` or reaches *max length*
(empty = num_steps, as in d2l).

**Typing sentences**: one per line is impossible in a one-line field, so `;` separates them
(`go . ; i lost .`); pasting several lines joins them with ` ; `. `sentence => reference`
adds a reference. The sentence is prepared as the training pairs were: lower-cased, a space
before `, . ! ?`, split on spaces; words the source vocabulary lacks become `<unk>`
(highlighted, and listed under the table).

**Greedy search** (d2l §9.8) takes the most probable token at each step. **Beam search** keeps
the *k* most probable prefixes (beam size) at each step; a prefix ending in `<eos>` is finished.
The candidates are ranked by **score = (1/L^α) Σ log P**: L is the length with `<eos>`, α the
length penalty (0.75 in the seeds; 0 compares raw log-probabilities, which favours short
output). Beam size 1 is greedy. The lower table lists the final beam of the selected sentence
(↑ ↓ in the upper table): Σ log P, L, score, and whether it ended with `<eos>` or was cut at
the maximum length; `= greedy` marks the greedy translation when the beam kept it.

**Greedy is not optimal** — the seeds' worked example (vocabulary A, B, C, `<eos>`, their
probability tables), computed here:

WORKED_EXAMPLE

**BLEU** (seeds): exp(min(0, 1 − len_label/len_pred)) · Π p_n^(1/2^n), n = 1…2, of each
translation against its reference, in [0, 1]. With two references or more, the status line adds
the corpus BLEU (sacreBLEU, 0–100) of the greedy and the beam outputs.

**Checkpoints**: the seq2seq ones in `checkpoints/`, `$RNN_TUI_CHECKPOINTS` and every run under
`runs/`; *Path…* takes any `.safetensors` checkpoint or run directory. Train one with
`rnn-tui train --task seq2seq` (or the Train screen).
""".replace("WORKED_EXAMPLE", "\n".join(f"- {line}" for line in worked_example_summary()))

    def __init__(self) -> None:
        super().__init__()
        self._entries: dict[str, dict] = {}  # path -> discovered entry
        self._selected: str | None = None  # the drop-down's value last acted on
        self._discover_worker: Worker | None = None
        self._found = False  # whether a search for checkpoints has finished
        self._worker: Worker | None = None  # the latest load/translate job
        self._request_id = 0
        self._request: Request | None = None
        self._done = 0  # sentences shown for the current request
        self._shown_request = 0  # the request whose rows the results show
        self._num_steps: int | None = None  # the loaded model's
        # Touched by worker threads only, one at a time.
        self._lock = threading.Lock()
        self._cache: tuple[str, Any, int] | None = None  # (path asked, translator, json mtime)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="tr-source-row", classes="tr-row"):
            yield Label("checkpoint", classes="control-label")
            yield Select(
                [("Path…", PATH)],
                value=PATH,
                allow_blank=False,
                compact=True,
                id="tr-checkpoint",
                tooltip="The seq2seq model to translate with (ctrl+l); ctrl+r looks again",
            )
        with Horizontal(id="tr-path-row", classes="tr-row"):
            yield Label("path", classes="control-label")
            yield Input(
                placeholder="a .safetensors checkpoint or a run directory, then enter",
                id="tr-path",
                compact=True,
            )
        yield Static("looking for checkpoints…", id="tr-facts", markup=False)
        with Horizontal(id="tr-input-row", classes="tr-row"):
            yield Label("english", classes="control-label")
            yield SentenceInput(
                SEEDS_EXAMPLES,
                placeholder="go . => va !   (; separates sentences)",
                id="tr-source",
                compact=True,
                tooltip="Sentences separated by ; — 'sentence => reference' adds BLEU; enter "
                "translates",
            )
        with Horizontal(id="tr-options", classes="tr-row"):
            yield Label("beam size", classes="control-label")
            yield Input(
                str(DEFAULT_BEAM),
                id="tr-beam-size",
                compact=True,
                validators=[Function(_valid(parse_beam), f"a whole number 1–{MAX_BEAM}")],
                tooltip=f"Prefixes kept at each step (1 = greedy, up to {MAX_BEAM})",
            )
            yield Label("α", classes="control-label")
            yield Input(
                str(DEFAULT_ALPHA),
                id="tr-alpha",
                compact=True,
                validators=[Function(_valid(parse_alpha), "a number ≥ 0")],
                tooltip="Length penalty: score = log P / L^α (0.75 in the seeds)",
            )
            yield Label("max length", classes="control-label")
            yield Input(
                "",
                placeholder="auto",
                id="tr-max-len",
                compact=True,
                validators=[Integer(minimum=1, maximum=MAX_LEN)],
                valid_empty=True,
                tooltip=f"Most target tokens (1–{MAX_LEN}); empty: the run's num_steps",
            )
            yield Static("", id="tr-options-note", classes="-optional-label", markup=False)
        yield TranslationResults(id="tr-results")
        with Horizontal(id="tr-status-row"):
            yield Static("", id="tr-status", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="tr-progress")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one(TranslationResults).show_message("looking for checkpoints…")
        self.refresh_checkpoints()

    def on_resize(self, event: events.Resize) -> None:
        for widget in self.query(".-optional-label"):
            widget.display = event.size.width >= WIDE

    # -- checkpoints --------------------------------------------------------------------------

    def refresh_checkpoints(self) -> None:
        """Look for seq2seq checkpoints again, in a worker (it reads every checkpoint's JSON)."""
        self._set_status("looking for checkpoints…")
        self._discover_worker = self._discover()

    @work(thread=True, exclusive=True, group="discover", exit_on_error=False)
    def _discover(self) -> list[dict]:
        return discover_checkpoints(task="seq2seq")

    def _checkpoints_found(self, entries: list[dict]) -> None:
        self._found = True
        self._entries = {entry["path"]: entry for entry in entries}
        value = fill_checkpoint_select(
            self,
            self.query_one("#tr-checkpoint", Select),
            entries,
            self.query_one("#tr-path", Input).value.strip(),
        )
        results = self.query_one(TranslationResults)
        if value != self._selected:
            self._checkpoint_chosen(value, by_user=False)
        elif value in self._entries and not self.running:
            entry = self._entries[value]
            self.query_one("#tr-facts", Static).update(format_facts(entry, entry["path"]))
        count = len(entries)
        if count:
            if not results.rows:
                results.show_message(START_MESSAGE)
            self._set_status(
                f"{count} seq2seq checkpoint{'s' if count != 1 else ''} found · enter translates"
            )
        else:
            if not results.rows:
                results.show_message(EMPTY_MESSAGE)
            self._set_status("no seq2seq checkpoints found: train one, or type a path (ctrl+o)")

    @on(Select.Changed, "#tr-checkpoint")
    def _checkpoint_changed(self, event: Select.Changed) -> None:
        self._checkpoint_chosen(event.value, by_user=True)

    def _checkpoint_chosen(self, value: object, by_user: bool) -> None:
        # The drop-down reports its first value on mount, before the list is known.
        if value == self._selected or not self._found:
            return
        self._selected = str(value)
        is_path = value == PATH
        path_row = self.query_one("#tr-path-row")
        if not is_path and path_row.has_focus_within:
            self.query_one("#tr-source", Input).focus()
        path_row.display = is_path
        facts = self.query_one("#tr-facts", Static)
        if is_path:
            typed = self.query_one("#tr-path", Input).value.strip()
            if not typed:
                facts.update("type the path of a .safetensors checkpoint or a run directory")
                if by_user:
                    self.query_one("#tr-path", Input).focus()
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
        """The checkpoint path translation would use ("" when none is chosen)."""
        value = self.query_one("#tr-checkpoint", Select).value
        if value == PATH:
            return self.query_one("#tr-path", Input).value.strip()
        return str(value)

    @on(Input.Submitted, "#tr-path")
    def _path_submitted(self) -> None:
        path = self.current_path()
        if not path:
            self.notify("type a checkpoint path first", severity="error", markup=False)
            return
        self._load(path)
        self.query_one("#tr-source", Input).focus()

    def _load(self, path: str) -> None:
        """Load a checkpoint in the background (to show its facts; translating is then quick)."""
        self._start(Request(path, None))

    # -- translating --------------------------------------------------------------------------

    @on(Input.Submitted, "#tr-source, #tr-beam-size, #tr-alpha, #tr-max-len")
    def _field_submitted(self) -> None:
        self.action_translate()

    def action_translate(self) -> None:
        """Translate the typed sentences with the options shown (a notification if one is bad)."""
        path = self.current_path()
        if not path:
            self.notify(
                "choose a seq2seq checkpoint first, or type its path (ctrl+o)",
                severity="error",
                markup=False,
            )
            return
        lines = split_sentences(self.query_one("#tr-source", Input).value)
        if not lines:
            self.notify("type an English sentence to translate", severity="error", markup=False)
            self.query_one("#tr-source", Input).focus()
            return
        if len(lines) > MAX_SENTENCES:
            self.notify(
                f"{len(lines):,} sentences: translate at most {MAX_SENTENCES:,} at once",
                severity="error",
                markup=False,
            )
            return
        try:
            options = parse_options(
                self.query_one("#tr-beam-size", Input).value,
                self.query_one("#tr-alpha", Input).value,
                self.query_one("#tr-max-len", Input).value,
            )
        except OptionError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._start(Request(path, tuple(lines), options))

    def _start(self, request: Request) -> None:
        self._request_id += 1
        self._request = request
        self._done = 0
        name = Path(request.path).name or request.path
        if request.lines is None:
            self._set_status(f"loading {name}…")
            self._set_busy(True, total=None)
        else:
            count = len(request.lines)
            self._set_status(f"translating {count} sentence{'s' if count != 1 else ''}…")
            self._set_busy(True, total=count)
        self._worker = self._run(request, self._request_id)

    @work(thread=True, exclusive=True, group="translate", exit_on_error=False)
    def _run(self, request: Request, request_id: int) -> Outcome | None:
        worker = get_current_worker()
        with self._lock:
            if worker.is_cancelled:
                return None
            translator, fresh = self._translator(request.path)
            checkpoint = getattr(translator, "checkpoint", None) or request.path
            facts = checkpoint_facts(read_meta(Path(checkpoint).with_suffix(".json")))
            facts.update(
                src_vocab=len(translator.src_vocab),
                tgt_vocab=len(translator.tgt_vocab),
                num_steps=translator.config.get("num_steps"),
            )
            warnings = list(getattr(translator, "warnings", []))
            self.post_message(TranslatorLoaded(request_id, str(checkpoint), facts, warnings, fresh))
            if request.lines is None:
                return None
            return self._translate(translator, request, request_id, worker)

    def _translate(self, translator, request: Request, request_id: int, worker) -> Outcome:
        """Translate request.lines in chunks, posting the rows as they are done (worker)."""
        from rnn_tui.decode.translate import BLEU_K, normalize, parse_line
        from rnn_tui.metrics.bleu import bleu, corpus_bleu

        parsed = []
        for i, line in enumerate(request.lines or (), 1):
            try:
                parsed.append(parse_line(line))
            except ValueError as exc:
                where = f"sentence {i}: " if len(request.lines or ()) > 1 else ""
                raise OptionError(f"{where}{exc}") from None
        opts = request.options
        total = len(parsed)
        started = last_post = self.clock()
        rows: list[ResultRow] = []
        pending: list[ResultRow] = []
        for start in range(0, total, CHUNK):
            if worker.is_cancelled:
                break
            chunk = parsed[start : start + CHUNK]
            translations = translator.translate_many(
                [sentence for sentence, _ in chunk],
                beam_size=opts.beam_size,
                alpha=opts.alpha,
                max_len=opts.max_len,
                references=[reference for _, reference in chunk],
            )
            for t in translations:
                candidates = list(t.beam) if t.beam else [t.greedy]
                greedy_bleu = None
                if t.reference is not None:
                    greedy_bleu = float(bleu(t.greedy_text, normalize(t.reference), k=BLEU_K))
                row = ResultRow(
                    len(rows) + 1,
                    t,
                    tuple(translator.text(c.tokens) for c in candidates),
                    greedy_bleu,
                )
                rows.append(row)
                pending.append(row)
            now = self.clock()
            if now - last_post >= UPDATE_INTERVAL or len(rows) == total:
                self.post_message(SentencesTranslated(request_id, pending, len(rows), total))
                pending, last_post = [], now
        if pending:
            self.post_message(SentencesTranslated(request_id, pending, len(rows), total))
        elapsed = self.clock() - started
        scored = [row.translation for row in rows if row.translation.reference is not None]
        corpus = None
        if len(scored) >= 2:
            references = [normalize(t.reference) for t in scored]
            corpus = {
                "greedy": float(corpus_bleu([t.greedy_text for t in scored], references)),
                "beam": float(corpus_bleu([t.beam_text for t in scored], references)),
                "references": len(scored),
            }
        return Outcome(len(rows), total, elapsed, worker.is_cancelled, corpus)

    def _translator(self, path: str) -> tuple[Translator, bool]:
        """The Translator for `path` (worker thread): cached until its JSON changes."""
        if self._cache is not None:
            cached_path, translator, mtime = self._cache
            if cached_path == path and _mtime_ns(_json_of(translator, path)) == mtime:
                return translator, False
        self._cache = None  # free the old model before reading the new one
        translator = self.loader(path)
        self._cache = (path, translator, _mtime_ns(_json_of(translator, path)))
        return translator, True

    @on(TranslatorLoaded)
    def _translator_loaded(self, message: TranslatorLoaded) -> None:
        if message.request_id != self._request_id:
            return
        self.query_one("#tr-facts", Static).update(format_facts(message.facts, message.path))
        self._num_steps = message.facts.get("num_steps")
        if message.fresh:
            for warning in message.warnings:
                self.notify(warning, severity="warning", markup=False)

    def _show_options_note(self, opts: Options, num_steps) -> None:
        max_len = opts.max_len or num_steps
        note = f"score = log P / L^{opts.alpha:g}"
        if max_len:
            note += f" · at most {max_len} tokens"
        self.query_one("#tr-options-note", Static).update(note)

    @on(SentencesTranslated)
    def _sentences_translated(self, message: SentencesTranslated) -> None:
        if message.request_id != self._request_id:
            return
        results = self.query_one(TranslationResults)
        if self._shown_request != message.request_id and self._request is not None:
            # The first rows of a request replace the previous results (an error before them,
            # a bad line say, leaves those in place).
            self._shown_request = message.request_id
            opts = self._request.options
            with_bleu = any("=>" in line for line in self._request.lines or ())
            results.begin(opts.beam_size, opts.alpha, with_bleu)
            self._show_options_note(opts, self._num_steps)
        self._done = message.done
        results.add(message.rows)
        self.query_one("#tr-progress", ProgressBar).update(progress=message.done)
        if self._worker is not None and self._worker.is_running:
            self._set_status(f"translating… {message.done:,} of {message.total:,} sentences")

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
            outcome = event.worker.result
            if outcome is None:
                self._set_status(f"ready · {Path(request.path).name} loaded · enter translates")
            else:
                self._set_status(self._outcome_text(outcome, request.options))
        elif event.state == WorkerState.CANCELLED:
            if request.lines is not None:
                self._set_status(
                    f"stopped after {self._done:,} of {len(request.lines):,} sentences"
                )
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
    def _outcome_text(outcome: Outcome, options: Options) -> str:
        verb = "stopped after" if outcome.cancelled else "translated"
        noun = "sentence" if outcome.total == 1 else "sentences"
        count = (
            f"{outcome.count:,} of {outcome.total:,}" if outcome.cancelled else f"{outcome.count:,}"
        )
        text = f"{verb} {count} {noun}"
        if outcome.elapsed > 0:
            text += f" in {outcome.elapsed:.2f} s"
        text += f" · beam {options.beam_size}, α {options.alpha:g}"
        if outcome.corpus is not None:
            c = outcome.corpus
            text += (
                f" · corpus BLEU ({c['references']} references): greedy {c['greedy']:.1f}, "
                f"beam {c['beam']:.1f}"
            )
        return text

    # -- status -------------------------------------------------------------------------------

    def _set_status(self, text: str) -> None:
        self.query_one("#tr-status", Static).update(text)

    def _set_busy(self, busy: bool, total: int | None = None) -> None:
        progress = self.query_one("#tr-progress", ProgressBar)
        progress.display = busy
        if busy:
            progress.update(total=total, progress=0)
        self.query_one("#tr-status").set_class(busy, "-busy")
        self.refresh_bindings()

    @property
    def running(self) -> bool:
        """Whether a load or a translation is under way."""
        return self._worker is not None and self._worker.is_running

    @property
    def status(self) -> str:
        """The status line's text."""
        return str(self.query_one("#tr-status").render())

    # -- controls -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if self.running else None
        return True

    def action_stop(self) -> None:
        if self.running and self._worker is not None:
            self._worker.cancel()

    def action_examples(self) -> None:
        field = self.query_one("#tr-source", Input)
        field.value = SEEDS_EXAMPLES
        field.focus()

    def action_refresh(self) -> None:
        self.refresh_checkpoints()

    def action_open_path(self) -> None:
        self.query_one("#tr-checkpoint", Select).value = PATH
        self.query_one("#tr-path-row").display = True
        self.query_one("#tr-path", Input).focus()

    def action_choose_checkpoint(self) -> None:
        select = self.query_one("#tr-checkpoint", Select)
        select.focus()
        select.expanded = True

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) entries the command palette offers on this screen."""
        return [
            (
                "Translate: translate",
                "Translate the typed sentences (ctrl+t or enter)",
                self.action_translate,
            ),
            ("Translate: stop", "Stop the translation running now (escape)", self.action_stop),
            (
                "Translate: the seeds' examples",
                "go . / i lost . / he's calm . / i'm home . with references (ctrl+s)",
                self.action_examples,
            ),
            (
                "Translate: choose a checkpoint",
                "Shipped seq2seq checkpoints and every run's (ctrl+l)",
                self.action_choose_checkpoint,
            ),
            (
                "Translate: open a checkpoint path",
                "A .safetensors checkpoint or a run directory (ctrl+o)",
                self.action_open_path,
            ),
            (
                "Translate: refresh the checkpoint list",
                "Look for new checkpoints and runs (ctrl+r)",
                self.action_refresh,
            ),
        ]


def _json_of(translator, path: str) -> Path:
    checkpoint = getattr(translator, "checkpoint", None)
    return Path(checkpoint or path).with_suffix(".json")


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


__all__ = [
    "EMPTY_MESSAGE",
    "OptionError",
    "Options",
    "TranslateScreen",
    "format_facts",
    "parse_options",
]
