"""The Generate console's output: the prefix (muted) and the generated text, growing as it comes.

Tokens are joined as the token level reads (characters back to back, words with spaces); a
token the vocabulary does not know is shown as `<unk>` and highlighted, in the prefix and in the
generated text alike. Re-wrapping the text costs time on the UI thread at every update, so only
its last SHOWN_CHARS characters are drawn (the whole text stays in `text`).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from rnn_tui.quoting import visible

UNK = "<unk>"
PREFIX_STYLE = "$foreground-muted"
UNK_STYLE = "bold $text-warning on $warning-muted"
HIDDEN_STYLE = "italic $text-muted"
SHOWN_CHARS = 12_000  # about five screens of scrollback at 120 columns
PLACEHOLDER = (
    "Pick a checkpoint, type a prefix (empty: the one shown dimmed) and press enter: the model "
    "warms up on the prefix (shown muted), then writes one token at a time."
)


class GenerationOutput(VerticalScroll):
    """A scrolling text area that follows the end while text arrives (unless scrolled up)."""

    DEFAULT_CSS = """
    GenerationOutput {
        width: 1fr;
        height: 1fr;
        padding: 0 1;
        border: round $primary-muted;
    }
    GenerationOutput:focus {
        border: round $primary;
    }
    GenerationOutput #gen-text {
        min-height: 100%;  /* anchored, shorter text would sit at the bottom */
    }
    GenerationOutput #gen-text.-placeholder {
        color: $text-muted;
    }
    """

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts: list[tuple[str, str]] = []  # (text, style) runs, one or more per update
        self._length = 0
        self._separator = ""
        self._empty = True
        self._generated = 0

    def compose(self) -> ComposeResult:
        yield Static(PLACEHOLDER, id="gen-text", classes="-placeholder", markup=False)

    @property
    def text(self) -> str:
        """Everything generated so far, prefix included, as plain text ("" before the first)."""
        return "" if self._empty else "".join(text for text, _ in self._parts)

    @property
    def generated(self) -> int:
        """How many tokens were generated after the prefix."""
        return self._generated

    def begin(self, prefix_tokens: list[str], unknown: list[str], token: str) -> None:
        """Start a new text: the prefix's tokens (those in `unknown` shown as `<unk>`)."""
        self._parts, self._length = [], 0
        self._separator = "" if token == "char" else " "
        self._empty = False
        self._generated = 0
        self._add_tokens(prefix_tokens, set(unknown), PREFIX_STYLE, leading=False)
        self._show()
        # Anchored, the layout that fits new text scrolls to it in the same frame (scrolling
        # after a refresh drew each batch once more, and the generation thread waits on every
        # frame). Scrolled up, the anchor is released until the end is reached again; a new
        # text follows its end, wherever the last one was left.
        self.anchor()

    def clear(self, message: str = PLACEHOLDER) -> None:
        """No text: `message` in its place, muted."""
        self._parts, self._length, self._empty, self._generated = [], 0, True, 0
        static = self.query_one("#gen-text", Static)
        static.add_class("-placeholder")
        static.update(message)

    def extend(self, tokens: list[str]) -> None:
        """Append generated tokens."""
        if not tokens:
            return
        self._add_tokens(tokens, {UNK}, "", leading=True)
        self._generated += len(tokens)
        self._show()

    def _add_tokens(self, tokens: list[str], unknown: set[str], style: str, leading: bool) -> None:
        """Add tokens as runs of one style, `<unk>` runs highlighted; `leading` puts a separator
        before the first one."""
        if unknown.isdisjoint(tokens):
            # One join: a token at a time, a 100,000-character prefix held the event loop
            # ~60 ms as the generation began.
            joined = self._separator.join(tokens)
            self._add(self._separator + joined if leading and tokens else joined, style)
            return
        self._add_runs(tokens, unknown, style, leading)

    def _add_runs(self, tokens: list[str], unknown: set[str], style: str, leading: bool) -> None:
        """`_add_tokens` a token at a time, where some are unknown."""
        run: list[str] = []
        for i, tok in enumerate(tokens):
            if i or leading:
                run.append(self._separator)
            if tok in unknown:
                self._add("".join(run), style)
                self._add(UNK, UNK_STYLE)
                run = []
            else:
                run.append(tok)
        self._add("".join(run), style)

    def _add(self, text: str, style: str) -> None:
        if text:
            self._parts.append((text, style))
            self._length += len(text)

    def _tail(self) -> tuple[list[tuple[str, str]], int]:
        """The runs that make up the last SHOWN_CHARS characters, and how many come before."""
        if self._length <= SHOWN_CHARS:
            return self._parts, 0
        kept: list[tuple[str, str]] = []
        size = 0
        for text, style in reversed(self._parts):
            room = SHOWN_CHARS - size
            if len(text) >= room:
                kept.append((text[len(text) - room :], style))
                size += room
                break
            kept.append((text, style))
            size += len(text)
        kept.reverse()
        return kept, self._length - size

    def _show(self) -> None:
        static = self.query_one("#gen-text", Static)
        static.remove_class("-placeholder")
        parts, hidden = self._tail()
        # A model trained on a coloured log writes ESC: shown as an escape, not sent to the
        # terminal (the newlines it writes stay lines).
        parts = [(visible(text, newlines=True), style) for text, style in parts]
        if hidden:
            note = (f"… {hidden:,} earlier characters not shown\n", HIDDEN_STYLE)
            static.update(Content.assemble(note, *parts))
        else:
            static.update(Content.assemble(*parts))
