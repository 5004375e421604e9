"""The Dataset screen's corpus controls: which corpus, token level, min_freq, cleaning mode and
encoding on one row, and the path of a corpus file on a second row shown for File…."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select

from rnn_tui.data.corpus_analysis import CorpusRequest
from rnn_tui.data.sources import ENCODING
from rnn_tui.data.stats import STATS_OPTIONS
from rnn_tui.options import OptionError
from rnn_tui.tui.widgets.option_input import option_input
from rnn_tui.tui.widgets.text_field import TextField

# The one declaration `rnn-tui stats --min-freq` reads too: its range and message.
MIN_FREQ = next(o for o in STATS_OPTIONS if o.name == "min_freq")

FILE = "file"
CORPUS_CHOICES = [
    ("The Time Machine", "timemachine"),
    ("fra-eng English", "fra-eng-en"),
    ("fra-eng French", "fra-eng-fr"),
    ("File…", FILE),
]
CORPUS_NAMES = {value: label for label, value in CORPUS_CHOICES if value != FILE}


def corpus_label(source: str) -> str:
    """The bundled corpus's name, or the file's name (the path field shows the full path)."""
    return CORPUS_NAMES.get(source) or Path(source).name or source


class CorpusControls(Vertical):
    """Compact fields describing a CorpusRequest; the screen reacts to their changes."""

    DEFAULT_CSS = """
    CorpusControls {
        height: auto;
    }
    CorpusControls #controls,
    CorpusControls #file-row {
        height: 1;
    }
    /* Narrower than its fields (below 80 columns), the row scrolls to the one focused, which
       was otherwise typed into out of sight; no scrollbar: the row is one line. */
    CorpusControls #controls {
        overflow-x: auto;
        scrollbar-size-horizontal: 0;
    }
    CorpusControls .control-label {
        padding: 0 1;
        color: $text-muted;
    }
    CorpusControls #corpus {
        width: 21;
    }
    CorpusControls #token {
        width: 9;
    }
    CorpusControls #mode {
        width: 10;
    }
    CorpusControls #min-freq {
        width: 6;
    }
    CorpusControls #encoding {
        width: 1fr;
        min-width: 11;
        max-width: 14;
    }
    CorpusControls #file-row {
        display: none;
    }
    CorpusControls #path {
        width: 1fr;
    }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="controls"):
            yield Label("corpus", classes="control-label")
            yield Select(
                CORPUS_CHOICES,
                value="timemachine",
                allow_blank=False,
                compact=True,
                id="corpus",
                tooltip="Corpus to load (c)",
            )
            yield Label("token", classes="control-label -optional-label")
            yield Select(
                [("word", "word"), ("char", "char")],
                value="word",
                allow_blank=False,
                compact=True,
                id="token",
                tooltip="Token level (t toggles)",
            )
            yield Label("min_freq", classes="control-label")
            yield option_input(MIN_FREQ, id="min-freq", note="they become <unk>; enter applies (m)")
            yield Label("mode", classes="control-label -optional-label")
            yield Select(
                [("clean", "clean"), ("raw", "raw")],
                value="clean",
                allow_blank=False,
                compact=True,
                id="mode",
                tooltip="clean: letters only, lower-case; raw: as is",
            )
            yield Label("enc", classes="control-label")
            yield TextField(
                "utf-8",
                id="encoding",
                compact=True,
                tooltip="Encoding of a corpus file (E); enter applies",
            )
        with Horizontal(id="file-row"):
            yield Label("file", classes="control-label")
            yield TextField(placeholder="path to a text file, then enter", id="path", compact=True)

    def value(self, selector: str) -> str:
        """What the field or drop-down `selector` holds, stripped."""
        widget = self.query_one(selector)
        assert isinstance(widget, Select | Input)
        return str(widget.value).strip()

    def read(self, shown_source: str | None) -> CorpusRequest | None:
        """The request the fields describe, or None (after a notification) if one is invalid.
        `shown_source`: the corpus shown, which File… keeps until a path is typed."""
        source = self.value("#corpus")
        if source == FILE:
            # Until a path is typed, other changes apply to the corpus on show.
            source = self.value("#path") or shown_source or ""
            if not source:
                return None
        try:
            min_freq = MIN_FREQ.parse(self.value("#min-freq"))
        except OptionError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return None
        encoding = self.value("#encoding")
        if not encoding:
            # An emptied field means the default, and says so rather than reading as blank.
            encoding = ENCODING.default
            self.query_one("#encoding", Input).value = encoding
        return CorpusRequest(
            source=source,
            token=self.value("#token"),
            mode=self.value("#mode"),
            min_freq=min_freq,
            encoding=encoding,
        )

    @on(Input.Submitted, "#path")
    def _blank_path(self, event: Input.Submitted) -> None:
        if not event.value.strip():  # enter on an empty path went without a word
            event.stop()  # nothing for the screen to load
            self.notify("type the path of a corpus file, then enter", severity="warning")

    def toggle(self, selector: str, first: str, second: str) -> None:
        """Switch the drop-down `selector` between `first` and `second`."""
        select = self.query_one(selector, Select)
        select.value = second if select.value == first else first

    def show_file_row(self, shown: bool) -> None:
        self.query_one("#file-row").display = shown

    def show(self, shown: CorpusRequest, refused: CorpusRequest) -> None:
        """After `refused` failed, set the fields still holding its values back to `shown`, the
        corpus in effect: a refused value left in its field (min_freq 20000) read as applied. A
        field edited since keeps its text. A refused path stays in its field, shown, with the
        cursor where the typing ended, to correct (as the checkpoint picker keeps one): putting
        the shown file's path back under the cursor sent the next key into the middle of
        another name. The status line names the corpus in effect. Loads nothing."""
        shown_file, refused_file = (r.source not in CORPUS_NAMES for r in (shown, refused))
        pairs = [
            ("#token", refused.token, shown.token),
            ("#mode", refused.mode, shown.mode),
            ("#min-freq", MIN_FREQ.text(refused.min_freq), MIN_FREQ.text(shown.min_freq)),
            ("#encoding", refused.encoding, shown.encoding),
        ]
        if not refused_file:
            pairs.append(("#corpus", refused.source, FILE if shown_file else shown.source))
        with self.prevent(Select.Changed):
            for selector, was, now in pairs:
                if self.value(selector) == was:
                    widget = self.query_one(selector, Select | Input)
                    widget.value = now  # type: ignore[assignment]
                    if isinstance(widget, Input):
                        # At the end: left mid-text, ctrl+u cleared only part of it ("rot136").
                        widget.cursor_position = len(now)
        self.show_file_row(self.value("#corpus") == FILE)
