"""A DataTable that keeps its rendered lines through restyles that change none of its styles.

Textual's DataTable clears every render cache whenever it is restyled, and Textual restyles a
focused widget's whole subtree on each focus and blur: the Dataset screen's n-grams panel takes
the focus when its tab is shown, so its three tables drew every cell again on each showing,
and again when it left (3 renders of 8–9 ms a table per showing, measured). Showing a hidden tab
also sends each table a Resize of the size it already had, which Textual's DataTable counts as a
change of every cached line.

Here the caches are cleared when the table draws next, and only if what its cells are drawn
with differs from the last draw: its own style (colours inherited from its ancestors included),
its rules, and the rules of its component classes (cursor, header, zebra rows, …). Focus, hover
and the cursor are parts of the cached lines' keys already (DataTable's own). The lines are
keyed anew when the size it draws at changes.
"""

from __future__ import annotations

from textual import events
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable

from rnn_tui.tui.widgets.first_draw import FirstDrawLater


class SteadyTable(FirstDrawLater, DataTable):
    """DataTable whose render caches outlive restyles that leave its styles as they were; its
    first draw waits for the screen update after the one that shows it (first_draw.py)."""

    _drawn_with: tuple | None = None  # what the cached lines were drawn with (`_styles_key`)
    _drawn_at: Size | None = None  # the size of the last draw

    def _styles_key(self) -> tuple:
        styles = self.styles
        components = self._component_styles
        return (
            self.rich_style,
            styles.base.get_rules(),
            styles.inline.get_rules(),
            {name: components[name].get_rules() for name in sorted(components)},
        )

    def notify_style_update(self) -> None:
        # DataTable's clears every cache; the next render decides (`render_lines`). The
        # component styles are not even updated yet here: Textual applies them after.
        Widget.notify_style_update(self)
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._first_draw_waits():
            return [Strip.blank(crop.width, self.rich_style)] * crop.height
        if self.size != self._drawn_at:
            # A new count keys new lines: the rows' fill to the table's width is cached by it.
            self._drawn_at = self.size
            self._update_count += 1
        drawn_with = self._styles_key()
        if drawn_with != self._drawn_with:
            self._drawn_with = drawn_with
            # What DataTable.notify_style_update clears.
            self._row_render_cache.clear()
            self._cell_render_cache.clear()
            self._row_renderable_cache.clear()
            self._line_cache.clear()
            self._styles_cache.clear()
            self._get_styles_to_render_cell.cache_clear()
        return super().render_lines(crop)

    def _on_resize(self, event: events.Resize) -> None:
        # Textual calls this, then DataTable's, which counts an update: a new key for every
        # cached line, even for the size the table had (a hidden tab shown again). Undone
        # here: `render_lines` counts one when the size it draws at has changed.
        self._update_count -= 1
