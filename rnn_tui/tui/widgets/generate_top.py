"""The Generate console's side panel: the model's most probable next tokens at the latest step.

The probabilities are the model's own, softmax(o) over its output o, before temperature or
top-k reshape them for sampling; a marker shows which token was actually chosen.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from rnn_tui.data.token_text import display_token

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, width: int) -> str:
    """A horizontal bar `fraction` (0–1) of `width` cells long, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


class TopTokens(Widget):
    """The latest step's top next tokens: token, probability, bar."""

    DEFAULT_CSS = """
    TopTokens {
        width: 30;
        height: 100%;
        padding: 0 1;
        border: round $primary-muted;
        border-title-color: $text-accent;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._top: list[tuple[str, float]] = []
        self._chosen: str | None = None
        self._step = 0

    @property
    def rows(self) -> list[tuple[str, float]]:
        """(token, probability) pairs shown, most probable first."""
        return list(self._top)

    def show(self, step: int, top: list[tuple[str, float]], chosen: str | None) -> None:
        """Show the distribution the `step`-th token was chosen from."""
        self._step, self._top, self._chosen = step, list(top), chosen
        self.border_subtitle = f"step {step:,}"
        self.refresh()

    def reset(self) -> None:
        self._step, self._top, self._chosen = 0, [], None
        self.border_subtitle = ""
        self.refresh()

    def render(self) -> Content:
        if not self._top:
            return Content.styled("the top 5 appear here as tokens are generated", "$text-muted")
        shown = [display_token(tok) for tok, _ in self._top]
        token_width = min(max(len(s) for s in shown), 12)
        width = self.content_size.width
        bar_width = max(width - token_width - 9, 1)  # marker, token, space, 6-cell %, space
        lines = []
        for (tok, p), label in zip(self._top, shown, strict=True):
            mark = "▸" if tok == self._chosen else " "
            if len(label) > token_width:
                label = label[: token_width - 1] + "…"
            lines.append(
                Content.assemble(
                    (mark, "$text-accent"),
                    (f"{label:<{token_width}} ", "bold"),
                    # Not "0.0%" for a token the model does give a chance (1.6e-4).
                    f"{p:6.1%} " if p >= 0.0005 or p == 0 else " <0.1% ",
                    (bar(p, bar_width), "$primary"),
                )
            )
        return Content("\n").join(lines)
