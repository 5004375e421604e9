"""The Translate console: English → French with a seq2seq checkpoint, greedy and beam search.

Pick a checkpoint (the seq2seq ones rnn_tui.runs.discover finds without loading them, or a
typed path), type one sentence — or several separated by `;`, or paste several lines — and press
enter. "sentence => reference" adds the seeds' BLEU (k = 2) of that sentence, and with two
references or more the corpus BLEU (sacreBLEU) of greedy and beam output. A thread worker loads
the model and translates (screens.translate_job, with rnn_tui.decode.translate: torch is
imported there, never when this module is imported, so the app paints fast). The checkpoint
picker, the status bar and the job's life cycle are the consoles' own (screens.console): this
module lays the screen out and wires it.
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
from textual.widgets import Header, Input, Label, Static
from textual.worker import Worker

from rnn_tui.decode.options import (
    ALPHA,
    BEAM,
    MAX_LEN_OPTION,
    OptionError,
    TranslateOptions,
    parse_translate_options,
)
from rnn_tui.decode.translate_text import TranslateError, parse_line
from rnn_tui.decode.worked_example import worked_example_summary
from rnn_tui.tui import explanations
from rnn_tui.tui.screens.console import ConsoleScreen, ModelLoaded, checkpoint_bindings
from rnn_tui.tui.screens.translate_job import (
    Outcome,
    SentencesTranslated,
    TranslateJob,
    TranslationProgress,
    checkpoint_of,
    load_translator,
    translate,
    translator_facts,
)
from rnn_tui.tui.widgets.checkpoint_picker import CheckpointPicker
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.option_input import option_input
from rnn_tui.tui.widgets.status_bar import StatusBar
from rnn_tui.tui.widgets.translate_input import SentenceInput, numbered_sentences
from rnn_tui.tui.widgets.translate_results import (
    EMPTY_MESSAGE,
    START_MESSAGE,
    TranslationResults,
)

if TYPE_CHECKING:  # the module itself needs torch: imported by the worker only
    from rnn_tui.decode.translate import Translator

# The seeds' four test sentences with the book's references (d2l §9.7).
SEEDS_EXAMPLES = (
    "go . => va ! ; i lost . => j'ai perdu . ; he's calm . => il est calme . ; "
    "i'm home . => je suis chez moi ."
)
MAX_SENTENCES = 1000


class TranslateScreen(ConsoleScreen):
    """Checkpoint, sentences and search options on top; the results below."""

    DEFAULT_CSS = """
    TranslateScreen .tr-row {
        height: 1;
    }
    TranslateScreen .control-label {
        padding: 0 1;
        color: $text-muted;
    }
    TranslateScreen #tr-source {
        width: 1fr;
    }
    TranslateScreen #tr-beam-size {
        width: 5;
    }
    TranslateScreen #tr-alpha {
        width: 7;
    }
    TranslateScreen #tr-max-len {
        width: 6;
    }
    TranslateScreen #tr-options-note {
        width: 1fr;
        padding: 0 2;
        color: $text-muted;
    }
    """

    AUTO_FOCUS = "#tr-source"
    EXPLAIN = explanations.TRANSLATE
    WORKER_MODULES = ("rnn_tui.decode.translate",)
    TASK = "seq2seq"
    loader = staticmethod(load_translator)

    FOOTER_KEPT = ("toggle_view",)  # a narrow footer keeps it: the way to the final beam
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
            "ctrl+g",
            "toggle_view",
            "Beam/Attn",
            tooltip="show the selected sentence's final beam or its attention heatmap",
        ),
        # In a text field ↑ ↓ have no use: they pick the heatmap's word, as the panel says.
        Binding("up", "word(-1)", "Previous word", show=False),
        Binding("down", "word(1)", "Next word", show=False),
        *checkpoint_bindings("seq2seq checkpoints"),
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

**Attention** (d2l §10.4, Bahdanau): a model trained with `--attention additive|dot` builds a
new context at every decoding step, c_t = Σ_i α_{t,i} h_i, with weights
α_t = masked_softmax(a(s_{t−1}, h_i)) over the encoder's outputs h_i (`<pad>` gets exactly 0).
For such a model the panel below the sentences shows the heatmap of the translation: a row per
target word, a column per source word, each cell the weight in percent. ↑ ↓ in the heatmap or
in a text field select a target word; the source words it attended to are highlighted and
named. ctrl+g switches between the heatmap and the final beam.

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
        self._done = 0  # sentences shown for the current request
        self._shown_request = 0  # the request whose rows the results show
        self._num_steps: int | None = None  # the loaded model's

    def compose(self) -> ComposeResult:
        yield Header()
        yield CheckpointPicker(
            self.TASK,
            select_id="tr-checkpoint",
            path_id="tr-path",
            path_row_id="tr-path-row",
            facts_id="tr-facts",
            tooltip="The seq2seq model to translate with (ctrl+l); ctrl+r looks again",
            then_focus="#tr-source",
            focus_empty_path=False,  # the results say how to get a checkpoint instead
            id="tr-picker",
        )
        with Horizontal(id="tr-input-row", classes="tr-row"):
            yield Label("english", classes="control-label")
            # Empty at first: text already there would take what a new user types as one
            # more piece of it (ctrl+s fills in the seeds' examples).
            yield SentenceInput(
                placeholder="e.g. i lost . => j'ai perdu .   (; separates · ctrl+s: examples)",
                id="tr-source",
                compact=True,
                tooltip="Sentences separated by ; — 'sentence => reference' adds BLEU; enter "
                "translates",
            )
        with Horizontal(id="tr-options", classes="tr-row"):
            yield Label("beam size", classes="control-label")
            yield option_input(BEAM, id="tr-beam-size")
            yield Label("α", classes="control-label")
            yield option_input(ALPHA, id="tr-alpha")
            yield Label("max length", classes="control-label")
            yield option_input(MAX_LEN_OPTION, id="tr-max-len", placeholder="auto")
            yield Static("", id="tr-options-note", classes="-optional-label", markup=False)
        yield TranslationResults(id="tr-results")
        yield StatusBar("tr", wrap=True, id="tr-status-row")  # the corpus BLEU may wrap
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one(TranslationResults).show_message("looking for checkpoints…")
        self.refresh_checkpoints()

    def checkpoints_found(self, count: int) -> str:
        results = self.query_one(TranslationResults)
        if not results.rows:
            results.show_message(START_MESSAGE if count else EMPTY_MESSAGE)
        if count:
            return f"{count} seq2seq checkpoint{'s' if count != 1 else ''} found · enter translates"
        return "no seq2seq checkpoints found: train one, or type a path (ctrl+o)"

    # -- translating --------------------------------------------------------------------------

    @on(Input.Submitted, "#tr-source, #tr-beam-size, #tr-alpha, #tr-max-len")
    def _field_submitted(self) -> None:
        self.action_translate()

    def action_translate(self) -> None:
        """Translate the typed sentences with the options shown (a notification if one is bad)."""
        path = self.current_path()
        if not path:
            self._refuse("choose a seq2seq checkpoint first, or type its path (ctrl+o)")
            return
        numbered = numbered_sentences(self.query_one("#tr-source", Input).value)
        lines = [line for _, line in numbered]
        if not lines:
            self._refuse("type an English sentence to translate (ctrl+s: the seeds' examples)")
            self.query_one("#tr-source", Input).focus()
            return
        if len(lines) > MAX_SENTENCES:
            self._refuse(f"{len(lines):,} sentences: translate at most {MAX_SENTENCES:,} at once")
            return
        for number, line in numbered:
            # Checked here, numbered as typed (blank pieces count): the worker's numbers would
            # skip the blank ones and name another piece.
            try:
                parse_line(line)
            except TranslateError as exc:
                several = number > 1 or len(numbered) > 1
                text = f"sentence {number}: {exc}" if several else str(exc)
                self._refuse(text)
                return
        options = self._typed_options()
        if options is not None:
            self._translate(path, TranslateJob(tuple(lines), options))

    def _typed_options(self, after: str = "") -> TranslateOptions | None:
        """The search options as the fields hold them; None after a notification naming the
        first bad one (`after` follows it)."""
        try:
            return parse_translate_options(
                self.query_one("#tr-beam-size", Input).value,
                self.query_one("#tr-alpha", Input).value,
                self.query_one("#tr-max-len", Input).value,
            )
        except OptionError as exc:
            self._refuse(str(exc) + after)
            return None

    def _refuse(self, text: str) -> None:
        self.notify(text, severity="error", markup=False)

    def _translate(self, path: str, job: TranslateJob) -> None:
        self._done = 0
        count = len(job.lines)
        text = f"translating {count} sentence{'s' if count != 1 else ''}…"
        self.start(path, job, text, total=count)

    def checkpoint_switched(self, path: str, job: TranslateJob) -> None:
        """The sentences shown are translated again by the checkpoint chosen, with the options
        the fields hold now, so the table always holds the translations of the checkpoint named
        above it. A bad field is named, and the choice gives way to the checkpoint whose
        translations stay shown, as a failed load does."""
        # The field's problem, and that the checkpoint chosen was not opened for it: said only
        # "beam size must be …", a bad path typed next was never named.
        options = self._typed_options(f"; {Path(path).name} was not opened")
        if options is None:
            self.picker.load_failed(path)
            return
        self._translate(path, replace(job, options=options))

    def json_of(self, translator: Translator, path: str) -> Path:
        return checkpoint_of(translator, path).with_suffix(".json")

    def model_facts(self, translator: Translator, path: str) -> tuple[str, dict, list[str]]:
        return translator_facts(translator, path)

    def run_job(
        self, translator: Translator, job: TranslateJob, request_id: int, worker: Worker
    ) -> Outcome:
        return translate(translator, job, request_id, worker, self.post_message, self.clock)

    def model_loaded(self, message: ModelLoaded) -> None:
        self._num_steps = message.facts.get("num_steps")

    def _show_options_note(self, opts: TranslateOptions, num_steps: int | None) -> None:
        max_len = opts.max_len or num_steps
        note = f"score = log P / L^{opts.alpha:g}"
        if max_len:
            note += f" · at most {max_len} tokens"
        self.query_one("#tr-options-note", Static).update(note)

    @on(SentencesTranslated)
    def _sentences_translated(self, message: SentencesTranslated) -> None:
        if not self.is_current(message.request_id) or self.request is None:
            return
        results = self.query_one(TranslationResults)
        job: TranslateJob = self.request.job
        if self._shown_request != message.request_id:
            # The first rows of a request replace the previous results (an error before them,
            # a bad line say, leaves those in place).
            self._shown_request = message.request_id
            self.results_shown()
            results.begin(job.options.beam_size, job.options.alpha, job.with_bleu, message.total)
            self._show_options_note(job.options, self._num_steps)
        self._done = message.done
        results.add(message.rows)
        self.status_bar.advance(message.done)
        if self.running:
            self.status_bar.text = f"translating… {message.done:,} of {message.total:,} sentences"

    @on(TranslationProgress)
    def _translation_progress(self, message: TranslationProgress) -> None:
        # The bar moves within a chunk too: a job of one chunk would show 0 % until its end.
        if self.is_current(message.request_id) and self.running:
            self.status_bar.advance(message.done)

    def loaded_text(self, name: str) -> str:
        return f"ready · {name} loaded · enter translates"

    def stopped_text(self, job: TranslateJob) -> str:
        return f"stopped after {self._done:,} of {len(job.lines):,} sentences"

    def done_text(self, job: TranslateJob, outcome: Outcome) -> str:
        text = outcome.text(job.options)
        if self.waited >= 0.05:  # the time above is the translation's: say what came first
            text += f" · after waiting {self.waited:.2f} s for the stopped job"
        return text

    # -- controls -----------------------------------------------------------------------------

    def action_toggle_view(self) -> None:
        """Beam ⇄ attention heatmap below the sentences (a notification says which)."""
        results = self.query_one(TranslationResults)
        view = results.toggle_view()
        row = results.selected
        if view == "attention" and row is not None and row.translation.alignment is None:
            self.notify(
                "this model has no attention (a fixed context): nothing to show",
                severity="warning",
                markup=False,
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "word":  # a table, the heatmap or the drop-down has its own ↑ ↓
            focused_field = isinstance(self.focused, Input)
            return focused_field and self.query_one(TranslationResults).heatmap_shown
        return super().check_action(action, parameters)

    def action_word(self, delta: int) -> None:
        self.query_one(TranslationResults).move_word(delta)

    def action_examples(self) -> None:
        """Fill in the seeds' examples and translate them. The cursor goes to the end of the
        text and the focus stays where it was: keys typed next neither land inside the
        examples nor, where a screen key was expected, in the field."""
        field = self.query_one("#tr-source", Input)
        field.value = SEEDS_EXAMPLES
        field.cursor_position = len(field.value)
        self.action_translate()

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
                "Translate: beam or attention",
                "Show the final beam or the attention heatmap of the selected sentence (ctrl+g)",
                self.action_toggle_view,
            ),
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


__all__ = ["EMPTY_MESSAGE", "SEEDS_EXAMPLES", "START_MESSAGE", "TranslateScreen"]
