"""A virtual vocabulary table (index, token, frequency) on Textual's line API.

Only the visible rows are rendered, so 30k+ tokens cost the same as 30: setting a new
vocabulary is O(1) on the UI thread and a filter is one scan of the casefolded tokens
(`rnn_tui.data.vocab_search`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from rich.cells import set_cell_size
from rich.segment import Segment
from textual import events, work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from rnn_tui.data.token_text import display_token, token_head, token_length
from rnn_tui.data.vocab_search import FoldedBlob, FoldedList, folded_vocab, search_size

SEARCH_IN_THREAD = 100_000  # tokens above which a search runs in a thread
# Characters above which it does too: two tokens can be a whole 100 MB file, and folding and
# scanning them on the event loop held it ~330 ms.
SEARCH_IN_THREAD_CHARS = 1 << 20


class VocabTable(ScrollView, can_focus=True):
    """Vocabulary rows in index order, optionally filtered by a substring, with a row cursor."""

    DEFAULT_CSS = """
    VocabTable {
        height: 1fr;
        overflow-x: hidden;
        scrollbar-gutter: stable;
    }
    VocabTable > .vocab-table--header {
        text-style: bold;
        color: $text-accent;
        background: $panel;
    }
    VocabTable > .vocab-table--cursor {
        background: $surface-lighten-2;
    }
    VocabTable:focus > .vocab-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    VocabTable > .vocab-table--empty {
        color: $text-warning;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "vocab-table--header",
        "vocab-table--cursor",
        "vocab-table--empty",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)
    """Row of the cursor within the shown rows (not the vocabulary index)."""

    class CursorMoved(Message):
        """The cursor is on another token (index -1 when nothing is shown)."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._tokens: Sequence[str] = ()
        self._lengths: dict[int, int] = {}  # the cursor's token's length (cursor_head)
        self._search_chars: int | None = None  # what a search scans (`_big`), once measured
        self._freqs: Sequence[int] = ()
        self._folded: FoldedList | FoldedBlob | None = None  # made at the first search
        self._shown: np.ndarray | None = None  # vocabulary indices when filtered
        self.searching = False  # a search of a big vocabulary is running in a thread
        self._index_w = self._freq_w = 9
        self.query_text = ""

    # -- data ---------------------------------------------------------------------------------

    def set_vocab(self, tokens: Sequence[str], freqs: Sequence[int]) -> None:
        """Show a new vocabulary (idx_to_token and the matching counts), keeping the filter."""
        self._tokens, self._lengths, self._search_chars = tokens, {}, None
        self._freqs = freqs
        # Casefolding 150k words takes ~20 ms of the event loop: done when a search needs it.
        # (Not ahead in a thread: just after a load it would compete for the GIL with the
        # tabs' own workers, and the event loop waited up to 0.3 s.)
        self._folded = None
        self._index_w = max(5, len(f"{max(0, len(tokens) - 1):,}"))
        largest = freqs.max(initial=0) if hasattr(freqs, "max") else max(freqs, default=0)
        self._freq_w = max(9, len(f"{int(largest):,}"))
        self.filter(self.query_text)

    @property
    def row_count(self) -> int:
        return len(self._tokens) if self._shown is None else len(self._shown)

    @property
    def vocab_size(self) -> int:
        return len(self._tokens)

    def freq_at(self, index: int) -> int:
        """Frequency of the token at a vocabulary index."""
        return self._freqs[index]

    def index_at(self, row: int) -> int:
        """Vocabulary index shown on a row."""
        return row if self._shown is None else int(self._shown[row])

    @property
    def cursor_index(self) -> int:
        """Vocabulary index under the cursor, -1 when no row is shown."""
        return self.index_at(self.cursor) if self.row_count else -1

    @property
    def cursor_token(self) -> str | None:
        """The token under the cursor, cut to SHOWN_CHARS + 1 characters (`cursor_head`)."""
        head = self.cursor_head
        return None if head is None else head[0]

    @property
    def cursor_head(self) -> tuple[str, int] | None:
        """The start of the token under the cursor and its length (`token_head`: a token can
        be a whole file, and this runs on the event loop)."""
        index = self.cursor_index
        if index < 0:
            return None
        if index not in self._lengths:  # ~30 ms for a token of 100 MB: once
            self._lengths = {index: token_length(self._tokens, index)}
        return token_head(self._tokens, index), self._lengths[index]

    def filter(self, query: str) -> int:
        """Show only tokens containing `query` (case-insensitive); "" shows all.

        The cursor goes to the exact match if there is one, else to the most frequent match;
        clearing the filter keeps the cursor on the token it was on. Returns the match count.
        """
        previous = self.cursor_index
        self.query_text = query
        needle = query.casefold()
        self.workers.cancel_group(self, "vocab-search")
        self.searching = bool(needle) and self._big()
        if self.searching:
            self._search(self._tokens, needle)  # the rows change when it is done
            return self.row_count
        if needle:
            if self._folded is None:
                self._folded = folded_vocab(self._tokens)
            self._shown, target = self._folded.find(needle) or (None, 0)
        else:
            self._shown = None
            target = previous if 0 <= previous < len(self._tokens) else 0
        self._show_rows(target)
        return self.row_count

    def _big(self) -> bool:
        """Whether a search of this vocabulary belongs in a thread (its size, once measured)."""
        if len(self._tokens) > SEARCH_IN_THREAD:
            return True
        if self._search_chars is None:
            self._search_chars = search_size(self._tokens, SEARCH_IN_THREAD_CHARS)
        return self._search_chars > SEARCH_IN_THREAD_CHARS

    def _show_rows(self, target: int) -> None:
        self.virtual_size = Size(self.size.width, self.row_count + 1)
        self._move(target, center=True)
        self.refresh()

    @work(
        thread=True,
        exclusive=True,
        group="vocab-search",
        exit_on_error=False,
        description="search the vocabulary",
    )
    def _search(self, tokens: Sequence[str], needle: str) -> None:
        """`filter` of a vocabulary of hundreds of thousands of tokens, off the event loop
        (casefolding 2.3M words as str takes half a second, and each search a fifth; 17.6M
        packed ones 0.25 s, and each search 0.05-0.2 s)."""
        worker = get_current_worker()
        folded = self._folded  # None, or this vocabulary's (`set_vocab` resets it)
        if folded is None:
            folded = folded_vocab(tokens)
            # Kept even if this search is cancelled: the next one need not fold again.
            self.app.call_from_thread(self._keep_folded, tokens, folded)
        found = folded.find(needle, lambda: worker.is_cancelled)
        if found is not None and not worker.is_cancelled:
            self.app.call_from_thread(self._searched, tokens, folded, needle, *found)

    def _keep_folded(self, tokens: Sequence[str], folded: FoldedList | FoldedBlob) -> None:
        if tokens is self._tokens:
            self._folded = folded

    def _searched(self, tokens: Sequence[str], folded, needle, shown, target) -> None:
        if tokens is not self._tokens or needle != self.query_text.casefold():
            return  # a vocabulary or a search since
        self._folded, self._shown, self.searching = folded, shown, False
        self._show_rows(target)

    # -- cursor -------------------------------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _move(self, row: int, center: bool = False) -> None:
        row = max(0, min(row, self.row_count - 1))
        self.cursor = row
        page = self._page
        if center and not (self.scroll_y <= row < self.scroll_y + page):
            self.scroll_to(y=max(0, row - page // 2), animate=False, immediate=True)
        elif row < self.scroll_y:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= self.scroll_y + page:
            self.scroll_to(y=row - page + 1, animate=False, immediate=True)
        self.post_message(self.CursorMoved(self.cursor_index))

    def watch_cursor(self) -> None:
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * self._page)

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(self.row_count - 1)

    def on_click(self, event: events.Click) -> None:
        # Line 0 is the header.
        if event.y >= 1:
            self._move(int(self.scroll_y) + event.y - 1)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, self.row_count + 1)

    # -- rendering ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index_w, freq_w = self._index_w, self._freq_w
        token_w = max(5, width - index_w - freq_w - 6)
        if y == 0:
            text = f" {'index':>{index_w}}  {'token':<{token_w}}  {'frequency':>{freq_w}} "
            style = self.get_component_rich_style("vocab-table--header")
            return Strip([Segment(set_cell_size(text, width), style)], width)
        row = int(self.scroll_y) + y - 1
        if row >= self.row_count:
            if row == 0 and self.query_text:
                style = self.get_component_rich_style("vocab-table--empty")
                text = f" no token contains {self.query_text!r}"
                return Strip([Segment(set_cell_size(text, width), style)], width)
            return Strip.blank(width, self.rich_style)
        index = self.index_at(row)
        token = set_cell_size(display_token(token_head(self._tokens, index)), token_w)
        text = f" {index:>{index_w},}  {token}  {self._freqs[index]:>{freq_w},} "
        style = self.rich_style
        if row == self.cursor:
            style = self.get_component_rich_style("vocab-table--cursor")
        return Strip([Segment(set_cell_size(text, width), style)], width)
