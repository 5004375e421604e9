"""The Dataset screen: a corpus through d2l's text pipeline (read → clean → tokenize → Vocab).

The screen only collects settings, runs `analyze_corpus` (the corpus and its n-gram counts, in
rnn_tui/data/corpus_analysis.py) in a thread worker (a newer request supersedes an older one) and
hands the results to its tabs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.lazy import Lazy
from textual.widgets import Header, Input, ProgressBar, Select, Static, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState, get_current_worker

from rnn_tui.data.corpus_analysis import (
    CorpusAnalysis,
    CorpusRequest,
    CorpusView,
    analyze_corpus,
)
from rnn_tui.files import waiting_notice
from rnn_tui.tui import explanations, guides
from rnn_tui.tui.errors import error_text
from rnn_tui.tui.screens.mode_screen import ModeScreen
from rnn_tui.tui.widgets.corpus_controls import FILE, CorpusControls, corpus_label
from rnn_tui.tui.widgets.footer import AppFooter
from rnn_tui.tui.widgets.ngram_panel import NgramPanel
from rnn_tui.tui.widgets.pairs_panel import PairsPanel
from rnn_tui.tui.widgets.partition_panel import PartitionPanel
from rnn_tui.tui.widgets.progress import StillProgressBar
from rnn_tui.tui.widgets.vocab_panel import VocabPanel

WIDE = 100  # columns from which the optional labels and notes are shown
TABS = ("tab-vocab", "tab-ngrams", "tab-partition", "tab-pairs")

# The corpus messages name the command line's options; the notification names the fields here
# ("read it with --encoding utf-16" named an option the screen does not have).
FIELD_LABELS = {"--encoding": "enc", "min-freq": "min_freq"}


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


class DatasetScreen(ModeScreen):
    """Corpus controls, a one-line summary, and the Vocabulary, n-grams, Partitioning and Pairs
    tabs."""

    DEFAULT_CSS = """
    /* A long file name wraps rather than hiding the counts. */
    DatasetScreen #status-row {
        height: auto;
    }
    DatasetScreen #status {
        width: 1fr;
        height: auto;
        padding: 0 0 0 1;
        color: $text-accent;
    }
    DatasetScreen #busy {
        display: none;
        width: auto;
    }
    DatasetScreen #status.-busy {
        color: $text-warning;
    }
    DatasetScreen #tabs {
        height: 1fr;
    }
    DatasetScreen TabPane {
        padding: 0;
    }
    """

    AUTO_FOCUS = "#vocab-table"
    EXPLAIN = explanations.DATASET

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "search",
            "Search",
            key_display="/",
            tooltip="search the vocabulary (enter or escape returns to the table)",
        ),
        Binding("c", "corpus", "Corpus", tooltip="choose the corpus"),
        Binding("t", "toggle_token", "Token", tooltip="switch word ↔ char tokens"),
        Binding(
            "r",
            "toggle_mode",
            "Raw/clean",
            show=False,
            tooltip="switch the cleaning: clean (letters only, lower-case) ↔ raw",
        ),
        Binding(
            "m",
            "min_freq",
            "min_freq",
            show=False,
            tooltip="type the minimum token frequency, then enter",
        ),
        # Shift+e: plain `e` is the app's explain panel on every screen.
        Binding(
            "E",
            "encoding",
            "Encoding",
            show=False,
            tooltip="type the encoding of a corpus file, then enter (shift+e)",
        ),
        Binding(
            "o",
            "open_file",
            "Open file",
            show=False,
            tooltip="type the path of a text file, then enter",
        ),
        Binding(
            "T",
            "train_corpus",
            "Train on it",
            show=False,
            tooltip="the Train form set to a language model on this corpus, read as shown here",
        ),
        # The Partitioning and Pairs tabs' own keys, for when the focus is on the tab row (a
        # tab shown before its pane had loaded, or clicked): they did nothing there.
        *(Binding(key, f"pane_key('{key}')", show=False) for key in "snp"),
        Binding("right_square_bracket", "next_tab", "Next tab", key_display="]"),
        Binding("left_square_bracket", "next_tab(-1)", "Previous tab", key_display="[", show=False),
        Binding(
            "escape",
            "leave_field",
            "Leave field",
            show=False,
            tooltip="from a text field or drop-down back to the tabs",
        ),
    ]

    GUIDE = guides.DATASET

    def __init__(self) -> None:
        super().__init__()
        self._requested: CorpusRequest | None = None  # the latest request sent to a worker
        self._shown: CorpusRequest | None = None  # what the tabs display
        self._load_worker: Worker | None = None
        self.corpus: CorpusView | None = None  # the corpus the tabs display
        # Kept by reference: they may not be mounted yet when the first corpus arrives.
        self._ngram_panel = NgramPanel(id="ngram-panel")
        self._partition_panel = PartitionPanel()

    def compose(self) -> ComposeResult:
        yield Header()
        yield CorpusControls(id="corpus-controls")
        with Horizontal(id="status-row"):
            yield Static("", id="status", markup=False)
            yield StillProgressBar(total=None, show_percentage=False, show_eta=False, id="busy")
        with TabbedContent(id="tabs"):
            with TabPane("Vocabulary", id="tab-vocab"):
                yield VocabPanel(id="vocab-panel")
            # The hidden tabs mount after the first paint, so the app shows up sooner.
            with TabPane("n-grams", id="tab-ngrams"):
                yield Lazy(self._ngram_panel)
            with TabPane("Partitioning", id="tab-partition"):
                yield Lazy(self._partition_panel)
            with TabPane("Pairs", id="tab-pairs"):
                yield Lazy(PairsPanel())
        yield AppFooter()

    def on_mount(self) -> None:
        self.request(self.current_settings())

    def on_resize(self, event: events.Resize) -> None:
        # Below 100 columns the drop-downs' values (word, clean) say what they are, and the
        # vocabulary notes give their room to the table.
        wide = event.size.width >= WIDE
        for widget in self.query(".-optional-label, #vocab-notes"):
            widget.display = wide

    # -- settings and loading -----------------------------------------------------------------

    def _value(self, selector: str) -> str:
        return self.query_one(CorpusControls).value(selector)

    def current_settings(self) -> CorpusRequest | None:
        """The settings the controls show, or None (after a notification) if one is invalid."""
        shown = self._shown.source if self._shown else None
        return self.query_one(CorpusControls).read(shown)

    def request(self, settings: CorpusRequest | None) -> None:
        """Load `settings` in a worker unless that is already what was last asked for."""
        if settings is None or settings == self._requested:
            return
        self._requested = settings
        self.query_one("#busy", ProgressBar).update(total=None, progress=0)
        self._set_busy(True)
        self.query_one("#status", Static).update(
            f"computing {corpus_label(settings.source)} ({settings.token})…"
        )
        self._load_worker = self._load(settings)

    @work(
        thread=True,
        exclusive=True,
        group="corpus",
        exit_on_error=False,
        description="load the corpus",
    )
    def _load(self, settings: CorpusRequest) -> CorpusAnalysis:
        # A FIFO is read in small waits that watch for cancellation: quitting the app (which
        # cancels its workers) never waits on a pipe nobody writes to. A big file is tokenized
        # in chunks, each reporting its progress (a message per whole percent).
        worker = get_current_worker()
        shown = [-1]

        def progress(done: int, total: int) -> None:
            percent = done * 100 // max(total, 1)
            if percent != shown[0] and not worker.is_cancelled:
                shown[0] = percent
                self.app.call_from_thread(self._progress, settings, percent)

        def cancelled() -> bool:
            # Polled between chunks: a moment off the GIL lets the event loop run at once
            # rather than after the interpreter's 5 ms switch interval.
            time.sleep(0.0005)
            return worker.is_cancelled

        def waiting(line: str) -> None:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._waiting, settings, line)

        with waiting_notice(waiting):  # a FIFO nobody writes to yet is waited on up to 30 s
            return analyze_corpus(settings, cancelled=cancelled, progress=progress)

    def _waiting(self, settings: CorpusRequest, line: str) -> None:
        """The status line while the corpus is a pipe that has sent nothing yet ("" once it has)."""
        if settings != self._requested:
            return
        label = f"computing {corpus_label(settings.source)} ({settings.token})…"
        self.query_one("#status", Static).update(f"{line}…" if line else label)

    def _progress(self, settings: CorpusRequest, percent: int) -> None:
        """The loading worker's progress, on the status line and the busy bar."""
        if settings != self._requested:
            return  # a superseded request still winding down
        self.query_one("#status", Static).update(
            f"computing {corpus_label(settings.source)} ({settings.token})… {percent} %"
        )
        self.query_one("#busy", ProgressBar).update(total=100, progress=percent)

    @on(Worker.StateChanged)
    def _loaded(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._load_worker:
            return  # a superseded request, or a tab's own worker
        if event.state == WorkerState.SUCCESS:
            self._show(event.worker.result)
        elif event.state == WorkerState.ERROR:
            text = error_text(event.worker.error, FIELD_LABELS)
            self.notify(text, severity="error", markup=False)
            # Asking for the same thing again must retry (and report again).
            refused, self._requested = self._requested, self._shown
            if self._shown is not None and refused is not None:
                path = self.query_one("#path", Input)
                self.query_one(CorpusControls).show(self._shown, refused)
                if path.has_focus and not path.parent.display:  # hidden: off to the table
                    self.action_leave_field()
        else:
            return
        self._set_busy(False)
        self._update_status()

    def _set_busy(self, busy: bool) -> None:
        # Classes on the few widgets concerned: a class on the screen restyles every widget.
        self.query_one("#busy").display = busy
        self.query_one("#status").set_class(busy, "-busy")

    def _show(self, loaded: CorpusAnalysis) -> None:
        self._shown = loaded.request
        self.corpus = loaded.corpus
        vocab = loaded.corpus.vocab
        self.query_one(VocabPanel).set_vocab(
            vocab.idx_to_token, loaded.freqs, loaded.corpus.num_tokens
        )
        # One panel per turn of the event loop: on a 100 MB corpus each takes tens of ms to
        # build, and keys and timers get their turn in between (in order, so a newer corpus's
        # panels still come after an older one's).
        self.call_later(self._ngram_panel.set_stats, loaded.ngrams)
        self.call_later(self._partition_panel.set_corpus, loaded.corpus)

    def _update_status(self) -> None:
        status = self.query_one("#status", Static)
        if self._shown is None:
            status.update("no corpus loaded")
            return
        s, corpus = self._shown, self.corpus
        assert corpus is not None
        extra = f", min_freq {s.min_freq}" if s.min_freq else ""
        status.update(
            f"{corpus_label(s.source)}, {s.token}/{s.mode}{extra}: "
            f"{plural(corpus.num_lines, 'line')} · "
            f"{plural(corpus.num_tokens, 'token')} · vocabulary {len(corpus.vocab):,}"
        )

    # -- control events -----------------------------------------------------------------------

    @on(Select.Changed, "#corpus")
    def _corpus_changed(self, event: Select.Changed) -> None:
        is_file = event.value == FILE
        self.query_one(CorpusControls).show_file_row(is_file)
        if is_file:  # a path typed before (perhaps refused) waits for enter
            self.query_one("#path", Input).focus()
            return
        self.request(self.current_settings())

    @on(Select.Changed, "#token, #mode")
    @on(Input.Submitted, "#min-freq, #encoding, #path")
    def _setting_changed(self) -> None:
        self.request(self.current_settings())

    # -- actions ------------------------------------------------------------------------------

    def _show_tab(self, tab: str) -> None:
        """Show a tab and move the focus into it, so its own keys work at once."""
        tabs = self.query_one(TabbedContent)
        # Focus out of the old pane first: Textual re-shows the pane holding the focus.
        self.set_focus(None)
        tabs.active = tab
        self.call_after_refresh(self._focus_tab_content, tab)

    def _focus_tab_content(self, tab: str) -> None:
        if tab == "tab-vocab":
            self.query_one("#vocab-table").focus()
            return
        # Not a text field or a drop-down: they would swallow the screen's letter keys.
        pane = self.query_one(f"#{tab}")
        inside = [
            widget
            for widget in self.focus_chain
            if pane in widget.ancestors and not isinstance(widget, Input | Select)
        ]
        (inside[0] if inside else self.query_one(TabbedContent).query_one(Tabs)).focus()

    def action_search(self) -> None:
        tabs = self.query_one(TabbedContent)
        if tabs.active != "tab-vocab":
            tabs.query_one(Tabs).focus()
            tabs.active = "tab-vocab"
        self.query_one(VocabPanel).focus_search()

    def action_corpus(self) -> None:
        select = self.query_one("#corpus", Select)
        select.focus()
        select.expanded = True

    def action_toggle_token(self) -> None:
        self.query_one(CorpusControls).toggle("#token", "word", "char")

    def action_toggle_mode(self) -> None:
        self.query_one(CorpusControls).toggle("#mode", "clean", "raw")

    def action_min_freq(self) -> None:
        self.query_one("#min-freq", Input).focus()

    def action_encoding(self) -> None:
        self.query_one("#encoding", Input).focus()

    def action_open_file(self) -> None:
        self.query_one("#corpus", Select).value = FILE
        self.query_one(CorpusControls).show_file_row(True)
        self.query_one("#path", Input).focus()

    async def action_train_corpus(self) -> None:
        """The Train screen, its form set to read the corpus shown as this screen does."""
        settings = self._shown or self.current_settings()
        if settings is not None:
            await self.app.switch_mode("train")
            self.app.screen.train_corpus(settings)  # type: ignore[attr-defined]

    def action_leave_field(self) -> None:
        self._focus_tab_content(self.query_one(TabbedContent).active)

    async def action_pane_key(self, key: str) -> None:
        """Run the shown tab's own binding of `key` (PartitionPanel's, PairsPanel's)."""
        for panel in self._tab_panels():
            for binding in panel._bindings.key_to_bindings.get(key, []):
                await panel.run_action(binding.action)
                return

    def _tab_panels(self) -> list[PartitionPanel | PairsPanel]:
        pane = self.query_one(f"#{self.query_one(TabbedContent).active}")
        return list(pane.query(PartitionPanel)) + list(pane.query(PairsPanel))

    def action_next_tab(self, step: int = 1) -> None:
        active = self.query_one(TabbedContent).active
        self._show_tab(TABS[(TABS.index(active) + step) % len(TABS)])

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) entries the command palette offers on this screen."""
        token = self._value("#token")
        mode = self._value("#mode")
        return [
            (
                "Dataset: change corpus",
                "Choose The Time Machine, fra-eng or a file (c)",
                self.action_corpus,
            ),
            (
                "Dataset: open a corpus file",
                "Type the path of a text file (o)",
                self.action_open_file,
            ),
            (
                f"Dataset: token level → {'char' if token == 'word' else 'word'}",
                "Switch between word and character tokens (t)",
                self.action_toggle_token,
            ),
            (
                f"Dataset: cleaning mode → {'raw' if mode == 'clean' else 'clean'}",
                "clean: letters only, lower-case; raw: the text as is (r)",
                self.action_toggle_mode,
            ),
            (
                "Dataset: set min_freq",
                "Tokens seen fewer times become <unk> (m)",
                self.action_min_freq,
            ),
            ("Dataset: search the vocabulary", "Filter tokens by text (/)", self.action_search),
            (
                "Dataset: train a language model on this corpus",
                "The Train form, set to read it as shown here (shift+t)",
                self.action_train_corpus,
            ),
        ] + [
            (f"Dataset: {label} tab", f"Show the {label} tab", lambda t=tab: self._show_tab(t))
            for label, tab in zip(
                ("Vocabulary", "n-grams", "Partitioning", "Pairs"), TABS, strict=True
            )
        ]
