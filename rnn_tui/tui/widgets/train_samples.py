"""The latest generated samples of the followed run: one line each, newest last."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from rnn_tui.train.follow import Sample


def samples_text(samples: Sequence[Sample], limit: int) -> Text:
    """The last `limit` samples: "e12 " then the prefix in bold, then the model's continuation.
    Newlines in a sample are shown as ⏎ so each stays on its line."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not samples:
        text.append("no samples yet (one is logged after each epoch)", style="dim")
        return text
    for i, sample in enumerate(samples[-limit:]):
        if i:
            text.append("\n")
        body = sample.text.replace("\n", "⏎")
        text.append(f"e{sample.epoch:<3}", style="dim")
        if sample.prefix and body.startswith(sample.prefix):
            text.append(sample.prefix, style="bold")
            text.append(body[len(sample.prefix) :])
        else:
            text.append(body)
    return text


class SampleLog(Static):
    """As many of the latest samples as its height holds."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._samples: tuple[Sample, ...] = ()

    def on_mount(self) -> None:
        self._draw()

    def show(self, samples: Sequence[Sample]) -> None:
        samples = tuple(samples)
        if samples != self._samples:
            self._samples = samples
            self._draw()

    def _draw(self) -> None:
        self.update(samples_text(self._samples, max(1, self.content_size.height or 3)))

    def on_resize(self) -> None:
        self._draw()
