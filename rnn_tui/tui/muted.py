"""Muted text as a Rich style, for text a widget draws itself (table cells, a caption).

A component class styled `color: $text-muted` read with `get_component_rich_style(partial=True)`
comes back white on every theme: the muted colour is the text colour at 60 % over the
background, and a partial style has no background to blend over. On a light theme that white
sat on light grey (a contrast of 1.3 to 1.5). This blends the widget's own colours instead,
at MUTED.
"""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget

# The text colour at 70 % over the background: at Textual's 60 % solarized-light's muted text
# read 2.4:1.
MUTED = 0.7


def muted_style(widget: Widget) -> Style:
    """The widget's text colour at MUTED over its background, as a Rich style."""
    _, _, background, color = widget.colors
    return Style(color=background.blend(color, MUTED).rich_color)


__all__ = ["MUTED", "muted_style"]
