"""The Train screen's side panel: the New run form and the Runs list as two tabs, shown or
hidden to give the plots the room."""

from __future__ import annotations

from textual.widgets import TabbedContent, Tabs


class TrainSide(TabbedContent):
    """Tabs beside the plots; hiding them takes the focus out of their fields."""

    DEFAULT_CSS = """
    TrainSide {
        width: 34;
        height: 1fr;
        border-right: vkey $panel-lighten-2;
    }
    TrainSide TabPane {
        padding: 0;
    }
    """

    def show(self, tab: str | None = None) -> None:
        """Show the panel (on `tab` if given) with the focus on its tabs, out of the old pane."""
        self.display = True
        self.query_one(Tabs).focus()
        if tab is not None:
            self.active = tab

    def hide(self) -> None:
        self.display = False
        # Textual would move the focus to another (hidden) field of the panel, which would
        # then swallow the screen's keys; a focus outside the panel (the runs table) stays.
        self._unfocus_hidden()
        self.call_after_refresh(self._unfocus_hidden)

    def _unfocus_hidden(self) -> None:
        screen = self.screen
        focused = screen.focused
        if focused is not None and self in focused.ancestors:
            # To a control still shown (ModeScreen.focus_shown), so the keys reach one.
            focus_shown = getattr(screen, "focus_shown", None)
            if focus_shown is not None:
                focus_shown(avoiding=[focused])
            else:
                screen.set_focus(None)

    def toggle(self) -> None:
        if self.display:
            self.hide()
        else:
            self.show()
