"""The explain panel: the concept a screen shows and the formulas it implements, for teaching.

A screen declares what to explain as an `EXPLAIN` class attribute (an `Explanation`); the app
mounts the panel on whatever screen is current and toggles it (`toggle_explain`), so no screen
composes it. The panel sits below the screen's content, full width so most formulas keep to one
line at 80 columns (the longest wrap), and scrolls (mouse, or tab to it) when the text is longer
than its height.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static


@dataclass(frozen=True)
class Explanation:
    """What a screen teaches: a title, the concept in a few sentences, and its formulas as
    (name, formula) pairs written in unicode math (d2l's notation)."""

    title: str
    concept: str
    formulas: tuple[tuple[str, str], ...]
    note: str = ""


SHORT_SCREEN = 30  # rows (80×24 is short)


class ExplainPanel(VerticalScroll):
    """A titled, scrollable box: one row per formula (name | formula), then the concept."""

    DEFAULT_CSS = """
    ExplainPanel {
        /* As tall as the text, at most half the screen (a third of a short one: fit). */
        height: auto;
        max-height: 50%;
        border: round $accent;
        border-title-color: $text-accent;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
        scrollbar-size-vertical: 1;
        &:focus {
            border: round $primary;
        }
        .explain-concept {
            margin: 1 0 0 0;
        }
        .explain-row {
            height: auto;
        }
        .explain-name {
            width: 18;
            color: $text-muted;
        }
        .explain-formula {
            width: 1fr;
            color: $text-accent;
            text-style: bold;
        }
        .explain-note {
            margin: 1 0 0 0;
            color: $text-muted;
        }
    }
    """

    def __init__(self, explanation: Explanation) -> None:
        super().__init__(id="explain")
        self.explanation = explanation

    def compose(self) -> ComposeResult:
        explanation = self.explanation
        # Formulas first: at 80×24 they are what fits without scrolling. markup=False: the
        # text holds brackets that are not markup.
        for name, formula in explanation.formulas:
            with Horizontal(classes="explain-row"):
                yield Static(name, classes="explain-name", markup=False)
                yield Static(formula, classes="explain-formula", markup=False)
        yield Static(explanation.concept, classes="explain-concept", markup=False)
        if explanation.note:
            yield Static(explanation.note, classes="explain-note", markup=False)

    def on_mount(self) -> None:
        self.border_title = self.explanation.title
        self.border_subtitle = "tab to it to scroll · e or f9 hides"
        self.fit(self.screen.size.height)

    def fit(self, rows: int) -> None:
        """At most a third of a screen under SHORT_SCREEN rows, half of a taller one: at 80×24
        half left Generate's output box two lines or none. Set on the panel alone, since a
        class on the screen would restyle every widget of it when it first opens."""
        share = 33 if rows < SHORT_SCREEN else 50
        if self.styles.max_height is None or self.styles.max_height.value != share:
            self.styles.max_height = f"{share}%"


def fit_explain(screen: Screen) -> None:
    """Fit the screen's explain panel, if it has one, to the screen's height (on a resize)."""
    for panel in screen.query(ExplainPanel):
        panel.fit(screen.size.height)


def explanation_of(screen: Screen) -> Explanation | None:
    """The screen's `EXPLAIN`, or None when it declares nothing to explain."""
    explanation = getattr(screen, "EXPLAIN", None)
    return explanation if isinstance(explanation, Explanation) else None


def toggle_explain(screen: Screen) -> bool:
    """Show `screen`'s explain panel (mounting it the first time) or hide it; returns whether it
    is shown now. The focus stays where it was, so the screen's keys keep working."""
    panels = screen.query(ExplainPanel)
    if panels:
        panel = panels.first()
        panel.display = not panel.display
        if not panel.display and panel.has_focus:
            screen.set_focus(None)
        return bool(panel.display)
    explanation = explanation_of(screen)
    if explanation is None:
        return False
    # Mounted last: the Footer is docked, so the panel lands under the screen's own content.
    screen.mount(ExplainPanel(explanation))
    return True
