"""The latest generated samples of the followed run: one line each, newest last.

A seq2seq run's sample is the greedy translation of the seeds' four sentences (d2l §9.7), one
"source => translation" line each: those are shown as aligned columns, the newest epoch's whole,
with ✓ where the translation is the seeds' reference and the reference after ✗ where it is not.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from rnn_tui.data.translation import SEED_SENTENCES
from rnn_tui.runs.follow import Sample

ARROW = " => "  # how the seq2seq task joins a sentence and its translation
SEED_REFERENCES = dict(SEED_SENTENCES)


def label_width(epochs: Sequence[int]) -> int:
    """Columns after the "e" of the epoch labels of `epochs`: three ("e12 "), or the longest
    number and a space, so that "e241" never runs into the text after it."""
    return max([3, *(len(str(epoch)) + 1 for epoch in epochs)])


def samples_text(samples: Sequence[Sample], limit: int) -> Text:
    """The last `limit` samples: "e12 " then the prefix in bold, then the model's continuation.
    Newlines in a sample are shown as ⏎ so each stays on its line."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not samples:
        text.append("no samples yet: one is logged each epoch", style="dim")
        return text
    shown = samples[-limit:]
    width = label_width([sample.epoch for sample in shown])
    for i, sample in enumerate(shown):
        if i:
            text.append("\n")
        body = sample.text.replace("\n", "⏎")
        text.append(f"e{sample.epoch:<{width}}", style="dim")
        if sample.prefix and body.startswith(sample.prefix):
            text.append(sample.prefix, style="bold")
            text.append(body[len(sample.prefix) :])
        else:
            text.append(body)
    return text


def split_translation(line: str) -> tuple[str, str | None]:
    """("go .", "va !") for "go . => va !"; (line, None) for a line without the arrow."""
    source, arrow, output = line.partition(ARROW)
    return (source, output) if arrow else (line, None)


def translations_text(samples: Sequence[Sample], limit: int) -> Text:
    """The newest epochs' translations that fit in `limit` lines (the newest always, cut to
    `limit` lines if need be), oldest first: "e10 go .        → va !   ✓", the epoch on the
    first line of each, sentences and translations in columns."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not samples:
        text.append("no translations yet (the seeds' sentences after each epoch)", style="dim")
        return text
    blocks: list[tuple[int, list[tuple[str, str | None]]]] = []
    used = 0
    for sample in reversed(samples):
        rows = [split_translation(line) for line in sample.text.splitlines() or [""]]
        if blocks and used + len(rows) > limit:
            break
        blocks.insert(0, (sample.epoch, rows[: max(1, limit)]))
        used += len(rows)
    rows = [row for _, block in blocks for row in block]
    width = max((len(source) for source, output in rows if output is not None), default=0)
    out_width = max((len(output) for _, output in rows if output is not None), default=0)
    label = label_width([epoch for epoch, _ in blocks])
    first = True
    for epoch, block in blocks:
        for j, (source, output) in enumerate(block):
            if not first:
                text.append("\n")
            first = False
            text.append(f"e{epoch:<{label}}" if j == 0 else " " * (label + 1), style="dim")
            if output is None:
                text.append(source)
                continue
            text.append(source.ljust(width), style="bold")
            text.append(" → ", style="dim")
            text.append(output.ljust(out_width))
            reference = SEED_REFERENCES.get(source.strip())
            if reference is None:
                continue
            if output.strip() == reference:
                text.append("  ✓", style="green")
            else:
                text.append("  ✗ ", style="red")
                text.append(reference, style="dim")
    return text


class SampleLog(Static):
    """As many of the latest samples as its height holds."""

    DEFAULT_CSS = """
    SampleLog {
        height: 4;
        border-top: solid $primary-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    SampleLog.-translations {
        height: 5;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._samples: tuple[Sample, ...] = ()
        self._translations = False

    def on_mount(self) -> None:
        self._draw()

    def show(self, samples: Sequence[Sample], translations: bool = False) -> None:
        """Draw `samples`; `translations`: they are a seq2seq run's (several lines each)."""
        samples = tuple(samples)
        if samples != self._samples or translations != self._translations:
            self._samples = samples
            self._translations = translations
            # Taller for the four sentences; the resize redraws.
            self.set_class(translations, "-translations")
            self._draw()

    def _draw(self) -> None:
        limit = max(1, self.content_size.height or 3)
        render = translations_text if self._translations else samples_text
        # A fixed height (its class sets it): no layout pass of the whole screen each epoch.
        self.update(render(self._samples, limit), layout=False)

    def on_resize(self) -> None:
        self._draw()
