"""The Vocabulary tab beside a token of a whole file: a row and the cursor's line show its
start and its length without decoding it (each decoding held the event loop ~50 ms a row for
a 100 MB file without spaces, read as raw words)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from rnn_tui.data import packed_tokens
from rnn_tui.data.packed_tokens import packed
from rnn_tui.tui.widgets.vocab_panel import VocabPanel

LONG = "é" + "x" * 300_000  # 300,002 bytes


class _Panel(App):
    def compose(self) -> ComposeResult:
        yield VocabPanel()


async def test_a_long_packed_token_is_shown_by_its_start_and_length(monkeypatch) -> None:
    tokens = packed(["<unk>", LONG, "the"])
    assert isinstance(tokens, packed_tokens.PackedTokens)
    decoded = []
    real = packed_tokens.PackedTokens.__getitem__

    def getitem(self, index):
        token = real(self, index)
        decoded.append(len(token))
        return token

    monkeypatch.setattr(packed_tokens.PackedTokens, "__getitem__", getitem)
    app = _Panel()
    async with app.run_test(size=(100, 20)) as pilot:
        panel = app.query_one(VocabPanel)
        panel.set_vocab(tokens, [0, 1, 5], 6)
        table = panel.table
        table.focus()
        await pilot.press("down")
        await pilot.pause()
        assert table.cursor_index == 1
        detail = str(app.query_one("#vocab-token", Static).render())
        assert "… (300,001 characters)" in detail and "'éxxx" in detail
        info = str(app.query_one("#vocab-info", Static).render())
        assert "3 tokens · éxxx" in info
        row = table.render_line(2).text
        assert "éxxx" in row and row.rstrip().endswith("1")
    assert max(decoded, default=0) < 1_000


async def test_a_search_of_a_few_long_tokens_runs_in_a_thread() -> None:
    """Two tokens can be a whole file: the search goes to a thread by the size of what it
    scans, not only by the number of tokens (it held the event loop ~330 ms)."""
    from rnn_tui.tui.widgets import vocab_table

    long = "ab" * (vocab_table.SEARCH_IN_THREAD_CHARS // 2) + "Zq"
    app = _Panel()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(VocabPanel).table
        for tokens in (["<unk>", long, "the"], packed(["<unk>", long, "the"])):
            table.set_vocab(tokens, [0, 1, 5])
            table.filter("zQ")
            assert table.searching  # the rows come from the thread
            while table.searching:
                await pilot.pause(0.01)
            assert table.row_count == 1 and table.cursor_index == 1
        table.set_vocab(["<unk>", "zq", "the"], [0, 1, 5])
        assert table.filter("zQ") == 1 and not table.searching  # small: on the spot
