"""The lab screens' run lines, redrawn at every poll: a change that keeps their size is drawn
without laying out the whole screen (the Forecast screen's layouts were a tenth of a core while
a pair of runs trained), and one that changes it still gets its layout."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from rnn_tui.tui.widgets.run_line import lines_text, run_line, update_changed


def lines(*texts: str):
    return lines_text([run_line(f"{k}", "cyan", None, [], text) for k, text in enumerate(texts)])


class Lines(App):
    CSS = "#auto { width: auto; }"

    def compose(self) -> ComposeResult:
        yield Static("", id="fill")
        yield Static("", id="auto")


async def test_a_change_of_the_same_rows_is_drawn_without_a_layout(monkeypatch) -> None:
    async with Lines().run_test(size=(80, 10)) as pilot:
        static = pilot.app.query_one("#fill", Static)
        layouts: list[bool] = []
        real = Static.update

        def update(self, content="", *, layout=True):
            layouts.append(layout)
            real(self, content, layout=layout)

        monkeypatch.setattr(Static, "update", update)
        update_changed(static, lines("epoch 1", "epoch 1"))
        update_changed(static, lines("epoch 2", "epoch 1"))  # same rows: no layout
        update_changed(static, lines("epoch 2", "epoch 1"))  # the same: not drawn at all
        update_changed(static, lines("epoch 2", "epoch 2", "a third run"))  # a row more
        update_changed(static, lines("epoch 3"))  # a row fewer
        assert layouts == [True, False, True, True]
        await pilot.pause()
        assert static.size.height == 1
        assert "epoch 3" in str(static.render())
        # Sized by its content, a Static is always laid out again.
        auto = pilot.app.query_one("#auto", Static)
        layouts.clear()
        update_changed(auto, lines("a"))
        update_changed(auto, lines("a much longer line than before"))
        assert layouts == [True, True]
        await pilot.pause()
        assert auto.size.width >= len("a much longer line than before")
        # Anything but run lines (a table, a text) keeps its layout.
        layouts.clear()
        update_changed(static, "plain text")
        update_changed(static, "other text")
        assert layouts == [True, True]
