"""StillProgressBar repaints when its progress changes, not on Textual's once-a-second ETA tick
(which the Train header's bar met every second of a followed run)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.clock import MockClock

from rnn_tui.tui.widgets.progress import StillProgressBar


class OneBar(App):
    def __init__(self, clock: MockClock) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield StillProgressBar(total=100, show_eta=False, clock=self.clock)


async def test_the_bar_repaints_for_progress_not_for_the_clock() -> None:
    clock = MockClock()
    app = OneBar(clock)
    async with app.run_test(size=(60, 3)) as pilot:
        bar = app.query_one(StillProgressBar)
        for step in range(1, 8):  # samples enough for an estimate of the time left
            clock.set_time(step * 0.5)
            bar.update(progress=5 * step)
        await pilot.pause()
        repaints = []
        original = bar.refresh

        def refresh(*args, **kwargs):
            repaints.append(1)
            return original(*args, **kwargs)

        bar.refresh = refresh
        clock.set_time(10.0)  # the estimate would have changed by the next tick
        await pilot.pause(1.1)  # past the once-a-second tick
        assert repaints == []
        bar.update(progress=60)
        await pilot.pause()
        assert repaints
        assert str(app.query_one("#percentage").render()) == "60%"
