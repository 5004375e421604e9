"""The Vocabulary tab: a search box over the virtual vocabulary table, and (when wide) notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from rnn_tui.data.token_text import display_token, token_repr
from rnn_tui.tui.widgets.text_field import TextField
from rnn_tui.tui.widgets.vocab_table import VocabTable

INFO_CHARS = 24  # the cursor's token in the one-line info beside the search box

NOTES = (
    "d2l's Vocab: index 0 is <unk>, which every token not in the vocabulary maps to "
    "(including those seen fewer than min_freq times); the other tokens follow by descending "
    "frequency. A model never sees text, only the indices vocab[tokens]."
)


class VocabPanel(Horizontal):
    """d2l's Vocab as a table: index 0 is `<unk>`, then tokens by descending frequency."""

    DEFAULT_CSS = """
    VocabPanel {
        height: 1fr;
    }
    VocabPanel #vocab-main {
        width: 1fr;
        max-width: 72;
    }
    VocabPanel #vocab-bar {
        height: 1;
    }
    VocabPanel #vocab-notes {
        width: 1fr;
        padding: 1 2;
        color: $text-muted;
    }
    VocabPanel #vocab-token {
        margin-top: 1;
        color: $text;
    }
    VocabPanel #vocab-search {
        width: 30;
        margin: 0 1;
    }
    VocabPanel #vocab-info {
        width: 1fr;
        color: $text-muted;
        /* One line: wrapped, its second half was hidden and "4,580 tokens ·" ended mid-way. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave_search", "Back to table", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._num_tokens = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="vocab-main"):
            with Horizontal(id="vocab-bar"):
                yield TextField(
                    placeholder="search tokens (/)",
                    id="vocab-search",
                    compact=True,
                    tooltip="Show only tokens containing this text; enter jumps to the table",
                )
                yield Static(id="vocab-info", markup=False)
            yield VocabTable(id="vocab-table")
        with Vertical(id="vocab-notes"):
            yield Static(NOTES, id="vocab-notes-text", markup=False)
            yield Static(id="vocab-token", markup=False)

    @property
    def table(self) -> VocabTable:
        return self.query_one(VocabTable)

    def set_vocab(self, tokens: Sequence[str], freqs: Sequence[int], num_tokens: int) -> None:
        """Show a new vocabulary (idx_to_token, counts, corpus length); the search stays."""
        self._num_tokens = num_tokens
        self.table.set_vocab(tokens, freqs)
        self._update_info()

    def focus_search(self) -> None:
        self.query_one("#vocab-search", Input).focus()

    @on(Input.Changed, "#vocab-search")
    def _search(self, event: Input.Changed) -> None:
        self.table.filter(event.value.strip())
        self._update_info()

    @on(Input.Submitted, "#vocab-search")
    def _search_done(self) -> None:
        self.table.focus()

    def action_leave_search(self) -> None:
        self.table.focus()

    @on(VocabTable.CursorMoved)
    def _cursor_moved(self) -> None:
        self._update_info()

    def _update_info(self) -> None:
        table = self.table
        size = table.vocab_size
        if table.searching:
            info = f"searching {size:,} tokens for {table.query_text!r}…"
        elif table.query_text:
            info = f"{table.row_count:,} of {size:,} match"
        else:
            info = f"{size:,} tokens"
        head = table.cursor_head
        detail = ""
        if head is not None:
            token, length = head
            shown, index = display_token(token, INFO_CHARS), table.cursor_index
            info += f" · {shown} = {index:,}"
            freq = table.freq_at(index)
            share = freq / self._num_tokens if self._num_tokens else 0.0
            shown_repr = token_repr(token, length=length)
            detail = f"vocab[{shown_repr}] = {index:,}\nvocab.to_tokens({index}) = {shown_repr}\n"
            if index == 0:
                detail += "the index of every token not in the vocabulary"
            else:
                # A word seen once among 32,775 read "0.00%": two significant digits below.
                part = f"{share:.2%}" if share >= 0.0001 else f"{share * 100:.2g}%"
                detail += f"seen {freq:,} times, {part} of the {self._num_tokens:,} tokens"
        self.query_one("#vocab-info", Static).update(info)
        self.query_one("#vocab-token", Static).update(detail)
